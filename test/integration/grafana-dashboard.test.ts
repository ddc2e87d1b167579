/**
 * The Grafana dashboard (flows/cloud/grafana-pdm-history.json) against the schema pdm-history
 * creates, on a throwaway PostgreSQL: template variables are resolved by running their own
 * queries, every panel query and annotation is expanded the way Grafana does (test/helpers/
 * grafana-sql.ts) and run. Each must run; the ROI figures (MTBF, MTTD, MTTR, reactive versus
 * planned hours) must equal what the inserted events imply.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { PgCluster } from '../helpers/postgres';
import { repoRoot } from '../helpers/node-red';
import { expandQuery, type ExpandContext } from '../helpers/grafana-sql';
import { alertEvent, maintenance, reading, score, snapshot, workOrder } from '../helpers/history-fixtures';
import { HistoryWriter } from '../../nodes/lib/history/writer';
import { rowsOf } from '../../nodes/lib/history/kinds';

/* eslint-disable @typescript-eslint/no-explicit-any */
const HOUR = 3_600_000;
const MIN = 60_000;
const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', 'cloud', 'grafana-pdm-history.json'), 'utf8'));

const NOW = Math.floor(Date.now() / (10 * MIN)) * 10 * MIN;
const T0 = NOW - 12 * 24 * HOUR;
const SITES: Record<string, string> = { 'M-1': 'plant-a', 'M-2': 'plant-a', 'P-1': 'plant-b', 'P-2': 'plant-b' };
const topic = (asset: string, kind: string) => `pdm/${SITES[asset]}/utilities/line-1/${asset}/${kind}`;
/** Anomaly onsets and when their alerts were raised: MTTD = mean(0.5 h, 1.5 h) = 1 h. */
const T1 = NOW - 3 * 24 * HOUR;
const T2 = NOW - 2 * 24 * HOUR;

let cluster: PgCluster;
let pool: Pool;

async function fill(): Promise<void> {
  const writer = new HistoryWriter(pool, { schema: 'pdm', maxDelayMs: 0, batchRows: 20_000 });
  const write = (msgs: Array<{ topic?: string; payload: unknown }>) =>
    Promise.all(
      msgs.map(
        (msg) =>
          new Promise<void>((resolve, reject) => {
            const { rows, rejects } = rowsOf(msg, { now: Date.now(), rawDays: 7 });
            assert.deepEqual(rejects, [], JSON.stringify(msg).slice(0, 200));
            assert.ok(writer.enqueue(rows, (err) => (err ? reject(err) : resolve())));
          }),
      ),
    );
  const assets = Object.keys(SITES);
  // Readings every 5 minutes for 6 days: vibration drifting up on M-1 and P-1, temperature steady.
  for (const asset of assets) {
    const payload = [];
    for (let t = NOW - 6 * 24 * HOUR; t < NOW; t += 5 * MIN) {
      const drift = asset.endsWith('1') ? (t - (NOW - 6 * 24 * HOUR)) / (6 * 24 * HOUR) * 3 : 0;
      payload.push(reading(asset, 'vibration_velocity', t, Math.round((1.2 + drift + Math.sin(t / HOUR) * 0.2) * 1000) / 1000));
      payload.push(reading(asset, 'temperature', t, Math.round((45 + Math.cos(t / HOUR) * 3) * 100) / 100));
    }
    await write([{ topic: `pdm/${SITES[asset]}/utilities/line-1/${asset}/clean/batch`, payload }]);
  }
  // Scores every 10 minutes; anomalous runs from T1 (M-1) and T2 (P-1).
  const scores = [];
  for (const asset of assets) {
    for (let end = NOW - 6 * 24 * HOUR; end <= NOW; end += 10 * MIN) {
      const start = end - 10 * MIN;
      const anomalous = (asset === 'M-1' && start >= T1 && start < T1 + 2 * HOUR) || (asset === 'P-1' && start >= T2 && start < T2 + 3 * HOUR);
      scores.push({ topic: topic(asset, 'features'), payload: score(asset, end, anomalous ? 0.8 : 0.1, anomalous, 10 * MIN) });
    }
  }
  await write(scores);
  // Alerts: M-1 raised 30 min after its onset, P-1 90 min after; M-2 raised on a rule (no anomalous score).
  await write([
    { payload: alertEvent('M-1', 'ep-m1', 1, 'raised', T1 + 30 * MIN, T1 + 30 * MIN, 'plant-a', 'warning') },
    { payload: alertEvent('M-1', 'ep-m1', 2, 'escalated', T1 + 60 * MIN, T1 + 30 * MIN, 'plant-a', 'action') },
    { payload: alertEvent('M-1', 'ep-m1', 3, 'cleared', T1 + 5 * HOUR, T1 + 30 * MIN, 'plant-a', null) },
    { payload: alertEvent('P-1', 'ep-p1', 1, 'raised', T2 + 90 * MIN, T2 + 90 * MIN, 'plant-b', 'action') },
    { payload: alertEvent('M-2', 'ep-m2', 1, 'raised', NOW - 5 * HOUR, NOW - 5 * HOUR, 'plant-a', 'watch') },
  ]);
  // Failures: M-1 at T0, +100 h, +250 h; P-1 at T0+10 h, +210 h → gaps 100, 150, 200: MTBF 150 h.
  // Reactive hours 2+4+3+5+6 = 20 (MTTR 4 h); planned 1+1+2 = 4.
  await write([
    { topic: topic('M-1', 'event'), payload: maintenance('M-1', T0, 'breakdown', 2) },
    { topic: topic('M-1', 'event'), payload: maintenance('M-1', T0 + 100 * HOUR, 'breakdown', 4) },
    { topic: topic('M-1', 'event'), payload: maintenance('M-1', T0 + 250 * HOUR, 'failure', 3, { episodeId: 'ep-m1' }) },
    { topic: topic('P-1', 'event'), payload: maintenance('P-1', T0 + 10 * HOUR, 'breakdown', 5) },
    { topic: topic('P-1', 'event'), payload: maintenance('P-1', T0 + 210 * HOUR, 'breakdown', 6) },
    { topic: topic('M-2', 'event'), payload: maintenance('M-2', T0 + 50 * HOUR, 'inspection', 1) },
    { topic: topic('P-2', 'event'), payload: maintenance('P-2', T0 + 60 * HOUR, 'part_replaced', 1) },
    { topic: topic('M-1', 'event'), payload: maintenance('M-1', T0 + 70 * HOUR, 'calibration', 2) },
  ]);
  await write([
    { topic: topic('M-1', 'event'), payload: workOrder('M-1', 'ep-m1', T1 + 61 * MIN, 'WO-101') },
    { topic: topic('P-1', 'event'), payload: workOrder('P-1', 'ep-p1', T2 + 91 * MIN, 'WO-102') },
    ...assets.map((a, i) => ({ payload: snapshot(a, NOW - i * MIN, 100 + i, SITES[a]) })),
  ]);
  await writer.rollup();
  await writer.close();
}

before(async () => {
  cluster = await PgCluster.create();
  pool = cluster.pool();
  await fill();
});
after(async () => {
  await pool?.end().catch(() => {});
  await cluster?.destroy();
});

describe('Grafana dashboard on the pdm-history schema', { timeout: 120_000 }, () => {
  const ctx: ExpandContext = { from: new Date(NOW - 14 * 24 * HOUR), to: new Date(NOW + MIN), interval: '30m', vars: {} };
  const run = async (sql: string) => {
    const expanded = expandQuery(sql, ctx);
    assert.doesNotMatch(expanded, /\$\w|\[\[/, `unexpanded variable or macro in ${expanded}`);
    try {
      return (await pool.query(expanded)).rows as Array<Record<string, any>>;
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${expanded}`);
    }
  };

  it('is a Grafana dashboard model with a PostgreSQL data source input and raw SQL targets', () => {
    assert.equal(dashboard.__inputs[0].pluginId, 'grafana-postgresql-datasource');
    assert.ok(Array.isArray(dashboard.panels) && dashboard.panels.length > 10);
    const targets = dashboard.panels.flatMap((p: any) => p.targets ?? []);
    assert.ok(targets.length > 10);
    for (const t of targets) assert.ok(t.rawQuery && typeof t.rawSql === 'string' && t.rawSql.length > 0, JSON.stringify(t));
    const vib = dashboard.panels.find((p: any) => /Vibration velocity/.test(p.title));
    assert.deepEqual(vib.fieldConfig.defaults.thresholds.steps.map((s: any) => s.value), [null, 1.4, 2.8, 4.5], 'ISO 10816-3 group 2 rigid zone limits');
  });

  it('resolves its template variables by running their queries, as Grafana does', async () => {
    for (const v of dashboard.templating.list) {
      if (v.type === 'constant') ctx.vars[v.name] = { value: v.query, multi: false };
      else {
        const rows = await run(v.query);
        const options = rows.map((r) => String(Object.values(r)[0]));
        assert.ok(options.length > 0, `variable ${v.name} has no options`);
        ctx.vars[v.name] = v.multi ? { value: ['$__all'], multi: true, options } : { value: options.includes('vibration_velocity') ? 'vibration_velocity' : options[0], multi: false, options };
      }
    }
    assert.deepEqual([...ctx.vars.site.options!].sort(), ['plant-a', 'plant-b']);
    assert.deepEqual([...ctx.vars.asset.options!].sort(), ['M-1', 'M-2', 'P-1', 'P-2']);
    assert.deepEqual([...ctx.vars.signal.options!].sort(), ['temperature', 'vibration_velocity']);
  });

  it('runs every panel query and annotation without error, and each returns rows', async () => {
    const queries: Array<[string, string]> = [];
    for (const p of dashboard.panels) for (const t of p.targets ?? []) queries.push([`${p.title} ${t.refId}`, t.rawSql]);
    for (const a of dashboard.annotations.list) queries.push([`annotation ${a.name}`, a.target.rawSql]);
    assert.ok(queries.length >= 17);
    for (const [what, sql] of queries) {
      const rows = await run(sql);
      assert.ok(rows.length > 0, `${what} returned no rows`);
    }
  });

  it('asset status shows the latest snapshot and the open alert tier of each asset', async () => {
    const panel = dashboard.panels.find((p: any) => p.title === 'Asset status');
    const rows = await run(panel.targets[0].rawSql);
    const byAsset = Object.fromEntries(rows.map((r) => [r.asset, r]));
    assert.equal(byAsset['M-1']['alert tier'], 'none', 'M-1 episode cleared');
    assert.equal(byAsset['P-1']['alert tier'], 'action');
    assert.equal(byAsset['M-2']['alert tier'], 'watch');
    assert.equal(byAsset['P-2'].site, 'plant-b');
  });

  const stat = async (title: string) => {
    const panel = dashboard.panels.find((p: any) => p.title === title);
    assert.ok(panel, title);
    const rows = await run(panel.targets[0].rawSql);
    return rows[0];
  };

  it('MTBF, MTTD and MTTR equal what the stored events imply', async () => {
    assert.ok(Math.abs(Number(Object.values(await stat('MTBF (h)'))[0]) - 150) < 1e-9, 'MTBF: gaps 100, 150, 200 h');
    assert.ok(Math.abs(Number(Object.values(await stat('MTTD (h)'))[0]) - 1) < 1e-9, 'MTTD: 0.5 h and 1.5 h');
    assert.ok(Math.abs(Number(Object.values(await stat('MTTR (h)'))[0]) - 4) < 1e-9, 'MTTR: 2, 4, 3, 5, 6 h');
  });

  it('reactive versus planned hours, per week and per site, add up to the stored events', async () => {
    const split = await stat('Reactive vs planned maintenance (h)');
    assert.deepEqual([Number(split['reactive h']), Number(split['planned h'])], [20, 4]);
    const weekly = await run(dashboard.panels.find((p: any) => p.title === 'Maintenance hours per week by mode').targets[0].rawSql);
    assert.equal(weekly.reduce((a, r) => a + Number(r['reactive h'] ?? 0), 0), 20);
    assert.equal(weekly.reduce((a, r) => a + Number(r.failures), 0), 5);
    const sites = await run(dashboard.panels.find((p: any) => p.title === 'Cross-site comparison').targets[0].rawSql);
    const bySite = Object.fromEntries(sites.map((r) => [r.site, r]));
    assert.deepEqual(
      ['plant-a', 'plant-b'].map((s) => [Number(bySite[s].assets), Number(bySite[s]['alerts raised']), Number(bySite[s].failures), Number(bySite[s]['reactive h']), Number(bySite[s]['planned h'])]),
      [
        [2, 2, 3, 9, 3],
        [2, 1, 2, 11, 1],
      ],
    );
    assert.equal(Number(bySite['plant-b']['action alerts']), 1);
  });

  it('the vibration trend reads the roll-up: the drifting assets peak in zone C or above', async () => {
    const rows = await run(dashboard.panels.find((p: any) => p.title === 'Cross-asset comparison').targets[0].rawSql);
    const byAsset = Object.fromEntries(rows.map((r) => [r.asset, r]));
    assert.ok(byAsset['M-1']['vibration max (mm/s)'] > 2.8 && byAsset['M-2']['vibration max (mm/s)'] < 1.5, JSON.stringify(byAsset));
  });
});
