// Preload (`node -r`) for `node-red-dev validate` on a machine that cannot reach the Flow Library.
//
// node-red-dev 0.1.6 fetches https://catalogue.nodered.org/catalogue.json with axios 0.21
// (through follow-redirects, which calls `https.request` on the core module at request time) for
// P08 (similar package names) and N01 (duplicate node types). This preload answers every request
// to that host with a catalogue: `{"modules":[]}` by default, or the JSON in the file named by
// PDM_CATALOGUE_FILE. Every other request (the npm registry for P06, P07, D02 and D03) goes
// through untouched. Plain JS on purpose: it is loaded from test/pack/, not compiled.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const { EventEmitter } = require('events');
const { PassThrough } = require('stream');

const HOST = 'catalogue.nodered.org';

function catalogueBody() {
  const file = process.env.PDM_CATALOGUE_FILE;
  return file ? fs.readFileSync(file, 'utf8') : JSON.stringify({ modules: [] });
}

/** The host a request(...) call targets, whatever form its arguments take. */
function targetHost(args) {
  const first = args[0];
  try {
    if (typeof first === 'string') return new URL(first).hostname;
    if (first instanceof URL) return first.hostname;
  } catch {
    return '';
  }
  const opts = first && typeof first === 'object' ? first : args[1] && typeof args[1] === 'object' ? args[1] : {};
  return String(opts.hostname || opts.host || '').replace(/:\d+$/, '');
}

/** A ClientRequest look-alike whose response is the stub catalogue. */
function fakeRequest(args) {
  const callback = args.find((a) => typeof a === 'function');
  const req = new EventEmitter();
  let sent = false;
  req.aborted = false;
  req.destroyed = false;
  req.writable = true;
  req.setHeader = () => {};
  req.getHeader = () => undefined;
  req.removeHeader = () => {};
  req.setTimeout = () => req;
  req.setNoDelay = () => {};
  req.setSocketKeepAlive = () => {};
  req.write = () => true;
  req.abort = () => {
    req.aborted = true;
  };
  req.destroy = () => {
    req.destroyed = true;
    return req;
  };
  req.end = (...endArgs) => {
    const done = endArgs.find((a) => typeof a === 'function');
    if (sent) return req;
    sent = true;
    process.nextTick(() => {
      if (req.aborted || req.destroyed) return;
      const body = Buffer.from(catalogueBody());
      const res = new PassThrough();
      res.statusCode = 200;
      res.statusMessage = 'OK';
      res.headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
      res.rawHeaders = ['Content-Type', 'application/json', 'Content-Length', String(body.length)];
      res.httpVersion = '1.1';
      res.req = req;
      if (callback) callback(res);
      req.emit('response', res);
      res.end(body);
      if (done) done();
    });
    return req;
  };
  return req;
}

function wrap(mod, name) {
  const original = mod[name];
  mod[name] = function stubbedRequest(...args) {
    if (targetHost(args) === HOST) {
      const req = fakeRequest(args);
      if (name === 'get') req.end();
      return req;
    }
    return original.apply(this, args);
  };
}

for (const mod of [https, http]) {
  wrap(mod, 'request');
  wrap(mod, 'get');
}
