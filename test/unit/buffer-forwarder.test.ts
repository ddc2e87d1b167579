/**
 * The forwarder (nodes/lib/buffer/forwarder.ts): journal → MQTT with QoS 1, against an in-process
 * aedes broker (MQTT 3.1.1) and a minimal scripted MQTT 5 broker built on mqtt-packet (aedes does
 * not speak MQTT 5), both on loopback.
 *
 * Proves: in-order delivery and removal only after PUBACK; a broker that is down at start and
 * comes up later gets the backlog marked historical while live records are not; a connection that
 * drops mid-stream loses nothing (every key arrives, in order after keeping the first of each
 * key); the in-flight window and the broker's Receive Maximum are respected; MQTT 5 user
 * properties; refusals (0x87 dropped and counted, 0x97 retried); stop() leaves nothing running.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../../nodes/lib/buffer/journal';
import { Forwarder, type ForwarderOptions } from '../../nodes/lib/buffer/forwarder';
import { idempotencyKey, type RecordInput } from '../../nodes/lib/buffer/record';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttPacket = require(require.resolve('mqtt-packet', { paths: [path.dirname(require.resolve('mqtt'))] })) as typeof import('mqtt-packet');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function reading(asset: string, i: number): RecordInput {
  const r = { assetId: asset, signal: 'current', value: i, unit: 'A', ts: 1_700_000_000_000 + i, quality: 'good' };
  return { topic: `pdm/_/_/_/${asset}/clean/current`, payload: JSON.stringify(r), enc: 'json', key: idempotencyKey(asset, 'current', r.ts), asset };
}

function openJournal(onDurable: () => void): Journal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-fwd-'));
  const j = Journal.open({ dir, syncMs: 5, onDurable });
  cleanups.push(() => new Promise<void>((r) => j.close(() => r())), () => fs.rmSync(dir, { recursive: true, force: true }));
  return j;
}

function forwarder(j: Journal, options: ForwarderOptions, events: ConstructorParameters<typeof Forwarder>[2] = {}): Forwarder {
  const f = new Forwarder(j, { reconnectMs: 50, ...options }, events);
  cleanups.push(() => new Promise<void>((r) => f.stop(0, r)));
  return f;
}

// ---- aedes (MQTT 3.1.1) ------------------------------------------------------------------------

interface Broker {
  port: number;
  received: Array<{ topic: string; payload: any }>;
  stop(): Promise<void>;
  dropClients(): void;
}

async function startAedes(port = 0): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const received: Broker['received'] = [];
  aedes.on('publish', (packet, client) => {
    if (client) received.push({ topic: packet.topic, payload: JSON.parse(packet.payload.toString()) });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const b: Broker = {
    port: (server.address() as net.AddressInfo).port,
    received,
    dropClients: () => {
      for (const s of sockets) s.destroy();
    },
    stop: async () => {
      b.dropClients();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
  return b;
}

// ---- a scripted MQTT 5 broker --------------------------------------------------------------------

interface Fake5 {
  port: number;
  publishes: Array<{ topic: string; payload: string; properties?: Record<string, any>; messageId?: number }>;
  maxUnacked: number;
  stop(): Promise<void>;
}

/** CONNACK with `receiveMaximum`; PUBACK reason codes from `decide(topic, attempt)`; holds PUBACKs while fewer than `hold` are unacked. */
async function startFake5(decide: (topic: string, attempt: number) => number, receiveMaximum?: number, hold = 1, closeAfterRefusal = false): Promise<Fake5> {
  const attempts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const fake: Fake5 = { port: 0, publishes: [], maxUnacked: 0, stop: async () => {} };
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (packet: any) => socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
    let unacked: Array<{ messageId: number; reasonCode: number }> = [];
    parser.on('packet', (packet: any) => {
      if (packet.cmd === 'connect') send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: receiveMaximum ? { receiveMaximum } : {} });
      else if (packet.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (packet.cmd === 'publish') {
        const payload = packet.payload.toString();
        fake.publishes.push({ topic: packet.topic, payload, properties: packet.properties, messageId: packet.messageId });
        const n = (attempts.get(payload) ?? 0) + 1;
        attempts.set(payload, n);
        unacked.push({ messageId: packet.messageId, reasonCode: decide(packet.topic, n) });
        fake.maxUnacked = Math.max(fake.maxUnacked, unacked.length);
        if (unacked.length >= hold) {
          for (const u of unacked) send({ cmd: 'puback', messageId: u.messageId, reasonCode: u.reasonCode });
          // Like mosquitto 2.0 with max_queued_messages 0: the connection drops right after a refusal.
          if (closeAfterRefusal && unacked.some((u) => u.reasonCode >= 0x80)) socket.end();
          unacked = [];
        }
      } else if (packet.cmd === 'disconnect') socket.end();
    });
    socket.on('data', (d) => parser.parse(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------

describe('forwarder over MQTT 3.1.1 (aedes)', () => {
  after(() => {
    // aedes keeps nothing global; nothing to do
  });

  test('delivers in journal order and removes each record after its PUBACK', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    const states: string[] = [];
    f = forwarder(j, { url: `mqtt://127.0.0.1:${broker.port}`, window: 50 }, { onState: (s) => states.push(s) });
    f.start();
    await until(() => f!.connectionState === 'connected', 5000, 'connected');
    for (let i = 0; i < 2000; i++) j.append(reading(`A${i % 4}`, i));
    await until(() => j.pending === 0, 10_000, 'all delivered');
    assert.equal(broker.received.length, 2000);
    assert.deepEqual(broker.received.map((m) => m.payload.value), [...Array(2000).keys()]);
    assert.ok(broker.received.every((m) => m.payload.historical === undefined), 'live records carry no historical flag');
    assert.equal(j.stats().counters.delivered, 2000);
    assert.deepEqual(states.slice(0, 2), ['connecting', 'connected']);
  });

  test('a broker that is down: the backlog waits, then arrives in order marked historical; later records are live', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    f = forwarder(j, { url: `mqtt://127.0.0.1:${port}` });
    f.start();
    for (let i = 0; i < 300; i++) j.append(reading('M-1', i));
    await sleep(300);
    assert.notEqual(f.connectionState, 'connected');
    assert.ok(f.lastError, 'the connection error is kept for the status');
    assert.equal(j.pending, 300);
    const broker = await startAedes(port);
    cleanups.push(() => broker.stop());
    await until(() => j.pending === 0, 10_000, 'backlog delivered');
    for (let i = 300; i < 310; i++) j.append(reading('M-1', i));
    await until(() => j.pending === 0, 5000, 'live delivered');
    assert.deepEqual(broker.received.map((m) => m.payload.value), [...Array(310).keys()]);
    assert.ok(broker.received.slice(0, 300).every((m) => m.payload.historical === true));
    assert.ok(broker.received.slice(300).every((m) => m.payload.historical === undefined));
  });

  test('connections dropped mid-stream lose nothing: every key arrives, first copies in order', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    f = forwarder(j, { url: `mqtt://127.0.0.1:${broker.port}`, window: 200 });
    f.start();
    const N = 20_000;
    for (let i = 0; i < N; i++) j.append(reading(`A${i % 7}`, i));
    let drops = 0;
    while (j.pending > 0 && drops < 5) {
      await until(() => broker.received.length > (drops + 1) * 2000 || j.pending === 0, 10_000, 'progress');
      if (j.pending > 0) {
        broker.dropClients();
        drops++;
      }
    }
    await until(() => j.pending === 0, 20_000, 'all delivered');
    assert.ok(drops >= 3, `only ${drops} drops`);
    const seen = new Set<string>();
    const firsts: number[] = [];
    for (const m of broker.received) {
      const key = idempotencyKey(m.payload.assetId, m.payload.signal, m.payload.ts);
      if (seen.has(key)) continue;
      seen.add(key);
      firsts.push(m.payload.value);
    }
    assert.equal(seen.size, N, 'every reading arrived');
    assert.deepEqual(firsts, [...Array(N).keys()], 'first copies in journal order');
    assert.equal(j.stats().counters.delivered, N, 'each record acknowledged once in the journal');
  });

  test('stop() waits for in-flight PUBACKs, then closes the client and clears every timer', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    f = new Forwarder(j, { url: `mqtt://127.0.0.1:${broker.port}`, reconnectMs: 50 });
    f.start();
    await until(() => f!.connectionState === 'connected');
    for (let i = 0; i < 500; i++) j.append(reading('M-1', i));
    await until(() => f!.inFlight > 0 || j.pending === 0);
    await new Promise<void>((r) => f!.stop(2000, r));
    assert.equal(f.busy, false);
    assert.equal(f.connectionState, 'stopped');
    const unreachable = new Forwarder(j, { url: 'mqtt://127.0.0.1:1', reconnectMs: 10 });
    unreachable.start();
    await sleep(50);
    await new Promise<void>((r) => unreachable.stop(0, r));
    assert.equal(unreachable.busy, false, 'no reconnect timer survives stop()');
  });
});

describe('forwarder over MQTT 5 (scripted broker)', () => {
  test('user properties carry the idempotency key and the historical flag', async () => {
    const fake = await startFake5(() => 0);
    cleanups.push(() => fake.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    j.append(reading('M-1', 0)); // appended before any connection: historical
    f = forwarder(j, { url: `mqtt://127.0.0.1:${fake.port}`, protocolVersion: 5 });
    f.start();
    await until(() => j.pending === 0);
    j.append(reading('M-1', 1));
    await until(() => j.pending === 0);
    j.append({ topic: 't/no-key', payload: '{}', enc: 'json' });
    await until(() => j.pending === 0);
    const [first, second, third] = fake.publishes;
    assert.equal(third.properties?.userProperties, undefined, 'no empty user properties');
    assert.deepEqual({ ...first.properties?.userProperties }, { historical: 'true', key: 'M-1/current/1700000000000' });
    assert.equal(first.properties?.contentType, 'application/json');
    assert.deepEqual({ ...second.properties?.userProperties }, { key: 'M-1/current/1700000000001' });
  });

  test('in flight never exceeds the window nor the broker Receive Maximum', async () => {
    const fake = await startFake5(() => 0, 5, 5);
    cleanups.push(() => fake.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    f = forwarder(j, { url: `mqtt://127.0.0.1:${fake.port}`, protocolVersion: 5, window: 100 });
    f.start();
    for (let i = 0; i < 200; i++) j.append(reading('M-1', i));
    await until(() => j.pending === 0);
    assert.equal(fake.maxUnacked, 5);
  });

  test('refusals: "not authorized" is dropped and reported, "quota exceeded" is retried', async () => {
    const fake = await startFake5((topic, attempt) => (topic.startsWith('deny/') ? 0x87 : topic.startsWith('busy/') && attempt === 1 ? 0x97 : 0));
    cleanups.push(() => fake.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    const refused: Array<[string, number]> = [];
    f = forwarder(j, { url: `mqtt://127.0.0.1:${fake.port}`, protocolVersion: 5 }, { onRefused: (rec, code) => refused.push([rec.topic, code]) });
    j.append({ topic: 'ok/1', payload: '1', enc: 'json' });
    j.append({ topic: 'deny/1', payload: '2', enc: 'json' });
    j.append({ topic: 'busy/1', payload: '3', enc: 'json' });
    j.append({ topic: 'ok/2', payload: '4', enc: 'json' });
    f.start();
    await until(() => j.pending === 0, 10_000, 'journal empty');
    assert.deepEqual(refused, [['deny/1', 0x87]]);
    const c = j.stats().counters;
    assert.equal(c.refused, 1);
    assert.equal(c.delivered, 3);
    const busy = fake.publishes.filter((p) => p.topic === 'busy/1');
    assert.equal(busy.length, 2, 'quota exceeded: sent again after a reconnect');
  });

  test('a refusal answered just before the broker drops the connection is still honoured (no endless resend)', async () => {
    const fake = await startFake5((topic) => (topic.startsWith('deny/') ? 0x87 : 0), undefined, 1, true);
    cleanups.push(() => fake.stop());
    let f: Forwarder | undefined;
    const j = openJournal(() => f?.pump());
    const refused: string[] = [];
    f = forwarder(j, { url: `mqtt://127.0.0.1:${fake.port}`, protocolVersion: 5 }, { onRefused: (rec) => refused.push(rec.topic) });
    j.append({ topic: 'deny/1', payload: '1', enc: 'json' });
    j.append({ topic: 'ok/1', payload: '2', enc: 'json' });
    f.start();
    await until(() => j.pending === 0, 10_000, 'journal empty');
    await sleep(300);
    assert.deepEqual(refused, ['deny/1']);
    assert.equal(fake.publishes.filter((p) => p.topic === 'deny/1').length, 1, 'the refused record is not sent again');
    assert.equal(j.stats().counters.refused, 1);
    assert.equal(j.stats().counters.delivered, 1);
  });
});
