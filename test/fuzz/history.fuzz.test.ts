/**
 * pdm-history fuzzed in a real Node-RED runtime against a real PostgreSQL (throwaway cluster):
 * 1,500 generated messages — single payloads and arrays mixing valid items of every kind (from a
 * small key space, so duplicates are frequent) with junk (null, numbers, strings, buffers, other
 * kinds, broken contracts, NaN, NUL characters, circular values, too old and future readings,
 * empty arrays). Properties: the runtime never crashes; done() exactly once per message, with an
 * error exactly when the message held junk; the reject on output 2 counts exactly the junk items;
 * every valid item is stored, each natural key once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { PgCluster } from '../helpers/postgres';
import { helper, nodeModule } from '../helpers/node-red';
import { alertEvent, featureWindow, maintenance, reading, score, snapshot, workOrder } from '../helpers/history-fixtures';
import type { Transition } from '../../nodes/lib/contracts/alert-event';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;
const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261127;
const RUNS = 1500;
const NOW = Date.now();
const MIN = 60_000;

type Item = { valid: true; table: string; key: string; payload: unknown } | { valid: false; payload: unknown };

const asset = fc.constantFrom('M-1', 'M-2', 'P-1');
const minute = fc.integer({ min: 1, max: 120 }).map((m) => Math.floor(NOW / MIN) * MIN - m * MIN);
const transitions: Transition[] = ['raised', 'escalated', 'acknowledged', 'cleared'];

const validArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ a: asset, s: fc.constantFrom('temperature', 'vibration_velocity'), t: fc.integer({ min: 0, max: 3600 }), v: fc.double({ min: -1e6, max: 1e6, noNaN: true }), h: fc.boolean() }).map(({ a, s, t, v, h }) => ({ valid: true as const, table: 'readings', key: `${a}|${s}|${NOW - t * 1000}`, payload: reading(a, s, NOW - t * 1000, v, h ? { historical: true } : {}) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, end: minute, v: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ a, end, v }) => ({ valid: true as const, table: 'scores', key: `${a}|${end}`, payload: score(a, end, v, v > 0.5) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, end: minute }).map(({ a, end }) => ({ valid: true as const, table: 'features', key: `${a}|${end}`, payload: featureWindow(a, end) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, ep: fc.integer({ min: 1, max: 4 }), tr: fc.constantFrom(...transitions), ts: minute }).map(({ a, ep, tr, ts }) => ({ valid: true as const, table: 'alert_events', key: `${a}-${ep}|${tr}|${ts}`, payload: alertEvent(a, `${a}-${ep}`, 1 + transitions.indexOf(tr), tr, ts, ts - MIN) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, ts: minute, type: fc.constantFrom('inspection', 'breakdown', 'calibration'), d: fc.double({ min: 0, max: 24, noNaN: true }) }).map(({ a, ts, type, d }) => ({ valid: true as const, table: 'maintenance_events', key: `${a}|${ts}|${type}`, payload: maintenance(a, ts, type, d) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, ep: fc.integer({ min: 1, max: 4 }), ts: minute, op: fc.constantFrom('create', 'update', 'close') }).map(({ a, ep, ts, op }) => ({ valid: true as const, table: 'work_orders', key: `${a}-${ep}|${op}|${ts}`, payload: workOrder(a, `${a}-${ep}`, ts, `WO-${ep}`, op) })) },
  { weight: 1, arbitrary: fc.record({ a: asset, ts: minute, v: fc.integer({ min: 0, max: 3 }) }).map(({ a, ts, v }) => ({ valid: true as const, table: 'twin_snapshots', key: `${a}|${ts}|${v}`, payload: snapshot(a, ts, v) })) },
);

const circular = () => {
  const s: any = snapshot('M-1', NOW, 1);
  s.attributes.self = s;
  return s;
};
const junkArb: fc.Arbitrary<Item> = fc
  .oneof(
    fc.constant(null),
    fc.double(),
    fc.string(),
    fc.constant(Buffer.from('raw')),
    fc.constant({}),
    fc.constant({ kind: 'flood', transition: 'flood_started' }),
    fc.constant({ kind: 'alert_summary', assetId: 'M-1' }),
    fc.constant(reading('M-1', 'temperature', NOW, Number.NaN)),
    fc.constant({ ...reading('M-1', 'temperature', NOW, 1), ts: String(NOW) }),
    fc.constant(reading('M-\u00001', 'temperature', NOW, 1)),
    fc.constant(reading('M-1', 'temperature', NOW - 8 * 86_400_000, 1)),
    fc.constant(reading('M-1', 'temperature', NOW + 3 * 86_400_000, 1)),
    fc.constant(reading('M/1', 'temperature', NOW, 1)),
    fc.constant(score('M-1', NOW, 2, true)),
    fc.constant({ ...alertEvent('M-1', 'e', 1, 'raised', NOW, NOW), transition: 'exploded' }),
    fc.constant({ kind: 'maintenance', assetId: 'M-1', ts: NOW }),
    fc.constant({ ...workOrder('M-1', 'e', NOW, 'W'), operation: undefined }),
    fc.constant({ ...snapshot('M-1', NOW, 1), version: 1.5 }),
    fc.constant({ ...maintenance('M-1', NOW, 'inspection', 1), note: 'bad\u0000text' }),
    fc.constant(null).map(circular),
    fc.array(fc.integer(), { maxLength: 3 }).map((a) => ({ values: a })),
  )
  .map((payload) => ({ valid: false as const, payload }));

const itemArb = fc.oneof({ weight: 3, arbitrary: validArb }, { weight: 1, arbitrary: junkArb });
const messageArb = fc.oneof(
  { weight: 2, arbitrary: itemArb.map((item) => ({ items: [item], array: false })) },
  { weight: 2, arbitrary: fc.array(itemArb, { minLength: 1, maxLength: 20 }).map((items) => ({ items, array: true })) },
  { weight: 1, arbitrary: fc.constant({ items: [] as Item[], array: true }) },
);

let cluster: PgCluster;
let pool: Pool;
before(async () => {
  cluster = await PgCluster.create();
  pool = cluster.pool();
  await helper.startServer();
});
after(async () => {
  await helper.unload().catch(() => {});
  await helper.stopServer().catch(() => {});
  await pool?.end().catch(() => {});
  await cluster?.destroy();
});

describe('pdm-history fuzz', () => {
  it(`${RUNS} generated messages: never crashes, done() once each, junk rejected exactly, every valid item stored once by key`, { timeout: 240_000 }, async () => {
    const at = { z: 'tab', x: 1, y: 1 };
    await helper.load(nodeModule('pdm-history'), [
      { id: 'tab', type: 'tab' },
      { id: 'h', ...at, type: 'pdm-history', host: cluster.host, port: cluster.port, database: 'postgres', user: 'postgres', schema: 'fuzz', tls: '', variant: 'auto', batchRows: 2000, maxDelayMs: 5, maxQueueRows: 1_000_000, rawDays: 7, aggregateDays: 180, longDays: 1825, maintenanceMin: 0, wires: [[], ['rej']] },
      { id: 'rej', ...at, type: 'helper', wires: [] },
      { id: 'completer', ...at, type: 'complete', scope: ['h'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catcher', ...at, type: 'catch', scope: ['h'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    const node = helper.getNode('h');
    const done = new Map<string, number>();
    const failed = new Set<string>();
    const rejectCount = new Map<string, number>();
    helper.getNode('completed').on('input', (m: Msg) => done.set(m._msgid, (done.get(m._msgid) ?? 0) + 1));
    helper.getNode('caught').on('input', (m: Msg) => {
      done.set(m._msgid, (done.get(m._msgid) ?? 0) + 1);
      failed.add(m._msgid);
    });
    helper.getNode('rej').on('input', (m: Msg) => {
      assert.ok(!rejectCount.has(m._msgid), 'one reject message per input');
      rejectCount.set(m._msgid, m.reject.count);
    });

    const generated = fc.sample(messageArb, { numRuns: RUNS, seed: SEED });
    const expectedKeys = new Map<string, Set<string>>();
    const junkPer = new Map<string, number>();
    generated.forEach((g, i) => {
      const id = `f${i}`;
      let junk = g.items.filter((it) => !it.valid).length;
      if (g.array && g.items.length === 0) junk = 1; // the empty array itself
      junkPer.set(id, junk);
      for (const it of g.items) if (it.valid) (expectedKeys.get(it.table) ?? expectedKeys.set(it.table, new Set()).get(it.table)!).add(it.key);
      node.receive({ _msgid: id, topic: 'pdm/plant-f/area/line/x/clean/y', payload: g.array ? g.items.map((it) => it.payload) : g.items[0].payload });
    });
    const deadline = Date.now() + 180_000;
    while (done.size < RUNS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(done.size, RUNS, 'done() for every message');
    for (const [id, n] of done) assert.equal(n, 1, `done() ${n} times for ${id}`);
    for (const [id, junk] of junkPer) {
      assert.equal(failed.has(id), junk > 0, `${id}: done(err) iff junk (junk ${junk})`);
      assert.equal(rejectCount.get(id) ?? 0, junk, `${id}: reject count`);
    }
    const keyOf: Record<string, string> = {
      readings: `asset_id || '|' || signal || '|' || (extract(epoch FROM ts) * 1000)::bigint`,
      scores: `asset_id || '|' || (extract(epoch FROM window_end) * 1000)::bigint`,
      features: `asset_id || '|' || (extract(epoch FROM window_end) * 1000)::bigint`,
      alert_events: `episode_id || '|' || transition || '|' || (extract(epoch FROM ts) * 1000)::bigint`,
      maintenance_events: `asset_id || '|' || (extract(epoch FROM ts) * 1000)::bigint || '|' || type`,
      work_orders: `episode_id || '|' || operation || '|' || (extract(epoch FROM ts) * 1000)::bigint`,
      twin_snapshots: `asset_id || '|' || (extract(epoch FROM ts) * 1000)::bigint || '|' || version`,
    };
    for (const [table, expr] of Object.entries(keyOf)) {
      const stored = (await pool.query(`SELECT ${expr} AS k FROM fuzz.${table}`)).rows.map((r) => r.k as string);
      assert.equal(new Set(stored).size, stored.length, `${table}: a key stored twice`);
      assert.deepEqual(stored.sort(), [...(expectedKeys.get(table) ?? [])].sort(), `${table}: stored keys`);
    }
    const stats = node.history.writer.stats();
    assert.equal(stats.refusedByDb + stats.refusedFull + stats.lostAtClose, 0, JSON.stringify(stats));
  });
});
