/**
 * Retry timing: exponential backoff with full jitter, Retry-After, and a per-target gate that
 * combines a token-bucket rate limit with a circuit pause while the target keeps failing (one
 * probe at a time, so an hour-long outage is not hammered by every queued operation).
 */
import type { Clock } from './types';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
  /** 0 = none, 1 = full jitter (uniform in [delay/2·(1−j)… delay]). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 5 * 60_000, factor: 2, jitter: 1 };

/** Delay before attempt `attempt + 1` after `attempt` failures (attempt ≥ 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, Math.max(0, attempt - 1)));
  const jitter = Math.max(0, Math.min(1, options.jitter));
  // "Equal jitter": at least half the delay, so retries never bunch at zero.
  const low = exp * (1 - jitter / 2);
  return Math.round(low + random() * (exp - low));
}

/** Retry-After: delta seconds or an HTTP date → ms from `now` (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | string[] | undefined, now: number, capMs = 60 * 60_000): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.min(capMs, Math.round(Number(t) * 1000));
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.min(capMs, Math.max(0, date - now));
}

export interface GateOptions {
  /** Requests per second; 0 = unlimited. */
  ratePerSec: number;
  /** Bucket size (short bursts). */
  burst: number;
  /** Pause after consecutive failures of the target (a circuit breaker). */
  pause: BackoffOptions;
}

/** Shared by every node that sends to one target (the config node owns it). */
export class TargetGate {
  private tokens: number;
  private refilledAt: number;
  private failures = 0;
  private pausedUntil = 0;
  private probing = false;
  lastError: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly options: GateOptions,
  ) {
    this.tokens = Math.max(1, options.burst);
    this.refilledAt = clock.now();
  }

  private refill(now: number): void {
    if (this.options.ratePerSec <= 0) return;
    const cap = Math.max(1, this.options.burst);
    this.tokens = Math.min(cap, this.tokens + ((now - this.refilledAt) / 1000) * this.options.ratePerSec);
    this.refilledAt = now;
  }

  /** Milliseconds until a request may start (0 = now). */
  wait(): number {
    const now = this.clock.now();
    if (this.failures > 0 && this.probing) return Math.max(250, this.pausedUntil - now);
    let wait = Math.max(0, this.pausedUntil - now);
    if (this.options.ratePerSec > 0) {
      this.refill(now);
      if (this.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - this.tokens) / this.options.ratePerSec) * 1000));
    }
    return wait;
  }

  /** Takes a slot; call only when wait() is 0. While failing, only one probe runs at a time. */
  take(): void {
    if (this.options.ratePerSec > 0) {
      this.refill(this.clock.now());
      this.tokens -= 1;
    }
    if (this.failures > 0) this.probing = true;
  }

  succeed(): void {
    this.failures = 0;
    this.pausedUntil = 0;
    this.probing = false;
    this.lastError = undefined;
  }

  /** A target-wide failure (unreachable, 5xx, 429, auth): pause all senders. */
  fail(error: string, retryAfterMs?: number, random?: () => number): void {
    this.failures++;
    this.probing = false;
    this.lastError = error;
    const pause = Math.max(backoffDelay(this.failures, this.options.pause, random), retryAfterMs ?? 0);
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + pause);
  }

  /** A request that ended without saying anything about the target (aborted, op-specific error). */
  release(): void {
    this.probing = false;
  }

  get failing(): boolean {
    return this.failures > 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  get pauseEndsAt(): number {
    return this.pausedUntil;
  }
}
