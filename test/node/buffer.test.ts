/**
 * pdm-buffer in a real Node-RED runtime (node-red-node-test-helper) against an in-process aedes
 * broker on loopback (MQTT 3.1.1; MQTT 5 is covered with mosquitto in the integration suite).
 *
 * Proves: readings go out with QoS 1 on their clean topics, unretained, in order, and done() comes
 * once per message only after the journal's fsync; the broker being down at deploy keeps the
 * messages on disk (status shows queue depth and age) and delivers them marked historical once it
 * is up; username/password come only from credentials; TLS with a private CA via the core
 * tls-config node (and a refused server certificate without it); rejects with catalog codes on
 * output 2 and to Catch; the three overflow policies report their losses on output 2; a redeploy
 * or a restart with messages queued delivers them; close leaves no client, timer or lock behind.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { helper, nodeModule } from '../helpers/node-red';

const bufferNode = nodeModule('pdm-buffer');
// The core tls-config node of the runtime under test (Node-RED 4.1, or 5 under NR_PKG).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tlsConfigNode = require(require.resolve('@node-red/nodes/core/network/05-tls.js', { paths: [path.dirname(require.resolve(process.env.NR_PKG || 'node-red'))] }));
type Msg = Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

// ---- broker ----------------------------------------------------------------------------------

interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string;
}
interface Broker {
  port: number;
  received: Received[];
  clients(): number;
  stop(): Promise<void>;
}

async function startBroker(opts: { port?: number; auth?: { user: string; password: string }; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker(
    opts.auth ? { authenticate: (_client, user, password, cb) => cb(null, user === opts.auth!.user && password?.toString() === opts.auth!.password) } : {},
  );
  const received: Received[] = [];
  aedes.on('publish', (packet, client) => {
    if (client) received.push({ topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos, retain: packet.retain, clientId: client.id });
  });
  const sockets = new Set<net.Socket>();
  const onSocket = (s: net.Socket) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    aedes.handle(s);
  };
  const server = opts.tls ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onSocket) : net.createServer(onSocket);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    clients: () => aedes.connectedClients,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

// ---- flow --------------------------------------------------------------------------------------

const at = { z: 'tab', x: 100, y: 100 };
let seq = 0;
let bufId = 'b0';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-buffer-node-'));

function flow(config: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: bufId,
      ...at,
      type: 'pdm-buffer',
      name: '',
      broker: 'mqtt://127.0.0.1:1',
      protocol: '4',
      clientId: '',
      tls: '',
      keepalive: 60,
      root: 'pdm',
      journal: path.join(tmp, bufId),
      maxMB: 100,
      maxAgeH: 168,
      overflow: 'drop-oldest',
      syncMs: 10,
      window: 100,
      reconnectSec: 0.1,
      wires: [['rep'], ['rej']],
      ...config,
    },
    { id: 'rep', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'completer', ...at, type: 'complete', scope: [bufId], uncaught: false, wires: [['completed']] },
    { id: 'completed', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: [bufId], uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
    ...extra,
  ];
}
async function load(config: Record<string, unknown>, credentials?: Record<string, unknown>, extra: Record<string, unknown>[] = [], newId = true) {
  if (newId) bufId = `buf${++seq}`;
  await helper.load([bufferNode, tlsConfigNode], flow(config, extra), credentials ? { [bufId]: credentials } : undefined);
  return helper.getNode(bufId);
}
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
const reading = (i: number, assetId = 'M-1', signal = 'current') => ({ assetId, signal, value: i, unit: 'A', ts: 1_700_000_000_000 + i, quality: 'good' });
const statusText = (n: any): string => String(n.status.lastCall?.args[0]?.text ?? '');
const internals = (n: any) => n.buffer as { journal: any; forwarder: any; dir: string };

// ---------------------------------------------------------------------------------------------

describe('pdm-buffer node', () => {
  const brokers: Broker[] = [];
  before(async () => {
    helper.settings({ userDir: tmp });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
    for (const b of brokers.splice(0)) await b.stop();
  });
  const broker = async (opts: Parameters<typeof startBroker>[0] = {}) => {
    const b = await startBroker(opts);
    brokers.push(b);
    return b;
  };

  it('publishes readings with QoS 1 on their clean topics, in order, unretained; done() after the fsync', async () => {
    const b = await broker();
    const n = await load({ broker: `mqtt://127.0.0.1:${b.port}` });
    const completed = collect('completed');
    const caught = collect('caught');
    const reports = collect('rep');
    await until(() => internals(n).forwarder.connectionState === 'connected', 5000, 'connected');
    for (let i = 0; i < 200; i++) n.receive({ payload: reading(i, `A${i % 3}`), retain: true, parts: { id: 'p' } });
    n.receive({ payload: [reading(1000, 'B'), reading(1001, 'B', 'speed')] });
    await until(() => b.received.length === 202, 5000, '202 messages at the broker');
    await until(() => completed.length === 201, 2000, 'done() for every message');
    assert.equal(caught.length, 0);
    assert.equal(completed[0].parts.id, 'p', 'done() carries the original message');
    const first = b.received[0];
    assert.equal(first.topic, 'pdm/_/_/_/A0/clean/current');
    assert.equal(first.qos, 1);
    assert.equal(first.retain, false, 'readings are never retained');
    assert.deepEqual(JSON.parse(first.payload.toString()), reading(0, 'A0'));
    assert.deepEqual(b.received.slice(0, 200).map((m) => JSON.parse(m.payload.toString()).value), [...Array(200).keys()]);
    assert.equal(b.received[201].topic, 'pdm/_/_/_/B/clean/speed');
    await until(() => internals(n).journal.pending === 0, 2000, 'journal empty');
    await until(() => reports.some((r) => r.payload.delivered > 0), 3000, 'a delivery report');
    const rep = reports.find((r) => r.payload.delivered > 0)!;
    assert.equal(rep.topic, 'pdm-buffer/delivered');
    assert.equal(rep.payload.connected, true);
    assert.equal(typeof rep.payload.totals.appended, 'number');
    await until(() => /pdm-buffer\.status\.connected/.test(statusText(n)), 3000, 'connected status');
    assert.equal(n.status.lastCall.args[0].fill, 'green');
  });

  it('keeps messages on disk while the broker is down (status: depth, age) and delivers them historical when it is up', async () => {
    const port = await freePort();
    const n = await load({ broker: `mqtt://127.0.0.1:${port}` });
    const completed = collect('completed');
    const reports = collect('rep');
    for (let i = 0; i < 100; i++) n.receive({ payload: reading(i) });
    await until(() => completed.length === 100, 3000, 'stored');
    await sleep(1200);
    assert.match(statusText(n), /pdm-buffer\.status\.(disconnected|connecting)/);
    assert.equal(n.status.lastCall.args[0].shape, 'ring');
    assert.equal(internals(n).journal.pending, 100);
    assert.ok(internals(n).journal.stats().oldestTs <= Date.now() - 1000, 'the oldest age is known');
    const b = await broker({ port });
    await until(() => b.received.length === 100, 5000, 'backlog delivered');
    const payloads = b.received.map((m) => JSON.parse(m.payload.toString()));
    assert.deepEqual(payloads.map((p) => p.value), [...Array(100).keys()]);
    assert.ok(payloads.every((p) => p.historical === true));
    n.receive({ payload: reading(100) });
    await until(() => b.received.length === 101);
    assert.equal(JSON.parse(b.received[100].payload.toString()).historical, undefined, 'a live reading is not historical');
    await until(() => reports.some((r) => r.payload.historical > 0), 3000, 'report counts historical');
  });

  it('uses username and password only from credentials', async () => {
    const b = await broker({ auth: { user: 'gw1', password: 's3cret' } });
    // The right values as plain properties are ignored: only credentials count.
    const wrong = await load({ broker: `mqtt://127.0.0.1:${b.port}`, user: 'gw1', password: 's3cret' }, { user: 'gw1', password: 'nope' });
    wrong.receive({ payload: reading(1) });
    await sleep(500);
    assert.equal(b.received.length, 0, 'wrong credentials: nothing accepted');
    assert.notEqual(internals(wrong).forwarder.connectionState, 'connected');
    await helper.unload();
    const right = await load({ broker: `mqtt://127.0.0.1:${b.port}` }, { user: 'gw1', password: 's3cret' }, [], false);
    await until(() => b.received.length === 1, 5000, 'the queued reading delivered with the right credentials');
    assert.equal(internals(right).journal.pending, 0);
  });

  it('TLS: connects with a private CA from a tls-config node, refuses the server certificate without it', async (t) => {
    const dir = fs.mkdtempSync(path.join(tmp, 'tls-'));
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    if (gen.status !== 0) return t.skip(`openssl cannot make a test certificate: ${gen.error ?? gen.stderr}`);
    const b = await broker({ tls: { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) } });
    const noCa = await load({ broker: `mqtts://127.0.0.1:${b.port}` });
    noCa.receive({ payload: reading(1) });
    await sleep(600);
    assert.equal(b.received.length, 0);
    assert.match(String(internals(noCa).forwarder.lastError), /self[- ]signed|certificate/i);
    await helper.unload();
    const tlsConf = { id: 'tlsconf', type: 'tls-config', name: '', cert: '', key: '', ca: path.join(dir, 'cert.pem'), certname: '', keyname: '', caname: '', servername: '', verifyservercert: true, alpnprotocol: '' };
    await load({ broker: `mqtts://127.0.0.1:${b.port}`, tls: 'tlsconf' }, undefined, [tlsConf], false);
    await until(() => b.received.length === 1, 5000, 'delivered over TLS');
  });

  it('rejects what it cannot store with catalog codes on output 2 and done(err), and stores the rest', async () => {
    const n = await load({});
    const rejects = collect('rej');
    const caught = collect('caught');
    const completed = collect('completed');
    n.receive({ payload: { state: 'running' } });
    n.receive({ topic: 'pdm/+/x', payload: 'a' });
    n.receive({ payload: [] });
    n.receive({ payload: [reading(1), 42, reading(2)], keep: 'me' });
    n.receive({ topic: 'pdm/s/a/l/M-1/state', payload: { state: 'running' }, retain: true });
    await until(() => caught.length === 4 && completed.length === 1, 3000, 'done for every message');
    assert.deepEqual(rejects.map((r) => r.reject.code), ['no_topic', 'bad_topic', 'empty', 'not_a_reading']);
    const mixed = rejects[3];
    assert.equal(mixed.reject.count, 1);
    assert.equal(mixed.reject.items[0].index, 1);
    assert.equal(mixed.keep, 'me', 'the reject carries the original message');
    assert.match(mixed.reject.reason, /pdm-buffer\.reject\.not_a_reading/);
    assert.equal(internals(n).journal.pending, 3, 'two readings and the snapshot were stored');
  });

  it('overflow: reject sends the message to output 2 and Catch; drop-newest and drop-oldest report losses on output 2', async () => {
    const big = (i: number) => ({ ...reading(i), note: 'x'.repeat(400) });
    for (const policy of ['reject', 'drop-newest', 'drop-oldest'] as const) {
      const n = await load({ overflow: policy, maxMB: 0.0625 });
      const rejects = collect('rej');
      const caught = collect('caught');
      for (let i = 0; i < 400; i++) n.receive({ payload: big(i) });
      const counters = () => internals(n).journal.stats().counters;
      const reported = () => rejects.filter((r) => r.topic === 'pdm-buffer/overflow').reduce((sum, r) => sum + r.payload.dropped, 0);
      if (policy === 'reject') await until(() => counters().rejected > 0 && caught.length === counters().rejected && counters().appended + counters().rejected === 400, 4000, 'rejects');
      else await until(() => counters().dropped > 0 && reported() === counters().dropped && counters().appended + (policy === 'drop-newest' ? counters().dropped : 0) === 400, 4000, `${policy}: reports`);
      const c = counters();
      if (policy === 'reject') {
        assert.ok(c.rejected > 0);
        assert.equal(caught.length, c.rejected, 'each refused message went to Catch');
        assert.ok(rejects.every((r) => r.reject.code === 'full' && r.payload.note));
      } else {
        const report = rejects.find((r) => r.topic === 'pdm-buffer/overflow')!;
        assert.equal(report.reject.code, 'overflow');
        assert.equal(report.payload.policy, policy);
        assert.equal(reported(), c.dropped, 'every loss reported');
        assert.equal(caught.length, 0);
        const s = internals(n).journal.stats();
        assert.equal(s.pending + c.dropped, 400, 'every message stored or counted as lost');
        assert.match(statusText(n), /pdm-buffer\.status\.lost/);
      }
      await helper.unload();
    }
  });

  it('a redeploy and a restart with messages queued lose nothing; close leaves no client, timer or lock', async () => {
    const port = await freePort();
    const n1 = await load({ broker: `mqtt://127.0.0.1:${port}` });
    const done1 = collect('completed');
    for (let i = 0; i < 30; i++) n1.receive({ payload: reading(i) });
    await until(() => done1.length === 30);
    const { journal, forwarder, dir } = internals(n1);
    await helper.unload();
    assert.equal(forwarder.busy, false, 'no client or reconnect timer after close');
    assert.equal(journal.busy, false, 'no journal timer after close');
    assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false, 'lock released');

    const n2 = await load({ broker: `mqtt://127.0.0.1:${port}` }, undefined, [], false);
    const done2 = collect('completed');
    for (let i = 30; i < 40; i++) n2.receive({ payload: reading(i) });
    await until(() => done2.length === 10);
    const b = await broker({ port });
    await until(() => b.received.length === 40, 5000, 'all 40 delivered');
    assert.deepEqual(b.received.map((m) => JSON.parse(m.payload.toString()).value), [...Array(40).keys()]);
    await helper.unload();
    await until(() => b.clients() === 0, 3000, 'client disconnected on close');
  });

  it('the example flow (examples/buffer/01) stores and forwards normalised readings', async () => {
    const b = await broker();
    const file = path.join(__dirname, '..', '..', '..', 'examples', 'buffer', '01 - Store and forward readings.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as Msg[];
    // Injects and debugs become helper nodes (same ids and wires); the broker is the test's.
    const flow = example.filter((n) => n.type !== 'comment').map((n) => {
      const node: Msg = { ...n, z: 'tab' };
      if (n.type === 'inject' || n.type === 'debug') node.type = 'helper';
      if (n.type === 'pdm-buffer') Object.assign(node, { broker: `mqtt://127.0.0.1:${b.port}`, journal: path.join(tmp, 'example'), syncMs: 10 });
      return node;
    });
    await helper.load([bufferNode, nodeModule('pdm-normalise')], [{ id: 'tab', type: 'tab' }, ...flow]);
    const delivered = collect('bufd1');
    const single = example.find((n) => n.id === 'bufi1')!;
    const batch = example.find((n) => n.id === 'bufi2')!;
    helper.getNode('bufi1').send({ payload: JSON.parse(single.payload) });
    helper.getNode('bufi2').send({ payload: JSON.parse(batch.payload) });
    await until(() => b.received.length === 4, 5000, 'four readings at the broker');
    assert.deepEqual(b.received.map((m) => m.topic).sort(), [
      'pdm/plant1/pumping/line1/P-101/clean/bearing_temperature',
      'pdm/plant1/pumping/line1/P-101/clean/current',
      'pdm/plant1/pumping/line1/P-101/clean/discharge_pressure',
      'pdm/plant1/pumping/line1/P-101/clean/vibration_velocity',
    ]);
    await until(() => delivered.some((m) => m.payload.delivered > 0), 3000, 'a delivery report on the debug node');
  });

  it('a removed node with an empty default journal deletes its folder', async () => {
    const b = await broker();
    const n = await load({ broker: `mqtt://127.0.0.1:${b.port}`, journal: '' });
    const dir = internals(n).dir;
    assert.equal(dir, path.join(tmp, 'pdm-buffer', bufId));
    n.receive({ payload: reading(1) });
    await until(() => b.received.length === 1 && internals(n).journal.pending === 0);
    assert.ok(fs.existsSync(dir));
    await new Promise<void>((resolve) => n.close(true).then(resolve));
    assert.equal(fs.existsSync(dir), false);
  });
});
