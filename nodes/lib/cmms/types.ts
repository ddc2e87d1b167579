/**
 * Shared types of the CMMS / notification outbox (pure: no Node-RED, no I/O).
 *
 * An alert episode (from pdm-alert) becomes at most one work order per target: the episode record
 * remembers that a create was queued, the external id once it is known, and the label that came
 * back. Operations (create, update, comment, close) are queued per episode, in order, in a durable
 * outbox (journal.ts, outbox.ts) and delivered by a target client (client.ts, targets/*).
 */

export type Tier = 'watch' | 'warning' | 'action';
export const TIERS: readonly Tier[] = ['watch', 'warning', 'action'];
export function isTier(v: unknown): v is Tier {
  return v === 'watch' || v === 'warning' || v === 'action';
}
/** 0 for none, 1 watch, 2 warning, 3 action. */
export function tierRank(tier: Tier | null | undefined): number {
  return tier ? TIERS.indexOf(tier) + 1 : 0;
}

export type TargetKind = 'webhook' | 'slack' | 'teams' | 'maintainx' | 'upkeep' | 'limble' | 'atlas';
export const TARGET_KINDS: readonly TargetKind[] = ['webhook', 'slack', 'teams', 'maintainx', 'upkeep', 'limble', 'atlas'];
export function isTargetKind(v: unknown): v is TargetKind {
  return typeof v === 'string' && (TARGET_KINDS as readonly string[]).includes(v);
}
/** Targets that hold work orders with an id of their own (the rest post messages). */
export const CMMS_KINDS: readonly TargetKind[] = ['maintainx', 'upkeep', 'limble', 'atlas'];

export type Operation = 'create' | 'update' | 'comment' | 'close';

export type LabelType = 'true_fault' | 'false_alarm';

/** An alert event as this module reads it (lenient; see alert.ts for the accepted shapes). */
export interface AlertInput {
  eventId?: string;
  episodeId: string;
  seq?: number;
  assetId: string;
  assetName?: string;
  assetClass?: string;
  path: { site?: string; area?: string; line?: string };
  /** Current tier; null once the condition has cleared. */
  tier: Tier | null;
  peakTier?: Tier;
  previousTier?: Tier | null;
  /** Lower case with underscores: raised, escalated, de_escalated, cleared, acknowledged, ... */
  transition: string;
  /** The episode ended with this event. */
  closed: boolean;
  reason: string;
  reasonCode?: string;
  check?: string;
  failureMode?: { id: string; name: string };
  category?: string;
  /** Recent trend values, oldest first (scores or signal values, whatever the evidence holds). */
  trend: number[];
  trendLabel?: string;
  contributions?: Record<string, number>;
  zone?: { signal?: string; zone: string; standard?: string; preset?: string; value?: number };
  by?: string;
  note?: string;
  ts: number;
}

export interface TrendSummary {
  values: number[];
  n: number;
  min: number;
  mean: number;
  max: number;
  /** Unicode block sparkline (▁▂▃▄▅▆▇█), for targets that take no images. */
  spark: string;
  /** A small standalone SVG line chart. */
  svg: string;
}

/** What one operation says, fixed when it is queued (so a retry after a restart sends the same). */
export interface Content {
  dedupeKey: string;
  episodeId: string;
  eventId?: string;
  assetId: string;
  assetName?: string;
  /** site/area/line, '/'-joined ('' when unknown). */
  path: string;
  tier: Tier | null;
  peakTier?: Tier;
  transition: string;
  /** One line: "Raised at action", "Escalated warning → action", "Cleared", ... */
  headline: string;
  title: string;
  reason: string;
  check: string;
  failureMode?: string;
  drivers: Array<{ signal: string; share: number }>;
  zone?: string;
  trend?: TrendSummary;
  trendLabel?: string;
  link?: string;
  chartUrl?: string;
  /** Plain-text description (work-order body, comment, message fallback). */
  text: string;
  ts: number;
}

export interface EpisodeRecord {
  key: string;
  episodeId: string;
  assetId: string;
  assetName?: string;
  /** watching: below the create tier; open: a create is queued or done; closed: the episode ended. */
  state: 'watching' | 'open' | 'closed';
  createQueued: boolean;
  /** A clear was already reported to the target for the current activation. */
  clearSent?: boolean;
  externalId?: string;
  externalUrl?: string;
  tier: Tier | null;
  peakTier?: Tier;
  lastSeq?: number;
  /** The last few event ids seen (duplicate deliveries of the same event are ignored). */
  seen: string[];
  /** Operations queued for this episode so far (op ids are `<key>:<n>`). */
  ops: number;
  createdAt: number;
  updatedAt: number;
  closedAt?: number;
  label?: { type: LabelType; reason?: string; at: number };
}

export interface OpRecord {
  id: string;
  key: string;
  /** Global enqueue order (ordering across restarts). */
  seq: number;
  operation: Operation;
  /** Update after a close: reopen the work order. */
  reopen?: boolean;
  content: Content;
  createdAt: number;
  attempts: number;
  nextAt: number;
  /** A previous attempt may have reached the target (timeout, reset, 5xx, restart): look up before creating again. */
  inDoubt: boolean;
  lastError?: string;
  status: 'pending' | 'dead';
  deadAt?: number;
}

/** What a target client gets for one attempt. */
export interface OpView {
  id: string;
  operation: Operation;
  reopen?: boolean;
  content: Content;
  externalId?: string;
  attempt: number;
  inDoubt: boolean;
}

export type DeliveryOutcome =
  | { ok: true; externalId?: string; url?: string; status?: number; found?: boolean }
  | {
      ok: false;
      /** retry: may succeed later; fatal: will not (bad request, gone). */
      kind: 'retry' | 'fatal';
      /** The target may have acted on the request (timeout or reset after sending, some 5xx). */
      ambiguous: boolean;
      retryAfterMs?: number;
      status?: number;
      code: string;
      message: string;
    };

export interface DeliveryClient {
  /** True when operations other than create need the work order's external id. */
  readonly needsExternalId: boolean;
  deliver(op: OpView, signal?: AbortSignal): Promise<DeliveryOutcome>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1))),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * A clock running `factor` times faster than the wall clock, from now on (benchmarks and tests of
 * long outages): now() advances factor ms per real ms, and timers fire after ms / factor real ms.
 */
export function scaledClock(factor: number, start = Date.now()): Clock {
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * factor,
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, Math.min(ms / factor, 2 ** 31 - 1))),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}
