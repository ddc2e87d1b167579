/**
 * Normalisation core: turns loosely shaped readings into the Reading contract, or explains
 * why not. Pure: no Node-RED, no I/O; the node, the replay tool and the benchmarks share it.
 */
import { ASSET_ID_PATTERN, type Quality, type Reading, type ReadingSource, validateReading } from './contracts/reading';
import { describeErrors } from './contracts/ajv';
import { isValidSignalName, signalDef } from './signals';
import { toEpochMs } from './time';
import { convertWith, resolveUnit, QUANTITIES } from './units';
import { RecentKeys } from './recent-keys';
import catalog from '../pdm-normalise/locales/en-US/pdm-normalise.json';

export type RejectCode =
  | 'not_a_reading'
  | 'empty'
  | 'missing_field'
  | 'invalid_asset'
  | 'invalid_signal'
  | 'invalid_value'
  | 'invalid_timestamp'
  | 'future_timestamp'
  | 'unknown_unit'
  | 'unit_mismatch'
  | 'invalid_quality'
  | 'schema';

/** English templates, read from the node's message catalog so the CLI and the node say the same. */
export const REJECT_MESSAGES: Record<RejectCode, string> = catalog['pdm-normalise'].reject;

export interface Reject {
  code: RejectCode;
  /** Placeholders for the message template. */
  params: Record<string, string>;
  /** English text built from REJECT_MESSAGES. */
  reason: string;
  /** Position in an array or batch; absent for a single reading. */
  index?: number;
  item?: unknown;
}

export interface NormaliseResult {
  clean: Reading[];
  rejects: Reject[];
  duplicates: number;
}

export interface NormaliseOptions {
  /** Plausible range per signal in canonical units; overrides the built-in ranges. */
  ranges?: Record<string, [number, number]>;
  /** The same value this many times in a row marks a stuck sensor (`uncertain`); 0 turns it off. */
  stuckCount?: number;
  /** How many (asset, signal, ts) keys are remembered to drop exact duplicates; 0 turns it off. */
  dedupeCapacity?: number;
  /** Readings further than this in the future are rejected; 0 turns the check off. */
  maxFutureMs?: number;
  /** Clock, injectable for tests and replays. */
  now?: () => number;
}

/** Defaults shared by the batch envelope: a batch may give assetId and ts once for all readings. */
interface Inherited {
  assetId?: unknown;
  ts?: unknown;
}

const ASSET_ID = new RegExp(ASSET_ID_PATTERN);
const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
/** Streaks are tracked per (asset, signal); this bounds memory if ids are unbounded. */
const MAX_STREAKS = 100_000;

export function rejectOf(code: RejectCode, params: Record<string, string> = {}, index?: number, item?: unknown): Reject {
  const reason = REJECT_MESSAGES[code].replace(/__(\w+)__/g, (_, key: string) => params[key] ?? '');
  return { code, params, reason, index, item };
}

function shortText(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface Streak {
  value: number;
  count: number;
}

export class Normaliser {
  private readonly ranges: Record<string, [number, number]>;
  private readonly stuckCount: number;
  private readonly maxFutureMs: number;
  private readonly now: () => number;
  private readonly seen: RecentKeys | undefined;
  private readonly streaks = new Map<string, Streak>();

  constructor(options: NormaliseOptions = {}) {
    this.ranges = options.ranges ?? {};
    this.stuckCount = options.stuckCount ?? 0;
    this.maxFutureMs = options.maxFutureMs ?? 0;
    this.now = options.now ?? Date.now;
    const capacity = options.dedupeCapacity ?? 10_000;
    this.seen = capacity > 0 ? new RecentKeys(capacity) : undefined;
  }

  /** Normalises one reading, an array of readings, or a batch `{assetId, ts, readings: [...]}`. */
  normalise(payload: unknown): NormaliseResult {
    const result: NormaliseResult = { clean: [], rejects: [], duplicates: 0 };
    if (Array.isArray(payload)) {
      if (payload.length === 0) result.rejects.push(rejectOf('empty', {}, undefined, payload));
      payload.forEach((item, index) => this.one(item, {}, index, result));
    } else if (isPlainObject(payload) && Array.isArray(payload.readings)) {
      const readings = payload.readings as unknown[];
      if (readings.length === 0) result.rejects.push(rejectOf('empty', {}, undefined, payload));
      const inherited = { assetId: payload.assetId, ts: payload.ts ?? payload.timestamp };
      readings.forEach((item, index) => this.one(item, inherited, index, result));
    } else {
      this.one(payload, {}, undefined, result);
    }
    return result;
  }

  /** Forgets duplicates and stuck-value streaks (msg.reset). */
  reset(): void {
    this.seen?.clear();
    this.streaks.clear();
  }

  private one(item: unknown, inherited: Inherited, index: number | undefined, out: NormaliseResult): void {
    const outcome = this.build(item, inherited);
    if ('code' in outcome) {
      outcome.index = index;
      outcome.item = item;
      out.rejects.push(outcome);
      return;
    }
    if (this.seen && this.seen.addIfNew(`${outcome.assetId}\u0000${outcome.signal}\u0000${outcome.ts}`) === false) {
      out.duplicates++;
      return;
    }
    this.stampQuality(outcome);
    if (!validateReading(outcome)) {
      out.rejects.push(rejectOf('schema', { value: describeErrors(validateReading.errors) }, index, item));
      return;
    }
    out.clean.push(outcome);
  }

  /** Builds a Reading with converted unit, or the first reason it cannot be one. */
  private build(item: unknown, inherited: Inherited): Reading | Reject {
    if (!isPlainObject(item)) return rejectOf('not_a_reading');

    const rawAsset = item.assetId ?? inherited.assetId;
    if (rawAsset === undefined || rawAsset === null || rawAsset === '') return rejectOf('missing_field', { field: 'assetId' });
    const assetId = typeof rawAsset === 'number' && Number.isFinite(rawAsset) ? String(rawAsset) : rawAsset;
    if (typeof assetId !== 'string' || !ASSET_ID.test(assetId)) return rejectOf('invalid_asset', { value: shortText(rawAsset) });

    const signal = item.signal;
    if (signal === undefined || signal === null || signal === '') return rejectOf('missing_field', { field: 'signal' });
    if (typeof signal !== 'string' || !isValidSignalName(signal)) return rejectOf('invalid_signal', { value: shortText(signal) });

    if (item.value === undefined || item.value === null) return rejectOf('missing_field', { field: 'value' });
    const value = numericValue(item.value);
    if (value === undefined) return rejectOf('invalid_value', { value: shortText(item.value) });

    const rawUnit = item.unit;
    if (rawUnit === undefined || rawUnit === null) return rejectOf('missing_field', { field: 'unit' });
    if (typeof rawUnit !== 'string') return rejectOf('unknown_unit', { value: shortText(rawUnit) });
    const def = signalDef(signal);
    const resolved = resolveUnit(rawUnit, def?.quantity);
    if (!resolved) {
      return resolveUnit(rawUnit) && def
        ? rejectOf('unit_mismatch', { value: rawUnit, quantity: def.quantity, signal })
        : rejectOf('unknown_unit', { value: shortText(rawUnit) });
    }

    const rawTs = item.ts ?? item.timestamp ?? inherited.ts;
    let ts: number;
    let tsFilled = false;
    if (rawTs === undefined || rawTs === null) {
      ts = this.now();
      tsFilled = true;
    } else {
      const parsed = toEpochMs(rawTs);
      if (parsed === undefined) return rejectOf('invalid_timestamp', { value: shortText(rawTs) });
      if (this.maxFutureMs > 0 && parsed > this.now() + this.maxFutureMs) {
        return rejectOf('future_timestamp', { value: new Date(parsed).toISOString(), limit: String(this.maxFutureMs / 1000) });
      }
      ts = parsed;
    }

    const rawQuality = item.quality ?? 'good';
    const quality = typeof rawQuality === 'string' ? rawQuality.toLowerCase() : rawQuality;
    if (quality !== 'good' && quality !== 'uncertain' && quality !== 'bad') {
      return rejectOf('invalid_quality', { value: shortText(rawQuality) });
    }

    const canonicalUnit = QUANTITIES[resolved.quantity].canonical;
    const converted = convertWith(resolved, value);

    const reading: Reading = { assetId, signal, value: converted, unit: canonicalUnit, ts, quality: quality as Quality };
    if (typeof item.qualityReason === 'string') reading.qualityReason = item.qualityReason;
    const source = buildSource(item.source, rawUnit, canonicalUnit, value, converted, tsFilled);
    if (source) reading.source = source;
    return reading;
  }

  /** Plausibility (range → bad) and stuck detection (N equal values in a row → uncertain). */
  private stampQuality(reading: Reading): void {
    const range = this.ranges[reading.signal] ?? signalDef(reading.signal)?.range;
    if (range && (reading.value < range[0] || reading.value > range[1])) {
      reading.quality = 'bad';
      reading.qualityReason = 'out_of_range';
    }
    if (this.stuckCount <= 0) return;
    const key = `${reading.assetId}\u0000${reading.signal}`;
    const streak = this.streaks.get(key);
    if (streak && streak.value === reading.value) {
      streak.count++;
    } else {
      if (!streak && this.streaks.size >= MAX_STREAKS) this.streaks.clear();
      this.streaks.set(key, { value: reading.value, count: 1 });
    }
    const count = this.streaks.get(key)!.count;
    if (count >= this.stuckCount && reading.quality === 'good') {
      reading.quality = 'uncertain';
      reading.qualityReason = 'stuck';
    }
  }
}

function numericValue(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string' && NUMERIC_TEXT.test(raw)) return Number(raw);
  return undefined;
}

function buildSource(
  given: unknown,
  rawUnit: string,
  canonicalUnit: string,
  rawValue: number,
  converted: number,
  tsFilled: boolean,
): ReadingSource | undefined {
  const changedUnit = rawUnit !== canonicalUnit;
  if (!isPlainObject(given) && !changedUnit && !tsFilled) return undefined;
  const source: ReadingSource = isPlainObject(given) ? { ...given } : {};
  for (const key of ['protocol', 'address', 'node', 'originalUnit'] as const) {
    if (key in source && typeof source[key] !== 'string') delete source[key];
  }
  if (changedUnit) {
    source.originalUnit = rawUnit;
    if (rawValue !== converted) source.originalValue = rawValue;
  }
  if ('originalValue' in source && typeof source.originalValue !== 'number') delete source.originalValue;
  if (tsFilled) source.tsFilled = 'received';
  return source;
}
