/**
 * The persisted shapes of the alert engine: one AssetAlertState per asset (its alarm points,
 * their open episodes, shelving, out-of-service, recent closed episodes, feedback and tuning)
 * and one SiteAlertState per site (flood detector and the KPI period). Plain JSON; `v` versions
 * the layout. Restoring is defensive: anything unreadable falls back to a fresh value.
 */
import type {
  AlarmState,
  AlertCategory,
  AlertLabel,
  AssetPathInfo,
  Evidence,
  ShelvingInfo,
  Tier,
} from '../contracts/alert-event';
import { TIERS } from '../contracts/alert-event';
import { newTracker, type TrackerState } from './condition';
import { newFloodState, restoreFloodState, type FloodState } from './flood';
import { newPeriod, restorePeriod, type KpiPeriod } from './kpi';

export interface Episode {
  id: string;
  seq: number;
  category: AlertCategory;
  mode: { id: string; name: string };
  check: string;
  alternatives: Array<{ id: string; name: string }>;
  raisedAt: number;
  updatedAt: number;
  /** Start of the current activation (raised or reactivated). */
  activeSince: number;
  tier: Tier | null;
  peakTier: Tier;
  active: boolean;
  acked: boolean;
  latched: boolean;
  ackedAt?: number;
  ackedBy?: string;
  clearedAt?: number;
  closedAt?: number;
  floodId?: string;
  floodSuppressed: boolean;
  label?: AlertLabel;
  evidence: Evidence;
  reasonCode: string;
  reason: string;
  /** Operating state when the episode was raised (a "mode shift" label tunes this state). */
  raisedInState: string;
  lastState: AlarmState;
}

export interface OutOfService {
  since: number;
  by?: string;
  reason?: string;
}

export interface Point {
  mode: string;
  modeName: string;
  check: string;
  category: AlertCategory;
  tracker: TrackerState;
  shelving: ShelvingInfo | null;
  outOfService: OutOfService | null;
  episode: Episode | null;
  /** Activation times inside the chatter window. */
  recent: number[];
}

export interface StoredScore {
  value: number;
  threshold: number;
  anomalous: boolean;
  window: { start: number; end: number };
  state: string;
  model: { id: string; version: number } | null;
  topSignal: string | null;
  contributions: Record<string, number>;
}

export interface LimitEvidence {
  level: 'normal' | 'warning' | 'action';
  /** `low`: the value fell to a low limit. */
  side?: 'high' | 'low';
  value?: number;
  ts: number;
}

export interface ZoneEvidence {
  zone: 'A' | 'B' | 'C' | 'D';
  value: number;
  ts: number;
  preset?: string;
  standard?: string;
  limits?: number[];
}

export interface AssetInfoState {
  name?: string;
  path: AssetPathInfo;
  assetClass: string;
  /** Where the identity came from: a pdm-asset node, a twin snapshot, or the node's default class. */
  source: 'directory' | 'snapshot' | 'default';
}

export interface AssetAlertState {
  v: 1;
  id: string;
  info: AssetInfoState;
  /** Latest event time seen for this asset (the asset's clock). */
  clock: number;
  opState: string;
  opStateAt: number;
  startupEndedAt: number | null;
  suppression: { reason: string; since: number } | null;
  maintenance: { from: number; until: number; by?: string; note?: string } | null;
  outOfService: OutOfService | null;
  evidence: {
    score: StoredScore | null;
    limits: Record<string, LimitEvidence>;
    zones: Record<string, ZoneEvidence>;
    stale: string[];
    bad: string[];
  };
  points: Record<string, Point>;
  /** Closed episodes, oldest first (bounded). */
  history: Episode[];
  feedback: { truePositives: number; falseAlarms: number; reasons: Record<string, number> };
  tuning: { thresholdOffset: Record<string, number>; startupMaskMs: number };
  lastMaintenance: number | null;
  summarySig: string;
  /** When the latest alert last changed (its `updatedAt`). */
  summaryAt: number;
}

export interface SiteAlertState {
  v: 1;
  site: string;
  flood: FloodState;
  period: KpiPeriod;
}

export function newAssetState(id: string, info: AssetInfoState): AssetAlertState {
  return {
    v: 1,
    id,
    info,
    clock: 0,
    opState: 'unknown',
    opStateAt: 0,
    startupEndedAt: null,
    suppression: null,
    maintenance: null,
    outOfService: null,
    evidence: { score: null, limits: {}, zones: {}, stale: [], bad: [] },
    points: {},
    history: [],
    feedback: { truePositives: 0, falseAlarms: 0, reasons: {} },
    tuning: { thresholdOffset: {}, startupMaskMs: 0 },
    lastMaintenance: null,
    summarySig: '',
    summaryAt: 0,
  };
}

export function newSiteState(site: string, start: number): SiteAlertState {
  return { v: 1, site, flood: newFloodState(), period: newPeriod(start) };
}

export function own<T>(dict: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Restore

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v); // eslint-disable-line @typescript-eslint/no-explicit-any
const num = (v: unknown, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const tierOf = (v: unknown): Tier | null => ((TIERS as readonly unknown[]).includes(v) ? (v as Tier) : null);

function restoreTracker(v: unknown): TrackerState {
  const t = newTracker();
  if (!isObj(v)) return t;
  t.tier = tierOf(v.tier);
  t.raw = v.raw === true;
  t.model = v.model === true;
  t.rule = v.rule === 'warning' || v.rule === 'action' ? v.rule : 'normal';
  t.severe = v.severe === true;
  t.activeSince = numOrNull(v.activeSince);
  t.inactiveSince = numOrNull(v.inactiveSince);
  t.agreeSince = numOrNull(v.agreeSince);
  t.severeSince = numOrNull(v.severeSince);
  t.belowSince = numOrNull(v.belowSince);
  t.hits = Array.isArray(v.hits) ? v.hits.slice(-50).map((h: unknown) => h === true) : [];
  t.trend = Array.isArray(v.trend)
    ? v.trend.filter((p: unknown) => isObj(p) && Number.isFinite(p.t) && Number.isFinite(p.score)).slice(-50).map((p: { t: number; score: number }) => ({ t: p.t, score: p.score }))
    : [];
  t.lastAt = num(v.lastAt);
  return t;
}

function restoreEpisode(v: unknown): Episode | null {
  if (!isObj(v) || typeof v.id !== 'string' || !isObj(v.mode) || typeof v.mode.id !== 'string') return null;
  const peak = tierOf(v.peakTier);
  if (!peak) return null;
  const ep: Episode = {
    id: v.id,
    seq: Math.max(0, Math.floor(num(v.seq))),
    category: v.category === 'no_data' || v.category === 'sensor_fault' ? v.category : 'condition',
    mode: { id: v.mode.id, name: str(v.mode.name) ?? v.mode.id },
    check: str(v.check) ?? '',
    alternatives: Array.isArray(v.alternatives)
      ? v.alternatives.filter((a: unknown) => isObj(a) && typeof a.id === 'string' && typeof a.name === 'string').map((a: { id: string; name: string }) => ({ id: a.id, name: a.name }))
      : [],
    raisedAt: num(v.raisedAt),
    updatedAt: num(v.updatedAt),
    activeSince: num(v.activeSince, num(v.raisedAt)),
    tier: tierOf(v.tier),
    peakTier: peak,
    active: v.active === true,
    acked: v.acked === true,
    latched: v.latched === true,
    floodSuppressed: v.floodSuppressed === true,
    evidence: isObj(v.evidence) ? (v.evidence as Evidence) : {},
    reasonCode: str(v.reasonCode) ?? '',
    reason: str(v.reason) ?? '',
    raisedInState: str(v.raisedInState) ?? 'unknown',
    lastState: (str(v.lastState) as AlarmState | undefined) ?? 'normal',
  };
  for (const k of ['ackedAt', 'clearedAt', 'closedAt'] as const) if (Number.isFinite(v[k])) ep[k] = v[k];
  if (typeof v.ackedBy === 'string') ep.ackedBy = v.ackedBy;
  if (typeof v.floodId === 'string') ep.floodId = v.floodId;
  if (isObj(v.label) && (v.label.type === 'true_fault' || v.label.type === 'false_alarm')) ep.label = v.label as AlertLabel;
  return ep;
}

function restoreShelving(v: unknown): ShelvingInfo | null {
  if (!isObj(v) || (v.kind !== 'timed' && v.kind !== 'one_shot')) return null;
  const s: ShelvingInfo = { kind: v.kind, since: num(v.since) };
  if (v.kind === 'timed') {
    if (!Number.isFinite(v.until)) return null;
    s.until = v.until;
  }
  if (typeof v.by === 'string') s.by = v.by;
  if (typeof v.reason === 'string') s.reason = v.reason;
  return s;
}

function restoreOos(v: unknown): OutOfService | null {
  if (!isObj(v)) return null;
  const o: OutOfService = { since: num(v.since) };
  if (typeof v.by === 'string') o.by = v.by;
  if (typeof v.reason === 'string') o.reason = v.reason;
  return o;
}

function dictOf<T>(v: unknown, item: (x: unknown) => T | undefined): Record<string, T> {
  const out: Record<string, T> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (k === '__proto__') continue;
    const value = item(x);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

export function restoreAssetState(saved: unknown, id: string): AssetAlertState | undefined {
  if (!isObj(saved) || saved.v !== 1 || saved.id !== id) return undefined;
  const info: AssetInfoState = {
    path: isObj(saved.info?.path) ? { site: str(saved.info.path.site), area: str(saved.info.path.area), line: str(saved.info.path.line) } : {},
    assetClass: str(saved.info?.assetClass) ?? 'motor',
    source: saved.info?.source === 'directory' || saved.info?.source === 'snapshot' ? saved.info.source : 'default',
  };
  if (typeof saved.info?.name === 'string') info.name = saved.info.name;
  for (const k of ['site', 'area', 'line'] as const) if (info.path[k] === undefined) delete info.path[k];
  const a = newAssetState(id, info);
  a.clock = num(saved.clock);
  a.opState = str(saved.opState) ?? 'unknown';
  a.opStateAt = num(saved.opStateAt);
  a.startupEndedAt = numOrNull(saved.startupEndedAt);
  a.suppression = isObj(saved.suppression) && typeof saved.suppression.reason === 'string' ? { reason: saved.suppression.reason, since: num(saved.suppression.since) } : null;
  if (isObj(saved.maintenance) && Number.isFinite(saved.maintenance.from) && Number.isFinite(saved.maintenance.until)) {
    a.maintenance = { from: saved.maintenance.from, until: saved.maintenance.until };
    if (typeof saved.maintenance.by === 'string') a.maintenance.by = saved.maintenance.by;
    if (typeof saved.maintenance.note === 'string') a.maintenance.note = saved.maintenance.note;
  }
  a.outOfService = restoreOos(saved.outOfService);
  const ev = isObj(saved.evidence) ? saved.evidence : {};
  a.evidence.score = isObj(ev.score) && Number.isFinite(ev.score.value) && isObj(ev.score.window) ? (ev.score as StoredScore) : null;
  a.evidence.limits = dictOf(ev.limits, (x) => (isObj(x) && (x.level === 'normal' || x.level === 'warning' || x.level === 'action') ? (x as LimitEvidence) : undefined));
  a.evidence.zones = dictOf(ev.zones, (x) => (isObj(x) && ['A', 'B', 'C', 'D'].includes(x.zone) ? (x as ZoneEvidence) : undefined));
  a.evidence.stale = Array.isArray(ev.stale) ? ev.stale.filter((s: unknown) => typeof s === 'string') : [];
  a.evidence.bad = Array.isArray(ev.bad) ? ev.bad.filter((s: unknown) => typeof s === 'string') : [];
  a.points = dictOf(saved.points, (x) => {
    if (!isObj(x) || typeof x.mode !== 'string') return undefined;
    const p: Point = {
      mode: x.mode,
      modeName: str(x.modeName) ?? x.mode,
      check: str(x.check) ?? '',
      category: x.category === 'no_data' || x.category === 'sensor_fault' ? x.category : 'condition',
      tracker: restoreTracker(x.tracker),
      shelving: restoreShelving(x.shelving),
      outOfService: restoreOos(x.outOfService),
      episode: restoreEpisode(x.episode),
      recent: Array.isArray(x.recent) ? x.recent.filter((n: unknown) => typeof n === 'number' && Number.isFinite(n)).slice(-100) : [],
    };
    return p;
  });
  a.history = Array.isArray(saved.history) ? saved.history.map(restoreEpisode).filter((e: Episode | null): e is Episode => e !== null) : [];
  const fb = isObj(saved.feedback) ? saved.feedback : {};
  a.feedback = {
    truePositives: Math.max(0, Math.floor(num(fb.truePositives))),
    falseAlarms: Math.max(0, Math.floor(num(fb.falseAlarms))),
    reasons: dictOf(fb.reasons, (x) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined)),
  };
  const tu = isObj(saved.tuning) ? saved.tuning : {};
  a.tuning = {
    thresholdOffset: dictOf(tu.thresholdOffset, (x) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined)),
    startupMaskMs: Math.max(0, num(tu.startupMaskMs)),
  };
  a.lastMaintenance = numOrNull(saved.lastMaintenance);
  a.summarySig = str(saved.summarySig) ?? '';
  a.summaryAt = num(saved.summaryAt);
  return a;
}

export function restoreSiteState(saved: unknown, site: string, now: number): SiteAlertState | undefined {
  if (!isObj(saved) || saved.v !== 1 || saved.site !== site) return undefined;
  return { v: 1, site, flood: restoreFloodState(saved.flood), period: restorePeriod(saved.period, now) };
}
