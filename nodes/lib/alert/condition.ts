/**
 * Tier evaluation of one condition (one asset × one failure mode), in event time.
 *
 * Evidence arrives as observations (a scored window, a rule change); time passing without
 * evidence arrives as ticks. Both re-evaluate the same rules (config.ts), so on-delays, off-delays
 * and de-escalation complete whether or not new data comes. Pure data: the state is plain JSON.
 */
import { tierRank, type Tier } from '../contracts/alert-event';
import type { TierConfig } from './config';

export type RuleLevel = 'normal' | 'warning' | 'action';

export interface ModelObservation {
  score: number;
  threshold: number;
  /** score ≥ threshold (entering); staying needs score ≥ threshold − hysteresis. */
  anomalous: boolean;
}

export interface Observation {
  /** Event time of the evidence. */
  t: number;
  /** A new scored window: counts towards M of N and the trend. */
  scored: boolean;
  /** The model's opinion for this condition; undefined = unchanged. */
  model?: ModelObservation;
  rule: RuleLevel;
  /** A severe rule holds (zone D, or the action limit of a severe signal). */
  severe: boolean;
}

export interface TrackerState {
  tier: Tier | null;
  /** The condition holds now (model or rule, with hysteresis on the score). */
  raw: boolean;
  model: boolean;
  rule: RuleLevel;
  severe: boolean;
  activeSince: number | null;
  inactiveSince: number | null;
  agreeSince: number | null;
  severeSince: number | null;
  /** Since when the target tier has been below the current one (de-escalation clock). */
  belowSince: number | null;
  /** Anomalous flags of the last N scored windows, oldest first. */
  hits: boolean[];
  /** Last scores, oldest first. */
  trend: Array<{ t: number; score: number }>;
  lastAt: number;
}

export type DecisionCode =
  | 'score'
  | 'rule'
  | 'persisted'
  | 'm_of_n'
  | 'widening'
  | 'agreement'
  | 'severe'
  | 'cleared'
  | 'de_escalated'
  | 'data';

export interface Decision {
  from: Tier | null;
  to: Tier | null;
  code: DecisionCode;
}

export function newTracker(): TrackerState {
  return {
    tier: null,
    raw: false,
    model: false,
    rule: 'normal',
    severe: false,
    activeSince: null,
    inactiveSince: null,
    agreeSince: null,
    severeSince: null,
    belowSince: null,
    hits: [],
    trend: [],
    lastAt: 0,
  };
}

/**
 * Forgets the timing of the evidence but keeps the tier: after suppression or out of service the
 * condition must show itself again (and clears after the off-delay if it does not).
 */
export function resetTiming(s: TrackerState, t: number): void {
  s.raw = false;
  s.model = false;
  s.rule = 'normal';
  s.severe = false;
  s.activeSince = null;
  s.inactiveSince = s.tier ? t : null;
  s.agreeSince = null;
  s.severeSince = null;
  s.belowSince = null;
  s.hits = [];
  s.trend = [];
  s.lastAt = Math.max(s.lastAt, t);
}

/** Applies an observation and returns the tier change, if any. */
export function observe(s: TrackerState, obs: Observation, cfg: TierConfig, trendPoints = 10): Decision | null {
  const t = Math.max(s.lastAt, obs.t);
  if (obs.model) {
    const m = obs.model;
    const stay = m.score >= m.threshold - cfg.clear.hysteresis;
    s.model = m.anomalous || (s.model && stay);
    if (obs.scored) {
      s.hits.push(m.anomalous);
      const keep = Math.max(cfg.warning.n, 1);
      if (s.hits.length > keep) s.hits.splice(0, s.hits.length - keep);
      s.trend.push({ t, score: round(m.score) });
      const keepTrend = Math.max(trendPoints, cfg.warning.widenWindows);
      if (s.trend.length > keepTrend) s.trend.splice(0, s.trend.length - keepTrend);
    }
  }
  s.rule = obs.rule;
  s.severe = obs.severe;
  const raw = s.model || s.rule !== 'normal';
  if (raw) {
    if (s.activeSince === null) s.activeSince = t;
    s.inactiveSince = null;
  } else {
    s.activeSince = null;
    if (s.inactiveSince === null) s.inactiveSince = t;
  }
  s.raw = raw;
  const agree = s.model && s.rule !== 'normal';
  s.agreeSince = agree ? (s.agreeSince ?? t) : null;
  s.severeSince = s.severe ? (s.severeSince ?? t) : null;
  return evaluate(s, t, cfg);
}

/** Time passes without new evidence. */
export function tick(s: TrackerState, t: number, cfg: TierConfig): Decision | null {
  if (s.tier === null && !s.raw) return null;
  return evaluate(s, Math.max(s.lastAt, t), cfg);
}

/** The tier the evidence calls for at `t`, and why. */
export function target(s: TrackerState, t: number, cfg: TierConfig): { tier: Tier | null; code: DecisionCode } {
  if (!s.raw) return { tier: null, code: 'cleared' };
  if (s.agreeSince !== null && t - s.agreeSince >= cfg.action.agreeForMs) return { tier: 'action', code: 'agreement' };
  if (s.severeSince !== null && t - s.severeSince >= cfg.action.severeForMs) return { tier: 'action', code: 'severe' };
  if (s.activeSince !== null && t - s.activeSince >= cfg.warning.onDelayMs) return { tier: 'warning', code: 'persisted' };
  if (s.model && hitCount(s, cfg) >= cfg.warning.m) return { tier: 'warning', code: 'm_of_n' };
  if (s.model && widening(s, cfg)) return { tier: 'warning', code: 'widening' };
  return { tier: 'watch', code: s.model ? 'score' : 'rule' };
}

export function hitCount(s: TrackerState, cfg: TierConfig): number {
  return s.hits.slice(-cfg.warning.n).filter(Boolean).length;
}

/** The last `widenWindows` scores rise at every step and by at least `widenBy` in all. */
export function widening(s: TrackerState, cfg: TierConfig): boolean {
  const k = cfg.warning.widenWindows;
  if (s.trend.length < k || !(cfg.warning.widenBy > 0)) return false;
  const last = s.trend.slice(-k);
  for (let i = 1; i < last.length; i++) if (!(last[i].score > last[i - 1].score)) return false;
  return last[last.length - 1].score - last[0].score >= cfg.warning.widenBy;
}

function evaluate(s: TrackerState, t: number, cfg: TierConfig): Decision | null {
  s.lastAt = t;
  const want = target(s, t, cfg);
  const current = s.tier;
  if (tierRank(want.tier) > tierRank(current)) {
    s.tier = want.tier;
    s.belowSince = null;
    return { from: current, to: want.tier, code: want.code };
  }
  if (want.tier === current) {
    s.belowSince = null;
    return null;
  }
  // Below the current tier: clear after the off-delay, de-escalate after deescalateMs.
  if (s.belowSince === null) s.belowSince = t;
  if (want.tier === null) {
    const since = s.inactiveSince ?? t;
    if (t - since >= cfg.clear.offDelayMs) {
      s.tier = null;
      s.belowSince = null;
      // A new episode must show its persistence again.
      s.hits = [];
      s.trend = [];
      return { from: current, to: null, code: 'cleared' };
    }
    return null;
  }
  if (t - s.belowSince >= cfg.clear.deescalateMs) {
    s.tier = want.tier;
    s.belowSince = null;
    return { from: current, to: want.tier, code: 'de_escalated' };
  }
  return null;
}

/** Least-squares slope of the trend, per hour. */
export function slopePerHour(points: ReadonlyArray<{ t: number; score: number }>): number {
  if (points.length < 2) return 0;
  const t0 = points[0].t;
  const xs = points.map((p) => (p.t - t0) / 3_600_000);
  const ys = points.map((p) => p.score);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  const slope = den > 0 ? num / den : 0;
  return Number.isFinite(slope) ? round(slope) : 0;
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}
