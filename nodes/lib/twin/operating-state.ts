/**
 * Operating state of a machine inferred from its current (against rated current) and, where
 * fitted, its speed. Startup and shutdown are timed windows, so inrush current and run-down
 * are never mistaken for faults downstream.
 */
import type { StateThresholds } from '../assets/types';

export type OperatingState = 'unknown' | 'off' | 'idle' | 'startup' | 'running' | 'overload' | 'shutdown';
export const OPERATING_STATES: readonly OperatingState[] = ['unknown', 'off', 'idle', 'startup', 'running', 'overload', 'shutdown'];

export interface StateTransition {
  from: OperatingState;
  to: OperatingState;
  ts: number;
  /** Load as a fraction of rated (current, else speed) when it happened. */
  load?: number;
}

export interface OperatingStateSnapshot {
  state: OperatingState;
  since: number;
  previous: OperatingState;
  windowUntil: number;
  load: number | undefined;
  lastTs: number;
}

type Level = 'off' | 'idle' | 'running' | 'overload';

export class OperatingStateMachine {
  state: OperatingState = 'unknown';
  since = 0;
  previous: OperatingState = 'unknown';
  /** End of the current startup or shutdown window. */
  private windowUntil = 0;
  load: number | undefined;
  private lastTs = 0;

  constructor(
    private thresholds: StateThresholds,
    private ratedCurrentA: number | undefined,
    private ratedSpeedRpm: number | undefined,
  ) {}

  configure(thresholds: StateThresholds, ratedCurrentA: number | undefined, ratedSpeedRpm: number | undefined): void {
    this.thresholds = thresholds;
    this.ratedCurrentA = ratedCurrentA;
    this.ratedSpeedRpm = ratedSpeedRpm;
  }

  /** True when the signal drives the state: current with a rated current, or speed when there is no rated current. */
  drivesState(signal: string): boolean {
    if (signal === 'current') return !!this.ratedCurrentA;
    if (signal === 'speed') return !this.ratedCurrentA && !!this.ratedSpeedRpm;
    return false;
  }

  /** Feeds one current or speed value; returns the transitions it caused (0, 1 or 2). */
  observe(signal: string, value: number, ts: number): StateTransition[] {
    if (!this.drivesState(signal) || ts < this.lastTs) return this.tick(ts);
    this.lastTs = ts;
    const rated = signal === 'current' ? this.ratedCurrentA! : this.ratedSpeedRpm!;
    this.load = Math.max(0, value) / rated;
    return this.advance(this.levelOf(signal, this.load), ts);
  }

  /** Lets timed windows expire without a new value (called on any reading or by a timer). */
  tick(ts: number): StateTransition[] {
    if ((this.state === 'startup' || this.state === 'shutdown') && ts >= this.windowUntil && this.load !== undefined) {
      const signal = this.ratedCurrentA ? 'current' : 'speed';
      return this.advance(this.levelOf(signal, this.load), ts);
    }
    return [];
  }

  private levelOf(signal: string, load: number): Level {
    const t = this.thresholds;
    if (signal === 'speed') return load < t.speedRunningAbove ? 'off' : load > t.overloadAbove ? 'overload' : 'running';
    if (load < t.offBelow) return 'off';
    if (load < t.idleBelow) return 'idle';
    if (load > t.overloadAbove) return 'overload';
    return 'running';
  }

  private advance(level: Level, ts: number): StateTransition[] {
    const out: StateTransition[] = [];
    const go = (to: OperatingState) => {
      if (to === this.state) return;
      out.push({ from: this.state, to, ts, load: this.load });
      this.previous = this.state;
      this.state = to;
      this.since = ts;
    };
    switch (this.state) {
      case 'unknown':
        // The first value says where the machine is; we did not see it start.
        go(level);
        break;
      case 'off':
        if (level !== 'off') {
          go('startup');
          this.windowUntil = ts + this.thresholds.startupMs;
          if (this.thresholds.startupMs <= 0) go(level);
        }
        break;
      case 'startup':
        if (level === 'off') {
          // A failed or aborted start runs down like any stop.
          this.beginShutdown(go, ts);
        } else if (ts >= this.windowUntil) {
          go(level);
        }
        break;
      case 'shutdown':
        if (level !== 'off') go(level);
        else if (ts >= this.windowUntil) go('off');
        break;
      default:
        if (level === 'off') this.beginShutdown(go, ts);
        else go(level);
    }
    return out;
  }

  private beginShutdown(go: (to: OperatingState) => void, ts: number): void {
    go('shutdown');
    this.windowUntil = ts + this.thresholds.shutdownMs;
    if (this.thresholds.shutdownMs <= 0) go('off');
  }

  toJSON(): OperatingStateSnapshot {
    return { state: this.state, since: this.since, previous: this.previous, windowUntil: this.windowUntil, load: this.load, lastTs: this.lastTs };
  }

  restore(saved: Partial<OperatingStateSnapshot> | undefined): void {
    if (!saved || !OPERATING_STATES.includes(saved.state as OperatingState)) return;
    this.state = saved.state as OperatingState;
    this.previous = OPERATING_STATES.includes(saved.previous as OperatingState) ? (saved.previous as OperatingState) : 'unknown';
    this.since = Number(saved.since) || 0;
    this.windowUntil = Number(saved.windowUntil) || 0;
    this.load = typeof saved.load === 'number' ? saved.load : undefined;
    this.lastTs = Number(saved.lastTs) || 0;
  }
}
