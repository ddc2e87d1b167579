/**
 * Alarm KPIs per site and reporting interval (shared/reference/domain.md §3.2): alarms per hour,
 * the busiest 10 minutes, time in flood, chattering (≥ 3 activations of one alarm in 1 min),
 * stale alarms (active > 24 h), the top-10 bad actors and the priority mix. The accumulator is
 * plain JSON so it survives a restart with the rest of the alert state.
 */
import { PRIORITY_OF, type KpiReport, type Priority, type Tier } from '../contracts/alert-event';
import { round } from './condition';

const MAX_SOURCES = 5000;
const TEN_MIN = 10 * 60_000;

export interface KpiPeriod {
  start: number;
  alarms: number;
  byTier: Record<Tier, number>;
  /** 10-minute bucket start → annunciations. */
  buckets: Record<string, number>;
  suppressedByFlood: number;
  floods: number;
  /** Flood time already closed in this period (an ongoing flood is added at report time). */
  floodMs: number;
  /** JSON.stringify([assetId, mode]) → annunciations. */
  sources: Record<string, number>;
  /** JSON.stringify([assetId, mode]) → activations that made the alarm chatter. */
  chatter: Record<string, number>;
  truePositives: number;
  falseAlarms: number;
}

export function newPeriod(start: number): KpiPeriod {
  return {
    start,
    alarms: 0,
    byTier: { watch: 0, warning: 0, action: 0 },
    buckets: {},
    suppressedByFlood: 0,
    floods: 0,
    floodMs: 0,
    sources: {},
    chatter: {},
    truePositives: 0,
    falseAlarms: 0,
  };
}

const key = (assetId: string, mode: string) => JSON.stringify([assetId, mode]);
function unkey(k: string): [string, string] {
  try {
    const v = JSON.parse(k);
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  return ['?', '?'];
}

function bump(map: Record<string, number>, k: string, by = 1): void {
  if (!Object.prototype.hasOwnProperty.call(map, k) && Object.keys(map).length >= MAX_SOURCES) return;
  map[k] = (map[k] ?? 0) + by;
}

/** One annunciation (raised, reactivated or escalated) of an alarm. */
export function recordAnnunciation(p: KpiPeriod, t: number, assetId: string, mode: string, tier: Tier, suppressedByFlood: boolean): void {
  p.alarms++;
  p.byTier[tier]++;
  bump(p.buckets, String(Math.floor(t / TEN_MIN) * TEN_MIN));
  bump(p.sources, key(assetId, mode));
  if (suppressedByFlood) p.suppressedByFlood++;
}

export function recordChatter(p: KpiPeriod, assetId: string, mode: string): void {
  bump(p.chatter, key(assetId, mode));
}

export interface StandingInfo {
  standing: number;
  shelved: number;
  suppressed: number;
  outOfService: number;
  stale: KpiReport['stale']['episodes'];
}

/** The report for the period ending at `end`; `floodSince` is the start of a flood still on. */
export function report(
  p: KpiPeriod,
  site: string,
  end: number,
  standing: StandingInfo,
  floodSince: number | null,
  feedback: { truePositives: number; falseAlarms: number },
): KpiReport {
  const span = Math.max(0, end - p.start);
  const floodMs = Math.min(span, p.floodMs + (floodSince !== null ? Math.max(0, end - Math.max(floodSince, p.start)) : 0));
  const total = p.alarms;
  const sources = Object.entries(p.sources).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const badActors = sources.slice(0, 10).map(([k, count]) => {
    const [assetId, failureMode] = unkey(k);
    return { assetId, failureMode, count, share: total > 0 ? round(count / total) : 0 };
  });
  const top10 = badActors.reduce((sum, b) => sum + b.count, 0);
  const chatterEntries = Object.entries(p.chatter).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const mix = (priority: Priority) => {
    const tier = (Object.keys(PRIORITY_OF) as Tier[]).find((t) => PRIORITY_OF[t] === priority)!;
    const count = p.byTier[tier];
    return { count, share: total > 0 ? round(count / total) : 0 };
  };
  const labels = feedback.truePositives + feedback.falseAlarms;
  const staleList = [...standing.stale].sort((a, b) => b.ageMs - a.ageMs);
  return {
    kind: 'alert_kpi',
    site,
    period: { start: p.start, end: Math.max(end, p.start) },
    alarms: total,
    alarmsPerHour: span > 0 ? round((total * 3_600_000) / span, 3) : 0,
    peak10Min: Object.values(p.buckets).reduce((a, b) => Math.max(a, b), 0),
    suppressedByFlood: p.suppressedByFlood,
    floods: p.floods,
    timeInFloodMs: floodMs,
    timeInFloodPct: span > 0 ? Math.min(100, round((100 * floodMs) / span, 3)) : 0,
    chattering: {
      alarms: chatterEntries.length,
      events: chatterEntries.reduce((sum, [, n]) => sum + n, 0),
      top: chatterEntries.slice(0, 10).map(([k, count]) => {
        const [assetId, failureMode] = unkey(k);
        return { assetId, failureMode, count };
      }),
    },
    stale: { count: staleList.length, episodes: staleList.slice(0, 10) },
    standing: standing.standing,
    shelved: standing.shelved,
    suppressed: standing.suppressed,
    outOfService: standing.outOfService,
    badActors,
    top10Share: total > 0 ? round(top10 / total) : 0,
    priorityMix: { low: mix('low'), medium: mix('medium'), high: mix('high') },
    feedback: { ...feedback, precision: labels > 0 ? round(feedback.truePositives / labels) : null },
    ts: Math.max(end, p.start),
  };
}

export function restorePeriod(saved: unknown, fallbackStart: number): KpiPeriod {
  const p = newPeriod(fallbackStart);
  if (!saved || typeof saved !== 'object') return p;
  const v = saved as Partial<KpiPeriod>;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  const counts = (x: unknown): Record<string, number> => {
    const out: Record<string, number> = {};
    if (x && typeof x === 'object') for (const [k, n] of Object.entries(x).slice(0, MAX_SOURCES)) if (num(n) > 0) out[k] = Math.floor(num(n));
    return out;
  };
  if (typeof v.start === 'number' && Number.isFinite(v.start)) p.start = v.start;
  p.alarms = Math.floor(num(v.alarms));
  p.byTier = { watch: Math.floor(num(v.byTier?.watch)), warning: Math.floor(num(v.byTier?.warning)), action: Math.floor(num(v.byTier?.action)) };
  p.buckets = counts(v.buckets);
  p.suppressedByFlood = Math.floor(num(v.suppressedByFlood));
  p.floods = Math.floor(num(v.floods));
  p.floodMs = num(v.floodMs);
  p.sources = counts(v.sources);
  p.chatter = counts(v.chatter);
  p.truePositives = Math.floor(num(v.truePositives));
  p.falseAlarms = Math.floor(num(v.falseAlarms));
  return p;
}
