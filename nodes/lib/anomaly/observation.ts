/**
 * Observations from the twin's feature windows (what pdm-anomaly scores) and from plain rows
 * (what pdm-replay scores).
 */
import type { FeatureWindow, SignalFeatures } from '../twin/feature-window';
import type { OperatingState } from '../twin/operating-state';
import type { Observation } from './types';

export type WindowStat = keyof Omit<SignalFeatures, 'n'>;

/**
 * A feature window as an observation. `stats` picks the per-signal features: the first one is
 * named after the signal itself ("flow"), the others "signal:stat" ("flow:std").
 */
export function observationFromWindow(window: FeatureWindow, stats: WindowStat[] = ['mean'], assetClass?: string): Observation {
  const values: Record<string, number> = {};
  for (const [signal, f] of Object.entries(window.features)) {
    stats.forEach((stat, i) => {
      const v = f[stat];
      if (Number.isFinite(v)) values[i === 0 ? signal : `${signal}:${stat}`] = v;
    });
  }
  const obs: Observation = { assetId: window.assetId, start: window.start, end: window.end, state: window.state, transient: window.transient, values };
  if (assetClass) obs.assetClass = assetClass;
  return obs;
}

/** One timestamped vector (a replayed row) as an observation. */
export function observationFromRow(assetId: string, ts: number, state: OperatingState, values: Record<string, number>, transient = false): Observation {
  return { assetId, start: ts, end: ts, state, transient, values };
}
