/**
 * What the anomaly stage takes and gives (DESIGN.md "Contracts": Score).
 */
import type { OperatingState } from '../twin/operating-state';

/**
 * One thing to score: a feature window from the twin, or one row of a replayed file.
 * `values` maps feature names to numbers; a feature belongs to the signal named before its
 * ":" ("flow:std" → flow; signal names never contain ":"), or is the signal itself ("flow").
 */
export interface Observation {
  assetId: string;
  /** Asset class, for models pooled per class. */
  assetClass?: string;
  start: number;
  end: number;
  state: OperatingState;
  /** The window saw a startup or shutdown: masked, never scored or learned. */
  transient?: boolean;
  values: Record<string, number>;
  /** Labelled a fault (e.g. a confirmed alarm): scored, never learned. */
  fault?: boolean;
}

export type ScoreStatus = 'learning' | 'ready';

export interface Score {
  assetId: string;
  window: { start: number; end: number };
  state: OperatingState;
  /** Calibrated to [0, 1]; `threshold` (0.5 by default) marks anomalous. 0 while learning or masked. */
  score: number;
  anomalous: boolean;
  threshold: number;
  /** Share of the score per signal, summing to 1 (empty while learning or masked). */
  contributions: Record<string, number>;
  topSignal: string | null;
  model: { id: string; version: number } | null;
  status: ScoreStatus;
  /**
   * Why the observation was not scored: a startup/shutdown window, the machine off, a state
   * without a model, or a load the model was not trained on (`operating_point`: learned once it persists).
   */
  masked?: 'transient' | 'off' | 'state' | 'operating_point';
  /** Calibrated score per detector (robustZ, cusum, iforest, t2, q). */
  detectors?: Record<string, number>;
  /** The observation joined the baseline (protected learning: only normal ones do). */
  learned?: boolean;
  /** Learning progress: samples and span so far, and what the warm-up gate needs. */
  warmup?: { samples: number; spanMs: number; minSamples: number; minSpanMs: number };
}

export function signalOfFeature(name: string): string {
  const colon = name.indexOf(':');
  return colon > 0 ? name.slice(0, colon) : name;
}
