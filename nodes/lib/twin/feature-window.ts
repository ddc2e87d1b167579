/**
 * Tumbling feature windows per asset: per signal mean, RMS, min, max, std and slope, tagged
 * with the dominant operating state. Windows are aligned to multiples of their length in event
 * time, so replays and live data cut the same windows. These are what pdm-anomaly scores.
 */
import type { OperatingState } from './operating-state';

export interface SignalFeatures {
  n: number;
  mean: number;
  rms: number;
  min: number;
  max: number;
  std: number;
  /** Least-squares slope in units per second. */
  slope: number;
}

export interface FeatureWindow {
  assetId: string;
  start: number;
  end: number;
  /** The state the machine spent most of the window in. */
  state: OperatingState;
  /** Time spent per state within the window, ms. */
  stateMs: Partial<Record<OperatingState, number>>;
  /** True when the window saw a startup or shutdown: scoring should mask it. */
  transient: boolean;
  features: Record<string, SignalFeatures>;
}

/** Sums from which the features are computed; times are seconds from the window start. */
interface Accumulator {
  n: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
  sumT: number;
  sumTT: number;
  sumTV: number;
}

export interface WindowState {
  start: number;
  stateMs: Partial<Record<OperatingState, number>>;
  transient: boolean;
  stateAt: number;
  state: OperatingState;
  acc: Record<string, number[]>;
}

export class FeatureWindowBuilder {
  private start = -1;
  private stateMs: Partial<Record<OperatingState, number>> = {};
  private transient = false;
  /** Where state time was last accounted up to, and the state since then. */
  private stateAt = 0;
  private state: OperatingState = 'unknown';
  private acc = new Map<string, Accumulator>();

  constructor(
    private readonly assetId: string,
    private lengthMs: number,
  ) {}

  setLength(lengthMs: number): void {
    this.lengthMs = lengthMs;
  }

  /** Adds a value; returns the windows it closed (usually none, one when the value starts a new window). */
  add(signal: string, value: number, ts: number, state: OperatingState): FeatureWindow[] {
    const closed = this.advanceTo(ts);
    if (this.start < 0) this.open(ts, state);
    if (ts < this.start) return closed; // late value for a closed window: dropped from features only
    let a = this.acc.get(signal);
    if (!a) {
      a = { n: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity, sumT: 0, sumTT: 0, sumTV: 0 };
      this.acc.set(signal, a);
    }
    const t = (ts - this.start) / 1000;
    a.n++;
    a.sum += value;
    a.sumSq += value * value;
    if (value < a.min) a.min = value;
    if (value > a.max) a.max = value;
    a.sumT += t;
    a.sumTT += t * t;
    a.sumTV += t * value;
    return closed;
  }

  /** Records a state change inside the current window. */
  noteState(state: OperatingState, ts: number): FeatureWindow[] {
    const closed = this.advanceTo(ts);
    if (this.start < 0) this.open(ts, state);
    this.account(ts);
    if (state === 'startup' || state === 'shutdown') this.transient = true;
    this.state = state;
    return closed;
  }

  /** Closes the window if `now` is past its end (timer-driven, when data stops). */
  flush(now: number): FeatureWindow[] {
    return this.start >= 0 && now >= this.start + this.lengthMs ? this.advanceTo(now) : [];
  }

  /**
   * Opens the window containing `ts`. A carried-over state holds from the window's start; a first
   * window only accounts state time from its first value, so the unseen lead-in is not "unknown".
   */
  private open(ts: number, state: OperatingState, carried = false): void {
    this.start = Math.floor(ts / this.lengthMs) * this.lengthMs;
    this.stateAt = carried ? this.start : ts;
    this.state = state;
    this.transient = state === 'startup' || state === 'shutdown';
  }

  private account(ts: number): void {
    const upTo = Math.min(ts, this.start + this.lengthMs);
    if (upTo > this.stateAt) {
      this.stateMs[this.state] = (this.stateMs[this.state] ?? 0) + (upTo - this.stateAt);
      this.stateAt = upTo;
    }
  }

  private advanceTo(ts: number): FeatureWindow[] {
    if (this.start < 0 || ts < this.start + this.lengthMs) return [];
    this.account(this.start + this.lengthMs);
    const window = this.acc.size > 0 ? this.close() : undefined;
    const carried = this.state;
    this.start = -1;
    this.stateMs = {};
    this.acc = new Map();
    // The state carried over holds from the new window's start until the next change is noted.
    this.open(ts, carried, true);
    return window ? [window] : [];
  }

  private close(): FeatureWindow {
    const features: Record<string, SignalFeatures> = {};
    for (const [signal, a] of this.acc) {
      const mean = a.sum / a.n;
      const variance = a.n > 1 ? Math.max(0, (a.sumSq - a.n * mean * mean) / (a.n - 1)) : 0;
      const denom = a.n * a.sumTT - a.sumT * a.sumT;
      features[signal] = {
        n: a.n,
        mean,
        rms: Math.sqrt(a.sumSq / a.n),
        min: a.min,
        max: a.max,
        std: Math.sqrt(variance),
        slope: a.n > 1 && denom > 1e-12 ? (a.n * a.sumTV - a.sumT * a.sum) / denom : 0,
      };
    }
    let dominant: OperatingState = this.state;
    let most = -1;
    for (const [state, ms] of Object.entries(this.stateMs) as [OperatingState, number][]) {
      if (ms > most) {
        most = ms;
        dominant = state;
      }
    }
    return {
      assetId: this.assetId,
      start: this.start,
      end: this.start + this.lengthMs,
      state: dominant,
      stateMs: { ...this.stateMs },
      transient: this.transient,
      features,
    };
  }

  toJSON(): WindowState | undefined {
    if (this.start < 0) return undefined;
    const acc: Record<string, number[]> = {};
    for (const [signal, a] of this.acc) acc[signal] = [a.n, a.sum, a.sumSq, a.min, a.max, a.sumT, a.sumTT, a.sumTV];
    return { start: this.start, stateMs: this.stateMs, transient: this.transient, stateAt: this.stateAt, state: this.state, acc };
  }

  restore(saved: WindowState | undefined): void {
    if (!saved || !Number.isFinite(saved.start)) return;
    this.start = saved.start;
    this.stateMs = { ...saved.stateMs };
    this.transient = !!saved.transient;
    this.stateAt = saved.stateAt;
    this.state = saved.state;
    this.acc = new Map();
    for (const [signal, v] of Object.entries(saved.acc ?? {})) {
      if (Array.isArray(v) && v.length === 8) {
        this.acc.set(signal, { n: v[0], sum: v[1], sumSq: v[2], min: v[3], max: v[4], sumT: v[5], sumTT: v[6], sumTV: v[7] });
      }
    }
  }
}
