/**
 * Anomaly settings per asset class: what a new asset of the class starts with, and what the
 * SKAB benchmark and `pdm-replay --asset-class` use unchanged for every file.
 *
 * Why these values (all classes share the detector design; see model.ts):
 * - smoothingMs 5 s: a rolling window in time that turns 1 Hz samples into a steady level
 *   without hiding a fault for long; it is a no-op on the twin's 60 s windows.
 * - robust z (max |z|) + Hotelling T² (all components), combined by max: one signal far out, or
 *   several moving together. T² eigenvalues are floored at 2 (in units of one signal's noise
 *   variance): smoothed training data vary far less than raw noise, and an unfloored T² turns
 *   the slightest drift of a quiet direction into an alarm.
 * - isolation forest on (ψ 256, 100 trees, seed 1): unusual combinations; it is weakest on a
 *   single signal, which robust z covers.
 * - CUSUM off: on real plants process levels wander slowly and a CUSUM of them saturates; turn it
 *   on for signals that should hold still (it is in the model, calibrated like the others).
 * - temperatures adapt (τ 60 s): motor and liquid temperatures follow load and ambient, so they
 *   are judged on how fast they move rather than on their level.
 * - calibration: s = 0.5 where a statistic reaches 2 × its training spread from the median to
 *   the 99th percentile; anomalous at 0.5 held for 5 s (confirmMs: a blip of a few 1 Hz rows
 *   does not alarm; one 60 s window is enough), back to normal below 0.4 (hysteresis 0.8).
 * - warm-up: 120 observations over at least 2 h (a shift's worth of 60 s windows); retraining
 *   daily on the recent normal buffer.
 */
import type { AssetClassId } from '../assets/types';
import { DEFAULT_ANOMALY_OPTIONS, mergeAnomalyOptions, type AnomalyOptions, type PartialAnomalyOptions } from './scorer';
import { DEFAULT_MODEL_CONFIG, mergeModelConfig, type ModelConfig } from './model';

export const CLASS_MODEL_CONFIG: ModelConfig = mergeModelConfig(DEFAULT_MODEL_CONFIG, {
  detectors: {
    robustZ: { enabled: true, weight: 1 },
    cusum: { enabled: false },
    iforest: { enabled: true, weight: 1, trees: 100, sampleSize: 256, seed: 1 },
    pca: { enabled: true, weight: 1, varianceKept: 1, eigenFloorAbs: 2 },
  },
  combine: 'max',
  calibrationQuantile: 0.99,
  margin: 2,
  threshold: 0.5,
  hysteresis: 0.8,
  holdMs: 0,
  confirmMs: 5000,
  smoothingMs: 5000,
  adaptive: { signals: ['temperature'], tauMs: 60_000, protect: false },
});

const COMMON: PartialAnomalyOptions = {
  warmup: { minSamples: 120, minSpanMs: 2 * 3_600_000 },
  bufferSize: 2000,
  retrain: { everyMs: 24 * 3_600_000, minNewSamples: 200 },
  learnBelow: 0.4,
  guardMs: 60_000,
};

const classBase = (over: PartialAnomalyOptions = {}): AnomalyOptions =>
  mergeAnomalyOptions(mergeAnomalyOptions({ ...DEFAULT_ANOMALY_OPTIONS, model: CLASS_MODEL_CONFIG }, COMMON), over);

export const ANOMALY_CLASS_DEFAULTS: Readonly<Record<AssetClassId, AnomalyOptions>> = {
  motor: classBase(),
  pump: classBase(),
  compressor: classBase(),
  // Fans and conveyors run for long stretches in one state; the same settings serve.
  fan: classBase(),
  conveyor: classBase(),
  // Gearbox oil temperature is a slow signal as well.
  gearbox: classBase(),
};

export function anomalyDefaults(assetClass: string | undefined): AnomalyOptions {
  return (assetClass && (ANOMALY_CLASS_DEFAULTS as Record<string, AnomalyOptions>)[assetClass]) || ANOMALY_CLASS_DEFAULTS.pump;
}
