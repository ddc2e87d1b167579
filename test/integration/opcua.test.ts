/**
 * pdm-retrofit fed by a REAL node-red-contrib-opcua 0.2.354 OpcUa-Client (read, readmultiple,
 * subscribe, subscribe "multiple"; loaded into the same Node-RED 4.1 runtime by
 * node-red-node-test-helper) talking to a REAL OPC UA server (node-opcua OPCUAServer on
 * 127.0.0.1, a free port, SecurityMode None).
 *
 * One client node serves every action (`msg.action` overrides its configured `read`): several
 * client nodes starting at once race to create the shared client certificate, and the losers stay
 * at "invalid endpoint" until they get a message (seen with 0.2.354), which would only make this
 * test slow and flaky.
 *
 * PKI: node-opcua and the partner's client keep certificates under the user's config directory
 * (env-paths, read when they are first required), so XDG_CONFIG_HOME points at a temporary
 * directory before either is required, and the server's certificate manager has its own
 * rootFolder there too. Nothing is written to the real home directory.
 *
 * The server holds test/fixtures/opcua/layout.json; values, units, qualities (BadNodeIdUnknown →
 * `bad`, a 4–20 mA wire break → `bad`), source timestamps and the ISO zone must come out exactly.
 * Messages arriving at pdm-retrofit are compared by shape with test/fixtures/opcua/*.json, which
 * `PDM_UPDATE_FIXTURES=1` rewrites; test/node/retrofit.test.ts replays them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helper, nodeModule, repoRoot } from '../helpers/node-red';
import { freePort } from '../pack/support';

type Msg = Record<string, any>;
const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'opcua');
const layout = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'layout.json'), 'utf8'));
const UPDATE = process.env.PDM_UPDATE_FIXTURES === '1';
const CONTRIB_DIR = path.join(repoRoot, 'node_modules', 'node-red-contrib-opcua');
const CONTRIB_VERSION: string = JSON.parse(fs.readFileSync(path.join(CONTRIB_DIR, 'package.json'), 'utf8')).version;

// Before node-opcua or the partner nodes are first required (both are required in before()).
const pkiHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-opcua-'));
const realXdg = process.env.XDG_CONFIG_HOME;
process.env.XDG_CONFIG_HOME = pkiHome;

// ---------------------------------------------------------------------------------------------

function serialise(msg: Msg): Msg {
  const { _msgid, ...rest } = msg;
  return JSON.parse(JSON.stringify(rest));
}

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? ['array', shape(v[0])] : ['array'];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Msg)[k])]));
  return v === null ? 'null' : typeof v;
}

let opcuaVersion = '';
function checkFixture(name: string, variant: string, message: Msg | undefined): void {
  assert.ok(message, `no message captured for ${name}`);
  const file = path.join(FIXTURES, `${name}.json`);
  const captured = serialise(message);
  if (UPDATE || !fs.existsSync(file)) {
    const doc = {
      description: `${variant}, as it arrived at pdm-retrofit`,
      partner: `node-red-contrib-opcua@${CONTRIB_VERSION}`,
      server: `node-opcua@${opcuaVersion} OPCUAServer holding test/fixtures/opcua/layout.json`,
      captured: new Date().toISOString(),
      message: captured,
    };
    fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    if (!UPDATE) assert.fail(`fixture ${name}.json did not exist and was written now: review and commit it, then rerun`);
    return;
  }
  const committed = JSON.parse(fs.readFileSync(file, 'utf8')).message;
  assert.deepEqual(shape(captured), shape(committed), `${name}: the partner's message shape differs from the committed fixture (PDM_UPDATE_FIXTURES=1 rewrites it)`);
}

async function waitFor<T>(what: string, pick: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = pick();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The reading a message carries for `nodeId` (output 1 sends arrays). */
function readingFor(msgs: Msg[], nodeId: string, pred: (m: Msg) => boolean = () => true): Msg | undefined {
  for (const m of msgs) {
    if (!pred(m)) continue;
    const r = (m.payload as Msg[]).find((x) => x.source?.address === nodeId);
    if (r) return r;
  }
  return undefined;
}

function assertExpected(reading: Msg, nodeId: string, what: string): void {
  const want = layout.expected[nodeId];
  assert.equal(reading.signal, want.signal, `${what}: signal of ${nodeId}`);
  assert.equal(reading.value, want.value, `${what}: value of ${nodeId}`);
  assert.equal(reading.unit, want.unit, `${what}: unit of ${nodeId}`);
  assert.equal(reading.quality, want.quality, `${what}: quality of ${nodeId}`);
  assert.equal(reading.qualityReason, want.qualityReason, `${what}: qualityReason of ${nodeId}`);
  assert.equal(reading.assetId, layout.assetId);
  assert.equal(reading.source.protocol, 'opcua');
  if (want.ts) assert.equal(reading.ts, Date.parse(want.ts), `${what}: source timestamp of ${nodeId}`);
  if (want.zone) assert.equal(reading.source.zone?.zone, want.zone, `${what}: zone of ${nodeId}`);
}

describe('pdm-retrofit with node-red-contrib-opcua against a real OPC UA server', { timeout: 90_000 }, () => {
  let opcua: any;
  let server: any;
  let vibration: any;
  const out: Msg[] = [];
  const rejects: Msg[] = [];
  const inputs: Msg[] = [];

  before(async () => {
    const opcuaPath = require.resolve('node-opcua', { paths: [CONTRIB_DIR] });
    opcua = require(opcuaPath);
    opcuaVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(opcuaPath), '..', 'package.json'), 'utf8')).version;
    const port = await freePort();
    server = new opcua.OPCUAServer({
      port,
      hostname: '127.0.0.1',
      serverCertificateManager: new opcua.OPCUACertificateManager({ rootFolder: path.join(pkiHome, 'server-pki'), automaticallyAcceptUnknownCertificate: true }),
      buildInfo: { productName: 'pdm-retrofit test server' },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.getOwnNamespace();
    const pump = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Pump1' });
    const at = new Date(layout.sourceTimestamp);
    for (const v of layout.variables) {
      const variable = ns.addVariable({ componentOf: pump, nodeId: v.nodeId.replace(/^ns=1;/, ''), browseName: v.browseName, dataType: v.dataType, minimumSamplingInterval: 50 });
      variable.setValueFromSource({ dataType: v.dataType, value: v.value }, opcua.StatusCodes.Good, at);
      if (v.nodeId === layout.update.nodeId) vibration = variable;
    }
    await server.start();
    const url = `opc.tcp://127.0.0.1:${port}`;

    await helper.startServer();
    const contrib = (file: string) => require(path.join(CONTRIB_DIR, 'opcua', file));
    const atXY = { z: 'tab', x: 100, y: 100 };
    const client = (id: string, action: string, name: string) => ({
      id, ...atXY, type: 'OpcUa-Client', endpoint: 'endpoint', action, deadbandtype: 'a', deadbandvalue: 1, time: 200, timeUnit: 'ms', certificate: 'n', localfile: '', localkeyfile: '',
      securitymode: 'None', securitypolicy: 'None', useTransport: false, maxChunkCount: 1, maxMessageSize: 8192, receiveBufferSize: 8192, sendBufferSize: 8192,
      setstatusandtime: false, keepsessionalive: false, name, wires: [['rf', 'inputs'], [`status-${id}`], []],
    });
    await helper.load(
      [nodeModule('pdm-retrofit'), contrib('102-opcuaclient.js'), contrib('105-opcuaendpoint.js')],
      [
        { id: 'tab', type: 'tab', label: 'opcua' },
        { id: 'endpoint', type: 'OpcUa-Endpoint', endpoint: url, secpol: 'None', secmode: 'None', none: true, login: false, usercert: false, usercertificate: '', userprivatekey: '' },
        client('ua', 'read', 'pump PLC'),
        {
          id: 'rf', ...atXY, type: 'pdm-retrofit', name: 'pump tags', assetId: layout.assetId, unmapped: 'pass', registers: [], tags: layout.tags, scaling: layout.scaling,
          zonePreset: layout.zonePreset, wires: [['out'], ['rejects']],
        },
        ...['out', 'rejects', 'inputs', 'status-ua'].map((id) => ({ id, ...atXY, type: 'helper', wires: [] })),
      ],
    );
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    helper.getNode('rejects').on('input', (m: Msg) => rejects.push(m));
    helper.getNode('inputs').on('input', (m: Msg) => inputs.push(m));
    const statuses: string[] = [];
    helper.getNode('status-ua').on('input', (m: Msg) => statuses.push(String(m.status)));
    // Messages sent before the client has its session are dropped by the partner node.
    await waitFor('the OPC UA session', () => (statuses.includes('session active') ? true : undefined), 40_000).catch((err) => {
      throw new Error(`${(err as Error).message}; client statuses: ${JSON.stringify(statuses)}`);
    });
  });

  after(async () => {
    try {
      // node-red-contrib-opcua 0.2.354's close handler calls done() without disconnecting
      // (`if (!node.disconnecting) return done()`), so the client would keep its socket and retry
      // forever once the server is gone. Disconnect it here, then unload.
      const ua = helper.getNode('ua') as { client?: { disconnect(): Promise<void> } } | undefined;
      if (ua?.client) await ua.client.disconnect();
      await helper.unload();
      await helper.stopServer();
    } finally {
      if (server) await server.shutdown(0);
      if (realXdg === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = realXdg;
      fs.rmSync(pkiHome, { recursive: true, force: true });
    }
  });

  it('read: every tag decodes to its value, unit and quality; the source timestamp is kept; an unknown node is a bad reading, not a reject', async () => {
    const ids = [...layout.variables.map((v: Msg) => v.nodeId), layout.unknownNodeId];
    for (const topic of ids) helper.getNode('ua').receive({ topic, payload: '' });
    for (const id of ids) {
      const reading = await waitFor(`read ${id}`, () => readingFor(out, id, (m) => m.statusCode !== undefined && !m.items));
      assertExpected(reading, id, 'read');
    }
    const missing = readingFor(out, layout.unknownNodeId)!;
    assert.equal(missing.source.statusCode, 0x80340000);
    assert.equal(missing.source.tsFilled, 'received', 'the server gave no timestamp for an unknown node');
    assert.equal(rejects.length, 0, `no rejects: ${JSON.stringify(rejects.map((r) => r.reject))}`);
    checkFixture('read', 'OpcUa-Client read of a Double', inputs.find((m) => m.topic === 'ns=1;s=Pump1.BearingTemp'));
    checkFixture('read-uint32', 'OpcUa-Client read of a UInt32', inputs.find((m) => m.topic === 'ns=1;s=Pump1.Speed'));
    checkFixture('read-boolean', 'OpcUa-Client read of a Boolean', inputs.find((m) => m.topic === 'ns=1;s=Pump1.Running'));
    checkFixture('read-unknown-node', 'OpcUa-Client read of an unknown NodeId (BadNodeIdUnknown)', inputs.find((m) => m.topic === layout.unknownNodeId));
  });

  it('read with a ;datatype= tail: the tail becomes msg.datatype, the reading keeps the plain NodeId', async () => {
    const before = out.length;
    helper.getNode('ua').receive({ topic: 'ns=1;s=Pump1.Loop;datatype=Double', payload: '', parts: { id: 'p', index: 0, count: 1 } });
    const msg = await waitFor('datatype read', () => out.slice(before).find((m) => m.datatype === 'Double'));
    assertExpected(msg.payload[0], 'ns=1;s=Pump1.Loop', 'read ;datatype=');
    assert.equal(msg.payload[0].source.datatype, 'Double');
    assert.equal(msg.payload[0].source.scaled.input, 12);
    assert.deepEqual(msg.parts, { id: 'p', index: 0, count: 1 }, 'parts pass through the partner and pdm-retrofit');
    checkFixture('read-datatype', 'OpcUa-Client read with a ;datatype=Double topic tail', inputs.find((m) => m.datatype === 'Double'));
  });

  it('subscribe: the subscriptionId message is ignored, values and changes arrive with their source timestamps and zone', async () => {
    const before = out.length;
    helper.getNode('ua').receive({ action: 'subscribe', topic: `${layout.update.nodeId};datatype=Double`, payload: '' });
    const first = await waitFor('first subscribed value', () => readingFor(out.slice(before), layout.update.nodeId, (m) => m.sourcePicoseconds !== undefined));
    assertExpected(first, layout.update.nodeId, 'subscribe');
    assert.equal(first.ts, Date.parse(layout.sourceTimestamp));
    vibration.setValueFromSource({ dataType: 'Double', value: layout.update.value }, opcua.StatusCodes.Good, new Date(layout.update.sourceTimestamp));
    const changed = await waitFor('changed value', () => readingFor(out.slice(before), layout.update.nodeId, (m) => m.payload.some((r: Msg) => r.value === layout.update.value)));
    assert.equal(changed.value, layout.update.value);
    assert.equal(changed.ts, Date.parse(layout.update.sourceTimestamp));
    assert.equal(changed.source.zone.zone, layout.update.zone);
    assert.equal(changed.source.zone.preset, layout.zonePreset);
    const rf = helper.getNode('rf') as { counts: { ignored: number } };
    assert.ok(rf.counts.ignored >= 1, 'the subscriptionId announcement was counted as ignored');
    assert.ok(!out.some((m) => m.topic === 'subscriptionId'), 'no reading was made of the subscriptionId');
    checkFixture('subscription-id', 'OpcUa-Client subscribe: the subscriptionId announcement on output 1', inputs.find((m) => m.topic === 'subscriptionId'));
    checkFixture('subscribe', 'OpcUa-Client subscribe (single item, topic with ;datatype=)', inputs.find((m) => m.sourcePicoseconds !== undefined));
  });

  it('readmultiple: one message per item, and payload "ALL" (an array of DataValues with msg.items)', async () => {
    const ids = ['ns=1;s=Pump1.BearingTemp', 'ns=1;s=Pump1.Speed', 'ns=1;s=Pump1.CtSecondary'];
    const before = out.length;
    helper.getNode('ua').receive({ action: 'readmultiple', topic: 'readmultiple', payload: ids });
    for (const id of ids) assertExpected(await waitFor(`readmultiple ${id}`, () => readingFor(out.slice(before), id)), id, 'readmultiple');
    const beforeAll = out.length;
    helper.getNode('ua').receive({ action: 'readmultiple', topic: 'readmultiple', payload: 'ALL' });
    const all = await waitFor('readmultiple ALL', () => out.slice(beforeAll).find((m) => Array.isArray(m.items)));
    assert.equal(all.payload.length, ids.length);
    for (const id of ids) assertExpected(readingFor([all], id)!, id, 'readmultiple ALL');
    assert.equal(all.payload[0].source.variant, 'opcua-client readmultiple ALL');
    checkFixture('readmultiple-item', 'OpcUa-Client readmultiple with an array of NodeIds: one message per item', inputs.find((m) => m.action === 'readmultiple' && m.topic === 'ns=1;s=Pump1.CtSecondary'));
    checkFixture('readmultiple-all', 'OpcUa-Client readmultiple with payload "ALL"', inputs.find((m) => Array.isArray(m.items)));
  });

  it('subscribe "multiple": whole DataValues in the payload', async () => {
    const ids = ['ns=1;s=Pump1.Loop', 'ns=1;s=Pump1.WireBreak'];
    const before = out.length;
    helper.getNode('ua').receive({ action: 'subscribe', topic: 'multiple', payload: ids.map((nodeId) => ({ nodeId })) });
    for (const id of ids) {
      const reading = await waitFor(`subscribe multiple ${id}`, () => readingFor(out.slice(before), id, (m) => m.payload[0]?.source.variant === 'opcua-client subscribe multiple'));
      assertExpected(reading, id, 'subscribe multiple');
      assert.equal(reading.ts, Date.parse(layout.sourceTimestamp));
    }
    checkFixture('subscribe-multiple', 'OpcUa-Client subscribe with topic "multiple": a whole DataValue per change', inputs.find((m) => m.topic === 'ns=1;s=Pump1.WireBreak' && m.payload && typeof m.payload === 'object'));
  });
});
