/**
 * Scoring a detector against labels the way SKAB does (shared/datasets/skab/README.md), written
 * from its description and checked against the null and all-ones detectors:
 *
 * - Outlier detection: one confusion matrix summed over all scored rows of all files;
 *   F1 = TP / (TP + (FP + FN)/2), FAR = FP / (FP + TN) in %, MAR = FN / (FN + TP) in %.
 * - Changepoint detection, NAB-like: every true changepoint opens a window [t, t + 60 s] to its
 *   right (where two overlap, the right one starts where the left one ends); predicted
 *   changepoints are the rows where the binary prediction changes (and its first row, if 1).
 *   Per window, the first prediction inside it earns y(position) of the scaled tanh curve
 *   (A_tp at the window's start, falling to A_fp at its end); a window with none costs A_fn;
 *   each prediction outside every window costs A_fp. Summed over files, the score is scaled so
 *   that no alarms = 0 and perfect = 100, per profile:
 *     standard A_tp 1, A_fp −0.11, A_fn −1; lowFP A_fp −0.22; lowFN A_fn −2.
 */

export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface BinaryScores extends Confusion {
  f1: number;
  /** % */
  far: number;
  /** % */
  mar: number;
}

export function addConfusion(acc: Confusion, truth: ArrayLike<number>, pred: ArrayLike<number>): Confusion {
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] === 1;
    const p = pred[i] === 1;
    if (t && p) acc.tp++;
    else if (!t && !p) acc.tn++;
    else if (p) acc.fp++;
    else acc.fn++;
  }
  return acc;
}

export function binaryScores(c: Confusion): BinaryScores {
  const f1 = c.tp + (c.fp + c.fn) / 2 > 0 ? c.tp / (c.tp + (c.fp + c.fn) / 2) : 0;
  const far = c.fp + c.tn > 0 ? (100 * c.fp) / (c.fp + c.tn) : 0;
  const mar = c.fn + c.tp > 0 ? (100 * c.fn) / (c.fn + c.tp) : 0;
  return { ...c, f1, far, mar };
}

/** Rows where a binary prediction changes; the first row counts when it is 1. */
export function changepointsOf(pred: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = i === 0 ? (pred[0] === 1 ? 1 : 0) : pred[i] !== pred[i - 1] ? 1 : 0;
  return out;
}

export interface NabProfile {
  name: 'standard' | 'lowFP' | 'lowFN';
  tp: number;
  fp: number;
  fn: number;
}

export const NAB_PROFILES: readonly NabProfile[] = [
  { name: 'standard', tp: 1, fp: -0.11, fn: -1 },
  { name: 'lowFP', tp: 1, fp: -0.22, fn: -1 },
  { name: 'lowFN', tp: 1, fp: -0.11, fn: -2 },
];

/** Raw NAB sums for one file, per profile: [score, null score, perfect score]. */
export interface NabSums {
  score: number[];
  nul: number[];
  perfect: number[];
  windows: number;
  detected: number;
  falseAlarms: number;
}

/** The scaled tanh curve sampled at 1000 points, as in SKAB's `my_scale` (scale_koef 1). */
function tanhScale(position: number, aTp: number, aFp: number): number {
  const detail = 1000;
  let event = Math.floor(position * detail);
  if (!(event >= 0)) event = 0;
  if (event >= detail) event = detail - 1;
  const x = -Math.PI / 2 + (Math.PI * event) / (detail - 1);
  return ((aTp - aFp) / 2) * (-Math.tanh(x) / Math.tanh(Math.PI / 2)) + (aTp - aFp) / 2 + aFp;
}

/**
 * NAB sums of one file. `times` in ms (ascending), `trueCp` and `predCp` 0/1 per row,
 * `windowMs` the window to the right of each true changepoint (60 s in SKAB).
 */
export function nabFile(times: ArrayLike<number>, trueCp: ArrayLike<number>, predCp: ArrayLike<number>, windowMs = 60_000): NabSums {
  const windows: [number, number][] = [];
  for (let i = 0; i < times.length; i++) if (trueCp[i] === 1) windows.push([times[i], times[i] + windowMs]);
  // Overlaps: the right window starts where the left one ends ("cut right window").
  for (let i = 0; i + 1 < windows.length; i++) if (windows[i][1] >= windows[i + 1][0]) windows[i + 1][0] = windows[i][1];
  const preds: number[] = [];
  for (let i = 0; i < times.length; i++) if (predCp[i] === 1) preds.push(times[i]);
  let falseAlarms = 0;
  const firstIn: (number | undefined)[] = windows.map(() => undefined);
  for (const t of preds) {
    let inside = false;
    for (let w = 0; w < windows.length; w++) {
      if (t >= windows[w][0] && t <= windows[w][1]) {
        inside = true;
        if (firstIn[w] === undefined) firstIn[w] = t;
      }
    }
    if (!inside) falseAlarms++;
  }
  const sums: NabSums = { score: [], nul: [], perfect: [], windows: windows.length, detected: firstIn.filter((t) => t !== undefined).length, falseAlarms };
  for (const p of NAB_PROFILES) {
    let s = p.fp * falseAlarms;
    windows.forEach(([a, b], w) => {
      const t = firstIn[w];
      if (t === undefined) s += p.fn;
      else s += tanhScale(b > a ? (t - a) / (b - a) : 0, p.tp, p.fp);
    });
    sums.score.push(s);
    sums.nul.push(windows.length * p.fn);
    sums.perfect.push(windows.length * p.tp);
  }
  return sums;
}

export interface NabResult {
  standard: number;
  lowFP: number;
  lowFN: number;
  windows: number;
  detected: number;
  falseAlarms: number;
}

/** Adds file sums and scales: 100 × (score − null) / (perfect − null), per profile. */
export function nabTotal(files: NabSums[]): NabResult {
  const tot = { score: [0, 0, 0], nul: [0, 0, 0], perfect: [0, 0, 0] };
  let windows = 0;
  let detected = 0;
  let falseAlarms = 0;
  for (const f of files) {
    for (let k = 0; k < 3; k++) {
      tot.score[k] += f.score[k];
      tot.nul[k] += f.nul[k];
      tot.perfect[k] += f.perfect[k];
    }
    windows += f.windows;
    detected += f.detected;
    falseAlarms += f.falseAlarms;
  }
  const scaled = (k: number) => (tot.perfect[k] - tot.nul[k] !== 0 ? (100 * (tot.score[k] - tot.nul[k])) / (tot.perfect[k] - tot.nul[k]) : 0);
  return { standard: scaled(0), lowFP: scaled(1), lowFN: scaled(2), windows, detected, falseAlarms };
}
