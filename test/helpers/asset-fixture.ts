/** A hand-built resolved motor for twin tests, independent of the class catalogue. */
import type { ResolvedAsset, StateThresholds } from '../../nodes/lib/assets/types';

export const THRESHOLDS: StateThresholds = { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.15, startupMs: 10_000, shutdownMs: 5_000, speedRunningAbove: 0.1 };

export function motorAsset(id = 'M-1', overrides: Partial<ResolvedAsset> = {}): ResolvedAsset {
  return {
    id,
    name: `Motor ${id}`,
    path: { site: 's1', area: 'a1', line: 'l1' },
    assetClass: {
      id: 'motor',
      name: 'Electric motor',
      signals: [],
      failureModes: [
        { id: 'overload', name: 'Overload', signals: ['current'], check: 'Check the driven load and the supply voltage.' },
        { id: 'bearing_wear', name: 'Bearing wear', signals: ['vibration_velocity', 'bearing_temperature'], check: 'Listen to the bearings and check lubrication.' },
      ],
      presets: { vibration: { standard: 'ISO 10816-3', group: 2, foundation: 'rigid' }, insulationClass: 'F', currentUnbalanceLimitPct: 5 },
      stateThresholds: THRESHOLDS,
    },
    nameplate: { ratedCurrentA: 20, ratedSpeedRpm: 1480 },
    sensors: [
      { signal: 'current', unit: 'A', range: [0, 200], intervalMs: 1000, description: 'phase current' },
      { signal: 'vibration_velocity', unit: 'mm/s', range: [0, 50], intervalMs: 1000, description: 'bearing housing' },
    ],
    stateThresholds: THRESHOLDS,
    limits: { vibration_velocity: { warning: 2.8, action: 4.5 } },
    presets: { vibration: { standard: 'ISO 10816-3', group: 2, foundation: 'rigid' }, insulationClass: 'F', currentUnbalanceLimitPct: 5 },
    ...overrides,
  };
}
