/**
 * Day partitions of the raw readings, the retention plan of each tier and the roll-up statement
 * (plain PostgreSQL variant). Pure functions of the clock: the node decides when they run.
 */
import { ident, LONG_TIER_TABLES, type RetentionTiers } from './schema';

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** UTC day number (days since 1970-01-01) of an epoch-ms time. */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** `readings_p20261127`: the partition holding UTC day `day`. */
export function partitionName(day: number): string {
  return `readings_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** The UTC day a partition name stands for, or undefined for other tables. */
export function partitionDay(name: string): number | undefined {
  const m = /^readings_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isFinite(t) ? dayOf(t) : undefined;
}

function isoOf(ts: number): string {
  return new Date(ts).toISOString();
}

/** Creates the partition of one day (harmless when it exists). */
export function createPartitionSql(schema: string, day: number): string {
  const s = ident(schema);
  return `CREATE TABLE IF NOT EXISTS ${s}.${ident(partitionName(day))} PARTITION OF ${s}.readings FOR VALUES FROM ('${isoOf(day * DAY_MS)}') TO ('${isoOf((day + 1) * DAY_MS)}')`;
}

/** Lists the partitions of `readings` (name per row in column `name`). */
export function listPartitionsSql(): string {
  return `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = $1 AND p.relname = 'readings'`;
}

export interface RetentionPlan {
  /** Raw readings before this (epoch ms) go. */
  rawCutoff: number;
  aggregateCutoff: number;
  longCutoff: number;
  /** Day partitions entirely before rawCutoff: dropped whole. */
  dropPartitions: string[];
  /** Statements in order (drops, then deletes of what is left past each cutoff). */
  statements: Array<{ sql: string; params: unknown[]; what: string }>;
}

/** What retention does at `now`, given the partitions that exist. */
export function retentionPlan(schema: string, tiers: RetentionTiers, now: number, partitions: string[]): RetentionPlan {
  const s = ident(schema);
  const rawCutoff = now - tiers.rawDays * DAY_MS;
  const aggregateCutoff = now - tiers.aggregateDays * DAY_MS;
  const longCutoff = now - tiers.longDays * DAY_MS;
  const dropPartitions = partitions
    .filter((name) => {
      const day = partitionDay(name);
      return day !== undefined && (day + 1) * DAY_MS <= rawCutoff;
    })
    .sort();
  const statements: RetentionPlan['statements'] = dropPartitions.map((name) => ({ sql: `DROP TABLE IF EXISTS ${s}.${ident(name)}`, params: [], what: 'readings' }));
  // The partition holding the cutoff keeps its newer rows; its older ones are deleted.
  statements.push({ sql: `DELETE FROM ${s}.readings WHERE ts < $1`, params: [isoOf(rawCutoff)], what: 'readings' });
  statements.push({ sql: `DELETE FROM ${s}.readings_1m WHERE bucket < $1`, params: [isoOf(aggregateCutoff)], what: 'readings_1m' });
  for (const { table, time } of LONG_TIER_TABLES) {
    statements.push({ sql: `DELETE FROM ${s}.${ident(table)} WHERE ${ident(time)} < $1`, params: [isoOf(longCutoff)], what: table });
  }
  return { rawCutoff, aggregateCutoff, longCutoff, dropPartitions, statements };
}

/** Days whose partitions should exist at `now`: today and `aheadDays` after it. */
export function daysAhead(now: number, aheadDays: number): number[] {
  const today = dayOf(now);
  return Array.from({ length: aheadDays + 1 }, (_, i) => today + i);
}

/** Start of the minute `ts` falls in. */
export function minuteFloor(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}

/**
 * The minutes a roll-up aggregates at `now`: from the older of the watermark and the oldest raw row
 * written since (late or replayed data), to the start of the current minute (complete minutes only).
 * Never further back than the raw tier keeps (those rows are gone). Undefined: nothing to do.
 */
export function rollupRange(now: number, watermark: number | null, dirtyFrom: number | null, rawDays: number): { from: number; to: number } | undefined {
  const to = minuteFloor(now);
  const oldest = minuteFloor(now - rawDays * DAY_MS);
  const candidates = [watermark, dirtyFrom].filter((v): v is number => v !== null && Number.isFinite(v));
  let from = candidates.length ? Math.min(...candidates) : oldest;
  from = Math.max(minuteFloor(from), oldest);
  return from < to ? { from, to } : undefined;
}

/** Recomputes the 1-minute aggregates of [from, to) from the raw rows (upsert, exact). */
export function rollupSql(schema: string): string {
  const s = ident(schema);
  return `INSERT INTO ${s}.readings_1m (bucket, asset_id, signal, unit, site, area, line, min, max, avg, sum, count)
    SELECT date_trunc('minute', ts) AS bucket, asset_id, signal, max(unit), max(site), max(area), max(line),
      min(value), max(value), avg(value), sum(value), count(*)
    FROM ${s}.readings WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2, 3
    ON CONFLICT (asset_id, signal, bucket) DO UPDATE SET unit = EXCLUDED.unit, site = EXCLUDED.site,
      area = EXCLUDED.area, line = EXCLUDED.line, min = EXCLUDED.min, max = EXCLUDED.max,
      avg = EXCLUDED.avg, sum = EXCLUDED.sum, count = EXCLUDED.count`;
}

/** Reads and moves the roll-up bookkeeping. */
export function rollupStateSql(schema: string): { read: string; done: string; dirty: string } {
  const s = ident(schema);
  return {
    read: `SELECT extract(epoch FROM watermark) * 1000 AS watermark, extract(epoch FROM dirty_from) * 1000 AS dirty_from FROM ${s}.pdm_rollup_state WHERE id = 1`,
    // Only clears dirt that the roll-up covered; a write after it started keeps its mark.
    done: `UPDATE ${s}.pdm_rollup_state SET watermark = $1, dirty_from = CASE WHEN dirty_from >= $2 AND dirty_from < $1 THEN NULL ELSE dirty_from END WHERE id = 1`,
    dirty: `UPDATE ${s}.pdm_rollup_state SET dirty_from = LEAST(coalesce(dirty_from, $1), $1) WHERE id = 1 AND (watermark IS NULL OR $1 < watermark)`,
  };
}
