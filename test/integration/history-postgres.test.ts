/**
 * pdm-history against a real PostgreSQL from Debian (a throwaway cluster on a free loopback port,
 * test/helpers/postgres.ts), the node in a real Node-RED runtime (node-red-node-test-helper):
 *
 * - 10,000 readings sent twice, then again as a historical replay (as pdm-buffer sends them after
 *   an outage, `"historical": true`), plus every other kind twice: each row stored once;
 * - retention: each tier drops what is older than its cutoff, keeps the rest, drops whole day partitions;
 * - roll-ups: min/max/avg/count per asset/signal/minute equal the values computed in JS, including
 *   minutes that late readings touched after an earlier roll-up;
 * - outage: the cluster is stopped while messages arrive, then started: nothing lost, nothing doubled,
 *   done() once per message after its rows are committed.
 *
 * Without the PostgreSQL binaries this suite fails (never skips): .ci/run installs them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { PgCluster } from '../helpers/postgres';
import { helper, nodeModule } from '../helpers/node-red';
import { alertEvent, featureWindow, maintenance, reading, score, snapshot, workOrder } from '../helpers/history-fixtures';
import { HistoryWriter } from '../../nodes/lib/history/writer';
import { rowsOf } from '../../nodes/lib/history/kinds';
import { DAY_MS, MINUTE_MS, partitionName, dayOf } from '../../nodes/lib/history/retention';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = Record<string, any>;
const historyNode = nodeModule('pdm-history');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}
const count = async (pool: Pool, sql: string, params: unknown[] = []) => Number((await pool.query(sql, params)).rows[0].n);

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

function flow(schema: string, extra: Record<string, unknown> = {}) {
  const at = { z: 'tab', x: 1, y: 1 };
  return [
    { id: 'tab', type: 'tab' },
    {
      id: 'h', ...at, type: 'pdm-history', host: cluster.host, port: cluster.port, database: 'postgres', user: 'postgres', schema, tls: '', variant: 'auto',
      batchRows: 5000, maxDelayMs: 20, maxQueueRows: 200_000, rawDays: 7, aggregateDays: 180, longDays: 1825, maintenanceMin: 0, wires: [['out'], ['rej']], ...extra,
    },
    { id: 'out', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'completer', ...at, type: 'complete', scope: ['h'], uncaught: false, wires: [['completed']] },
    { id: 'completed', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: ['h'], uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
  ];
}

/** Loads the flow and counts done() per message id (Complete and Catch). */
async function load(schema: string, extra: Record<string, unknown> = {}) {
  await helper.unload(); // a failed test before this one may have left its flow
  await helper.load(historyNode, flow(schema, extra));
  const done = new Map<string, number>();
  const errors = new Map<string, string>();
  const rejects: Msg[] = [];
  helper.getNode('completed').on('input', (m: Msg) => done.set(m._msgid, (done.get(m._msgid) ?? 0) + 1));
  helper.getNode('caught').on('input', (m: Msg) => {
    done.set(m._msgid, (done.get(m._msgid) ?? 0) + 1);
    errors.set(m._msgid, String(m.error?.message));
  });
  helper.getNode('rej').on('input', (m: Msg) => rejects.push(m));
  return { node: helper.getNode('h'), done, errors, rejects };
}

describe('pdm-history on PostgreSQL', { timeout: 300_000 }, () => {
  it('10,000 readings sent twice and replayed as historical, and every other kind twice, are each stored once', async () => {
    const { node, done, errors } = await load('dup');
    const now = Date.now();
    const readings = Array.from({ length: 10_000 }, (_, i) => reading(`M-${i % 20}`, i % 2 ? 'temperature' : 'vibration_velocity', now - 3_600_000 + Math.floor(i / 20) * 1000, (i % 97) / 10));
    const others = [
      score('M-1', now - 60_000, 0.7, true),
      featureWindow('M-1', now - 60_000),
      alertEvent('M-1', 'M-1:bearing_wear:1', 1, 'raised', now - 50_000, now - 50_000),
      maintenance('M-1', now - 40_000, 'inspection', 1),
      workOrder('M-1', 'M-1:bearing_wear:1', now - 30_000, 'WO-7'),
      snapshot('M-1', now - 20_000, 5),
    ];
    let id = 0;
    const send = (msg: Msg) => {
      msg._msgid = `m${id++}`;
      node.receive(msg);
    };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < readings.length; i += 500) send({ payload: readings.slice(i, i + 500), topic: 'pdm/plant-a/utilities/line-1/batch' });
      for (const p of others) send({ payload: p });
    }
    // The replay: one MQTT message per reading on its clean topic, flagged historical.
    for (const r of readings.slice(0, 2000)) send({ topic: `pdm/plant-a/utilities/line-1/${r.assetId}/clean/${r.signal}`, payload: { ...r, historical: true } });
    await until(() => done.size === id, 60_000, `done() for all ${id} messages (have ${done.size})`);
    assert.deepEqual([...errors.values()], []);
    assert.ok([...done.values()].every((n) => n === 1), 'done() once per message');
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM dup.readings'), 10_000);
    assert.equal(await count(pool, 'SELECT count(DISTINCT (asset_id, signal, ts)) AS n FROM dup.readings'), 10_000);
    for (const t of ['scores', 'features', 'alert_events', 'maintenance_events', 'work_orders', 'twin_snapshots']) assert.equal(await count(pool, `SELECT count(*) AS n FROM dup.${t}`), 1, t);
    // The first write of a reading wins: the replay did not mark it historical.
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM dup.readings WHERE historical'), 0);
    const stats = node.history.writer.stats();
    assert.equal(stats.rowsInserted, 10_006);
    assert.equal(stats.rowsWritten, 2 * 10_006 + 2000);
    await helper.unload();
  });

  it('a replayed reading seen first through the replay is stored as historical, and the schema records its version', async () => {
    const { node, done } = await load('hist');
    const r = reading('P-1', 'temperature', Date.now() - 1000, 40);
    node.receive({ _msgid: 'a', topic: 'pdm/plant-b/_/_/P-1/clean/temperature', payload: { ...r, historical: true } });
    node.receive({ _msgid: 'b', payload: r });
    await until(() => done.size === 2, 20_000, 'done');
    const rows = (await pool.query('SELECT historical, site, area, line FROM hist.readings')).rows;
    assert.deepEqual(rows, [{ historical: true, site: 'plant-b', area: null, line: null }]);
    assert.deepEqual((await pool.query('SELECT version, variant FROM hist.pdm_schema_version')).rows, [{ version: 1, variant: 'plain' }]);
    await helper.unload();
  });

  it('retention drops what is older than each tier and keeps the rest', async () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 0);
    // Written with long tiers, so old rows exist; then retention runs with the tiers under test.
    const wide = new HistoryWriter(pool, { schema: 'ret', tiers: { rawDays: 40, aggregateDays: 4000, longDays: 4000 }, now: () => now, maxDelayMs: 0 });
    const write = (payload: unknown) => new Promise<void>((resolve, reject) => {
      const { rows, rejects } = rowsOf({ payload, topic: 'pdm/s/a/l/x' }, { now, rawDays: 40 });
      assert.deepEqual(rejects, []);
      assert.ok(wide.enqueue(rows, (err) => (err ? reject(err) : resolve())));
    });
    const ageDays = [0.1, 3, 6.9, 7.1, 8.5, 10, 25, 35];
    await write(ageDays.flatMap((d) => [0, 1, 2].map((k) => reading('M-1', 'temperature', now - d * DAY_MS + k * 1000, d))));
    await wide.rollup();
    const longAges = [1, 100, 1000, 1900, 3000];
    await write(longAges.flatMap((d, i) => [score('M-1', now - d * DAY_MS, 0.5, false), featureWindow('M-1', now - d * DAY_MS), alertEvent('M-1', `e${i}`, 1, 'raised', now - d * DAY_MS, now - d * DAY_MS), maintenance('M-1', now - d * DAY_MS, 'inspection', 1), workOrder('M-1', `e${i}`, now - d * DAY_MS, `WO-${i}`), snapshot('M-1', now - d * DAY_MS, i)]));
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM ret.readings'), 24);
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM ret.readings_1m'), 8);
    await wide.close();

    const tiers = { rawDays: 7, aggregateDays: 20, longDays: 1825 };
    const narrow = new HistoryWriter(pool, { schema: 'ret', tiers, now: () => now });
    const result = await narrow.retention();
    const rawCutoff = now - 7 * DAY_MS;
    // Whole days before the cutoff's day are dropped as partitions.
    const expectDropped = [...new Set(ageDays.filter((d) => d > 7).map((d) => dayOf(now - d * DAY_MS)))].filter((day) => (day + 1) * DAY_MS <= rawCutoff).map(partitionName).sort();
    assert.deepEqual(result.droppedPartitions, expectDropped);
    const raw = (await pool.query('SELECT DISTINCT value FROM ret.readings ORDER BY value')).rows.map((r) => r.value);
    assert.deepEqual(raw, [0.1, 3, 6.9], 'raw readings within 7 days are kept, older ones gone');
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM ret.readings WHERE ts < $1', [new Date(rawCutoff).toISOString()]), 0);
    const agg = (await pool.query('SELECT min FROM ret.readings_1m ORDER BY min')).rows.map((r) => r.min);
    assert.deepEqual(agg, [0.1, 3, 6.9, 7.1, 8.5, 10], '1-minute aggregates within 20 days are kept');
    for (const [table, col] of [['scores', 'window_end'], ['features', 'window_end'], ['alert_events', 'ts'], ['maintenance_events', 'ts'], ['work_orders', 'ts'], ['twin_snapshots', 'ts']]) {
      const ages = (await pool.query(`SELECT round(extract(epoch FROM ($1::timestamptz - ${col})) / 86400) AS d FROM ret.${table} ORDER BY 1`, [new Date(now).toISOString()])).rows.map((r) => Number(r.d));
      assert.deepEqual(ages, [1, 100, 1000], `${table}: kept within 1825 days`);
    }
    assert.equal(result.deleted.scores, 2);
    // Running it again finds nothing more to do.
    const again = await narrow.retention();
    assert.deepEqual(again.droppedPartitions, []);
    assert.ok(Object.values(again.deleted).every((n) => n === 0));
    await narrow.close();
  });

  it('roll-ups give the min, max, avg and count computed in JS, also for minutes touched by late readings', async () => {
    const base = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 30 * MINUTE_MS;
    let clock = base + 20 * MINUTE_MS;
    const writer = new HistoryWriter(pool, { schema: 'agg', now: () => clock, maxDelayMs: 0 });
    const write = (payload: unknown[]) => new Promise<void>((resolve, reject) => {
      const { rows, rejects } = rowsOf({ payload }, { now: clock, rawDays: 7 });
      assert.deepEqual(rejects, []);
      assert.ok(writer.enqueue(rows, (err) => (err ? reject(err) : resolve())));
    });
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const all: Array<ReturnType<typeof reading>> = [];
    const make = (fromMin: number, toMin: number) => {
      const out = [];
      for (let t = base + fromMin * MINUTE_MS; t < base + toMin * MINUTE_MS; t += 250 + Math.floor(random() * 2000)) {
        for (const asset of ['M-1', 'M-2', 'P-1']) for (const signal of ['vibration_velocity', 'temperature']) if (random() < 0.8) out.push(reading(asset, signal, t, Math.round((random() * 100 - 20) * 1000) / 1000));
      }
      return out;
    };
    const first = make(0, 20);
    all.push(...first);
    await write(first);
    const r1 = await writer.rollup();
    assert.deepEqual(r1 && [r1.from <= base, r1.to], [true, base + 20 * MINUTE_MS]);
    // Late readings for minutes 5..8 (a replay), and new ones for minutes 20..25.
    clock = base + 26 * MINUTE_MS;
    const late = make(5, 8).map((r) => ({ ...r, ts: r.ts + 1 }));
    const fresh = make(20, 25);
    all.push(...late, ...fresh);
    await write(late);
    await write(fresh);
    await writer.rollup();

    const expected = new Map<string, { min: number; max: number; sum: number; count: number }>();
    for (const r of all) {
      const key = `${r.assetId}|${r.signal}|${Math.floor(r.ts / MINUTE_MS) * MINUTE_MS}`;
      const e = expected.get(key) ?? { min: Infinity, max: -Infinity, sum: 0, count: 0 };
      e.min = Math.min(e.min, r.value);
      e.max = Math.max(e.max, r.value);
      e.sum += r.value;
      e.count++;
      expected.set(key, e);
    }
    const rows = (await pool.query(`SELECT asset_id, signal, (extract(epoch FROM bucket) * 1000)::bigint AS bucket, min, max, avg, count FROM agg.readings_1m`)).rows;
    assert.equal(rows.length, expected.size, 'one aggregate per asset, signal and minute');
    for (const row of rows) {
      const e = expected.get(`${row.asset_id}|${row.signal}|${row.bucket}`);
      assert.ok(e, `unexpected bucket ${row.asset_id} ${row.signal} ${row.bucket}`);
      assert.equal(row.min, e.min);
      assert.equal(row.max, e.max);
      assert.equal(Number(row.count), e.count);
      assert.ok(Math.abs(row.avg - e.sum / e.count) < 1e-9, `avg ${row.avg} vs ${e.sum / e.count}`);
    }
    await writer.close();
  });

  it('a database outage while messages arrive loses nothing and doubles nothing; done() follows the commit', async () => {
    const { node, done, errors } = await load('outage', { maxDelayMs: 10, batchRows: 500 });
    const now = Date.now();
    let id = 0;
    const sendBatch = (from: number, n: number) => {
      const payload = Array.from({ length: n }, (_, i) => reading(`M-${(from + i) % 5}`, 'current', now - 600_000 + from + i, from + i));
      node.receive({ _msgid: `o${id++}`, payload });
    };
    for (let i = 0; i < 10; i++) sendBatch(i * 100, 100);
    await until(() => done.size === 10, 20_000, 'first messages written');
    await cluster.stop();
    for (let i = 10; i < 40; i++) {
      sendBatch(i * 100, 100);
      await sleep(20);
    }
    await sleep(1500);
    const during = node.history.writer.stats();
    assert.equal(during.connected, false, 'the writer noticed the outage');
    assert.ok(during.queuedRows > 0, 'rows are queued while the database is down');
    assert.ok(done.size < 40, 'no done() before the rows are committed');
    await cluster.start();
    await until(() => done.size === 40, 60_000, `all messages written after the restart (have ${done.size})`);
    assert.deepEqual([...errors.values()], []);
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM outage.readings'), 4000);
    assert.equal(await count(pool, 'SELECT count(DISTINCT value) AS n FROM outage.readings'), 4000);
    const stats = node.history.writer.stats();
    assert.equal(stats.refusedFull + stats.refusedByDb + stats.lostAtClose, 0);
    assert.ok(stats.failures > 0);
    await helper.unload();
  });

  it('the server going away under a query in flight fails that query and nothing else (no uncaught client error)', async () => {
    const writer = new HistoryWriter(pool, { schema: 'inflight' });
    await writer.ensureSchema();
    // Another session holds the roll-up row, so the writer's roll-up waits inside its query.
    const holder = await pool.connect();
    holder.on('error', () => {});
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM inflight.pdm_rollup_state FOR UPDATE');
    const rolling = writer.rollup().then(
      () => undefined,
      (err: Error) => err,
    );
    await sleep(300);
    await cluster.stop();
    try {
      const err = await rolling;
      assert.match(String(err?.message), /terminat|connection/i);
    } finally {
      holder.release(true);
      await cluster.start();
      await writer.close(0);
    }
  });

  it('20 redeploys with writes leave no connection, timer or socket behind', async () => {
    const resources = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length;
    const sessions = () => count(pool, `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'node-red pdm-history'`);
    await helper.unload();
    await sleep(200);
    const before = resources();
    for (let i = 0; i < 20; i++) {
      const { node, done } = await load('redeploy');
      node.receive({ _msgid: `r${i}`, payload: reading('M-1', 'current', Date.now() - i, i) });
      await until(() => done.size === 1, 20_000, 'written');
      const { pool: nodePool } = node.history;
      await helper.unload();
      assert.equal(nodePool.totalCount, 0, 'the pool is ended on close');
    }
    // Timers and sockets first: the check of server sessions below uses the test's own pool.
    await until(() => resources() <= before, 5000, `timers and sockets back to ${before} (now ${resources()})`);
    await until(async () => (await sessions()) === 0, 5000, 'no server session of the node left');
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM redeploy.readings'), 20);
  });

  it('rows still queued when the node closes during an outage are handed back as lost and counted, never silently dropped', async () => {
    const { node, done } = await load('closing', { maxDelayMs: 10 });
    node.receive({ _msgid: 'w', payload: reading('M-1', 'current', Date.now() - 5000, 1) });
    await until(() => done.size === 1, 20_000, 'first write');
    await cluster.stop();
    try {
      node.receive({ _msgid: 'q', payload: [reading('M-1', 'current', Date.now() - 1000, 2), reading('M-2', 'current', Date.now() - 1000, 3)] });
      await until(() => node.history.writer.stats().failures > 0, 10_000, 'the writer saw the outage');
      const { writer } = node.history;
      // The flow's Catch node stops with the flow, so the writer's own account is what is checked.
      const warnings: string[] = [];
      const warn = node.warn.bind(node);
      node.warn = (text: unknown) => {
        warnings.push(String(text));
        warn(text);
      };
      await helper.unload();
      const s = writer.stats();
      assert.deepEqual([s.lostAtClose, s.queuedRows, s.queuedMessages], [1, 0, 0]);
      assert.ok(warnings.some((w) => /lostAtClose/.test(w)), `a warning names the loss: ${warnings.join(' | ')}`);
    } finally {
      await cluster.start();
    }
  });

  it('rejects what is not one of its kinds to output 2 and Catch, and answers commands on output 1', async () => {
    const { node, done, errors, rejects } = await load('cmd');
    const outs: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => outs.push(m));
    node.receive({ _msgid: 'x', payload: { hello: 'world' } });
    node.receive({ _msgid: 'y', payload: [reading('M-1', 'current', Date.now(), 1), 'junk'] });
    node.receive({ _msgid: 'z', command: 'maintain' });
    await until(() => done.size === 3, 20_000, 'done');
    assert.match(errors.get('x')!, /rejected/);
    assert.match(errors.get('y')!, /rejected/);
    assert.equal(errors.has('z'), false);
    assert.deepEqual(rejects.map((m) => [m._msgid, m.reject.code, m.reject.count]), [
      ['x', 'unknown_kind', 1],
      ['y', 'unknown_kind', 1],
    ]);
    const reply = outs.find((m) => m._msgid === 'z')!;
    assert.equal(reply.topic, 'pdm-history/maintain');
    assert.ok(reply.payload.retention && 'rollup' in reply.payload);
    assert.equal(await count(pool, 'SELECT count(*) AS n FROM cmd.readings'), 1);
    await helper.unload();
  });
});
