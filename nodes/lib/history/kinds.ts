/**
 * Which table a message belongs to, and its row there. Knows nothing about Node-RED or pg.
 *
 * Kinds (the contracts in nodes/lib/contracts and the payloads the pdm nodes send):
 *   reading      Reading (one, or an array)                       -> readings
 *   feature      twin feature window {assetId,start,end,features}  -> features
 *   score        Score (pdm-anomaly)                               -> scores
 *   alert        AlertEvent, kind "alert" (pdm-alert)              -> alert_events
 *   maintenance  {kind:"maintenance", type, ts, assetId}           -> maintenance_events
 *   work_order   {kind:"work_order" | "work_order_dead_letter"}    -> work_orders
 *   snapshot     twin snapshot {thingId, assetId, attributes, ...} -> twin_snapshots
 */
import { readingProblem } from '../contracts/reading';
import { scoreProblem } from '../contracts/score';
import { alertEventProblem } from '../contracts/alert-event';
import { UNSET_LEVEL, topicSegment, type AssetPath } from '../topic';
import { DAY_MS } from './retention';

export type HistoryKind = 'reading' | 'feature' | 'score' | 'alert' | 'maintenance' | 'work_order' | 'snapshot';
export const HISTORY_KINDS: readonly HistoryKind[] = ['reading', 'feature', 'score', 'alert', 'maintenance', 'work_order', 'snapshot'];

export type ColumnType = 'text' | 'float8' | 'int4' | 'bool' | 'ts' | 'jsonb';
export interface TableSpec {
  table: string;
  columns: ReadonlyArray<readonly [string, ColumnType]>;
}

const PATH: ReadonlyArray<readonly [string, ColumnType]> = [
  ['site', 'text'],
  ['area', 'text'],
  ['line', 'text'],
];

/** Column order of each kind's row (ts columns hold epoch ms; jsonb columns hold JSON text). */
export const TABLES: Readonly<Record<HistoryKind, TableSpec>> = {
  reading: { table: 'readings', columns: [['ts', 'ts'], ['asset_id', 'text'], ['signal', 'text'], ['value', 'float8'], ['unit', 'text'], ['quality', 'text'], ...PATH, ['historical', 'bool']] },
  feature: { table: 'features', columns: [['asset_id', 'text'], ['window_start', 'ts'], ['window_end', 'ts'], ['state', 'text'], ['transient', 'bool'], ...PATH, ['features', 'jsonb']] },
  score: {
    table: 'scores',
    columns: [['asset_id', 'text'], ['window_start', 'ts'], ['window_end', 'ts'], ['state', 'text'], ['score', 'float8'], ['anomalous', 'bool'], ['threshold', 'float8'], ['status', 'text'], ['masked', 'text'], ['top_signal', 'text'], ['model_id', 'text'], ['model_version', 'int4'], ...PATH, ['contributions', 'jsonb']],
  },
  alert: {
    table: 'alert_events',
    columns: [['episode_id', 'text'], ['transition', 'text'], ['ts', 'ts'], ['event_id', 'text'], ['seq', 'int4'], ['asset_id', 'text'], ['asset_class', 'text'], ['category', 'text'], ['failure_mode', 'text'], ['tier', 'text'], ['peak_tier', 'text'], ['state', 'text'], ['closed', 'bool'], ['raised_at', 'ts'], ['reason', 'text'], ...PATH, ['event', 'jsonb']],
  },
  maintenance: { table: 'maintenance_events', columns: [['asset_id', 'text'], ['ts', 'ts'], ['type', 'text'], ['mode', 'text'], ['failure', 'bool'], ['duration_h', 'float8'], ['episode_id', 'text'], ['by', 'text'], ['note', 'text'], ...PATH] },
  work_order: { table: 'work_orders', columns: [['episode_id', 'text'], ['operation', 'text'], ['ts', 'ts'], ['asset_id', 'text'], ['external_id', 'text'], ['target', 'text'], ['outcome', 'text'], ['attempts', 'int4'], ['title', 'text'], ['url', 'text'], ...PATH] },
  snapshot: { table: 'twin_snapshots', columns: [['asset_id', 'text'], ['ts', 'ts'], ['version', 'int4'], ['state', 'text'], ['health', 'text'], ['asset_class', 'text'], ...PATH, ['snapshot', 'jsonb']] },
};

export type Cell = string | number | boolean | null;
export type Row = Cell[];

export interface MappedRow {
  kind: HistoryKind;
  row: Row;
}

export type RejectCode = 'unknown_kind' | 'invalid' | 'empty' | 'too_old' | 'future' | 'unstorable' | 'bad_time';
export interface MapReject {
  index?: number;
  code: RejectCode;
  /** The contract's complaint, for `invalid`. */
  detail?: string;
  item: unknown;
}

export interface MessageInput {
  topic?: unknown;
  payload?: unknown;
  assetId?: unknown;
  historical?: unknown;
}

export interface MapOptions {
  now: number;
  /** Readings older than this many days are refused: the raw tier would drop them at once. */
  rawDays: number;
  /** ISA-95 path of an asset known to this runtime (pdm-asset), when the message does not say. */
  pathOf?: (assetId: string) => AssetPath | undefined;
}

/** Readings further ahead than this are a clock problem, not data. */
export const MAX_FUTURE_MS = DAY_MS;
const MAX_EPOCH = 8.64e15;

const TOPIC_KINDS = new Set(['raw', 'clean', 'state', 'alert', 'event', 'model', 'features']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_EPOCH;
const level = (v: unknown): string | null => (typeof v === 'string' && v !== '' && v !== UNSET_LEVEL ? v : null);

/**
 * Site, area and line of `assetId` from a unified-namespace topic
 * `<root>/<site>/<area>/<line>/<asset>/<kind>[/<signal>]`; unset levels ("_") become null.
 */
export function pathFromTopic(topic: unknown, assetId: string): AssetPath | undefined {
  if (typeof topic !== 'string') return undefined;
  const parts = topic.split('/');
  const seg = topicSegment(assetId);
  for (let i = parts.length - 2; i >= 3; i--) {
    if (parts[i] === seg && TOPIC_KINDS.has(parts[i + 1])) {
      return { site: level(parts[i - 3]) ?? undefined, area: level(parts[i - 2]) ?? undefined, line: level(parts[i - 1]) ?? undefined };
    }
  }
  return undefined;
}

function pathCells(path: AssetPath | undefined): [string | null, string | null, string | null] {
  return [level(path?.site), level(path?.area), level(path?.line)];
}

/** JSON text for a jsonb column, or undefined when PostgreSQL would refuse it (NUL in a string). */
function jsonb(value: unknown): string | undefined {
  let text: string;
  try {
    text = JSON.stringify(value ?? null);
  } catch {
    return undefined; // circular, BigInt
  }
  return typeof text !== 'string' || text.includes('\\u0000') ? undefined : text;
}

const hasNul = (...values: unknown[]) => values.some((v) => typeof v === 'string' && v.includes('\u0000'));

/** The kind of a single payload, or undefined when it is none of ours. */
export function detectKind(payload: unknown): HistoryKind | undefined {
  if (!isObject(payload)) return undefined;
  if (payload.kind === 'alert') return 'alert';
  if (payload.kind === 'maintenance') return 'maintenance';
  if (payload.kind === 'work_order' || payload.kind === 'work_order_dead_letter') return 'work_order';
  if (typeof payload.thingId === 'string' && isObject(payload.attributes) && isObject(payload.features)) return 'snapshot';
  if (isObject(payload.window) && 'score' in payload) return 'score';
  if ('start' in payload && 'end' in payload && isObject(payload.features) && 'assetId' in payload) return 'feature';
  if ('assetId' in payload && 'signal' in payload && 'value' in payload && 'ts' in payload) return 'reading';
  return undefined;
}

type One = MappedRow | Omit<MapReject, 'index' | 'item'>;

function readingRow(p: Record<string, unknown>, msg: MessageInput, options: MapOptions): One {
  const problem = readingProblem(p);
  if (problem) return { code: 'invalid', detail: problem };
  const ts = p.ts as number;
  if (ts > MAX_EPOCH) return { code: 'bad_time' };
  if (ts < options.now - options.rawDays * DAY_MS) return { code: 'too_old' };
  if (ts > options.now + MAX_FUTURE_MS) return { code: 'future' };
  if (hasNul(p.assetId, p.signal, p.unit)) return { code: 'unstorable' };
  const assetId = p.assetId as string;
  const path = pathFromTopic(msg.topic, assetId) ?? options.pathOf?.(assetId);
  return { kind: 'reading', row: [ts, assetId, p.signal as string, p.value as number, p.unit as string, p.quality as string, ...pathCells(path), p.historical === true || msg.historical === true] };
}

function featureRow(p: Record<string, unknown>, msg: MessageInput, options: MapOptions): One {
  const assetId = str(p.assetId);
  if (!assetId || !isTime(p.start) || !isTime(p.end)) return { code: 'invalid', detail: 'a feature window needs assetId, start and end (epoch ms)' };
  const features = jsonb(p.features);
  if (features === undefined || hasNul(assetId, p.state)) return { code: 'unstorable' };
  const path = pathFromTopic(msg.topic, assetId) ?? options.pathOf?.(assetId);
  return { kind: 'feature', row: [assetId, p.start, p.end, str(p.state), typeof p.transient === 'boolean' ? p.transient : null, ...pathCells(path), features] };
}

function scoreRow(p: Record<string, unknown>, msg: MessageInput, options: MapOptions): One {
  const problem = scoreProblem(p);
  if (problem) return { code: 'invalid', detail: problem };
  const w = p.window as { start: number; end: number };
  const model = p.model as { id: string; version: number } | null;
  const contributions = jsonb(p.contributions);
  if (contributions === undefined || hasNul(p.assetId, p.topSignal, model?.id)) return { code: 'unstorable' };
  const assetId = p.assetId as string;
  const path = pathFromTopic(msg.topic, assetId) ?? options.pathOf?.(assetId);
  return {
    kind: 'score',
    row: [assetId, w.start, w.end, str(p.state), p.score as number, p.anomalous as boolean, num(p.threshold), str(p.status), str(p.masked), str(p.topSignal), model?.id ?? null, model?.version ?? null, ...pathCells(path), contributions],
  };
}

function alertRow(p: Record<string, unknown>): One {
  const problem = alertEventProblem(p);
  if (problem) return { code: 'invalid', detail: problem };
  if (!isTime(p.ts) || !isTime(p.raisedAt)) return { code: 'bad_time' };
  const event = jsonb(p);
  if (event === undefined) return { code: 'unstorable' };
  const mode = p.failureMode as { id: string };
  return {
    kind: 'alert',
    row: [p.episodeId as string, p.transition as string, p.ts, str(p.eventId), num(p.seq), p.assetId as string, str(p.assetClass), str(p.category), mode.id, str(p.tier), str(p.peakTier), str(p.state), p.closed === true, p.raisedAt, str(p.reason), ...pathCells(p.path as AssetPath), event],
  };
}

/** Maintenance types that mean a breakdown: reactive work, and a failure for MTBF. */
export const FAILURE_TYPES: readonly string[] = ['breakdown', 'failure'];
/** Types that are reactive (corrective) work unless the event says `mode`. */
export const REACTIVE_TYPES: readonly string[] = [...FAILURE_TYPES, 'repair', 'corrective'];

function maintenanceRow(p: Record<string, unknown>, msg: MessageInput, options: MapOptions): One {
  const assetId = str(p.assetId) ?? str(msg.assetId);
  const type = str(p.type);
  if (!assetId || !type) return { code: 'invalid', detail: 'a maintenance event needs assetId (in the payload or msg.assetId) and type' };
  if (!isTime(p.ts)) return { code: 'bad_time' };
  const mode = p.mode === 'planned' || p.mode === 'reactive' ? p.mode : REACTIVE_TYPES.includes(type) ? 'reactive' : 'planned';
  const failure = typeof p.failure === 'boolean' ? p.failure : FAILURE_TYPES.includes(type);
  const hours = num(p.durationH) ?? (num(p.durationMs) !== null ? (p.durationMs as number) / 3_600_000 : null);
  if (hours !== null && hours < 0) return { code: 'invalid', detail: 'duration must not be negative' };
  if (hasNul(assetId, type, p.episodeId, p.by, p.note)) return { code: 'unstorable' };
  const path = pathFromTopic(msg.topic, assetId) ?? options.pathOf?.(assetId);
  return { kind: 'maintenance', row: [assetId, p.ts, type, mode, failure, hours, str(p.episodeId), str(p.by), str(p.note), ...pathCells(path)] };
}

function workOrderRow(p: Record<string, unknown>, msg: MessageInput, options: MapOptions): One {
  const episodeId = str(p.episodeId);
  const assetId = str(p.assetId);
  const operation = str(p.operation);
  if (!episodeId || !assetId || !operation) return { code: 'invalid', detail: 'a work order needs episodeId, assetId and operation' };
  if (!isTime(p.ts)) return { code: 'bad_time' };
  const target = isObject(p.target) ? str(p.target.kind) : str(p.target);
  const outcome = p.kind === 'work_order_dead_letter' ? 'dead' : str(p.outcome);
  if (hasNul(episodeId, assetId, operation, p.externalId, target, outcome, p.title, p.url)) return { code: 'unstorable' };
  const path = pathFromTopic(msg.topic, assetId) ?? options.pathOf?.(assetId);
  return { kind: 'work_order', row: [episodeId, operation, p.ts, assetId, str(p.externalId), target, outcome, Number.isSafeInteger(p.attempts) ? (p.attempts as number) : null, str(p.title), str(p.url), ...pathCells(path)] };
}

function snapshotRow(p: Record<string, unknown>): One {
  const assetId = str(p.assetId);
  const attributes = p.attributes as Record<string, unknown>;
  if (!assetId || !Number.isSafeInteger(p.version) || Math.abs(p.version as number) > 2 ** 31 - 1) return { code: 'invalid', detail: 'a twin snapshot needs assetId and an integer version' };
  if (!isTime(p.updatedAt)) return { code: 'bad_time' };
  const snapshot = jsonb(p);
  if (snapshot === undefined) return { code: 'unstorable' };
  const state = isObject(p.state) ? str(p.state.current) : null;
  const health = isObject(p.health) ? str(p.health.status) : null;
  return { kind: 'snapshot', row: [assetId, p.updatedAt, p.version as number, state, health, str(attributes.assetClass), ...pathCells(isObject(attributes.path) ? (attributes.path as AssetPath) : undefined), snapshot] };
}

function mapOne(payload: unknown, msg: MessageInput, options: MapOptions): One {
  const kind = detectKind(payload);
  if (!kind) return { code: 'unknown_kind' };
  const p = payload as Record<string, unknown>;
  switch (kind) {
    case 'reading':
      return readingRow(p, msg, options);
    case 'feature':
      return featureRow(p, msg, options);
    case 'score':
      return scoreRow(p, msg, options);
    case 'alert':
      return alertRow(p);
    case 'maintenance':
      return maintenanceRow(p, msg, options);
    case 'work_order':
      return workOrderRow(p, msg, options);
    case 'snapshot':
      return snapshotRow(p);
  }
}

/** Rows of one message: its payload, or each item of an array payload (rejects per item). */
export function rowsOf(msg: MessageInput, options: MapOptions): { rows: MappedRow[]; rejects: MapReject[] } {
  const rows: MappedRow[] = [];
  const rejects: MapReject[] = [];
  const take = (item: unknown, index: number | undefined) => {
    const one = mapOne(item, msg, options);
    if ('kind' in one) rows.push(one);
    else rejects.push({ ...one, index, item });
  };
  if (Array.isArray(msg.payload)) {
    if (msg.payload.length === 0) rejects.push({ code: 'empty', item: msg.payload });
    msg.payload.forEach((item, index) => take(item, index));
  } else take(msg.payload, undefined);
  return { rows, rejects };
}
