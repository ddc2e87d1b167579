/**
 * Asset classes and asset configuration: the vocabulary the twin, anomaly and alert stages share.
 */
import type { AssetPath } from '../topic';

export type AssetClassId = 'motor' | 'pump' | 'compressor' | 'fan' | 'conveyor' | 'gearbox';

/** A signal a class of machine is expected to report, in canonical units. */
export interface SignalSpec {
  signal: string;
  unit: string;
  /** Plausible range in the canonical unit. */
  range: [number, number];
  /** Typical interval between readings; `stale` after a multiple of it without data. */
  intervalMs: number;
  description: string;
}

/** A way this class of machine fails, the signals that reveal it and what a technician should check. */
export interface FailureMode {
  id: string;
  name: string;
  signals: string[];
  check: string;
}

export type VibrationPreset =
  | { standard: 'ISO 10816-1'; machineClass: 'I' | 'II' | 'III' | 'IV' }
  | { standard: 'ISO 10816-3'; group: 1 | 2; foundation: 'rigid' | 'flexible' };

export interface ClassPresets {
  vibration: VibrationPreset;
  /** NEMA insulation class of the motor windings. */
  insulationClass: 'A' | 'B' | 'F' | 'H';
  /** Current unbalance alarm limit in % (practice, not a standard: configurable). */
  currentUnbalanceLimitPct: number;
}

/** Operating-state thresholds, as fractions of rated current (and rated speed where fitted). */
export interface StateThresholds {
  /** Below this fraction of rated current the machine is off. */
  offBelow: number;
  /** Below this fraction (and above offBelow) it idles. */
  idleBelow: number;
  /** Above this fraction it is overloaded (once past the startup window). */
  overloadAbove: number;
  /** How long after leaving `off` the machine counts as starting up (inrush masked). */
  startupMs: number;
  /** How long after dropping towards `off` it counts as shutting down. */
  shutdownMs: number;
  /** Without rated speed or current, this fraction of rated speed separates off from running. */
  speedRunningAbove: number;
}

/**
 * A class's default low limits for one signal: absolute values in the canonical unit, or fractions
 * of the asset's nameplate rating for that signal (none when the asset has no rating).
 */
export interface LowLimitDefault {
  warningLow?: number;
  actionLow?: number;
  ratedFraction?: { warningLow: number; actionLow: number };
}

export interface AssetClass {
  id: AssetClassId;
  name: string;
  signals: SignalSpec[];
  failureModes: FailureMode[];
  presets: ClassPresets;
  stateThresholds: StateThresholds;
  /** Signals that are bad when they fall (suction pressure, speed), checked while the machine runs. */
  lowLimits?: Partial<Record<string, LowLimitDefault>>;
}

export interface Nameplate {
  ratedCurrentA?: number;
  ratedPowerKW?: number;
  ratedSpeedRpm?: number;
  ratedVoltageV?: number;
}

/**
 * Per-signal limits an asset may override (canonical units): `warning`/`action` when the value
 * rises to them, `warningLow`/`actionLow` when it falls to them.
 */
export interface SignalLimits {
  range?: [number, number];
  warning?: number;
  action?: number;
  warningLow?: number;
  actionLow?: number;
}

/** One asset as configured: identity, place, class, nameplate, sensors fitted, overrides. */
export interface AssetConfig {
  id: string;
  name?: string;
  path?: AssetPath;
  assetClass: AssetClassId;
  nameplate?: Nameplate;
  /** Signals fitted; empty or absent means the class's signals. */
  sensors?: string[];
  stateThresholds?: Partial<StateThresholds>;
  limits?: Record<string, SignalLimits>;
  presets?: Partial<ClassPresets>;
}

/** An asset with its class defaults applied: what the twin works from. */
export interface ResolvedAsset {
  id: string;
  name: string;
  path: AssetPath;
  assetClass: AssetClass;
  nameplate: Nameplate;
  sensors: SignalSpec[];
  stateThresholds: StateThresholds;
  limits: Record<string, SignalLimits>;
  presets: ClassPresets;
}
