/**
 * Alert configuration: the tier rules (per asset class, overridable per asset) and the engine
 * settings (suppression, shelving, flood, KPIs, feedback). Times are milliseconds of event time.
 *
 * Tier rules, read with shared/reference/domain.md §3:
 *  - watch:   the model's score is anomalous (≥ its threshold, or `watch.scoreAbove`), or a
 *             business rule holds (a warning/action limit of the asset, ISO zone C or D);
 *  - warning: the condition persisted — active for `onDelayMs`, or anomalous in `m` of the last
 *             `n` scored windows — or it widens (the score rose by `widenBy` over `widenWindows`
 *             rising windows);
 *  - action:  the model and a business rule on one of the failure mode's signals agree (for
 *             `agreeForMs`), or a severe rule (zone D, or the action limit of a `severeSignals`
 *             signal) persists for `severeForMs`;
 *  - clearing: the score must fall below threshold − `hysteresis` and every rule must be back to
 *             normal for `offDelayMs` (Prometheus keep_firing_for); a lower tier takes over after
 *             `deescalateMs`.
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from '../contracts/ajv';
import { TIERS, type Tier } from '../contracts/alert-event';
import { ASSET_CLASS_IDS } from '../assets/classes';
import type { AssetClassId } from '../assets/types';
import { OPERATING_STATES, type OperatingState } from '../twin/operating-state';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export interface TierConfig {
  watch: {
    /** Fixed score threshold for "anomalous"; null = the threshold carried by each score. */
    scoreAbove: number | null;
  };
  warning: { onDelayMs: number; m: number; n: number; widenBy: number; widenWindows: number };
  action: { agreeForMs: number; severeForMs: number; severeSignals: string[] };
  clear: { hysteresis: number; offDelayMs: number; deescalateMs: number };
  /** No data / sensor fault: raised at watch, warning after `warnAfterMs`, cleared as soon as data is good again. */
  dataHealth: { warnAfterMs: number };
  lifecycle: {
    /** Episodes that reached this tier need an acknowledgement before they close; lower ones close when they clear. */
    ackFrom: Tier;
    /** Latching: a cleared but unacknowledged episode stays annunciated ("latched") until acknowledged. */
    latching: boolean;
  };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type TierOverride = DeepPartial<TierConfig>;

export const DEFAULT_TIER_CONFIG: Readonly<TierConfig> = deepFreeze({
  watch: { scoreAbove: null },
  // Scored windows are a minute long by default (pdm-twin windowSec 60): 3 of 5 ≈ 3–5 minutes.
  warning: { onDelayMs: 5 * MINUTE, m: 3, n: 5, widenBy: 0.15, widenWindows: 3 },
  // Two independent sources agreeing is the credibility check, so no extra delay by default.
  action: { agreeForMs: 0, severeForMs: 5 * MINUTE, severeSignals: ['vibration_velocity'] },
  clear: { hysteresis: 0.05, offDelayMs: 5 * MINUTE, deescalateMs: 5 * MINUTE },
  dataHealth: { warnAfterMs: 15 * MINUTE },
  lifecycle: { ackFrom: 'warning', latching: false },
});

/**
 * Per-class defaults on top of DEFAULT_TIER_CONFIG: which action limits count as "severe" —
 * the ISO 10816 C/D boundary of vibration velocity everywhere, plus the temperature that ends a
 * machine of that class (winding insulation class maximum, compressor discharge, gear oil).
 */
export const CLASS_TIER_DEFAULTS: Readonly<Record<AssetClassId, TierOverride>> = deepFreeze({
  motor: { action: { severeSignals: ['vibration_velocity', 'winding_temperature'] } },
  pump: {},
  compressor: { action: { severeSignals: ['vibration_velocity', 'discharge_temperature'] } },
  fan: {},
  conveyor: {},
  gearbox: { action: { severeSignals: ['vibration_velocity', 'oil_temperature'] } },
});

/** Overrides by class (`motor`, …) or `default`, and by asset id under `assets`. */
export interface TierOverrides {
  default?: TierOverride;
  assets?: Record<string, TierOverride>;
  [assetClass: string]: TierOverride | Record<string, TierOverride> | undefined;
}

export type FloodSuppress = 'none' | 'watch' | 'warning';

export interface EngineConfig {
  /**
   * `wall`: an asset's time is the newer of its latest event time and the wall clock passed in.
   * `reading`: only event time counts — each asset's clock advances with its own data, and sites
   * (floods, KPIs) run on the newest event time of any asset — for replays and accelerated data.
   */
  clock: 'wall' | 'reading';
  /** Base tier rules (the node's fields); class defaults and overrides apply on top. */
  tiers: TierOverride;
  overrides: TierOverrides;
  defaultClass: AssetClassId;
  /** Operating states in which alerts are suppressed by design. */
  suppressStates: OperatingState[];
  /** Longest timed shelving (OPC UA MaxTimeShelved). */
  maxShelveMs: number;
  flood: {
    /** A flood starts when more than `count` activations fall in `windowMs`, and ends below `endCount`. */
    count: number;
    windowMs: number;
    endCount: number;
    /** Consequential alarms up to this tier are grouped and suppressed during a flood; action is always shown. */
    suppressUpTo: FloodSuppress;
  };
  chatter: { count: number; windowMs: number };
  /** An episode active for longer than this is "stale" in the KPIs (EEMUA: 24 h). */
  staleAlarmMs: number;
  kpiIntervalMs: number;
  /** Closed episodes kept per asset, so labels can still reach them. */
  historyLimit: number;
  trendPoints: number;
  maxAssets: number;
  feedback: {
    /** Each "startup transient" false alarm extends the masking after a startup by this much … */
    startupMaskStepMs: number;
    /** … up to this. */
    maxStartupMaskMs: number;
    /** Each "mode shift" false alarm raises the score threshold of that operating state by this … */
    modeShiftStep: number;
    /** … up to this threshold. */
    maxThreshold: number;
  };
}

export const DEFAULT_ENGINE_CONFIG: Readonly<EngineConfig> = deepFreeze({
  clock: 'wall',
  tiers: {},
  overrides: {},
  defaultClass: 'motor',
  suppressStates: ['off', 'startup', 'shutdown'],
  maxShelveMs: 8 * HOUR,
  flood: { count: 10, windowMs: 10 * MINUTE, endCount: 5, suppressUpTo: 'warning' },
  chatter: { count: 3, windowMs: MINUTE },
  staleAlarmMs: 24 * HOUR,
  kpiIntervalMs: HOUR,
  historyLimit: 20,
  trendPoints: 10,
  maxAssets: 50_000,
  feedback: { startupMaskStepMs: MINUTE, maxStartupMaskMs: 15 * MINUTE, modeShiftStep: 0.05, maxThreshold: 0.95 },
});

// ---------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace; undefined is skipped. */
export function merge<T>(base: T, ...overs: Array<DeepPartial<T> | undefined>): T {
  let out: unknown = clone(base);
  for (const over of overs) out = mergeOne(out, over);
  return out as T;
}
function mergeOne(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlain(base) || !isPlain(over)) return clone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = mergeOne(base[k], v);
  }
  return out;
}
function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function engineConfig(partial: DeepPartial<EngineConfig> = {}): EngineConfig {
  return merge<EngineConfig>(DEFAULT_ENGINE_CONFIG as EngineConfig, partial);
}

/** The tier rules of one asset: defaults ← class defaults ← node base ← overrides (default, class, asset). */
export function resolveTierConfig(config: EngineConfig, assetClass: string, assetId: string): TierConfig {
  const classDefaults = (CLASS_TIER_DEFAULTS as Record<string, TierOverride>)[assetClass];
  const byClass = assetClass !== 'assets' && assetClass !== 'default' ? (config.overrides[assetClass] as TierOverride | undefined) : undefined;
  const byAsset = config.overrides.assets?.[assetId];
  return merge<TierConfig>(DEFAULT_TIER_CONFIG as TierConfig, classDefaults, config.tiers, config.overrides.default, byClass, byAsset);
}

// ---------------------------------------------------------------------------------------------
// Validation of overrides (the node's JSON field)

const ms = { type: 'number', minimum: 0, maximum: 365 * 24 * HOUR };
const tierOverrideSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    watch: {
      type: 'object',
      additionalProperties: false,
      properties: { scoreAbove: { type: 'number', minimum: 0, maximum: 1, nullable: true } },
    },
    warning: {
      type: 'object',
      additionalProperties: false,
      properties: {
        onDelayMs: ms,
        m: { type: 'integer', minimum: 1, maximum: 50 },
        n: { type: 'integer', minimum: 1, maximum: 50 },
        widenBy: { type: 'number', minimum: 0, maximum: 1 },
        widenWindows: { type: 'integer', minimum: 2, maximum: 50 },
      },
    },
    action: {
      type: 'object',
      additionalProperties: false,
      properties: { agreeForMs: ms, severeForMs: ms, severeSignals: { type: 'array', items: { type: 'string' } } },
    },
    clear: {
      type: 'object',
      additionalProperties: false,
      properties: { hysteresis: { type: 'number', minimum: 0, maximum: 1 }, offDelayMs: ms, deescalateMs: ms },
    },
    dataHealth: { type: 'object', additionalProperties: false, properties: { warnAfterMs: ms } },
    lifecycle: {
      type: 'object',
      additionalProperties: false,
      properties: { ackFrom: { type: 'string', enum: [...TIERS] }, latching: { type: 'boolean' } },
    },
  },
};

const overridesSchema: SchemaObject = {
  $id: 'pdm-twin/alert-tier-overrides.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    default: tierOverrideSchema,
    ...Object.fromEntries(ASSET_CLASS_IDS.map((id) => [id, tierOverrideSchema])),
    assets: { type: 'object', additionalProperties: tierOverrideSchema },
  },
};
const validateOverrides = ajv.compile<TierOverrides>(overridesSchema);
const validateTierOverride = ajv.compile<TierOverride>({ $id: 'pdm-twin/alert-tier-override.json', ...tierOverrideSchema });

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses the overrides JSON text ('' = none); checks M ≤ N wherever both end up set. */
export function parseOverrides(textValue: unknown): ParseResult<TierOverrides> {
  if (textValue === undefined || textValue === null || (typeof textValue === 'string' && textValue.trim() === '')) return { ok: true, value: {} };
  let value: unknown = textValue;
  if (typeof textValue === 'string') {
    try {
      value = JSON.parse(textValue);
    } catch (err) {
      return { ok: false, error: `not JSON: ${(err as Error).message}` };
    }
  }
  if (!validateOverrides(value)) return { ok: false, error: describeErrors(validateOverrides.errors) };
  return { ok: true, value: value as TierOverrides };
}

/** Checks a base tier override (from the node's fields). */
export function checkTierOverride(value: unknown): string | undefined {
  return validateTierOverride(value) ? undefined : describeErrors(validateTierOverride.errors);
}

/** Problems of the resolved rules (M > N) for every class and configured asset. */
export function checkResolved(config: EngineConfig): string | undefined {
  const check = (cfg: TierConfig, where: string) =>
    cfg.warning.m > cfg.warning.n ? `${where}: warning.m (${cfg.warning.m}) is larger than warning.n (${cfg.warning.n})` : undefined;
  for (const cls of ASSET_CLASS_IDS) {
    const problem = check(resolveTierConfig(config, cls, ''), cls);
    if (problem) return problem;
  }
  for (const id of Object.keys(config.overrides.assets ?? {})) {
    for (const cls of ASSET_CLASS_IDS) {
      const problem = check(resolveTierConfig(config, cls, id), `asset ${id}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** "off, startup" → ['off', 'startup']; unknown names are an error. */
export function parseStates(textValue: unknown): ParseResult<OperatingState[]> {
  if (Array.isArray(textValue)) textValue = textValue.join(',');
  if (typeof textValue !== 'string') return { ok: false, error: 'expected a comma-separated list of operating states' };
  const names = textValue.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(OPERATING_STATES as readonly string[]).includes(n));
  if (bad.length > 0) return { ok: false, error: `unknown operating state(s): ${bad.join(', ')} (expected ${OPERATING_STATES.join(', ')})` };
  return { ok: true, value: [...new Set(names)] as OperatingState[] };
}

/** "3/5" → {m: 3, n: 5}. */
export function parseMofN(textValue: unknown): ParseResult<{ m: number; n: number }> {
  const match = /^\s*(\d{1,2})\s*(?:\/|of)\s*(\d{1,2})\s*$/i.exec(String(textValue ?? ''));
  if (!match) return { ok: false, error: 'expected "M/N", e.g. 3/5' };
  const m = Number(match[1]);
  const n = Number(match[2]);
  if (m < 1 || n < 1 || m > n || n > 50) return { ok: false, error: 'expected 1 ≤ M ≤ N ≤ 50' };
  return { ok: true, value: { m, n } };
}
