import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { parseRegisterMapCsv, parseRegisterMapJson, type BearingGeometry } from '../lib/retrofit';
import { StatusThrottle } from '../lib/status-throttle';
import { Retrofitter, type RejectItem, type RetrofitOptions } from './retrofitter';

interface RetrofitNodeDef extends NodeDef {
  assetId: string;
  unmapped: string;
  registers: unknown;
  tags: unknown;
  scaling: unknown;
  sampleRate: string | number;
  accelUnit: string;
  bearingN: string | number;
  bearingd: string | number;
  bearingD: string | number;
  contactAngle: string | number;
  rpm: string | number;
  zonePreset: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

/** '' and undefined mean "not set"; anything else must be a number (NaN lets the core name the field). */
function optionalNumber(value: string | number | undefined): number | undefined {
  if (value === undefined || value === null || String(value).trim() === '') return undefined;
  return Number(value);
}

/** Tables are arrays in flows from the editor; a hand-written flow may hold them as JSON text. */
function table(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.trim() === '') return [];
  try {
    return JSON.parse(value);
  } catch {
    return value; // the core reports "must be an array"
  }
}

function optionsFromConfig(config: Partial<RetrofitNodeDef>): RetrofitOptions {
  const n = optionalNumber(config.bearingN);
  const d = optionalNumber(config.bearingd);
  const D = optionalNumber(config.bearingD);
  let bearing: BearingGeometry | undefined;
  if (n !== undefined || d !== undefined || D !== undefined) {
    bearing = { n: n as number, d: d as number, D: D as number, contactAngleDeg: optionalNumber(config.contactAngle) ?? 0 };
  }
  return {
    assetId: typeof config.assetId === 'string' ? config.assetId.trim() : undefined,
    unmapped: config.unmapped === 'reject' ? 'reject' : 'pass',
    registers: table(config.registers),
    tags: table(config.tags),
    scaling: table(config.scaling),
    sampleRate: optionalNumber(config.sampleRate),
    accelUnit: config.accelUnit === 'g' ? 'g' : config.accelUnit === undefined || config.accelUnit === '' || config.accelUnit === 'm/s²' ? 'm/s²' : (config.accelUnit as 'm/s²'),
    bearing,
    rpm: optionalNumber(config.rpm),
    zonePreset: config.zonePreset || undefined,
    nodeId: config.id,
  };
}

export = function register(RED: NodeAPI): void {
  function PdmRetrofitNode(this: Node, config: RetrofitNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const retrofitter = new Retrofitter(optionsFromConfig(config));
    // On the node object so flow tests and the fuzzer can check the accounting.
    const counts = { messages: 0, readings: 0, rejected: 0, ignored: 0 };
    (node as Node & { counts?: typeof counts }).counts = counts;
    const status = new StatusThrottle(500, () => {
      node.status({
        fill: counts.rejected > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('pdm-retrofit.status.counts', counts),
      });
    });
    const configError = retrofitter.errors.join('; ');
    if (!retrofitter.ok) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('pdm-retrofit.status.config-error') });
      node.error(RED._('pdm-retrofit.errors.config', { error: configError }));
    }

    const reasonOf = (r: RejectItem): string => RED._(`pdm-retrofit.reject.${r.code}`, r.params);

    node.on('input', (msg: Msg, send, done) => {
      // done is called exactly once, after the try: never again from a catch if it threw itself.
      let failure: Error | undefined;
      try {
        counts.messages++;
        const outcome = retrofitter.convert(msg, Date.now());
        if (outcome.kind === 'control') {
          counts.ignored++;
          status.update();
        } else {
          let rejectMsg: Msg | null = null;
          if (outcome.rejects.length > 0) {
            // Copied before msg becomes the readings message: the reject carries the input untouched.
            rejectMsg = RED.util.cloneMessage(msg) as Msg;
            const first = reasonOf(outcome.rejects[0]);
            rejectMsg.reject = {
              code: outcome.rejects[0].code,
              reason: first,
              count: outcome.rejects.length,
              items: outcome.rejects.map((r) => ({ ...(r.index !== undefined ? { index: r.index } : {}), code: r.code, reason: reasonOf(r), item: r.item })),
            };
            failure = new Error(RED._('pdm-retrofit.errors.rejected', { count: outcome.rejects.length, reason: first }));
          }
          let readingsMsg: Msg | null = null;
          if (outcome.readings.length > 0) {
            // One message per input: every other property (topic, parts, responseBuffer, statusCode…)
            // stays, the input payload moves to msg.original.
            msg.original = msg.payload;
            msg.payload = outcome.readings;
            readingsMsg = msg;
          }
          counts.readings += outcome.readings.length;
          counts.rejected += outcome.rejects.length;
          status.update();
          send([readingsMsg, rejectMsg]);
        }
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (failure) done(failure);
      else done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.stop();
      done();
    });
  }

  RED.nodes.registerType('pdm-retrofit', PdmRetrofitNode);

  // The editor's Import button: JSON or CSV register maps, parsed and checked by the same core the
  // node runs, so the dialog and the runtime never disagree about a map.
  if (RED.httpAdmin) {
    RED.httpAdmin.post('/pdm-retrofit/register-map', RED.auth.needsPermission('pdm-retrofit.write'), (req: Request, res: Response) => {
      const text = req.body && typeof req.body.text === 'string' ? (req.body.text as string) : '';
      if (text.trim() === '') {
        res.json({ ok: false, errors: ['nothing to import'] });
        return;
      }
      const trimmed = text.trim();
      const result = trimmed.startsWith('[') || trimmed.startsWith('{') ? parseRegisterMapJson(trimmed) : parseRegisterMapCsv(text);
      if (!result.ok) {
        res.json({ ok: false, errors: result.errors });
        return;
      }
      res.json({
        ok: true,
        rows: result.map.entries.map((e) => ({
          signal: e.signal,
          offset: e.offset,
          type: e.type,
          order: e.order,
          scale: e.scale,
          bias: e.bias,
          unit: e.unit,
          ...(e.type === 'bit' ? { bit: e.bit } : {}),
        })),
      });
    });
  }
};
