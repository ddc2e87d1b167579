/**
 * Normalisation core: turns loosely shaped readings into the Reading contract, or explains
 * why not. Pure: no Node-RED, no I/O; the node, the replay tool and the benchmarks share it.
 */
import { ASSET_ID_PATTERN, MAX_MAGNITUDE, type Quality, type Reading, type ReadingSource } from './contracts/reading';
import { isValidSignalName, signalDef } from './signals';
import { toEpochMs } from './time';
import { convertWith, resolveUnit, QUANTITIES, type Quantity, type ResolvedUnit } from './units';
import { RecentStamps } from './recent-stamps';
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
  | 'invalid_quality';

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
const MAX_STREAMS = 100_000;
const NO_INHERITANCE: Inherited = {};
/** Source fields the contract types as text; other types given by the sender are dropped. */
const SOURCE_TEXT_FIELDS = ['protocol', 'address', 'node', 'originalUnit'] as const;

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

/** A batch: `{assetId?, ts?, readings: [...]}`. */
export function isBatch(payload: unknown): payload is Record<string, unknown> & { readings: unknown[] } {
  return isPlainObject(payload) && Array.isArray(payload.readings);
}

/** True when `payload` is one reading-shaped candidate (not an array, not a batch). */
export function isSingle(payload: unknown): boolean {
  return !Array.isArray(payload) && !isBatch(payload);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Per (asset, signal): what was already checked about the stream (ids valid, signal definition,
 * range, last unit resolved), the stuck-value streak and the timestamps remembered for dedupe.
 * Caching these makes the common case (a known stream) cost a few lookups, not regexes.
 */
interface Stream {
  range: [number, number] | undefined;
  quantity: Quantity | undefined;
  unitText: string | undefined;
  unit: ResolvedUnit | undefined;
  canonical: string;
  value: number;
  count: number;
  stamps?: Set<number>;
}

export type OneOutcome = Reading | Reject | 'duplicate';

export class Normaliser {
  private readonly ranges: Record<string, [number, number]>;
  private readonly stuckCount: number;
  private readonly maxFutureMs: number;
  private readonly now: () => number;
  private readonly seen: RecentStamps | undefined;
  private readonly streams = new Map<string, Map<string, Stream>>();
  private streamCount = 0;
  /** The clock read once per call, not once per reading. */
  private clock = 0;

  constructor(options: NormaliseOptions = {}) {
    this.ranges = options.ranges ?? {};
    this.stuckCount = options.stuckCount ?? 0;
    this.maxFutureMs = options.maxFutureMs ?? 0;
    this.now = options.now ?? Date.now;
    const capacity = options.dedupeCapacity ?? 10_000;
    this.seen = capacity > 0 ? new RecentStamps(capacity) : undefined;
  }

  /** Normalises one reading, an array of readings, or a batch `{assetId, ts, readings: [...]}`. */
  normalise(payload: unknown): NormaliseResult {
    this.clock = this.now();
    const result: NormaliseResult = { clean: [], rejects: [], duplicates: 0 };
    if (Array.isArray(payload)) {
      if (payload.length === 0) result.rejects.push(rejectOf('empty', {}, undefined, payload));
      for (let i = 0; i < payload.length; i++) this.collect(payload[i], NO_INHERITANCE, i, result);
    } else if (isBatch(payload)) {
      const readings = payload.readings;
      if (readings.length === 0) result.rejects.push(rejectOf('empty', {}, undefined, payload));
      const inherited = { assetId: payload.assetId, ts: payload.ts ?? payload.timestamp };
      for (let i = 0; i < readings.length; i++) this.collect(readings[i], inherited, i, result);
    } else {
      this.collect(payload, NO_INHERITANCE, undefined, result);
    }
    return result;
  }

  /**
   * The single-reading fast path: a Reading, a Reject, or 'duplicate'. Callers must first check
   * that `payload` is neither an array nor a batch (see `isSingle`).
   */
  normaliseOne(item: unknown): OneOutcome {
    this.clock = this.now();
    const outcome = this.one(item, NO_INHERITANCE);
    if (outcome !== 'duplicate' && 'code' in outcome) outcome.item = item;
    return outcome;
  }

  /** Forgets duplicates and stuck-value streaks (msg.reset). */
  reset(): void {
    this.seen?.clear();
    this.streams.clear();
    this.streamCount = 0;
  }

  private collect(item: unknown, inherited: Inherited, index: number | undefined, out: NormaliseResult): void {
    const outcome = this.one(item, inherited);
    if (outcome === 'duplicate') out.duplicates++;
    else if ('code' in outcome) {
      outcome.index = index;
      outcome.item = item;
      out.rejects.push(outcome);
    } else out.clean.push(outcome);
  }

  /** Builds a Reading with converted unit and stamped quality, or the first reason it cannot be one. */
  private one(item: unknown, inherited: Inherited): OneOutcome {
    if (!isPlainObject(item)) return rejectOf('not_a_reading');

    const rawAsset = item.assetId ?? inherited.assetId;
    if (rawAsset === undefined || rawAsset === null || rawAsset === '') return rejectOf('missing_field', { field: 'assetId' });
    const assetId = typeof rawAsset === 'number' && Number.isFinite(rawAsset) ? String(rawAsset) : rawAsset;
    if (typeof assetId !== 'string') return rejectOf('invalid_asset', { value: shortText(rawAsset) });

    const signal = item.signal;
    if (signal === undefined || signal === null || signal === '') {
      return ASSET_ID.test(assetId) ? rejectOf('missing_field', { field: 'signal' }) : rejectOf('invalid_asset', { value: shortText(rawAsset) });
    }
    if (typeof signal !== 'string') return rejectOf('invalid_signal', { value: shortText(signal) });
    const stream = this.streamFor(assetId, signal);
    if ('code' in stream) return stream;

    if (item.value === undefined || item.value === null) return rejectOf('missing_field', { field: 'value' });
    const value = numericValue(item.value);
    if (value === undefined) return rejectOf('invalid_value', { value: shortText(item.value) });

    const rawUnit = item.unit;
    if (rawUnit === undefined || rawUnit === null) return rejectOf('missing_field', { field: 'unit' });
    if (typeof rawUnit !== 'string') return rejectOf('unknown_unit', { value: shortText(rawUnit) });
    let resolved = stream.unitText === rawUnit ? stream.unit : undefined;
    if (resolved === undefined) {
      resolved = resolveUnit(rawUnit, stream.quantity);
      if (!resolved) {
        return resolveUnit(rawUnit) && stream.quantity
          ? rejectOf('unit_mismatch', { value: rawUnit, quantity: stream.quantity, signal })
          : rejectOf('unknown_unit', { value: shortText(rawUnit) });
      }
      stream.unitText = rawUnit;
      stream.unit = resolved;
      stream.canonical = QUANTITIES[resolved.quantity].canonical;
    }

    const rawTs = item.ts ?? item.timestamp ?? inherited.ts;
    let ts: number;
    let tsFilled = false;
    if (rawTs === undefined || rawTs === null) {
      ts = this.clock;
      tsFilled = true;
    } else {
      const parsed = toEpochMs(rawTs);
      if (parsed === undefined) return rejectOf('invalid_timestamp', { value: shortText(rawTs) });
      if (this.maxFutureMs > 0 && parsed > this.clock + this.maxFutureMs) {
        return rejectOf('future_timestamp', { value: new Date(parsed).toISOString(), limit: String(this.maxFutureMs / 1000) });
      }
      ts = parsed;
    }

    const rawQuality = item.quality;
    let quality: Quality;
    if (rawQuality === undefined || rawQuality === null || rawQuality === 'good') quality = 'good';
    else if (rawQuality === 'uncertain' || rawQuality === 'bad') quality = rawQuality;
    else {
      const folded = typeof rawQuality === 'string' ? rawQuality.toLowerCase() : rawQuality;
      if (folded !== 'good' && folded !== 'uncertain' && folded !== 'bad') return rejectOf('invalid_quality', { value: shortText(rawQuality) });
      quality = folded;
    }

    // Dedupe only what would otherwise pass: a rejected reading is never remembered as seen.
    if (this.seen && this.seen.addIfNew(stream, ts) === false) return 'duplicate';

    const converted = convertWith(resolved, value);
    const reading: Reading = { assetId, signal, value: converted, unit: stream.canonical, ts, quality };
    if (typeof item.qualityReason === 'string') reading.qualityReason = item.qualityReason;
    if (item.historical === true) reading.historical = true;
    const source = buildSource(item.source, rawUnit, stream.canonical, value, converted, tsFilled);
    if (source) reading.source = source;
    this.stampQuality(reading, stream);
    return reading;
  }

  /** The cached stream of (asset, signal), created after checking both names; or why they are unusable. */
  private streamFor(assetId: string, signal: string): Stream | Reject {
    let bySignal = this.streams.get(assetId);
    const known = bySignal?.get(signal);
    if (known) return known;
    if (!ASSET_ID.test(assetId)) return rejectOf('invalid_asset', { value: shortText(assetId) });
    if (!isValidSignalName(signal)) return rejectOf('invalid_signal', { value: shortText(signal) });
    // Bounds memory if ids are unbounded; forgets streaks and the dedupe memory of dropped streams.
    if (this.streamCount >= MAX_STREAMS) this.reset();
    if (!bySignal || !this.streams.has(assetId)) {
      bySignal = new Map();
      this.streams.set(assetId, bySignal);
    }
    const def = signalDef(signal);
    const stream: Stream = {
      range: this.ranges[signal] ?? def?.range,
      quantity: def?.quantity,
      unitText: undefined,
      unit: undefined,
      canonical: '',
      value: NaN,
      count: 0,
    };
    bySignal.set(signal, stream);
    this.streamCount++;
    return stream;
  }

  /** Plausibility (range → bad) and stuck detection (N equal values in a row → uncertain). */
  private stampQuality(reading: Reading, streak: Stream): void {
    const range = streak.range;
    // An upstream `bad` keeps its own reason (e.g. a 4–20 mA wire break), which says more than the range.
    if (range && reading.quality !== 'bad' && (reading.value < range[0] || reading.value > range[1])) {
      reading.quality = 'bad';
      reading.qualityReason = 'out_of_range';
    }
    if (this.stuckCount <= 0) return;
    if (streak.value === reading.value) {
      streak.count++;
    } else {
      streak.value = reading.value;
      streak.count = 1;
    }
    if (streak.count >= this.stuckCount && reading.quality === 'good') {
      reading.quality = 'uncertain';
      reading.qualityReason = 'stuck';
    }
  }
}

function numericValue(raw: unknown): number | undefined {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'boolean') return raw ? 1 : 0;
  else if (typeof raw === 'string' && NUMERIC_TEXT.test(raw)) n = Number(raw);
  else return undefined;
  return Number.isFinite(n) && Math.abs(n) <= MAX_MAGNITUDE ? n : undefined;
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
  const hasGiven = isPlainObject(given);
  if (!hasGiven && !changedUnit && !tsFilled) return undefined;
  let source: ReadingSource;
  if (hasGiven) {
    source = { ...given };
    for (let i = 0; i < SOURCE_TEXT_FIELDS.length; i++) {
      const key = SOURCE_TEXT_FIELDS[i];
      if (key in source && typeof source[key] !== 'string') delete source[key];
    }
    if ('originalValue' in source && typeof source.originalValue !== 'number') delete source.originalValue;
  } else {
    source = {};
  }
  if (changedUnit) {
    source.originalUnit = rawUnit;
    if (rawValue !== converted) source.originalValue = rawValue;
  }
  if (tsFilled) source.tsFilled = 'received';
  return source;
}
