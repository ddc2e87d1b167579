/**
 * Property-based fuzzing of the store-and-forward path.
 *
 * A. The journal against a model (fast-check, real files): random interleavings of appends
 *    (several assets, varied sizes), group commits, hand-outs with in-order and out-of-order acks,
 *    rewinds (dropped connections), clean reopens, crashes (no close, no checkpoint) with a torn
 *    partial frame written after them, single damaged bytes in sealed segments, clock jumps past
 *    the age bound — under each overflow policy with a small size bound. Properties:
 *     - open() always recovers (never throws) and appends never take pending bytes past the bound;
 *     - nothing is lost silently: every record whose append was acknowledged (durable) is handed
 *       out at least once, or counted in dropped / expired / corrupt — the uncounted-missing set
 *       is empty and the counts never exceed what was actually missing plus what was delivered;
 *     - with no size pressure, no age bound and no damage, every record is delivered;
 *     - order: between two rewinds/reopens seqs are handed out strictly increasing, and the first
 *       hand-outs of each asset are in append order.
 * B. The node in a real runtime (node-red-node-test-helper) against aedes: 3,000 generated
 *    messages (readings, arrays with junk, strings, buffers, numbers, objects with and without
 *    topics, wildcard and $ topics, circular and oversized payloads). Properties: done() exactly
 *    once per message (Complete + Catch), a message with a reject goes to done(err) and output 2;
 *    stored records + rejected items = what the message holds; everything stored reaches the
 *    broker (QoS 1), each reading once by key, in order per asset; nothing crashes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Journal, type OverflowPolicy } from '../../nodes/lib/buffer/journal';
import { idempotencyKey, type RecordInput } from '../../nodes/lib/buffer/record';
import { helper, nodeModule } from '../helpers/node-red';

const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261127;

// ---------------------------------------------------------------------------------------------
// A. Journal vs model

type Op =
  | { kind: 'append'; n: number; pad: number; asset: number }
  | { kind: 'sync' }
  | { kind: 'deliver'; n: number; skip: number }
  | { kind: 'rewind' }
  | { kind: 'reopen' }
  | { kind: 'crash'; torn: number }
  | { kind: 'damage'; pick: number; byte: number }
  | { kind: 'time'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 60 }), pad: fc.integer({ min: 0, max: 400 }), asset: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 120 }), skip: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rewind' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), torn: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('damage' as const), pick: fc.nat(), byte: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 40_000 }) }) },
);

interface Scenario {
  policy: OverflowPolicy;
  pressure: boolean;
  ageBound: boolean;
  ops: Op[];
}
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  policy: fc.constantFrom<OverflowPolicy>('drop-oldest', 'drop-newest', 'reject'),
  pressure: fc.boolean(),
  ageBound: fc.boolean(),
  ops: fc.array(opArb, { minLength: 5, maxLength: 80 }),
});

function rec(asset: number, i: number, pad: number): RecordInput {
  const r = { assetId: `A${asset}`, signal: 'current', value: i, unit: 'A', ts: i, quality: 'good', pad: 'p'.repeat(pad) };
  return { topic: `pdm/_/_/_/A${asset}/clean/current`, payload: JSON.stringify(r), enc: 'json', key: idempotencyKey(r.assetId, r.signal, r.ts), asset: r.assetId };
}
const durable = (j: Journal, seq: number) => new Promise<void>((resolve, reject) => j.whenDurable(seq, (e) => (e ? reject(e) : resolve())));
const closeJ = (j: Journal) => new Promise<void>((r) => j.close(() => r()));

async function runScenario(sc: Scenario): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-jfuzz-'));
  let now = 1_000_000;
  const maxBytes = sc.pressure ? 64 * 1024 : 64 * 1024 * 1024;
  const options = { dir, maxBytes, overflow: sc.policy, maxAgeMs: sc.ageBound ? 60_000 : 0, segmentBytes: 8 * 1024, syncMs: 0, checkpointMs: 5, now: () => now };
  let j = Journal.open(options);
  let counter = 0;
  let lastSeq = -1;
  /** Records whose append was confirmed durable: value → asset. */
  const durableValues = new Map<number, number>();
  const appendedUnconfirmed: Array<{ seq: number; value: number; asset: number }> = [];
  const delivered = new Set<number>();
  const firstOrder = new Map<number, number[]>();
  let handedInSession: number[] = [];
  let damaged = 0;
  const confirm = async () => {
    if (lastSeq >= 0) await durable(j, lastSeq);
    for (const a of appendedUnconfirmed.splice(0)) durableValues.set(a.value, a.asset);
  };
  const handOut = (n: number, skip: number) => {
    const held: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = j.next();
      if (!r) break;
      handedInSession.push(r.seq);
      const v = JSON.parse(r.payload).value as number;
      if (!delivered.has(v)) {
        const a = Number(r.asset!.slice(1));
        const list = firstOrder.get(a) ?? [];
        list.push(v);
        firstOrder.set(a, list);
      }
      // Ack all but every `skip`-th (acked later, out of order) when skip > 0.
      if (skip > 0 && i % (skip + 1) === skip) held.push(r.seq);
      else j.ack(r.seq);
      delivered.add(v);
    }
    for (const s of held.reverse()) j.ack(s);
  };
  const reopen = () => {
    j = Journal.open(options);
    handedInSession = [];
    lastSeq = j.stats().nextSeq - 1;
  };
  try {
    for (const op of sc.ops) {
      const pendingBefore = j.stats().pendingBytes;
      switch (op.kind) {
        case 'append':
          for (let i = 0; i < op.n; i++) {
            const value = counter++;
            const res = j.append(rec(op.asset, value, op.pad));
            if (res.ok) {
              lastSeq = res.seq;
              appendedUnconfirmed.push({ seq: res.seq, value, asset: op.asset });
            } else assert.ok(['full', 'dropped'].includes(res.code) && sc.pressure, `unexpected append failure ${res.code}`);
          }
          break;
        case 'sync':
          await confirm();
          break;
        case 'deliver':
          await confirm();
          handOut(op.n, op.skip);
          break;
        case 'rewind':
          j.rewind();
          handedInSession = [];
          break;
        case 'reopen':
          await confirm();
          await closeJ(j);
          reopen();
          break;
        case 'crash': {
          await confirm(); // a crash after the fsync: what the caller was told is durable
          j.abandon();
          const segs = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
          if (op.torn > 0 && segs.length > 0) fs.appendFileSync(path.join(dir, segs[segs.length - 1]), Buffer.from(Array.from({ length: op.torn }, (_, i) => (i * 37 + 11) & 0xff)));
          reopen();
          break;
        }
        case 'damage': {
          // One damaged byte in a closed journal's sealed segment (not the last one).
          await confirm();
          await closeJ(j);
          const segs = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
          if (segs.length > 1) {
            const file = path.join(dir, segs[op.pick % (segs.length - 1)]);
            const buf = fs.readFileSync(file);
            if (buf.length > 0) {
              buf[op.byte % buf.length] ^= 0x40;
              fs.writeFileSync(file, buf);
              damaged++;
            }
          }
          reopen();
          break;
        }
        case 'time':
          now += op.ms;
          j.maintain();
          break;
      }
      const s = j.stats();
      // Appends never take the journal past its bound. (After a crash it may start above it: records
      // acknowledged after the last checkpoint count as pending again, and are sent again.)
      if (op.kind === 'append') assert.ok(s.pendingBytes <= Math.max(maxBytes, pendingBefore), `pending bytes ${s.pendingBytes} > ${maxBytes}`);
      assert.ok(s.pending >= 0 && s.pendingBytes >= 0, 'negative pending');
      for (let i = 1; i < handedInSession.length; i++) assert.ok(handedInSession[i] > handedInSession[i - 1], 'seqs handed out in order within a session');
    }
    // Deliver everything that is left.
    await confirm();
    j.rewind();
    for (let guard = 0; guard < 100 && j.pending > 0; guard++) handOut(10_000, 0);
    const s = j.stats();
    assert.equal(s.pending, 0, 'everything handed out and acknowledged');
    const missing = [...durableValues.keys()].filter((v) => !delivered.has(v));
    const counted = s.counters.dropped + s.counters.expired + s.counters.corrupt;
    assert.ok(missing.length <= counted, `${missing.length} durable records never delivered but only ${counted} counted as lost`);
    if (!sc.pressure && !sc.ageBound && damaged === 0) assert.deepEqual(missing, [], 'no pressure, no age bound, no damage: all delivered');
    if (!sc.pressure) assert.equal(s.counters.dropped + s.counters.rejected, 0);
    if (!sc.ageBound) assert.equal(s.counters.expired, 0);
    if (damaged === 0) assert.equal(s.counters.corrupt, 0, 'torn tails are cut, never counted as damage');
    for (const [a, values] of firstOrder) {
      for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], `asset ${a}: ${values[i]} handed out first after ${values[i - 1]}`);
    }
  } finally {
    await closeJ(j);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('journal fuzz (model-based, real files)', () => {
  it('recovers, bounds, counts every loss and keeps order under random appends, acks, rewinds, crashes, tears, damage and clock jumps', { timeout: 300_000 }, async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), { numRuns: 150, seed: SEED, endOnFailure: false });
  });
});

// ---------------------------------------------------------------------------------------------
// B. The node in a runtime

const bufferNode = nodeModule('pdm-buffer');
type Msg = Record<string, any>;
const RUNS = 3000;

interface Gen {
  msg: Msg;
  /** Records the message must produce, and items it must reject. */
  records: number;
  rejects: number;
  /** Keys of readings expected at the broker. */
  keys: string[];
}

let tsCounter = 0;
const readingArb = fc.record({ asset: fc.integer({ min: 0, max: 5 }), signal: fc.constantFrom('current', 'speed', 'vibration_velocity'), value: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), historical: fc.boolean() });
const junkArb = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 20 }), fc.constant({ assetId: 'X' }), fc.constant({ assetId: 'X', signal: 's', ts: 1.5 }), fc.constant([1, 2]));

function makeReading(r: { asset: number; signal: string; value: number; historical: boolean }): Msg {
  const out: Msg = { assetId: `M-${r.asset}`, signal: r.signal, value: r.value, unit: 'x', ts: 1_700_000_000_000 + tsCounter++, quality: 'good' };
  if (r.historical) out.historical = true;
  return out;
}
const keyOfReading = (r: Msg) => idempotencyKey(r.assetId, r.signal, r.ts);

const messageArb: fc.Arbitrary<() => Gen> = fc.oneof(
  { weight: 5, arbitrary: readingArb.map((r) => () => {
    const p = makeReading(r);
    return { msg: { payload: p }, records: 1, rejects: 0, keys: [keyOfReading(p)] };
  }) },
  { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 4, arbitrary: readingArb.map((r) => ({ r })) }, { weight: 1, arbitrary: junkArb.map((j) => ({ j })) }), { maxLength: 12 }).map((items) => () => {
    const payload = items.map((it) => ('r' in it ? makeReading(it.r) : it.j));
    const good = payload.filter((p, i) => 'r' in items[i]) as Msg[];
    return { msg: { payload }, records: good.length, rejects: payload.length === 0 ? 1 : payload.length - good.length, keys: good.map(keyOfReading) };
  }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('pdm/s/a/l/M-1/state', 'pdm/s/a/l/M-1/event', 'x/y'), fc.oneof(fc.string(), fc.integer(), fc.constant({ a: 1 }), fc.constant(Buffer.from([1, 2, 3])))).map(([topic, payload]) => () => ({ msg: { topic, payload, retain: true }, records: 1, rejects: 0, keys: [] })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(undefined, '', 'a/+/b', 'a/#', '$SYS/x', 5), fc.oneof(fc.string(), fc.constant({ a: 1 }))).map(([topic, payload]) => () => ({ msg: { topic, payload }, records: 0, rejects: 1, keys: [] })) },
  { weight: 1, arbitrary: fc.constant(() => {
    const c: Msg = { a: 1 };
    c.self = c;
    return { msg: { topic: 't/c', payload: c }, records: 0, rejects: 1, keys: [] };
  }) },
  { weight: 1, arbitrary: fc.constant(() => ({ msg: { topic: 't/big', payload: 'x'.repeat(2 * 1024 * 1024) }, records: 0, rejects: 1, keys: [] })) },
  { weight: 1, arbitrary: fc.constant(() => ({ msg: { topic: 't/none' }, records: 0, rejects: 1, keys: [] })) },
);

describe('pdm-buffer node fuzz (real runtime, aedes)', () => {
  let server: net.Server;
  let aedes: any;
  const atBroker: Array<{ topic: string; payload: Buffer; qos: number }> = [];
  let port = 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bfuzz-'));
  before(async () => {
    const { Aedes } = await import('aedes');
    aedes = await Aedes.createBroker();
    aedes.on('publish', (packet: any, client: any) => {
      if (client) atBroker.push({ topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos });
    });
    server = net.createServer((s) => {
      s.setNoDelay(true);
      aedes.handle(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`${RUNS} generated messages: done once each, every record stored or rejected, everything stored delivered once by key, in order per asset`, { timeout: 180_000 }, async () => {
    const at = { z: 'tab', x: 1, y: 1 };
    await helper.load(bufferNode, [
      { id: 'tab', type: 'tab' },
      { id: 'buf', ...at, type: 'pdm-buffer', broker: `mqtt://127.0.0.1:${port}`, protocol: '4', clientId: '', tls: '', keepalive: 60, root: 'pdm', journal: path.join(tmp, 'j'), maxMB: 100, maxAgeH: 168, overflow: 'reject', syncMs: 5, window: 200, reconnectSec: 0.2, wires: [[], ['rej']] },
      { id: 'rej', ...at, type: 'helper', wires: [] },
      { id: 'completer', ...at, type: 'complete', scope: ['buf'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catcher', ...at, type: 'catch', scope: ['buf'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    const n = helper.getNode('buf');
    const doneIds = new Map<string, number>();
    const errIds = new Set<string>();
    helper.getNode('completed').on('input', (m: Msg) => doneIds.set(m._msgid, (doneIds.get(m._msgid) ?? 0) + 1));
    helper.getNode('caught').on('input', (m: Msg) => {
      doneIds.set(m._msgid, (doneIds.get(m._msgid) ?? 0) + 1);
      errIds.add(m._msgid);
      assert.match(String(m.error?.message), /pdm-buffer\.errors\.rejected/, 'a catalogued error');
    });
    const rejectsById = new Map<string, Msg>();
    helper.getNode('rej').on('input', (m: Msg) => {
      assert.ok(!rejectsById.has(m._msgid), 'one reject message per input');
      rejectsById.set(m._msgid, m);
    });
    const gens = fc.sample(messageArb, { numRuns: RUNS, seed: SEED }).map((g) => g());
    const expected = { records: 0, keys: [] as string[] };
    const ids: string[] = [];
    for (const [i, g] of gens.entries()) {
      g.msg._msgid = `m${i}`;
      ids.push(g.msg._msgid);
      expected.records += g.records;
      expected.keys.push(...g.keys);
      n.receive(g.msg);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    const deadline = Date.now() + 60_000;
    while (doneIds.size < RUNS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(doneIds.size, RUNS, 'done() for every message');
    await new Promise((r) => setTimeout(r, 100));
    for (const id of ids) assert.equal(doneIds.get(id), 1, `done() exactly once for ${id}`);
    for (const [i, g] of gens.entries()) {
      const rej = rejectsById.get(`m${i}`);
      assert.equal(rej?.reject.count ?? 0, g.rejects, `message ${i}: rejected items`);
      assert.equal(errIds.has(`m${i}`), g.rejects > 0, `message ${i}: done(err) iff something was rejected`);
      if (rej) for (const it of rej.reject.items) assert.match(it.reason, /^pdm-buffer\.reject\./);
    }
    const journal = (n as any).buffer.journal;
    assert.equal(journal.stats().counters.appended, expected.records, 'stored = records in the messages');
    while (journal.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(journal.pending, 0);
    assert.equal(atBroker.length, expected.records, 'every stored record reached the broker once (no reconnect here)');
    assert.ok(atBroker.every((m) => m.qos === 1));
    const keys: string[] = [];
    const lastTs = new Map<string, number>();
    for (const m of atBroker) {
      let p: any;
      try {
        p = JSON.parse(m.payload.toString());
      } catch {
        continue;
      }
      if (p && typeof p === 'object' && typeof p.assetId === 'string' && typeof p.ts === 'number' && m.topic.includes('/clean/')) {
        keys.push(keyOfReading(p));
        assert.ok(p.ts > (lastTs.get(p.assetId) ?? -1), 'in order per asset');
        lastTs.set(p.assetId, p.ts);
      }
    }
    assert.deepEqual(keys.sort(), [...expected.keys].sort(), 'each reading once by key');
  });
});
