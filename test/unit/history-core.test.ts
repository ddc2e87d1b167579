/**
 * The pure core of pdm-history (nodes/lib/history): kind detection and row mapping, ISA-95 path
 * from topics, INSERT generation and batch planning, day partitions, the retention plan of each
 * tier and the roll-up range.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectKind, pathFromTopic, rowsOf, TABLES } from '../../nodes/lib/history/kinds';
import { columnsOf, insertSql, planBatch } from '../../nodes/lib/history/batch';
import { createPartitionSql, DAY_MS, daysAhead, partitionDay, partitionName, retentionPlan, rollupRange } from '../../nodes/lib/history/retention';
import { DEFAULT_TIERS, isValidSchemaName, schemaStatements } from '../../nodes/lib/history/schema';
import { alertEvent, featureWindow, maintenance, reading, score, snapshot, workOrder } from '../helpers/history-fixtures';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const opts = { now: NOW, rawDays: 7 };

describe('kind detection and rows', () => {
  test('each contract payload is detected as its kind; other shapes are not', () => {
    assert.equal(detectKind(reading('M-1', 'temperature', NOW, 40)), 'reading');
    assert.equal(detectKind(score('M-1', NOW, 0.2, false)), 'score');
    assert.equal(detectKind(featureWindow('M-1', NOW)), 'feature');
    assert.equal(detectKind(alertEvent('M-1', 'e1', 1, 'raised', NOW, NOW)), 'alert');
    assert.equal(detectKind(maintenance('M-1', NOW, 'inspection', 1)), 'maintenance');
    assert.equal(detectKind(workOrder('M-1', 'e1', NOW, 'WO-1')), 'work_order');
    assert.equal(detectKind({ ...workOrder('M-1', 'e1', NOW, 'WO-1'), kind: 'work_order_dead_letter' }), 'work_order');
    assert.equal(detectKind(snapshot('M-1', NOW, 3)), 'snapshot');
    for (const other of [null, 1, 'x', [], { kind: 'flood' }, { kind: 'alert_summary' }, { assetId: 'M-1' }, Buffer.from('x')]) assert.equal(detectKind(other), undefined, JSON.stringify(other));
  });

  test('a reading maps to (ts, asset, signal, value, unit, quality, site, area, line, historical) with the path from its topic', () => {
    const { rows, rejects } = rowsOf({ topic: 'pdm/plant-a/utilities/line-1/M-1/clean/temperature', payload: reading('M-1', 'temperature', NOW, 40.5, { historical: true }) }, opts);
    assert.deepEqual(rejects, []);
    assert.deepEqual(rows, [{ kind: 'reading', row: [NOW, 'M-1', 'temperature', 40.5, '°C', 'good', 'plant-a', 'utilities', 'line-1', true] }]);
    assert.equal(rows[0].row.length, TABLES.reading.columns.length);
  });

  test('every kind maps to a row as wide as its table', () => {
    const payloads = [score('M-1', NOW, 0.7, true), featureWindow('M-1', NOW), alertEvent('M-1', 'e1', 1, 'raised', NOW, NOW), maintenance('M-1', NOW, 'breakdown', 2), workOrder('M-1', 'e1', NOW, 'WO-1'), snapshot('M-1', NOW, 3)];
    const { rows, rejects } = rowsOf({ payload: payloads }, opts);
    assert.deepEqual(rejects, []);
    for (const { kind, row } of rows) assert.equal(row.length, TABLES[kind].columns.length, kind);
    const m = rows.find((r) => r.kind === 'maintenance')!.row;
    assert.deepEqual(m.slice(2, 6), ['breakdown', 'reactive', true, 2], 'a breakdown is reactive work and a failure');
    const inspection = rowsOf({ payload: maintenance('M-1', NOW, 'inspection', 1) }, opts).rows[0].row;
    assert.deepEqual(inspection.slice(3, 5), ['planned', false]);
    const alert = rows.find((r) => r.kind === 'alert')!.row;
    assert.deepEqual(alert.slice(0, 3), ['e1', 'raised', NOW]);
    assert.deepEqual(alert.slice(15, 18), ['plant-a', 'utilities', 'line-1'], 'alert path from the event');
  });

  test('maintenance takes its asset from msg.assetId (pdm-cmms link messages) and durationMs', () => {
    const { rows } = rowsOf({ assetId: 'P-2', payload: { kind: 'maintenance', type: 'work_order', ts: NOW, durationMs: 5_400_000 } }, opts);
    assert.equal(rows[0].row[0], 'P-2');
    assert.equal(rows[0].row[5], 1.5);
  });

  test('rejects: unknown kinds, broken contracts, too old, future, NUL, empty arrays — per item', () => {
    const payload = [
      reading('M-1', 'temperature', NOW, 1),
      { hello: 1 },
      reading('M-1', 'temperature', NOW, Number.NaN),
      reading('M-1', 'temperature', NOW - 8 * DAY_MS, 1),
      reading('M-1', 'temperature', NOW + 2 * DAY_MS, 1),
      reading('M-\u00001', 'temperature', NOW, 1),
      { ...score('M-1', NOW, 2, true) },
      maintenance('M-1', NOW, 'inspection', -1),
    ];
    const { rows, rejects } = rowsOf({ payload }, opts);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      rejects.map((r) => [r.index, r.code]),
      [
        [1, 'unknown_kind'],
        [2, 'invalid'],
        [3, 'too_old'],
        [4, 'future'],
        [5, 'unstorable'],
        [6, 'invalid'],
        [7, 'invalid'],
      ],
    );
    assert.deepEqual(rowsOf({ payload: [] }, opts).rejects.map((r) => r.code), ['empty']);
  });

  test('site, area and line come from a namespace topic at any root depth; "_" is unset', () => {
    assert.deepEqual(pathFromTopic('pdm/s/a/l/M-1/clean/current', 'M-1'), { site: 's', area: 'a', line: 'l' });
    assert.deepEqual(pathFromTopic('corp/eu/pdm/s/_/l/M-1/alert', 'M-1'), { site: 's', area: undefined, line: 'l' });
    assert.equal(pathFromTopic('pdm/M-1/clean/current', 'M-1'), undefined);
    assert.equal(pathFromTopic(undefined, 'M-1'), undefined);
    const viaDirectory = rowsOf({ payload: reading('M-9', 'current', NOW, 1) }, { ...opts, pathOf: () => ({ site: 'x', line: 'y' }) }).rows[0].row;
    assert.deepEqual(viaDirectory.slice(6, 9), ['x', null, 'y']);
  });
});

describe('SQL generation and batches', () => {
  test('one INSERT per kind: unnest of typed arrays, epoch ms to timestamptz, ON CONFLICT DO NOTHING', () => {
    const sql = insertSql('pdm', 'reading');
    assert.match(sql, /^INSERT INTO "pdm"\."readings" \("ts", "asset_id", .*\) SELECT to_timestamp\(c0 \/ 1000\.0\), c1, .* FROM unnest\(\$1::float8\[\], \$2::text\[\].*\) AS u\(c0, .*\) ON CONFLICT DO NOTHING$/);
    assert.match(insertSql('pdm', 'alert'), /c18::jsonb/);
    assert.deepEqual(columnsOf('reading', [[1, 'a'], [2, 'b']] as never), [
      [1, 2],
      ['a', 'b'],
      ...Array.from({ length: 8 }, () => [undefined, undefined]),
    ]);
  });

  test('a batch takes whole messages up to the row bound (at least one), groups by kind, lists reading days', () => {
    const mk = (n: number, day: number) => ({ rows: rowsOf({ payload: Array.from({ length: n }, (_, i) => reading('M-1', 'current', NOW - day * DAY_MS + i, i)) }, opts).rows, tag: n });
    const queue = [mk(3, 0), mk(4, 1), { rows: rowsOf({ payload: score('M-1', NOW, 0.1, false) }, opts).rows, tag: 1 }, mk(10, 2)];
    const plan = planBatch('pdm', queue, 8);
    assert.equal(plan.entries.length, 3);
    assert.equal(plan.rowCount, 8);
    assert.deepEqual(plan.statements.map((s) => [s.kind, s.rows]), [['reading', 7], ['score', 1]]);
    assert.deepEqual(plan.days, [Math.floor(NOW / DAY_MS) - 1, Math.floor(NOW / DAY_MS)]);
    assert.equal(plan.oldestReading, NOW - DAY_MS);
    assert.equal(planBatch('pdm', [mk(20, 0)], 8).rowCount, 20, 'a message larger than the bound goes alone');
    assert.equal(planBatch('pdm', queue, 100, 1).entries.length, 1, 'isolation takes one message');
  });

  test('schema statements are idempotent and versioned; schema names are plain identifiers', () => {
    for (const variant of ['plain', 'timescale'] as const) {
      const all = schemaStatements('pdm', variant);
      for (const sql of all.filter((s) => /^CREATE (TABLE|INDEX|SCHEMA|MATERIALIZED)/.test(s))) assert.match(sql, /IF NOT EXISTS/, sql);
      assert.ok(all.some((s) => /pdm_schema_version/.test(s) && /ON CONFLICT/.test(s)));
    }
    assert.ok(schemaStatements('pdm', 'plain').some((s) => /PARTITION BY RANGE \(ts\)/.test(s)));
    assert.ok(schemaStatements('pdm', 'timescale').some((s) => /create_hypertable/.test(s)));
    assert.ok(schemaStatements('pdm', 'timescale').some((s) => /timescaledb\.continuous/.test(s)));
    for (const bad of ['', 'Pdm', 'a-b', 'a"b', '1a', 'x'.repeat(64)]) assert.equal(isValidSchemaName(bad), false, bad);
    assert.equal(isValidSchemaName('pdm_history2'), true);
  });
});

describe('partitions, retention and roll-up', () => {
  test('day partitions are named by UTC day and parse back', () => {
    const day = Math.floor(NOW / DAY_MS);
    assert.equal(partitionName(day), 'readings_p20261127');
    assert.equal(partitionDay('readings_p20261127'), day);
    assert.equal(partitionDay('readings_1m'), undefined);
    assert.match(createPartitionSql('pdm', day), /FOR VALUES FROM \('2026-11-27T00:00:00.000Z'\) TO \('2026-11-28T00:00:00.000Z'\)/);
    assert.deepEqual(daysAhead(NOW, 2), [day, day + 1, day + 2]);
  });

  test('retention drops only partitions wholly past the raw cutoff, then deletes past each tier', () => {
    const day = Math.floor(NOW / DAY_MS);
    const names = [-9, -8, -7, -6, 0, 1].map((d) => partitionName(day + d));
    const plan = retentionPlan('pdm', DEFAULT_TIERS, NOW, [...names, 'something_else']);
    assert.equal(plan.rawCutoff, NOW - 7 * DAY_MS);
    // Day -7 starts before the cutoff (12:00 seven days ago) and ends after it: kept, its older rows deleted.
    assert.deepEqual(plan.dropPartitions, [partitionName(day - 9), partitionName(day - 8)]);
    assert.equal(plan.aggregateCutoff, NOW - 180 * DAY_MS);
    assert.equal(plan.longCutoff, NOW - 1825 * DAY_MS);
    const deletes = plan.statements.filter((s) => s.sql.startsWith('DELETE'));
    assert.deepEqual(deletes.map((s) => s.what), ['readings', 'readings_1m', 'features', 'scores', 'alert_events', 'maintenance_events', 'work_orders', 'twin_snapshots']);
    assert.deepEqual(deletes[1].params, [new Date(NOW - 180 * DAY_MS).toISOString()]);
  });

  test('the roll-up covers complete minutes since the watermark or the oldest late reading, never past the raw tier', () => {
    const min = 60_000;
    const now = NOW + 30_000;
    assert.deepEqual(rollupRange(now, NOW - 5 * min, null, 7), { from: NOW - 5 * min, to: NOW });
    assert.deepEqual(rollupRange(now, NOW - 5 * min, NOW - 3 * DAY_MS + 1234, 7), { from: NOW - 3 * DAY_MS, to: NOW });
    assert.deepEqual(rollupRange(now, null, null, 7), { from: NOW - 7 * DAY_MS, to: NOW });
    assert.deepEqual(rollupRange(now, NOW - 30 * DAY_MS, null, 7), { from: NOW - 7 * DAY_MS, to: NOW });
    assert.equal(rollupRange(now, NOW, null, 7), undefined, 'nothing complete since');
  });
});
