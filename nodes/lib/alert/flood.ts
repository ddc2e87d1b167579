/**
 * Alarm flood detection per site (EEMUA 191 / ISA-18.2: more than 10 alarms in 10 minutes, ending
 * when fewer than 5 fall in 10 minutes). During a flood, newly raised alarms are consequential:
 * grouped under the flood and suppressed up to a tier, while every record is still kept and sent.
 * Pure data, driven by event time.
 */
import type { FloodEvent } from '../contracts/alert-event';
import type { EngineConfig } from './config';

/** Activations remembered per site; more than this in one window is a flood anyway. */
const MAX_RECENT = 1000;
const MAX_LEADERS = 20;

export interface Flood {
  id: string;
  since: number;
  /** Activations while the flood lasted (including the one that started it). */
  activations: number;
  grouped: number;
  leaders: string[];
}

export interface FloodState {
  /** [time, episode id] of recent activations, oldest first. */
  recent: Array<[number, string]>;
  flood: Flood | null;
}

export function newFloodState(): FloodState {
  return { recent: [], flood: null };
}

function prune(s: FloodState, t: number, windowMs: number): void {
  let drop = 0;
  while (drop < s.recent.length && s.recent[drop][0] <= t - windowMs) drop++;
  if (drop > 0) s.recent.splice(0, drop);
  if (s.recent.length > MAX_RECENT) s.recent.splice(0, s.recent.length - MAX_RECENT);
}

/** Activations in the window ending at `t`. */
export function floodCount(s: FloodState, t: number, cfg: EngineConfig['flood']): number {
  prune(s, t, cfg.windowMs);
  return s.recent.length;
}

export interface ActivationOutcome {
  /** The flood this activation belongs to, if one is on (it may have just started). */
  flood: Flood | null;
  started?: FloodEvent;
  ended?: FloodEvent;
}

/** Records one activation (raised, reactivated, escalated) at `t`. */
export function recordActivation(s: FloodState, site: string, t: number, episodeId: string, cfg: EngineConfig['flood']): ActivationOutcome {
  const out: ActivationOutcome = { flood: null };
  // A flood that should have ended before this activation ends first.
  const ended = checkEnd(s, site, t, cfg);
  if (ended) out.ended = ended;
  const leaders = s.recent.map(([, id]) => id);
  s.recent.push([t, episodeId]);
  prune(s, t, cfg.windowMs);
  if (s.flood) {
    s.flood.activations++;
    out.flood = s.flood;
  } else if (s.recent.length > cfg.count) {
    const unique = [...new Set(leaders)].slice(-MAX_LEADERS);
    s.flood = { id: `flood:${site}:${t}`, since: t, activations: 1, grouped: 0, leaders: unique };
    out.flood = s.flood;
    out.started = {
      kind: 'flood',
      transition: 'flood_started',
      floodId: s.flood.id,
      site,
      since: t,
      activations: s.recent.length,
      grouped: 0,
      leaders: unique,
      ts: t,
    };
  }
  return out;
}

/** Ends the flood when fewer than `endCount` activations fall in the window ending at `t`. */
export function checkEnd(s: FloodState, site: string, t: number, cfg: EngineConfig['flood']): FloodEvent | undefined {
  if (!s.flood) return undefined;
  if (floodCount(s, t, cfg) >= cfg.endCount) return undefined;
  const f = s.flood;
  s.flood = null;
  const until = Math.max(t, f.since);
  return {
    kind: 'flood',
    transition: 'flood_ended',
    floodId: f.id,
    site,
    since: f.since,
    until,
    durationMs: until - f.since,
    activations: f.activations,
    grouped: f.grouped,
    leaders: f.leaders,
    ts: until,
  };
}

export function restoreFloodState(saved: unknown): FloodState {
  const s = newFloodState();
  if (!saved || typeof saved !== 'object') return s;
  const v = saved as Partial<FloodState>;
  if (Array.isArray(v.recent)) {
    s.recent = v.recent
      .filter((e): e is [number, string] => Array.isArray(e) && Number.isFinite(e[0]) && typeof e[1] === 'string')
      .slice(-MAX_RECENT);
  }
  const f = v.flood;
  if (f && typeof f === 'object' && typeof f.id === 'string' && Number.isFinite(f.since)) {
    s.flood = {
      id: f.id,
      since: f.since,
      activations: Number(f.activations) || 0,
      grouped: Number(f.grouped) || 0,
      leaders: Array.isArray(f.leaders) ? f.leaders.filter((x) => typeof x === 'string').slice(-MAX_LEADERS) : [],
    };
  }
  return s;
}
