/**
 * The twin snapshot: what asset this is, what state it is in, what has changed and what action
 * is recommended. Shaped like an Eclipse Ditto thing (attributes + features.<signal>.properties)
 * so an exporter to Ditto is close to a pass-through.
 */
import type { AssetTwin, Baseline, BaselineState, TwinChange, TwinEvent } from './asset-twin';
import { BASELINE_STATES } from './asset-twin';
import type { OperatingState } from './operating-state';
import type { ClassPresets, Nameplate, SignalLimits, StateThresholds } from '../assets/types';
import type { AssetPath } from '../topic';
import type { Quality } from '../contracts/reading';

export interface FeatureProperties {
  value: number;
  unit: string;
  quality: Quality;
  qualityReason?: string;
  ts: number;
  ageMs: number;
  stale: boolean;
  limit: 'normal' | 'warning' | 'action';
  /** When `limit` is not normal: `high` (at or above warning/action) or `low` (at or below warningLow/actionLow). */
  limitSide?: 'high' | 'low';
  baseline: Partial<Record<BaselineState, Baseline>>;
}

export type HealthStatus = 'no_data' | 'ok' | 'attention' | 'action';

export interface Recommendation {
  action: string;
  reason: string;
  failureModes: string[];
}

export interface TwinSnapshot {
  thingId: string;
  assetId: string;
  attributes: {
    name: string;
    assetClass: string;
    path: AssetPath;
    nameplate: Nameplate;
    presets: ClassPresets;
    sensors: string[];
  };
  features: Record<string, { properties: FeatureProperties }>;
  state: { current: OperatingState; since: number; previous: OperatingState; load?: number };
  health: { status: HealthStatus; issues: string[] };
  thresholds: { state: StateThresholds; limits: Record<string, SignalLimits> };
  counters: ReturnType<AssetTwin['counters']>;
  maintenance: { events: TwinEvent[]; lastMaintenance?: number };
  changes: TwinChange[];
  recommendation: Recommendation | null;
  model: Record<string, unknown> | null;
  version: number;
  updatedAt: number;
}

/** Builds the snapshot; takes the pending changes from the twin. */
export function buildSnapshot(twin: AssetTwin, now: number): TwinSnapshot {
  const asset = twin.definition;
  const limits = twin.limitLevels();
  const sides = twin.limitSides();
  const features: TwinSnapshot['features'] = {};
  for (const [signal, latest] of twin.latestValues()) {
    const baseline: Partial<Record<BaselineState, Baseline>> = {};
    for (const state of BASELINE_STATES) {
      const b = twin.baseline(signal, state);
      if (b) baseline[state] = b;
    }
    const properties: FeatureProperties = {
      value: latest.value,
      unit: latest.unit,
      quality: latest.quality,
      ts: latest.ts,
      ageMs: Math.max(0, now - latest.ts),
      stale: latest.stale,
      limit: limits.get(signal) ?? 'normal',
      baseline,
    };
    if (properties.limit !== 'normal') properties.limitSide = sides.get(signal) ?? 'high';
    if (latest.qualityReason) properties.qualityReason = latest.qualityReason;
    features[signal] = { properties };
  }
  const machine = twin.machine;
  const events = [...twin.events()];
  const lastMaintenance = [...events].reverse().find((e) => e.kind === 'maintenance')?.ts;
  const { status, issues, recommendation } = assess(twin, features);
  const snapshot: TwinSnapshot = {
    thingId: `pdm:${asset.id}`,
    assetId: asset.id,
    attributes: {
      name: asset.name,
      assetClass: asset.assetClass.id,
      path: asset.path,
      nameplate: asset.nameplate,
      presets: asset.presets,
      sensors: asset.sensors.map((s) => s.signal),
    },
    features,
    state: { current: machine.state, since: machine.since, previous: machine.previous },
    health: { status, issues },
    thresholds: { state: asset.stateThresholds, limits: asset.limits },
    counters: twin.counters(),
    maintenance: { events: events.slice(-10) },
    changes: twin.takeChanges(),
    recommendation,
    model: null,
    version: twin.version,
    updatedAt: twin.updatedAt,
  };
  if (machine.load !== undefined) snapshot.state.load = machine.load;
  if (lastMaintenance !== undefined) snapshot.maintenance.lastMaintenance = lastMaintenance;
  return snapshot;
}

/** Health and the one recommendation that matters most, in order of urgency. */
function assess(
  twin: AssetTwin,
  features: TwinSnapshot['features'],
): { status: HealthStatus; issues: string[]; recommendation: Recommendation | null } {
  const entries = Object.entries(features);
  if (entries.length === 0) return { status: 'no_data', issues: ['no readings yet'], recommendation: null };
  const modes = twin.definition.assetClass.failureModes;
  /**
   * Failure modes that involve the abnormal signals, most likely first: ranked by how much of the
   * evidence they explain (action-level signals count double), then by the share of the mode's own
   * signals that are abnormal, then by the class's order.
   */
  const modesFor = (signals: string[]) => {
    const weight = (signal: string) => (features[signal]?.properties.limit === 'action' ? 2 : 1);
    return modes
      .map((m, order) => {
        const hit = m.signals.filter((s) => signals.includes(s));
        return { m, order, score: hit.reduce((a, s) => a + weight(s), 0), share: hit.length / m.signals.length };
      })
      .filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score || b.share - a.share || a.order - b.order)
      .map((x) => x.m);
  };
  const issues: string[] = [];
  const actionSignals = entries.filter(([, f]) => f.properties.limit === 'action').map(([s]) => s);
  const warningSignals = entries.filter(([, f]) => f.properties.limit === 'warning').map(([s]) => s);
  const badSignals = entries.filter(([, f]) => f.properties.quality === 'bad').map(([s]) => s);
  const staleSignals = entries.filter(([, f]) => f.properties.stale).map(([s]) => s);
  /** "above" a warning/action limit, or "below" a warningLow/actionLow one. */
  const crossed = (s: string) => (features[s].properties.limitSide === 'low' ? 'below' : 'above');
  const crossedAll = (signals: string[], level: string) => {
    const sides = new Set(signals.map(crossed));
    if (sides.size === 1) return `${signals.join(', ')} ${[...sides][0]} the ${level} limit`;
    return signals.map((s) => `${s} ${crossed(s)} the ${level} limit`).join(', ');
  };
  for (const s of actionSignals) issues.push(`${s} ${crossed(s)} its action limit`);
  for (const s of warningSignals) issues.push(`${s} ${crossed(s)} its warning limit`);
  if (twin.state === 'overload') issues.push('running overloaded');
  for (const s of badSignals) issues.push(`${s} reads bad (${features[s].properties.qualityReason ?? 'sensor quality'})`);
  for (const s of staleSignals) issues.push(`${s} is stale`);

  const recommend = (signals: string[], reason: string, fallback: string): Recommendation => {
    const found = modesFor(signals);
    // The technician gets the most likely check first and at most one more; all candidates stay listed.
    return {
      action: found.length > 0 ? found.slice(0, 2).map((m) => m.check).join(' ') : fallback,
      reason,
      failureModes: found.map((m) => m.id),
    };
  };

  if (actionSignals.length > 0) {
    return { status: 'action', issues, recommendation: recommend(actionSignals, crossedAll(actionSignals, 'action'), 'Inspect the machine.') };
  }
  if (twin.state === 'overload') {
    const overload = modes.filter((m) => m.id === 'overload');
    return {
      status: 'action',
      issues,
      recommendation: {
        action: overload[0]?.check ?? 'Check the load, the driven equipment and the supply voltage.',
        reason: 'current above the overload threshold',
        failureModes: overload.map((m) => m.id),
      },
    };
  }
  if (warningSignals.length > 0) {
    return { status: 'attention', issues, recommendation: recommend(warningSignals, crossedAll(warningSignals, 'warning'), 'Plan an inspection.') };
  }
  if (badSignals.length > 0 || staleSignals.length > 0) {
    const which = [...new Set([...badSignals, ...staleSignals])];
    return {
      status: 'attention',
      issues,
      recommendation: {
        action: `Check the sensor, its wiring and the gateway link for ${which.join(', ')}.`,
        reason: badSignals.length > 0 ? 'sensor data is bad' : 'no recent data',
        failureModes: [],
      },
    };
  }
  return { status: 'ok', issues, recommendation: null };
}
