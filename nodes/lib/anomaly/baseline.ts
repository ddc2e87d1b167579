/**
 * Where "normal" sits for each feature, and how far is far.
 *
 * - RobustBaseline: location = median, scale = 1.4826 × MAD with a variance floor, because MAD
 *   is 0 on flat or quantised signals (a pressure transmitter that reads two values, a flow
 *   meter stuck at 32.0): scale = max(1.4826·MAD, stdFraction·σ, relative·|median|, absolute).
 * - SeasonalProfile: an optional location per hour of day (and day of week) for signals that
 *   follow the shift pattern; a bin with fewer than `minPerBin` training values falls back to
 *   the median. The scale stays the robust one.
 */
import { MAD_TO_SIGMA, mad, median, std } from './math';

export interface ScaleFloor {
  /** Floor as a fraction of the training standard deviation. */
  stdFraction: number;
  /** Floor as a fraction of |median| (a sensor's resolution is usually relative). */
  relative: number;
  /** Absolute floor in the feature's unit. */
  absolute: number;
}

export const DEFAULT_SCALE_FLOOR: ScaleFloor = { stdFraction: 0.25, relative: 1e-4, absolute: 1e-9 };

export interface RobustBaselineJSON {
  location: number[];
  scale: number[];
}

export function fitRobust(columns: Float64Array[], floor: ScaleFloor = DEFAULT_SCALE_FLOOR): RobustBaselineJSON {
  const location: number[] = [];
  const scale: number[] = [];
  for (const col of columns) {
    const m = median(col);
    const s = Math.max(MAD_TO_SIGMA * mad(col, m), floor.stdFraction * std(col), floor.relative * Math.abs(m), floor.absolute);
    location.push(m);
    scale.push(s);
  }
  return { location, scale };
}

export type SeasonalMode = 'off' | 'hour' | 'hour-week';

export interface SeasonalJSON {
  mode: Exclude<SeasonalMode, 'off'>;
  /** Hours are taken in this UTC offset (minutes), so a plant's shift pattern lines up. */
  utcOffsetMin: number;
  /** bins × dims, row-major; NaN-free: empty bins hold the median. */
  location: number[];
}

export function seasonalBins(mode: Exclude<SeasonalMode, 'off'>): number {
  return mode === 'hour' ? 24 : 168;
}

export function seasonalBin(mode: Exclude<SeasonalMode, 'off'>, ts: number, utcOffsetMin: number): number {
  const local = ts + utcOffsetMin * 60_000;
  const hour = Math.floor(local / 3_600_000);
  const hod = ((hour % 24) + 24) % 24;
  if (mode === 'hour') return hod;
  const day = Math.floor(hour / 24);
  const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return dow * 24 + hod;
}

export function fitSeasonal(
  mode: Exclude<SeasonalMode, 'off'>,
  times: ArrayLike<number>,
  columns: Float64Array[],
  fallback: number[],
  minPerBin: number,
  utcOffsetMin = 0,
): SeasonalJSON {
  const bins = seasonalBins(mode);
  const dims = columns.length;
  const byBin: number[][] = Array.from({ length: bins }, () => []);
  for (let i = 0; i < times.length; i++) byBin[seasonalBin(mode, times[i], utcOffsetMin)].push(i);
  const location = new Array<number>(bins * dims);
  for (let b = 0; b < bins; b++) {
    for (let j = 0; j < dims; j++) {
      const rows = byBin[b];
      location[b * dims + j] = rows.length >= minPerBin ? median(Float64Array.from(rows, (i) => columns[j][i])) : fallback[j];
    }
  }
  return { mode, utcOffsetMin, location };
}
