/**
 * What pdm-alert takes in, recognised by shape and validated:
 *  - a Score from pdm-anomaly (local interface below, to be reconciled with nodes/lib/anomaly);
 *  - a twin snapshot from pdm-twin (state, per-signal limit level, stale, quality; path and class);
 *  - a twin event from pdm-twin (operating-state transitions, maintenance, labels);
 *  - a Reading whose `source.zone` carries an ISO 10816 zone (pdm-retrofit).
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from '../contracts/ajv';
import { ASSET_ID_PATTERN, validateReading, type Reading } from '../contracts/reading';

/** The Score message of pdm-anomaly, as far as alerting needs it. */
export interface AnomalyScore {
  assetId: string;
  window: { start: number; end: number };
  state: string;
  score: number;
  anomalous: boolean;
  threshold: number;
  contributions: Record<string, number>;
  topSignal: string | null;
  model: { id: string; version: number } | null;
  status: 'learning' | 'ready';
  masked?: string;
  [key: string]: unknown;
}

const epoch = { type: 'number', minimum: 0, maximum: 8.64e15 };

export const scoreInputSchema: SchemaObject = {
  $id: 'pdm-twin/alert-score-input.json',
  title: 'Score (as pdm-alert reads it)',
  type: 'object',
  required: ['assetId', 'window', 'state', 'score', 'anomalous', 'threshold', 'contributions', 'topSignal', 'status'],
  additionalProperties: true,
  properties: {
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    window: {
      type: 'object',
      required: ['start', 'end'],
      properties: { start: epoch, end: epoch },
    },
    state: { type: 'string', maxLength: 32 },
    score: { type: 'number', minimum: 0, maximum: 1 },
    anomalous: { type: 'boolean' },
    threshold: { type: 'number', minimum: 0, maximum: 1 },
    contributions: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
    topSignal: { type: 'string', nullable: true, maxLength: 128 },
    model: {
      type: 'object',
      nullable: true,
      required: ['id', 'version'],
      properties: { id: { type: 'string' }, version: { type: 'number' } },
    },
    status: { type: 'string', enum: ['learning', 'ready'] },
    masked: { type: 'string' },
  },
};
const validateScore = ajv.compile<AnomalyScore>(scoreInputSchema);

export interface SnapshotFeature {
  value?: number;
  stale?: boolean;
  quality?: string;
  limit?: 'normal' | 'warning' | 'action';
  /** `low` when the value fell to a low limit (warningLow/actionLow); else high. */
  limitSide?: 'high' | 'low';
  ts?: number;
}

/** The parts of a twin snapshot alerting uses. */
export interface SnapshotInput {
  assetId: string;
  name?: string;
  assetClass?: string;
  path?: { site?: string; area?: string; line?: string };
  state: string;
  since?: number;
  features: Record<string, SnapshotFeature>;
  updatedAt?: number;
}

export const snapshotInputSchema: SchemaObject = {
  $id: 'pdm-twin/alert-snapshot-input.json',
  title: 'Twin snapshot (as pdm-alert reads it)',
  type: 'object',
  required: ['assetId', 'features', 'state'],
  additionalProperties: true,
  properties: {
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    thingId: { type: 'string' },
    attributes: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        assetClass: { type: 'string' },
        path: {
          type: 'object',
          properties: { site: { type: 'string' }, area: { type: 'string' }, line: { type: 'string' } },
        },
      },
    },
    features: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['properties'],
        properties: {
          properties: {
            type: 'object',
            properties: {
              value: { type: 'number' },
              stale: { type: 'boolean' },
              quality: { type: 'string', enum: ['good', 'uncertain', 'bad'] },
              limit: { type: 'string', enum: ['normal', 'warning', 'action'] },
              limitSide: { type: 'string', enum: ['high', 'low'] },
              ts: epoch,
            },
          },
        },
      },
    },
    state: {
      type: 'object',
      required: ['current'],
      properties: { current: { type: 'string', maxLength: 32 }, since: epoch },
    },
    updatedAt: epoch,
  },
};
const validateSnapshot = ajv.compile(snapshotInputSchema);

export type TwinEventInput =
  | { kind: 'state'; assetId: string; from?: string; to: string; ts: number }
  | { kind: 'maintenance'; assetId: string; type: string; ts: number; note?: string; by?: string }
  | { kind: 'label'; assetId: string; type: 'true_fault' | 'false_alarm'; ts: number; reason?: string; episodeId?: string; by?: string; note?: string };

export const twinEventInputSchema: SchemaObject = {
  $id: 'pdm-twin/alert-twin-event-input.json',
  title: 'Twin event (as pdm-alert reads it)',
  type: 'object',
  required: ['kind', 'assetId'],
  additionalProperties: true,
  properties: {
    kind: { type: 'string', enum: ['state', 'maintenance', 'label'] },
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    from: { type: 'string' },
    to: { type: 'string', maxLength: 32 },
    type: { type: 'string' },
    ts: epoch,
    reason: { type: 'string' },
    episodeId: { type: 'string' },
    by: { type: 'string' },
    note: { type: 'string' },
  },
};
const validateTwinEvent = ajv.compile(twinEventInputSchema);

export interface ZoneInput {
  assetId: string;
  signal: string;
  value: number;
  ts: number;
  zone: 'A' | 'B' | 'C' | 'D';
  preset?: string;
  standard?: string;
  limits?: number[];
}

export type Classified =
  | { kind: 'score'; score: AnomalyScore }
  | { kind: 'snapshot'; snapshot: SnapshotInput }
  | { kind: 'twin_event'; event: TwinEventInput }
  | { kind: 'zone'; zone: ZoneInput }
  /** A valid reading without a zone: nothing for alerting (counted, not rejected). */
  | { kind: 'ignored'; what: 'reading' }
  | { kind: 'invalid'; code: 'invalid_score' | 'invalid_snapshot' | 'invalid_event' | 'not_an_input'; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Recognises one input item by its shape, then validates it against that kind's schema. */
export function classify(item: unknown): Classified {
  if (!isObject(item)) return { kind: 'invalid', code: 'not_an_input', error: 'not an object' };
  if ('score' in item && 'window' in item) {
    if (!validateScore(item)) return { kind: 'invalid', code: 'invalid_score', error: describeErrors(validateScore.errors) };
    const s = item as AnomalyScore;
    if (s.window.end < s.window.start) return { kind: 'invalid', code: 'invalid_score', error: '/window end is before start' };
    return { kind: 'score', score: s };
  }
  if ('thingId' in item || ('features' in item && 'state' in item)) {
    if (!validateSnapshot(item)) return { kind: 'invalid', code: 'invalid_snapshot', error: describeErrors(validateSnapshot.errors) };
    return { kind: 'snapshot', snapshot: toSnapshot(item) };
  }
  // A label event may name its signal; only a reading has a value.
  if ('kind' in item && !('value' in item)) {
    if (!validateTwinEvent(item)) return { kind: 'invalid', code: 'invalid_event', error: describeErrors(validateTwinEvent.errors) };
    const e = toTwinEvent(item);
    if (typeof e === 'string') return { kind: 'invalid', code: 'invalid_event', error: e };
    return { kind: 'twin_event', event: e };
  }
  if (validateReading(item)) {
    const r = item as Reading;
    const zone = readZone(r);
    return zone ? { kind: 'zone', zone } : { kind: 'ignored', what: 'reading' };
  }
  if ('signal' in item && 'value' in item) return { kind: 'invalid', code: 'not_an_input', error: `not a reading: ${describeErrors(validateReading.errors)}` };
  return { kind: 'invalid', code: 'not_an_input', error: 'neither a score, a twin snapshot, a twin event nor a reading' };
}

function toSnapshot(item: Record<string, unknown>): SnapshotInput {
  const attributes = isObject(item.attributes) ? item.attributes : {};
  const state = item.state as { current: string; since?: number };
  const features: Record<string, SnapshotFeature> = {};
  for (const [signal, f] of Object.entries(item.features as Record<string, { properties?: SnapshotFeature }>)) {
    const p = f.properties ?? {};
    const out: SnapshotFeature = {};
    if (typeof p.value === 'number' && Number.isFinite(p.value)) out.value = p.value;
    if (typeof p.stale === 'boolean') out.stale = p.stale;
    if (typeof p.quality === 'string') out.quality = p.quality;
    if (p.limit) out.limit = p.limit;
    if (p.limitSide === 'low') out.limitSide = 'low';
    if (typeof p.ts === 'number') out.ts = p.ts;
    features[signal] = out;
  }
  const snap: SnapshotInput = { assetId: item.assetId as string, state: state.current, features };
  if (typeof state.since === 'number') snap.since = state.since;
  if (typeof item.updatedAt === 'number') snap.updatedAt = item.updatedAt;
  if (typeof attributes.name === 'string') snap.name = attributes.name;
  if (typeof attributes.assetClass === 'string') snap.assetClass = attributes.assetClass;
  if (isObject(attributes.path)) {
    const p = attributes.path as Record<string, unknown>;
    const level = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    snap.path = { site: level(p.site), area: level(p.area), line: level(p.line) };
  }
  return snap;
}

function toTwinEvent(item: Record<string, unknown>): TwinEventInput | string {
  const ts = typeof item.ts === 'number' ? item.ts : undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (ts === undefined) return '/ts is required';
  const assetId = item.assetId as string;
  if (item.kind === 'state') {
    if (typeof item.to !== 'string') return '/to is required for a state event';
    return { kind: 'state', assetId, from: text(item.from), to: item.to, ts };
  }
  if (typeof item.type !== 'string') return '/type is required';
  if (item.kind === 'maintenance') return { kind: 'maintenance', assetId, type: item.type, ts, note: text(item.note), by: text(item.by) };
  if (item.type !== 'true_fault' && item.type !== 'false_alarm') return '/type must be true_fault or false_alarm for a label';
  return { kind: 'label', assetId, type: item.type, ts, reason: text(item.reason), episodeId: text(item.episodeId), by: text(item.by), note: text(item.note) };
}

/** The ISO zone pdm-retrofit put on a vibration reading, if any (bad-quality readings carry none). */
export function readZone(r: Reading): ZoneInput | undefined {
  const z = r.source?.zone as Record<string, unknown> | undefined;
  if (!z || typeof z !== 'object' || r.quality === 'bad') return undefined;
  if (z.zone !== 'A' && z.zone !== 'B' && z.zone !== 'C' && z.zone !== 'D') return undefined;
  const out: ZoneInput = { assetId: r.assetId, signal: r.signal, value: r.value, ts: r.ts, zone: z.zone };
  if (typeof z.preset === 'string') out.preset = z.preset;
  if (typeof z.standard === 'string') out.standard = z.standard;
  if (Array.isArray(z.limits) && z.limits.every((x) => typeof x === 'number' && Number.isFinite(x))) out.limits = [...(z.limits as number[])];
  return out;
}
