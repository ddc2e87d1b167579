/**
 * Valid messages of every kind pdm-history stores, built the way the pdm nodes send them, for the
 * history tests (unit, node, integration, fuzz, Grafana).
 */
import type { AlertEvent, Transition, Tier, AlarmState } from '../../nodes/lib/contracts/alert-event';

export const reading = (assetId: string, signal: string, ts: number, value: number, extra: Record<string, unknown> = {}) => ({ assetId, signal, value, unit: signal === 'temperature' ? '°C' : 'mm/s', ts, quality: 'good', ...extra });

export const score = (assetId: string, end: number, value: number, anomalous: boolean, windowMs = 60_000) => ({
  assetId,
  window: { start: end - windowMs, end },
  state: 'running',
  score: value,
  anomalous,
  threshold: 0.5,
  contributions: anomalous ? { vibration_velocity: 0.8, temperature: 0.2 } : {},
  topSignal: anomalous ? 'vibration_velocity' : null,
  model: { id: `${assetId}-model`, version: 1 },
  status: 'ready',
});

export const featureWindow = (assetId: string, end: number) => ({
  assetId,
  start: end - 60_000,
  end,
  state: 'running',
  stateMs: { running: 60_000 },
  transient: false,
  features: { vibration_velocity: { n: 60, mean: 2.1, rms: 2.2, min: 1.8, max: 2.6, std: 0.2, slope: 0 } },
});

export function alertEvent(assetId: string, episode: string, seq: number, transition: Transition, ts: number, raisedAt: number, site = 'plant-a', tier: Tier | null = 'warning'): AlertEvent {
  const closed = transition === 'cleared';
  const state: AlarmState = closed ? 'normal' : 'active_unacknowledged';
  return {
    kind: 'alert',
    eventId: `${episode}#${seq}`,
    episodeId: episode,
    seq,
    assetId,
    assetClass: 'motor',
    path: { site, area: 'utilities', line: 'line-1' },
    category: 'condition',
    failureMode: { id: 'bearing_wear', name: 'Bearing wear' },
    transition,
    tier: closed ? null : tier,
    peakTier: tier ?? 'watch',
    priority: closed ? null : 'medium',
    state,
    alarm: { active: !closed, acknowledged: false, latched: false, shelved: null, suppressed: null, outOfService: false },
    annunciated: true,
    closed,
    reasonCode: 'score',
    reason: 'anomaly score 0.70 ≥ 0.50',
    evidence: { score: { value: 0.7, threshold: 0.5, anomalous: true, window: { start: ts - 60_000, end: ts }, state: 'running', model: null, topSignal: 'vibration_velocity' } },
    check: 'Listen to the bearings.',
    operatingState: 'running',
    raisedAt,
    ts,
  };
}

export const maintenance = (assetId: string, ts: number, type: string, durationH: number, extra: Record<string, unknown> = {}) => ({ kind: 'maintenance', assetId, type, ts, durationH, by: 'fitter', ...extra });

export const workOrder = (assetId: string, episodeId: string, ts: number, externalId: string, operation = 'create') => ({
  kind: 'work_order',
  target: { kind: 'maintainx', name: 'MaintainX' },
  operation,
  episodeId,
  assetId,
  dedupeKey: episodeId,
  externalId,
  title: `Bearing wear on ${assetId}`,
  attempts: 1,
  queuedAt: ts - 1000,
  ts,
  outcome: 'created',
});

export const snapshot = (assetId: string, ts: number, version: number, site = 'plant-a') => ({
  thingId: `pdm:${assetId}`,
  assetId,
  attributes: { name: assetId, assetClass: 'motor', path: { site, area: 'utilities', line: 'line-1' }, nameplate: {}, presets: {}, sensors: ['vibration_velocity'] },
  features: { vibration_velocity: { properties: { value: 2.1, unit: 'mm/s', quality: 'good', ts, ageMs: 0, stale: false, limit: 'normal', baseline: {} } } },
  state: { current: 'running', since: ts - 3600_000, previous: 'idle' },
  health: { status: 'ok', issues: [] },
  thresholds: { state: {}, limits: {} },
  counters: {},
  maintenance: { events: [] },
  changes: [],
  recommendation: null,
  model: null,
  version,
  updatedAt: ts,
});
