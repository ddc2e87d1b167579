/**
 * AssetConfig → ResolvedAsset: the class defaults with the asset's own overrides applied, one
 * field at a time, so fifty similar motors share one class and differ only where they must.
 *
 * Precedence for every value: asset override > nameplate-derived default > class default.
 * - sensors: absent or empty = every signal of the class. A signal the class does not name is
 *   accepted when its name is valid and its unit is known: from another class that names it,
 *   else from signals.ts SIGNALS (built-in range, defaultIntervalMs of its quantity), else from a
 *   quantity suffix (`_temperature` °C, `_pressure` bar, `_current` A, ...). Otherwise it is an error.
 * - limits: every fitted sensor gets `range` from its spec; current, power, speed and voltage
 *   ranges are derived from the nameplate when it is given (INRUSH_FACTOR × rated current, etc.);
 *   vibration_velocity gets warning/action at the B/C and C/D boundaries of the vibration preset;
 *   winding_temperature gets warning/action at the insulation class's nominal and maximum;
 *   low limits (`warningLow`/`actionLow`) come from the class's `lowLimits`, absolute or as
 *   fractions of the nameplate rating. Overrides replace `range`, `warning`, `action`,
 *   `warningLow`, `actionLow` individually.
 * - stateThresholds and presets: field by field (the vibration preset as a whole).
 */
import type {
  AssetClass,
  AssetConfig,
  ClassPresets,
  Nameplate,
  ResolvedAsset,
  SignalLimits,
  SignalSpec,
  StateThresholds,
} from './types';
import { ASSET_CLASS_IDS, ASSET_CLASSES, INSULATION_LIMITS, defaultIntervalMs, classSignal, getAssetClass, vibrationPresetId } from './classes';
import { AssetConfigError, assertAssetConfig } from './schema';
import { isValidSignalName, signalDef } from '../signals';
import { QUANTITIES, type Quantity } from '../units';
import { ZONE_PRESETS } from '../retrofit/zones';

/** Current range = [0, INRUSH_FACTOR × rated]: direct-on-line inrush is 6–8× rated current. */
export const INRUSH_FACTOR = 10;
/** Power, speed (VFD overspeed) and voltage ranges: [0, factor × rated]. */
export const NAMEPLATE_RANGE_FACTORS: Readonly<Record<string, { key: keyof Nameplate; factor: number }>> = Object.freeze({
  current: { key: 'ratedCurrentA', factor: INRUSH_FACTOR },
  power: { key: 'ratedPowerKW', factor: 2 },
  speed: { key: 'ratedSpeedRpm', factor: 2 },
  voltage: { key: 'ratedVoltageV', factor: 1.5 },
});

/** Suffixes that name a quantity, for signals neither the class nor SIGNALS knows. */
const SUFFIX_QUANTITIES: [RegExp, Quantity][] = [
  [/(^|_)temperature$|_temp$/, 'temperature'],
  [/(^|_)pressure$|_dp$/, 'pressure'],
  [/(^|_)current$/, 'current'],
  [/(^|_)voltage$/, 'voltage'],
  [/(^|_)flow$/, 'flow'],
  [/(^|_)speed$|_rpm$/, 'speed'],
  [/(^|_)power$/, 'power'],
  [/(^|_)energy$/, 'energy'],
  [/(^|_)frequency$/, 'frequency'],
  [/(^|_)(velocity)$/, 'velocity'],
  [/(^|_)(acceleration)$/, 'acceleration'],
  [/_(pct|percent|ratio)$/, 'ratio'],
  [/_count$/, 'count'],
];

/** Wide plausible ranges for a signal known only by its suffix, in the canonical unit. */
const QUANTITY_RANGES: Record<Quantity, [number, number]> = {
  velocity: [0, 100],
  acceleration: [0, 2000],
  temperature: [-50, 400],
  current: [0, 10000],
  voltage: [0, 20000],
  pressure: [-1.1, 1000],
  flow: [0, 100000],
  speed: [0, 100000],
  power: [0, 100000],
  energy: [0, 1e12],
  frequency: [0, 100000],
  ratio: [0, 100],
  count: [0, 1e12],
};

/**
 * The spec of `signal` on an asset of class `cls`, or undefined when its unit cannot be known.
 * Does not check the name: callers do (see resolveAsset).
 */
export function signalSpecFor(cls: AssetClass, signal: string): SignalSpec | undefined {
  const own = classSignal(cls, signal);
  if (own) return copySpec(own);
  // Another class's spec first: same canonical unit, and a realistic interval for stale detection.
  for (const id of ASSET_CLASS_IDS) {
    const other = classSignal(ASSET_CLASSES[id], signal);
    if (other) return copySpec(other);
  }
  const def = signalDef(signal);
  if (def) {
    return {
      signal,
      unit: QUANTITIES[def.quantity].canonical,
      range: [def.range[0], def.range[1]],
      intervalMs: defaultIntervalMs(def.quantity),
      description: `${signal} (not a usual signal of a ${cls.name.toLowerCase()})`,
    };
  }
  const quantity = SUFFIX_QUANTITIES.find(([re]) => re.test(signal))?.[1];
  if (!quantity) return undefined;
  const range = QUANTITY_RANGES[quantity];
  return {
    signal,
    unit: QUANTITIES[quantity].canonical,
    range: [range[0], range[1]],
    intervalMs: defaultIntervalMs(quantity),
    description: `${signal} (${quantity}, read from the signal name)`,
  };
}

function copySpec(s: SignalSpec): SignalSpec {
  return { signal: s.signal, unit: s.unit, range: [s.range[0], s.range[1]], intervalMs: s.intervalMs, description: s.description };
}

function resolveSensors(config: AssetConfig, cls: AssetClass): SignalSpec[] {
  if (!config.sensors || config.sensors.length === 0) return cls.signals.map(copySpec);
  const seen = new Set<string>();
  const out: SignalSpec[] = [];
  for (const signal of config.sensors) {
    if (seen.has(signal)) continue;
    seen.add(signal);
    if (!isValidSignalName(signal)) {
      throw new AssetConfigError('invalid_signal', `sensor "${signal}" is not a valid signal name (a letter, then up to 63 letters, digits, _ . or -)`, config.id);
    }
    const found = signalSpecFor(cls, signal);
    if (!found) {
      throw new AssetConfigError(
        'unknown_signal',
        `sensor "${signal}" is not a signal of a ${cls.id} (${cls.signals.map((s) => s.signal).join(', ')}) nor a known signal, ` +
          'and its unit cannot be told from its name; end the name with the quantity, e.g. "_temperature", "_pressure", "_current"',
        config.id,
      );
    }
    out.push(found);
  }
  return out;
}

function mergeThresholds(config: AssetConfig, cls: AssetClass): StateThresholds {
  const merged: StateThresholds = { ...cls.stateThresholds };
  for (const [key, value] of Object.entries(config.stateThresholds ?? {}) as [keyof StateThresholds, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  if (!(merged.offBelow < merged.idleBelow && merged.idleBelow < merged.overloadAbove)) {
    throw new AssetConfigError(
      'inconsistent_thresholds',
      `state thresholds must satisfy offBelow < idleBelow < overloadAbove; with the ${cls.id} defaults and this asset's overrides they are ` +
        `${merged.offBelow}, ${merged.idleBelow}, ${merged.overloadAbove}`,
      config.id,
    );
  }
  return merged;
}

function mergePresets(config: AssetConfig, cls: AssetClass): ClassPresets {
  const o = config.presets ?? {};
  return {
    vibration: { ...(o.vibration ?? cls.presets.vibration) },
    insulationClass: o.insulationClass ?? cls.presets.insulationClass,
    currentUnbalanceLimitPct: o.currentUnbalanceLimitPct ?? cls.presets.currentUnbalanceLimitPct,
  };
}

function defaultLimits(spec: SignalSpec, nameplate: Nameplate, presets: ClassPresets, cls: AssetClass): SignalLimits {
  const limits: SignalLimits = { range: [spec.range[0], spec.range[1]] };
  const derived = NAMEPLATE_RANGE_FACTORS[spec.signal];
  const rated = derived ? nameplate[derived.key] : undefined;
  if (derived && rated !== undefined) limits.range = [0, rated * derived.factor];
  if (spec.signal === 'vibration_velocity') {
    const [, bc, cd] = ZONE_PRESETS[vibrationPresetId(presets.vibration)].limits;
    limits.warning = bc;
    limits.action = cd;
  } else if (spec.signal === 'winding_temperature') {
    const { nominal, max } = INSULATION_LIMITS[presets.insulationClass];
    limits.warning = nominal;
    limits.action = max;
  }
  const low = cls.lowLimits?.[spec.signal];
  if (low?.warningLow !== undefined) limits.warningLow = low.warningLow;
  if (low?.actionLow !== undefined) limits.actionLow = low.actionLow;
  if (low?.ratedFraction && rated !== undefined) {
    limits.warningLow = rated * low.ratedFraction.warningLow;
    limits.actionLow = rated * low.ratedFraction.actionLow;
  }
  return limits;
}

function mergeLimits(config: AssetConfig, cls: AssetClass, sensors: SignalSpec[], nameplate: Nameplate, presets: ClassPresets): Record<string, SignalLimits> {
  const limits: Record<string, SignalLimits> = {};
  for (const spec of sensors) limits[spec.signal] = defaultLimits(spec, nameplate, presets, cls);
  for (const [signal, override] of Object.entries(config.limits ?? {})) {
    const base = limits[signal];
    if (!base) {
      throw new AssetConfigError(
        'limits_without_sensor',
        `limits are set for "${signal}" but the asset has no ${signal} sensor (fitted: ${sensors.map((s) => s.signal).join(', ')})`,
        config.id,
      );
    }
    if (override.range) base.range = [override.range[0], override.range[1]];
    if (override.warning !== undefined) base.warning = override.warning;
    if (override.action !== undefined) base.action = override.action;
    if (override.warningLow !== undefined) base.warningLow = override.warningLow;
    if (override.actionLow !== undefined) base.actionLow = override.actionLow;
    if (base.range && !(base.range[0] <= base.range[1])) {
      throw new AssetConfigError('inconsistent_limits', `limits.${signal}.range must be [min, max] with min ≤ max`, config.id);
    }
    if (base.warningLow !== undefined && base.actionLow !== undefined && base.actionLow > base.warningLow) {
      throw new AssetConfigError('inconsistent_limits', `limits.${signal}.actionLow (${base.actionLow}) must not be above warningLow (${base.warningLow})`, config.id);
    }
  }
  return limits;
}

/**
 * Applies the class defaults to one asset. Throws AssetConfigError (with a `code`) when the
 * configuration is invalid, names an unknown class, or its overrides contradict each other.
 */
export function resolveAsset(config: AssetConfig): ResolvedAsset {
  const candidate: unknown = config;
  if (candidate && typeof candidate === 'object' && 'assetClass' in candidate && typeof candidate.assetClass === 'string' && !getAssetClass(candidate.assetClass)) {
    const id = 'id' in candidate && typeof candidate.id === 'string' ? candidate.id : undefined;
    throw new AssetConfigError(
      'unknown_class',
      `unknown asset class "${candidate.assetClass}"${id ? ` for asset "${id}"` : ''} (expected one of ${ASSET_CLASS_IDS.join(', ')})`,
      id,
    );
  }
  assertAssetConfig(candidate);
  const cls = ASSET_CLASSES[candidate.assetClass];
  const nameplate: Nameplate = { ...candidate.nameplate };
  const sensors = resolveSensors(candidate, cls);
  const presets = mergePresets(candidate, cls);
  return {
    id: candidate.id,
    name: candidate.name ?? candidate.id,
    path: { ...candidate.path },
    assetClass: cls,
    nameplate,
    sensors,
    stateThresholds: mergeThresholds(candidate, cls),
    limits: mergeLimits(candidate, cls, sensors, nameplate, presets),
    presets,
  };
}
