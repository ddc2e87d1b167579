/**
 * The replay pipeline: a table of timestamped numeric columns through the same core as the
 * nodes — Normaliser (units, plausibility, quality) → AssetTwin (operating state, startup and
 * shutdown masking) → AnomalyScorer (the asset class's anomaly settings) — one row at a time,
 * strictly in time order: a row's score uses only rows at or before its time.
 *
 * Window choice: every row is one observation (the latest good value of each signal at that
 * time), and the model smooths it with a 5 s exponential window in time (the class setting
 * `smoothingMs`). The twin's 60 s feature windows would give one score per minute — too coarse
 * for a file at 1 Hz that wants a score per row, and a minute's delay before a fault can show;
 * the exponential window needs no look-ahead, costs nothing per row, and on 60 s windows it is
 * a no-op, so the node and the replay share one model.
 *
 * Alert tiers (alerts.ts): every score, with the twin's operating state and limit levels, goes
 * through the pdm-alert engine with the class's tier rules in event time; a row's tier is the
 * highest tier of the active, annunciated episodes after that row (empty while learning).
 *
 * Training: the first N rows (in time order) are the training part: every state's model is
 * fitted on them after row N and rows from N + 1 on are scored. N is `trainRows` when given;
 * by default it is whichever comes first of
 *   - the asset class's warm-up gate: the row where the rows so far reach its minimum number of
 *     samples and its minimum time span (pump: 120 samples over 2 h), and
 *   - DEFAULT_TRAIN_FRACTION (20 %) of the file's readable rows (at least 2),
 * so a long file trains exactly as the live node would, and a file shorter than the warm-up
 * (a 20-minute export at 1 Hz) still trains on its first fifth and scores the rest. Only the
 * number of rows is known in advance; no row's values are seen before that row is scored.
 */
import { Normaliser } from '../normalise';
import { AssetTwin } from '../twin/asset-twin';
import { resolveAsset } from '../assets/resolve';
import { isAssetClassId } from '../assets/classes';
import type { AssetClassId } from '../assets/types';
import { toEpochMs } from '../time';
import { AnomalyScorer, mergeAnomalyOptions, type PartialAnomalyOptions } from '../anomaly/scorer';
import { anomalyDefaults } from '../anomaly/defaults';
import { observationFromRow } from '../anomaly/observation';
import type { Score } from '../anomaly/types';
import { ReplayAlerts, type ReplayAlertSummary } from './alerts';
import { findTimeColumn, mapColumns, type ColumnSignal, type MapOverride } from './columns';
import type { Table } from './table';

export type TimeFormat = 'auto' | 'dmy' | 'mdy';

export interface ReplayOptions {
  assetClass: AssetClassId;
  assetId: string;
  trainRows?: number;
  timeColumn?: string;
  exclude: string[];
  map: Record<string, MapOverride>;
  timeFormat: TimeFormat;
  /** Overrides of the class's anomaly settings (benchmarks compare detectors with it). */
  anomaly?: PartialAnomalyOptions;
  /** Called with every score, in processing order, with the input row index. */
  onScore?: (score: Score, row: number) => void;
}

export const DEFAULT_REPLAY_OPTIONS: ReplayOptions = { assetClass: 'pump', assetId: 'replay', exclude: [], map: {}, timeFormat: 'auto' };

export interface ReplayRow {
  /** The input's time cell, as written. */
  timestamp: string;
  /** null when the row could not be read (bad timestamp). */
  score: number | null;
  anomalous: 0 | 1;
  topSignal: string;
  /** Alert tier after this row (watch | warning | action), empty when no episode is active. */
  tier: string;
  status: 'learning' | 'ready' | 'masked' | 'unread';
}

/** Share of the readable rows that trains by default when the file is shorter than the class warm-up. */
export const DEFAULT_TRAIN_FRACTION = 0.2;

export interface TrainingPart {
  /** Rows (in time order) in the training part. */
  rows: number;
  /** What chose it: --train-rows, the class warm-up gate, or the default fraction of the file. */
  rule: 'option' | 'class-warmup' | 'fraction';
}

/**
 * The default training part for rows with these times (ascending): the class warm-up gate
 * (minSamples rows spanning minSpanMs) or DEFAULT_TRAIN_FRACTION of the rows, whichever is
 * fewer rows.
 */
export function defaultTrainingPart(times: ArrayLike<number>, warmup: { minSamples: number; minSpanMs: number }): TrainingPart {
  const fraction = Math.max(2, Math.floor(DEFAULT_TRAIN_FRACTION * times.length));
  const need = Math.max(2, warmup.minSamples);
  for (let k = need - 1; k < times.length && k < fraction; k++) {
    if (times[k] - times[0] >= warmup.minSpanMs) return { rows: k + 1, rule: 'class-warmup' };
  }
  return { rows: fraction, rule: 'fraction' };
}

export interface ReplaySummary {
  rows: number;
  /** The training part: its first `rows` rows in time order trained the models. */
  training: TrainingPart;
  unreadTimestamps: number;
  outOfOrder: number;
  learning: number;
  masked: number;
  scored: number;
  anomalous: number;
  episodes: number;
  topSignals: Record<string, number>;
  timeColumn: string;
  mapping: ColumnSignal[];
  excluded: string[];
  ignored: string[];
  rejectedReadings: number;
  models: Array<{ state: string; id: string; version: number; samples: number }>;
  /** Rows per alert tier, and the engine's activations and transitions. */
  tiers: Record<'watch' | 'warning' | 'action', number>;
  alerts: ReplayAlertSummary;
  elapsedMs: number;
}

export interface ReplayResult {
  rows: ReplayRow[];
  summary: ReplaySummary;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

/** A numeric cell, or undefined (empty, text, NaN). A decimal comma is read when the separator is not a comma. */
export function parseNumber(cell: string, separator: string): number | undefined {
  const t = cell.trim();
  if (t === '') return undefined;
  if (NUMBER.test(t)) return Number(t);
  if (separator !== ',' && DECIMAL_COMMA.test(t)) return Number(t.replace(',', '.'));
  return undefined;
}

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$/;
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const DAY_MONTH = /^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$/;

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, frac = ''): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A time cell as epoch ms: epoch seconds or milliseconds; ISO 8601 with a zone; ISO date-times
 * without a zone read as UTC (so replays do not depend on the machine's zone); and
 * day.month.year / month/day/year date-times (`format` dmy or mdy; auto reads "." and "-" as
 * day first and "/" as month first).
 */
export function parseTime(cell: string, format: TimeFormat = 'auto'): number | undefined {
  const t = cell.trim();
  if (t === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(t)) return toEpochMs(Number(t));
  let m = ISO_LOCAL.exec(t);
  if (m) return utc(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7]);
  if (ISO_ZONED.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T').replace(',', '.').replace(/\s+(?=[Z+-])/i, ''));
    return Number.isFinite(ms) ? ms : undefined;
  }
  m = DAY_MONTH.exec(t);
  if (m) {
    const dayFirst = format === 'dmy' || (format === 'auto' && m[2] !== '/');
    const [d, mo] = dayFirst ? [+m[1], +m[3]] : [+m[3], +m[1]];
    return utc(+m[4], mo, d, +(m[5] ?? 0), +(m[6] ?? 0), +(m[7] ?? 0), m[8]);
  }
  return undefined;
}

/** Runs a table through normalise → twin → anomaly; returns one output row per input row, in input order. */
export function runReplay(table: Table, partial: Partial<ReplayOptions> = {}): ReplayResult {
  const started = process.hrtime.bigint();
  const opts: ReplayOptions = { ...DEFAULT_REPLAY_OPTIONS, ...partial };
  if (!isAssetClassId(opts.assetClass)) throw new Error(`unknown asset class "${String(opts.assetClass)}"`);
  if (opts.trainRows !== undefined && !(Number.isInteger(opts.trainRows) && opts.trainRows >= 2)) throw new Error('--train-rows must be a whole number ≥ 2');
  const { columns, rows } = table;
  const separator = table.format;
  const timeIndex = findTimeColumn(columns, opts.timeColumn);
  const excluded: string[] = [];
  const skip = new Set<number>([timeIndex]);
  for (const name of opts.exclude) {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`--exclude-columns: "${name}" is not a column of the file (columns: ${columns.join(', ')})`);
    if (i === timeIndex) throw new Error(`--exclude-columns: "${name}" is the time column`);
    skip.add(i);
    excluded.push(name);
  }
  // A column is numeric when its first non-empty cell is a number (decided without looking further ahead).
  const ignored: string[] = [];
  columns.forEach((name, i) => {
    if (skip.has(i)) return;
    const first = rows.find((r) => (r[i] ?? '').trim() !== '');
    if (!first || parseNumber(first[i], separator) === undefined) {
      skip.add(i);
      ignored.push(name);
    }
  });
  const mapping = mapColumns(columns, skip, opts.map);
  if (mapping.length === 0) throw new Error('the file has no numeric columns to score (after the time column and the excluded ones)');

  const asset = resolveAsset({ id: opts.assetId, assetClass: opts.assetClass });
  const twin = new AssetTwin(asset, { windowMs: 60_000 });
  const normaliser = new Normaliser({ dedupeCapacity: 0, stuckCount: 0, maxFutureMs: 0 });
  const classDefaults = anomalyDefaults(opts.assetClass);
  // top_signal is written for anomalous rows only, so only those need contributions.
  const anomaly = mergeAnomalyOptions(classDefaults, { explainAll: false, ...opts.anomaly });

  const times = rows.map((r) => parseTime(r[timeIndex] ?? '', opts.timeFormat));
  const order: number[] = [];
  let outOfOrder = 0;
  let prev = -Infinity;
  times.forEach((t, i) => {
    if (t === undefined) return;
    if (t < prev) outOfOrder++;
    else prev = t;
    order.push(i);
  });
  if (outOfOrder > 0) order.sort((a, b) => times[a]! - times[b]! || a - b);

  const training: TrainingPart = opts.trainRows !== undefined ? { rows: opts.trainRows, rule: 'option' } : defaultTrainingPart(order.map((i) => times[i]!), anomaly.warmup);
  const trainRows = training.rows;
  // The replay decides the training part itself: the learners wait for it, then fit on all of it.
  anomaly.bufferSize = Math.max(anomaly.bufferSize, trainRows);
  anomaly.warmup = { minSamples: Number.MAX_SAFE_INTEGER, minSpanMs: 0 };
  const scorer = new AnomalyScorer({}, anomaly);
  const alerts = new ReplayAlerts({ assetId: opts.assetId, assetClass: opts.assetClass });

  const out: ReplayRow[] = rows.map((r) => ({ timestamp: r[timeIndex] ?? '', score: null, anomalous: 0, topSignal: '', tier: '', status: 'unread' }));
  const lastGood: Record<string, number> = {};
  const summary: ReplaySummary = {
    rows: rows.length,
    training,
    unreadTimestamps: rows.length - order.length,
    outOfOrder,
    learning: 0,
    masked: 0,
    scored: 0,
    anomalous: 0,
    episodes: 0,
    topSignals: {},
    timeColumn: columns[timeIndex],
    mapping,
    excluded,
    ignored,
    rejectedReadings: 0,
    models: [],
    tiers: { watch: 0, warning: 0, action: 0 },
    alerts: alerts.summary,
    elapsedMs: 0,
  };
  let wasAnomalous = false;
  let processed = 0;
  const readings: Array<{ signal: string; value: number; unit: string }> = [];
  for (const i of order) {
    const ts = times[i]!;
    const row = rows[i];
    readings.length = 0;
    for (const m of mapping) {
      const v = parseNumber(row[m.index] ?? '', separator);
      if (v !== undefined) readings.push({ signal: m.signal, value: v, unit: m.unit });
    }
    if (readings.length) {
      const result = normaliser.normalise({ assetId: opts.assetId, ts, readings });
      summary.rejectedReadings += result.rejects.length;
      for (const reading of result.clean) {
        twin.ingest(reading);
        if (reading.quality !== 'bad') lastGood[reading.signal] = reading.value;
      }
    }
    const values: Record<string, number> = {};
    for (const m of mapping) if (m.signal in lastGood) values[m.signal] = lastGood[m.signal];
    const state = twin.state;
    const obs = observationFromRow(opts.assetId, ts, state, values, state === 'startup' || state === 'shutdown');
    obs.assetClass = opts.assetClass;
    const score = scorer.score(obs);
    opts.onScore?.(score, i);
    processed++;
    const tier = alerts.row(score, ts, state, twin.limitLevels());
    const o = out[i];
    if (score.masked && score.masked !== 'operating_point') {
      o.status = 'masked';
      o.score = 0;
      summary.masked++;
    } else if (score.status === 'learning') {
      o.status = 'learning';
      o.score = 0;
      summary.learning++;
    } else {
      o.status = 'ready';
      o.score = score.score;
      o.anomalous = score.anomalous ? 1 : 0;
      o.topSignal = score.anomalous && score.topSignal ? score.topSignal : '';
      summary.scored++;
      if (score.anomalous) {
        summary.anomalous++;
        if (score.topSignal) summary.topSignals[score.topSignal] = (summary.topSignals[score.topSignal] ?? 0) + 1;
        if (!wasAnomalous) summary.episodes++;
      }
    }
    wasAnomalous = o.anomalous === 1;
    if (tier && o.status !== 'learning') {
      o.tier = tier;
      summary.tiers[tier]++;
    }
    if (processed === trainRows) {
      // End of the training part: fit every state's model on it, then score from the next row on.
      for (const key of scorer.keys()) scorer.retrainNow(key, ts);
      scorer.configure({ warmup: { minSamples: trainRows, minSpanMs: 0 } }, scorer.config);
    }
  }
  for (const key of scorer.keys()) {
    for (const s of scorer.status(key)) if (s.model) summary.models.push({ state: s.state, id: s.model.id, version: s.model.version, samples: scorer.model(key, s.state)!.samples });
  }
  summary.elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { rows: out, summary };
}

/** The output CSV: `timestamp,score,anomalous,top_signal,tier`, one line per input row. */
export function formatOutput(rows: ReplayRow[]): string {
  const lines = ['timestamp,score,anomalous,top_signal,tier'];
  for (const r of rows) {
    const ts = /[",\r\n]/.test(r.timestamp) ? `"${r.timestamp.replace(/"/g, '""')}"` : r.timestamp;
    lines.push(`${ts},${r.score === null ? '' : r.score.toFixed(4)},${r.anomalous},${r.topSignal},${r.tier}`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatSummary(s: ReplaySummary): string {
  const lines: string[] = [];
  lines.push(`pdm-replay: ${s.rows} rows in ${s.elapsedMs.toFixed(0)} ms`);
  lines.push(`  time column: ${s.timeColumn}${s.unreadTimestamps ? ` (${s.unreadTimestamps} rows with an unreadable time: score left empty)` : ''}${s.outOfOrder ? `; ${s.outOfOrder} rows out of order, replayed in time order` : ''}`);
  lines.push(`  signals: ${s.mapping.map((m) => `${m.column} → ${m.signal} [${m.unit}]${m.how === 'custom' ? ' (custom)' : ''}`).join(', ')}`);
  if (s.excluded.length) lines.push(`  excluded (never seen by the pipeline): ${s.excluded.join(', ')}`);
  if (s.ignored.length) lines.push(`  ignored (not numeric): ${s.ignored.join(', ')}`);
  if (s.rejectedReadings) lines.push(`  readings rejected by normalisation: ${s.rejectedReadings}`);
  const why = { option: '--train-rows', 'class-warmup': "the asset class's warm-up (minimum samples and time span)", fraction: `${Math.round(DEFAULT_TRAIN_FRACTION * 100)} % of the rows, the file being shorter than the asset class's warm-up` }[s.training.rule];
  lines.push(`  training part: the first ${s.training.rows} rows in time order (${why})`);
  lines.push(`  learning ${s.learning}, masked ${s.masked}, scored ${s.scored}, anomalous ${s.anomalous} (${s.scored ? ((100 * s.anomalous) / s.scored).toFixed(1) : '0'} % of scored) in ${s.episodes} episode(s)`);
  const top = Object.entries(s.topSignals).sort((a, b) => b[1] - a[1]);
  const t = s.tiers;
  lines.push(`  alert tiers: watch ${t.watch}, warning ${t.warning}, action ${t.action} rows; ${s.alerts.activations} alert activation(s), peak watch ${s.alerts.peak.watch} / warning ${s.alerts.peak.warning} / action ${s.alerts.peak.action}`);
  if (top.length) lines.push(`  top signals of anomalous rows: ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const m of s.models) lines.push(`  model ${m.id} v${m.version} (${m.state}, ${m.samples} training rows)`);
  if (!s.models.length) lines.push(`  no model was trained: the file has fewer readable rows than the training part (${s.training.rows})`);
  return lines.join('\n');
}
