/**
 * The history schema in PostgreSQL, as SQL text. Two variants share table and column names, so
 * the writer and the Grafana dashboard work on either:
 *
 * - plain PostgreSQL (tested): raw `readings` partitioned by RANGE on `ts`, one partition per UTC
 *   day created ahead by the writer; `readings_1m` filled by the writer's scheduled roll-up;
 *   retention drops whole day partitions and deletes what is left past each tier's cutoff.
 * - TimescaleDB (written, untested here: the machine has no Timescale package): `readings` is a
 *   hypertable with 1-day chunks, `readings_1m` a continuous aggregate, retention by policies.
 *
 * Every statement is idempotent (IF NOT EXISTS), and `pdm_schema_version` records what ran.
 */

export const SCHEMA_VERSION = 1;

/** Tables of the longest tier (features, scores, alerts, maintenance, work orders) and their time column. */
export const LONG_TIER_TABLES: ReadonlyArray<{ table: string; time: string }> = [
  { table: 'features', time: 'window_end' },
  { table: 'scores', time: 'window_end' },
  { table: 'alert_events', time: 'ts' },
  { table: 'maintenance_events', time: 'ts' },
  { table: 'work_orders', time: 'ts' },
  { table: 'twin_snapshots', time: 'ts' },
];

/** A schema name a user may configure: a plain lower-case identifier (no quoting games). */
export function isValidSchemaName(name: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(name);
}

/** Quotes an identifier that passed isValidSchemaName or is one of ours. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const PATH_COLUMNS = 'site text, area text, line text';

/** Tables every variant has (the long tier and bookkeeping). */
function commonTables(s: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.pdm_schema_version (version integer PRIMARY KEY, variant text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    // Roll-up bookkeeping: minutes before `watermark` are aggregated; `dirty_from` is the oldest
    // raw row written since (a late or replayed reading), so its minute is aggregated again.
    `CREATE TABLE IF NOT EXISTS ${s}.pdm_rollup_state (id integer PRIMARY KEY CHECK (id = 1), watermark timestamptz, dirty_from timestamptz)`,
    `INSERT INTO ${s}.pdm_rollup_state (id) VALUES (1) ON CONFLICT (id) DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS ${s}.features (
      asset_id text NOT NULL, window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
      state text, transient boolean, ${PATH_COLUMNS}, features jsonb NOT NULL,
      PRIMARY KEY (asset_id, window_end))`,
    `CREATE TABLE IF NOT EXISTS ${s}.scores (
      asset_id text NOT NULL, window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
      state text, score double precision NOT NULL, anomalous boolean NOT NULL, threshold double precision,
      status text, masked text, top_signal text, model_id text, model_version integer, ${PATH_COLUMNS},
      contributions jsonb, PRIMARY KEY (asset_id, window_end))`,
    `CREATE TABLE IF NOT EXISTS ${s}.alert_events (
      episode_id text NOT NULL, transition text NOT NULL, ts timestamptz NOT NULL, event_id text, seq integer,
      asset_id text NOT NULL, asset_class text, category text, failure_mode text, tier text, peak_tier text,
      state text, closed boolean, raised_at timestamptz, reason text, ${PATH_COLUMNS}, event jsonb NOT NULL,
      PRIMARY KEY (episode_id, transition, ts))`,
    `CREATE TABLE IF NOT EXISTS ${s}.maintenance_events (
      asset_id text NOT NULL, ts timestamptz NOT NULL, type text NOT NULL,
      mode text NOT NULL CHECK (mode IN ('planned', 'reactive')), failure boolean NOT NULL DEFAULT false,
      duration_h double precision, episode_id text, by text, note text, ${PATH_COLUMNS},
      PRIMARY KEY (asset_id, ts, type))`,
    `CREATE TABLE IF NOT EXISTS ${s}.work_orders (
      episode_id text NOT NULL, operation text NOT NULL, ts timestamptz NOT NULL, asset_id text NOT NULL,
      external_id text, target text, outcome text, attempts integer, title text, url text, ${PATH_COLUMNS},
      PRIMARY KEY (episode_id, operation, ts))`,
    `CREATE TABLE IF NOT EXISTS ${s}.twin_snapshots (
      asset_id text NOT NULL, ts timestamptz NOT NULL, version integer NOT NULL, state text, health text,
      asset_class text, ${PATH_COLUMNS}, snapshot jsonb NOT NULL, PRIMARY KEY (asset_id, ts, version))`,
    `CREATE INDEX IF NOT EXISTS alert_events_asset_ts ON ${s}.alert_events (asset_id, ts)`,
    `CREATE INDEX IF NOT EXISTS scores_ts ON ${s}.scores (window_end)`,
    `CREATE INDEX IF NOT EXISTS maintenance_events_ts ON ${s}.maintenance_events (ts)`,
  ];
}

/** Raw readings and their 1-minute table in plain PostgreSQL. */
function plainReadings(s: string): string[] {
  return [
    // The primary key is the idempotency key (asset, signal, ts); it contains the partition key.
    `CREATE TABLE IF NOT EXISTS ${s}.readings (
      ts timestamptz NOT NULL, asset_id text NOT NULL, signal text NOT NULL, value double precision NOT NULL,
      unit text, quality text, ${PATH_COLUMNS}, historical boolean NOT NULL DEFAULT false,
      PRIMARY KEY (asset_id, signal, ts)) PARTITION BY RANGE (ts)`,
    `CREATE INDEX IF NOT EXISTS readings_ts ON ${s}.readings (ts)`,
    `CREATE TABLE IF NOT EXISTS ${s}.readings_1m (
      bucket timestamptz NOT NULL, asset_id text NOT NULL, signal text NOT NULL, unit text, ${PATH_COLUMNS},
      min double precision NOT NULL, max double precision NOT NULL, avg double precision NOT NULL,
      sum double precision NOT NULL, count bigint NOT NULL, PRIMARY KEY (asset_id, signal, bucket))`,
    `CREATE INDEX IF NOT EXISTS readings_1m_bucket ON ${s}.readings_1m (bucket)`,
  ];
}

/** The same names on TimescaleDB (untested here). */
function timescaleReadings(s: string, tiers: RetentionTiers): string[] {
  return [
    `CREATE EXTENSION IF NOT EXISTS timescaledb`,
    `CREATE TABLE IF NOT EXISTS ${s}.readings (
      ts timestamptz NOT NULL, asset_id text NOT NULL, signal text NOT NULL, value double precision NOT NULL,
      unit text, quality text, ${PATH_COLUMNS}, historical boolean NOT NULL DEFAULT false,
      PRIMARY KEY (asset_id, signal, ts))`,
    `SELECT create_hypertable('${s}.readings', 'ts', chunk_time_interval => interval '1 day', if_not_exists => true)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${s}.readings_1m WITH (timescaledb.continuous) AS
      SELECT time_bucket(interval '1 minute', ts) AS bucket, asset_id, signal, max(unit) AS unit, max(site) AS site,
        max(area) AS area, max(line) AS line, min(value) AS min, max(value) AS max, avg(value) AS avg,
        sum(value) AS sum, count(*) AS count
      FROM ${s}.readings GROUP BY 1, 2, 3 WITH NO DATA`,
    `SELECT add_continuous_aggregate_policy('${s}.readings_1m', start_offset => interval '${tiers.rawDays} days', end_offset => interval '1 minute', schedule_interval => interval '1 minute', if_not_exists => true)`,
    `SELECT add_retention_policy('${s}.readings', interval '${tiers.rawDays} days', if_not_exists => true)`,
    `SELECT add_retention_policy('${s}.readings_1m', interval '${tiers.aggregateDays} days', if_not_exists => true)`,
  ];
}

export type SchemaVariant = 'plain' | 'timescale';

export interface RetentionTiers {
  /** Raw readings. */
  rawDays: number;
  /** 1-minute aggregates. */
  aggregateDays: number;
  /** Features, scores, alert events, maintenance events, work orders, twin snapshots. */
  longDays: number;
}

export const DEFAULT_TIERS: RetentionTiers = { rawDays: 7, aggregateDays: 180, longDays: 1825 };

/** Statements that create (or confirm) the whole schema, in order. */
export function schemaStatements(schema: string, variant: SchemaVariant, tiers: RetentionTiers = DEFAULT_TIERS): string[] {
  const s = ident(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    ...commonTables(s),
    ...(variant === 'timescale' ? timescaleReadings(s, tiers) : plainReadings(s)),
    `INSERT INTO ${s}.pdm_schema_version (version, variant) VALUES (${SCHEMA_VERSION}, '${variant}') ON CONFLICT (version) DO NOTHING`,
  ];
}

/** Whether the server offers TimescaleDB (then the hypertable variant is used). */
export const TIMESCALE_AVAILABLE_SQL = `SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'`;
