/**
 * History-writer figures for `npm run bench:buffer` (`--only=history` for these alone): readings
 * into PostgreSQL through the core writer (nodes/lib/history/writer.ts) on a throwaway cluster
 * from Debian's binaries (test/helpers/postgres.ts) with the shipped durability settings (fsync
 * and synchronous commit on).
 *
 *  - write: new readings, mapped from messages of 500 (contract check included) and written in
 *    batches of 5,000 until the last commit. Bar: >= 20,000 rows/s.
 *  - replay: the same readings again (every row a conflict, nothing stored twice). No bar.
 *  - baseline: the same number of new readings as one INSERT ... VALUES per row, in a transaction
 *    per 5,000 rows, on the same table (no bar; the ratio says what batching through unnest buys).
 */
import type { Pool } from 'pg';
import { PgCluster } from '../test/helpers/postgres';
import { HistoryWriter } from '../nodes/lib/history/writer';
import { rowsOf, type MappedRow } from '../nodes/lib/history/kinds';
import { fromRounds, measureInterleaved, type Figure } from './support';

export const HISTORY_BAR = 20_000;

interface Options {
  quick: boolean;
}

const SIGNALS = ['vibration_velocity', 'temperature', 'current', 'pressure', 'flow', 'speed'];

function readings(offset: number, n: number, now: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => {
    const i = offset + k;
    return { assetId: `A-${i % 20}`, signal: SIGNALS[Math.floor(i / 20) % 6], value: (i % 1000) / 10, unit: 'mm/s', ts: now - 3_600_000 + Math.floor(i / 120), quality: 'good' };
  });
}

function messages(batch: Array<Record<string, unknown>>, now: number): MappedRow[][] {
  const out: MappedRow[][] = [];
  for (let i = 0; i < batch.length; i += 500) {
    const { rows, rejects } = rowsOf({ payload: batch.slice(i, i + 500), topic: 'pdm/plant1/utilities/l1/x/clean/y' }, { now, rawDays: 7 });
    if (rejects.length) throw new Error(`bench readings rejected: ${rejects[0].code}`);
    out.push(rows);
  }
  return out;
}

async function writeAll(writer: HistoryWriter, batch: Array<Record<string, unknown>>, now: number): Promise<number> {
  let rows = 0;
  const all = messages(batch, now).map(
    (m) =>
      new Promise<void>((resolve, reject) => {
        rows += m.length;
        if (!writer.enqueue(m, (err) => (err ? reject(err) : resolve()))) reject(new Error('queue full'));
      }),
  );
  await Promise.all(all);
  return rows;
}

async function naive(pool: Pool, batch: Array<Record<string, unknown>>): Promise<number> {
  const client = await pool.connect();
  try {
    for (let i = 0; i < batch.length; i += 5000) {
      await client.query('BEGIN');
      for (const r of batch.slice(i, i + 5000)) {
        await client.query('INSERT INTO base.readings (ts, asset_id, signal, value, unit, quality, site, area, line) VALUES (to_timestamp($1 / 1000.0), $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING', [r.ts, r.assetId, r.signal, r.value, r.unit, r.quality, 'plant1', 'utilities', 'l1']);
      }
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
  return batch.length;
}

export async function benchHistory(options: Options): Promise<{ figures: Record<string, Figure>; config: Record<string, unknown> }> {
  const cfg = { warmup: 1, rounds: options.quick ? 3 : 5, rows: options.quick ? 20_000 : 100_000, baselineRows: options.quick ? 5_000 : 20_000, batchRows: 5000, messageRows: 500 };
  const cluster = await PgCluster.create({ durable: true });
  const pool = cluster.pool({ max: 4 });
  const now = Date.now();
  const writer = new HistoryWriter(pool, { schema: 'bench', batchRows: cfg.batchRows, maxDelayMs: 5, maxQueueRows: 1_000_000 });
  const baseWriter = new HistoryWriter(pool, { schema: 'base' });
  try {
    await writer.ensurePartitions();
    await baseWriter.ensurePartitions();
    let offset = 0;
    let baseOffset = 10_000_000;
    let last: Array<Record<string, unknown>> = [];
    const stats = await measureInterleaved(
      [
        {
          name: 'write',
          prepare: () => {
            last = readings(offset, cfg.rows, now);
            offset += cfg.rows;
            return last;
          },
          run: (batch: Array<Record<string, unknown>>) => writeAll(writer, batch, now),
        },
        { name: 'replay', prepare: () => last, run: (batch: Array<Record<string, unknown>>) => writeAll(writer, batch, now) },
        {
          name: 'baseline',
          prepare: () => {
            const batch = readings(baseOffset, cfg.baselineRows, now);
            baseOffset += cfg.baselineRows;
            return batch;
          },
          run: (batch: Array<Record<string, unknown>>) => naive(pool, batch),
        },
      ],
      cfg,
    );
    const stored = Number((await pool.query('SELECT count(*) AS n FROM bench.readings')).rows[0].n);
    if (stored !== offset) throw new Error(`history bench stored ${stored} rows of ${offset} (duplicates or losses)`);
    const ratio = stats.write.median / stats.baseline.median;
    return {
      figures: {
        historyWrite: fromRounds(`history writer: new readings into PostgreSQL, batches of ${cfg.batchRows}`, stats.write, 'rows/s', {
          bar: { min: HISTORY_BAR, text: `>= ${HISTORY_BAR.toLocaleString('en-US')}` },
          pass: stats.write.median >= HISTORY_BAR,
          note: `${ratio.toFixed(1)}x the per-row INSERT baseline`,
        }),
        historyReplay: fromRounds('history writer: the same readings replayed (all conflicts, none stored)', stats.replay, 'rows/s'),
        historyBaseline: fromRounds('baseline: one INSERT per row, a transaction per 5,000', stats.baseline, 'rows/s'),
      },
      config: { ...cfg, postgres: 'throwaway Debian cluster, fsync and synchronous_commit on', stored },
    };
  } finally {
    await writer.close(0);
    await baseWriter.close(0);
    await pool.end();
    await cluster.destroy();
  }
}
