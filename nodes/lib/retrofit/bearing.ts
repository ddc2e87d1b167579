/**
 * Rolling-element bearing defect frequencies (shared/reference/domain.md §2.4; MathWorks
 * `bearingFaultBands`, Randall & Antoni 2011). With fr the shaft frequency and r = d/D·cos α:
 *   FTF  = fr/2 · (1 − r)            cage (fundamental train)
 *   BPFO = n·fr/2 · (1 − r)          ball pass, outer race
 *   BPFI = n·fr/2 · (1 + r)          ball pass, inner race
 *   BSF  = D/(2d) · fr · (1 − r²)    ball spin, once per ball revolution (some vendors quote 2×BSF)
 * The formulas assume a stationary outer race and a rotating inner race, with no slip, so real
 * peaks sit 1–2 % lower; the waveform features search a tolerance band around each.
 */
import { RetrofitError } from './errors';

export interface BearingGeometry {
  /** Number of rolling elements. */
  n: number;
  /** Rolling-element diameter (any length unit, the same as D). */
  d: number;
  /** Pitch diameter. */
  D: number;
  /** Contact angle in degrees. Default 0 (deep-groove ball bearing). */
  contactAngleDeg?: number;
}

export interface DefectFrequencies {
  shaftHz: number;
  ftf: number;
  bpfo: number;
  bpfi: number;
  bsf: number;
}

/** Throws RetrofitError `invalid_bearing` for geometry no bearing can have. */
export function validateBearing(g: BearingGeometry): void {
  const alpha = g.contactAngleDeg ?? 0;
  if (!Number.isInteger(g.n) || g.n < 1) throw new RetrofitError('invalid_bearing', 'n must be a whole number of rolling elements ≥ 1');
  if (!(g.d > 0) || !Number.isFinite(g.d)) throw new RetrofitError('invalid_bearing', 'd must be > 0');
  if (!(g.D > g.d) || !Number.isFinite(g.D)) throw new RetrofitError('invalid_bearing', 'D (pitch diameter) must exceed d');
  if (!(alpha >= 0 && alpha < 90)) throw new RetrofitError('invalid_bearing', 'contact angle must be in [0, 90) degrees');
}

/** Defect frequencies in Hz for a bearing turning at `rpm` (inner race with the shaft). */
export function bearingFrequencies(g: BearingGeometry, rpm: number): DefectFrequencies {
  validateBearing(g);
  if (!(rpm >= 0) || !Number.isFinite(rpm)) throw new RetrofitError('invalid_speed', 'shaft speed must be a finite rpm ≥ 0');
  const fr = rpm / 60;
  const r = (g.d / g.D) * Math.cos(((g.contactAngleDeg ?? 0) * Math.PI) / 180);
  return {
    shaftHz: fr,
    ftf: (fr / 2) * (1 - r),
    bpfo: ((g.n * fr) / 2) * (1 - r),
    bpfi: ((g.n * fr) / 2) * (1 + r),
    bsf: (g.D / (2 * g.d)) * fr * (1 - r * r),
  };
}
