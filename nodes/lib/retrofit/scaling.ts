/**
 * Retrofit scaling: 4–20 mA loops, clamp-on current transformers and per-signal calibration.
 * Each function returns a value with an honest quality instead of clamping or throwing, because a
 * broken wire is information a maintenance pipeline must see.
 */
import type { Quality } from '../contracts/reading';
import { RetrofitError } from './errors';

export interface Scaled {
  value: number;
  quality: Quality;
  /** Why quality is not `good`. */
  qualityReason?: string;
}

export interface LoopRange {
  /** Engineering value at 4 mA. */
  min: number;
  /** Engineering value at 20 mA. May be below `min` for reverse-acting transmitters. */
  max: number;
  /** Unit of the measured loop current. Default mA. */
  currentUnit?: 'mA' | 'A';
}

/**
 * NAMUR NE43 signal levels (mA): 3.8–20.5 carries a measurement (slightly under/over range is
 * still real), ≤ 3.6 and ≥ 21 signal a failure. The bands between are neither, so `uncertain`.
 */
export const NE43 = { failureLow: 3.6, measureLow: 3.8, measureHigh: 20.5, failureHigh: 21 } as const;

/**
 * Maps a 4–20 mA loop current linearly onto [min, max]. Outside 4–20 the value is extrapolated
 * (not clamped) so trends stay visible; quality follows NE43:
 *  < 3.6 mA → bad `wire_break`, 3.6–3.8 → uncertain `under_range`,
 *  > 21 mA → bad `over_range`, 20.5–21 → uncertain `above_range`.
 * Exactly 3.6 or 21 mA counts as uncertain: only readings beyond the limits are declared bad.
 */
export function loopToEngineering(current: number, range: LoopRange): Scaled {
  assertFinite(range.min, 'min');
  assertFinite(range.max, 'max');
  if (range.min === range.max) throw new RetrofitError('invalid_range', '4-20 mA range needs min and max to differ');
  if (!Number.isFinite(current)) return { value: 0, quality: 'bad', qualityReason: 'invalid_current' };
  const mA = range.currentUnit === 'A' ? current * 1000 : current;
  const value = range.min + ((mA - 4) * (range.max - range.min)) / 16;
  if (mA < NE43.failureLow) return { value, quality: 'bad', qualityReason: 'wire_break' };
  if (mA > NE43.failureHigh) return { value, quality: 'bad', qualityReason: 'over_range' };
  if (mA < NE43.measureLow) return { value, quality: 'uncertain', qualityReason: 'under_range' };
  if (mA > NE43.measureHigh) return { value, quality: 'uncertain', qualityReason: 'above_range' };
  return { value, quality: 'good' };
}

/**
 * A clamp-on current transformer. The ratio is nameplate primary : secondary, e.g. 100 A : 5 A
 * or, for a voltage-output CT, 100 A : 1 V.
 *  - `secondary_current`: the input is the secondary current in A (meter in series);
 *  - `burden_voltage`: the input is the voltage across a burden resistor of `burdenOhms`, so the
 *    secondary current is V / R;
 *  - `voltage_output`: the CT has a built-in burden and `secondary` is its rated output voltage.
 */
export interface CtConfig {
  primary: number;
  secondary: number;
  input: 'secondary_current' | 'burden_voltage' | 'voltage_output';
  burdenOhms?: number;
}

/** Primary current in A from a CT measurement. Negative readings (AC RMS cannot be) are bad. */
export function ctPrimaryCurrent(measured: number, ct: CtConfig): Scaled {
  if (!(ct.primary > 0) || !(ct.secondary > 0)) throw new RetrofitError('invalid_ct', 'CT primary and secondary ratings must be > 0');
  if (ct.input === 'burden_voltage' && !(ct.burdenOhms! > 0)) {
    throw new RetrofitError('invalid_ct', 'burden_voltage input needs burdenOhms > 0');
  }
  if (!Number.isFinite(measured)) return { value: 0, quality: 'bad', qualityReason: 'invalid_current' };
  const secondary = ct.input === 'burden_voltage' ? measured / ct.burdenOhms! : measured;
  const value = (secondary * ct.primary) / ct.secondary;
  if (measured < 0) return { value, quality: 'bad', qualityReason: 'negative_rms' };
  // Measuring CTs are only specified up to 120 % of rated current (IEC 61869-2); beyond it the
  // core may saturate and under-read, so the value is a lower bound.
  if (secondary > 1.2 * ct.secondary) return { value, quality: 'uncertain', qualityReason: 'above_ct_rating' };
  return { value, quality: 'good' };
}

/** Per-signal calibration from a field check against a reference instrument. */
export interface Calibration {
  /** Multiplies first. Default 1. */
  gain?: number;
  /** Added after gain. Default 0. */
  offset?: number;
}

/** value × gain + offset. */
export function calibrate(value: number, cal: Calibration | undefined): number {
  if (!cal) return value;
  return value * (cal.gain ?? 1) + (cal.offset ?? 0);
}

function assertFinite(x: number, name: string): void {
  if (!Number.isFinite(x)) throw new RetrofitError('invalid_range', `4-20 mA ${name} must be a finite number`);
}
