/**
 * From signals to the failure modes of an asset class: which failure mode an anomaly or a rule
 * points at, and the check a technician should make. One episode per (asset, failure mode), so
 * the choice is sticky: once a mode holds a condition it keeps the evidence that still fits it.
 */
import type { FailureMode } from '../assets/types';

export interface ModeRef {
  id: string;
  name: string;
  signals: string[];
  check: string;
}

/** Anomalies and rules on signals no failure mode of the class names. */
export const UNCLASSIFIED: ModeRef = Object.freeze({
  id: 'unclassified',
  name: 'Unclassified departure from normal',
  signals: [],
  check:
    'Compare the trend of the named signals with the last known-good period, walk down the machine (noise, heat, leaks, loose parts) ' +
    'and record what you find, so the alert can be labelled.',
}) as ModeRef;

export const NO_DATA: ModeRef = Object.freeze({
  id: 'no_data',
  name: 'No data',
  signals: [],
  check: 'Check that the sensor is powered and connected, the gateway or PLC link is up and the flow that reads it is running.',
}) as ModeRef;

export const SENSOR_FAULT: ModeRef = Object.freeze({
  id: 'sensor_fault',
  name: 'Sensor fault',
  signals: [],
  check: 'Check the sensor, its cable and connector, its mounting and its configured range; compare with a hand-held instrument.',
}) as ModeRef;

export const PSEUDO_MODES: readonly ModeRef[] = [UNCLASSIFIED, NO_DATA, SENSOR_FAULT];

/**
 * The base signal of a name: anomaly features ("flow:std") and positions ("vibration_velocity.de")
 * belong to the signal before the first ":" or ".".
 */
export function baseSignal(name: string): string {
  const cut = name.search(/[:.]/);
  return cut > 0 ? name.slice(0, cut) : name;
}

export interface ModeChoice {
  mode: ModeRef;
  /** Other modes the same signals point at, best first (at most 3). */
  alternatives: ModeRef[];
}

/**
 * Ranks the class's failure modes by the share of `weights` (signal → weight) their signals
 * cover; ties keep the class order (most likely first). `preferred` modes (those already holding
 * a condition) win when they cover at least half as much as the best.
 */
export function chooseMode(modes: readonly FailureMode[], weights: Record<string, number>, preferred: ReadonlySet<string> = new Set()): ModeChoice {
  const byBase = new Map<string, number>();
  for (const [signal, w] of Object.entries(weights)) {
    if (!(w > 0) || !Number.isFinite(w)) continue;
    const base = baseSignal(signal);
    byBase.set(base, (byBase.get(base) ?? 0) + w);
  }
  const ranked = modes
    .map((mode, index) => ({ mode, index, coverage: mode.signals.reduce((sum, s) => sum + (byBase.get(s) ?? 0), 0) }))
    .filter((r) => r.coverage > 0)
    .sort((a, b) => b.coverage - a.coverage || a.index - b.index);
  if (ranked.length === 0) return { mode: UNCLASSIFIED, alternatives: [] };
  const best = ranked[0].coverage;
  const sticky = ranked.find((r) => preferred.has(r.mode.id) && r.coverage >= best / 2);
  const chosen = sticky ?? ranked[0];
  return {
    mode: toRef(chosen.mode),
    alternatives: ranked.filter((r) => r !== chosen).slice(0, 3).map((r) => toRef(r.mode)),
  };
}

export function toRef(mode: FailureMode): ModeRef {
  return { id: mode.id, name: mode.name, signals: [...mode.signals], check: mode.check };
}

/** A mode of the class, or a pseudo mode, by id. */
export function modeById(modes: readonly FailureMode[], id: string): ModeRef | undefined {
  const found = modes.find((m) => m.id === id);
  if (found) return toRef(found);
  return PSEUDO_MODES.find((m) => m.id === id);
}

/** The recommended check with the signals named, for the modes that have no signals of their own. */
export function checkFor(mode: ModeRef, signals: string[]): string {
  if (mode.signals.length > 0 || signals.length === 0) return mode.check;
  return `${mode.check} Signals: ${signals.join(', ')}.`;
}
