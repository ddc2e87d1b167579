/**
 * The living model of one asset: operating state, latest readings, per-state baselines,
 * counters, feature windows and maintenance history. Pure and serialisable, so it survives a
 * restart through whatever store the node persists it to.
 */
import type { Reading, Quality } from '../contracts/reading';
import type { ResolvedAsset, SignalSpec } from '../assets/types';
import { RunningStats, type RunningStatsState } from '../stats/running-stats';
import { P2Quantile } from '../stats/p2-quantile';
import { OperatingStateMachine, type OperatingState, type OperatingStateSnapshot, type StateTransition } from './operating-state';
import { FeatureWindowBuilder, type FeatureWindow, type WindowState } from './feature-window';

/** States with a meaningful baseline; off, unknown and the transient states are not "normal" data. */
export const BASELINE_STATES = ['idle', 'running', 'overload'] as const;
export type BaselineState = (typeof BASELINE_STATES)[number];

export interface TwinOptions {
  windowMs: number;
  /** A signal is stale after this many expected intervals without data. */
  staleFactor: number;
  /** Bounded history of maintenance events and labels. */
  historyLimit: number;
}

export const DEFAULT_TWIN_OPTIONS: TwinOptions = { windowMs: 60_000, staleFactor: 5, historyLimit: 50 };

export interface LatestValue {
  value: number;
  unit: string;
  quality: Quality;
  qualityReason?: string;
  ts: number;
  /** Learned typical interval between readings, ms. */
  intervalMs?: number;
  stale: boolean;
}

export interface Baseline {
  n: number;
  mean: number;
  std: number;
  p05: number;
  p50: number;
  p95: number;
}

export type TwinEventKind = 'maintenance' | 'label';
export interface TwinEvent {
  kind: TwinEventKind;
  ts: number;
  /** Maintenance: work_done | part_replaced | calibration | inspection. Label: true_fault | false_alarm. */
  type: string;
  /** For labels: startup_transient | operator_change | sensor_drift | mode_shift | other; free text otherwise. */
  reason?: string;
  note?: string;
  by?: string;
  episodeId?: string;
  signal?: string;
}

export type TwinChange =
  | { kind: 'state'; from: OperatingState; to: OperatingState; ts: number }
  | { kind: 'stale' | 'fresh'; signal: string; ts: number }
  | { kind: 'quality'; signal: string; quality: Quality; reason?: string; ts: number }
  | { kind: 'limit'; signal: string; level: LimitLevel; side?: LimitSide; value: number; ts: number }
  | { kind: 'event'; event: TwinEvent };

export type LimitLevel = 'warning' | 'action' | 'normal';
/** Which limit a signal crossed: rising to `warning`/`action`, or falling to `warningLow`/`actionLow`. */
export type LimitSide = 'high' | 'low';
/** Low limits mean nothing while the machine is stopped or in transit (no suction, no speed). */
const LOW_LIMIT_STATES: readonly OperatingState[] = ['idle', 'running', 'overload', 'unknown'];
const SEVERITY: Record<LimitLevel, number> = { normal: 0, warning: 1, action: 2 };

export interface IngestResult {
  transitions: StateTransition[];
  windows: FeatureWindow[];
  changed: boolean;
}

interface BaselineAccumulator {
  stats: RunningStats;
  q: [P2Quantile, P2Quantile, P2Quantile];
}

const QUANTILES = [0.05, 0.5, 0.95] as const;

function newBaseline(): BaselineAccumulator {
  return { stats: new RunningStats(), q: [new P2Quantile(QUANTILES[0]), new P2Quantile(QUANTILES[1]), new P2Quantile(QUANTILES[2])] };
}

export class AssetTwin {
  readonly id: string;
  private asset: ResolvedAsset;
  private options: TwinOptions;
  readonly machine: OperatingStateMachine;
  private readonly windows: FeatureWindowBuilder;
  private latest = new Map<string, LatestValue>();
  private baselines = new Map<string, BaselineAccumulator>();
  private limitLevel = new Map<string, LimitLevel>();
  private limitSide = new Map<string, LimitSide>();
  private timeInStateMs: Partial<Record<OperatingState, number>> = {};
  private starts = 0;
  private stops = 0;
  /** Latest event time seen; the twin's clock for counters. */
  private clock = 0;
  private history: TwinEvent[] = [];
  private pending: TwinChange[] = [];
  version = 0;
  updatedAt = 0;

  constructor(asset: ResolvedAsset, options: Partial<TwinOptions> = {}) {
    this.id = asset.id;
    this.asset = asset;
    this.options = { ...DEFAULT_TWIN_OPTIONS, ...options };
    this.machine = new OperatingStateMachine(asset.stateThresholds, asset.nameplate.ratedCurrentA, asset.nameplate.ratedSpeedRpm);
    this.windows = new FeatureWindowBuilder(asset.id, this.options.windowMs);
  }

  get state(): OperatingState {
    return this.machine.state;
  }

  get definition(): ResolvedAsset {
    return this.asset;
  }

  /** The newest reading time this twin has seen (its own event-time clock); 0 before any reading. */
  get eventClock(): number {
    return this.clock;
  }

  /** Applies a changed configuration (e.g. a redeployed pdm-asset) without losing history. */
  reconfigure(asset: ResolvedAsset, options: Partial<TwinOptions> = {}): void {
    this.asset = asset;
    this.options = { ...this.options, ...options };
    this.machine.configure(asset.stateThresholds, asset.nameplate.ratedCurrentA, asset.nameplate.ratedSpeedRpm);
    this.windows.setLength(this.options.windowMs);
  }

  ingest(reading: Reading): IngestResult {
    const result: IngestResult = { transitions: [], windows: [], changed: false };
    const { signal, value, ts, quality } = reading;
    this.advanceClock(ts);

    const previous = this.latest.get(signal);
    if (previous && ts < previous.ts) {
      // Late data never moves "latest" backwards; it still counts towards nothing else.
      return result;
    }
    const interval = previous ? learnInterval(previous.intervalMs, ts - previous.ts) : undefined;
    const latest: LatestValue = { value, unit: reading.unit, quality, ts, intervalMs: interval, stale: false };
    if (reading.qualityReason) latest.qualityReason = reading.qualityReason;
    this.latest.set(signal, latest);
    if (!previous || previous.quality !== quality) {
      this.pending.push({ kind: 'quality', signal, quality, reason: reading.qualityReason, ts });
      result.changed = true;
    }
    if (previous?.stale) {
      this.pending.push({ kind: 'fresh', signal, ts });
      result.changed = true;
    }

    const usable = quality !== 'bad';
    if (usable) {
      const transitions = this.machine.observe(signal, value, ts);
      this.applyTransitions(transitions, result);
      result.windows.push(...this.windows.add(signal, value, ts, this.machine.state));
    } else {
      this.applyTransitions(this.machine.tick(ts), result);
    }

    if (quality === 'good' && (BASELINE_STATES as readonly string[]).includes(this.machine.state)) {
      const key = `${signal}|${this.machine.state}`;
      let b = this.baselines.get(key);
      if (!b) this.baselines.set(key, (b = newBaseline()));
      b.stats.push(value);
      for (const q of b.q) q.push(value);
    }

    if (usable) this.checkLimits(signal, value, ts, result);
    if (result.changed) this.touch(ts);
    return result;
  }

  /** Time passes without data: stale signals, expiring startup/shutdown windows, closing feature windows. */
  tick(now: number): IngestResult {
    const result: IngestResult = { transitions: [], windows: [], changed: false };
    this.applyTransitions(this.machine.tick(now), result);
    result.windows.push(...this.windows.flush(now));
    for (const [signal, latest] of this.latest) {
      const expected = this.expectedInterval(signal, latest);
      const stale = now - latest.ts > this.options.staleFactor * expected;
      if (stale !== latest.stale) {
        latest.stale = stale;
        if (stale) {
          this.pending.push({ kind: 'stale', signal, ts: now });
          result.changed = true;
        }
      }
    }
    if (result.changed) this.touch(now);
    return result;
  }

  record(event: TwinEvent): void {
    this.history.push(event);
    if (this.history.length > this.options.historyLimit) this.history.splice(0, this.history.length - this.options.historyLimit);
    this.pending.push({ kind: 'event', event });
    this.touch(event.ts);
  }

  /** Forgets baselines (a "new normal" after maintenance or on command); counters and history stay. */
  rebaseline(ts: number): void {
    this.baselines.clear();
    this.touch(ts);
  }

  baseline(signal: string, state: BaselineState): Baseline | undefined {
    const b = this.baselines.get(`${signal}|${state}`);
    if (!b) return undefined;
    return { n: b.stats.n, mean: b.stats.mean, std: b.stats.std, p05: b.q[0].value, p50: b.q[1].value, p95: b.q[2].value };
  }

  latestValues(): ReadonlyMap<string, LatestValue> {
    return this.latest;
  }

  counters() {
    const total = Object.values(this.timeInStateMs).reduce((a, b) => a + (b ?? 0), 0) - (this.timeInStateMs.unknown ?? 0);
    const runtimeMs = total - (this.timeInStateMs.off ?? 0);
    return {
      runtimeHours: runtimeMs / 3_600_000,
      starts: this.starts,
      stops: this.stops,
      dutyCycle: total > 0 ? runtimeMs / total : 0,
      timeInStateMs: { ...this.timeInStateMs },
    };
  }

  events(): readonly TwinEvent[] {
    return this.history;
  }

  /** Changes since the last call: what a snapshot reports as "what has changed". */
  takeChanges(): TwinChange[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  expectedInterval(signal: string, latest = this.latest.get(signal)): number {
    const spec: SignalSpec | undefined = this.asset.sensors.find((s) => s.signal === signal);
    return spec?.intervalMs ?? latest?.intervalMs ?? 10_000;
  }

  private applyTransitions(transitions: StateTransition[], result: IngestResult): void {
    for (const t of transitions) {
      result.transitions.push(t);
      result.windows.push(...this.windows.noteState(t.to, t.ts));
      if (t.to === 'startup') this.starts++;
      if (t.to === 'off' && t.from !== 'unknown') this.stops++;
      this.pending.push({ kind: 'state', from: t.from, to: t.to, ts: t.ts });
      result.changed = true;
    }
  }

  private checkLimits(signal: string, value: number, ts: number, result: IngestResult): void {
    const limits = this.asset.limits[signal];
    if (!limits) return;
    const hasHigh = limits.warning !== undefined || limits.action !== undefined;
    const hasLow = limits.warningLow !== undefined || limits.actionLow !== undefined;
    if (!hasHigh && !hasLow) return;
    const high: LimitLevel = limits.action !== undefined && value >= limits.action ? 'action' : limits.warning !== undefined && value >= limits.warning ? 'warning' : 'normal';
    const lowChecked = hasLow && LOW_LIMIT_STATES.includes(this.machine.state);
    const low: LimitLevel = !lowChecked
      ? 'normal'
      : limits.actionLow !== undefined && value <= limits.actionLow
        ? 'action'
        : limits.warningLow !== undefined && value <= limits.warningLow
          ? 'warning'
          : 'normal';
    const side: LimitSide = SEVERITY[low] > SEVERITY[high] ? 'low' : 'high';
    const level = side === 'low' ? low : high;
    const before = this.limitLevel.get(signal) ?? 'normal';
    const beforeSide = this.limitSide.get(signal) ?? 'high';
    if (before !== level || (level !== 'normal' && beforeSide !== side)) {
      this.limitLevel.set(signal, level);
      if (side === 'low') this.limitSide.set(signal, side);
      else this.limitSide.delete(signal);
      this.pending.push({ kind: 'limit', signal, level, ...(level !== 'normal' ? { side } : {}), value, ts });
      result.changed = true;
    }
  }

  limitLevels(): ReadonlyMap<string, LimitLevel> {
    return this.limitLevel;
  }

  /** The side of each signal's crossed limit; absent means `high` (or normal). */
  limitSides(): ReadonlyMap<string, LimitSide> {
    return this.limitSide;
  }

  private advanceClock(ts: number): void {
    if (this.clock > 0 && ts > this.clock) {
      const state = this.machine.state;
      this.timeInStateMs[state] = (this.timeInStateMs[state] ?? 0) + (ts - this.clock);
    }
    if (ts > this.clock) this.clock = ts;
  }

  private touch(ts: number): void {
    this.version++;
    this.updatedAt = Math.max(this.updatedAt, ts);
  }

  toJSON(): TwinState {
    const baselines: TwinState['baselines'] = {};
    for (const [key, b] of this.baselines) baselines[key] = { stats: b.stats.toJSON(), q: b.q.map((q) => q.toJSON()) };
    return {
      v: 1,
      id: this.id,
      machine: this.machine.toJSON(),
      window: this.windows.toJSON(),
      latest: Object.fromEntries(this.latest),
      baselines,
      limits: Object.fromEntries(this.limitLevel),
      ...(this.limitSide.size > 0 ? { limitSides: Object.fromEntries(this.limitSide) } : {}),
      timeInStateMs: this.timeInStateMs,
      starts: this.starts,
      stops: this.stops,
      clock: this.clock,
      history: this.history,
      version: this.version,
      updatedAt: this.updatedAt,
    };
  }

  restore(saved: TwinState | undefined): boolean {
    if (!saved || saved.v !== 1 || saved.id !== this.id) return false;
    this.machine.restore(saved.machine);
    this.windows.restore(saved.window);
    this.latest = new Map(Object.entries(saved.latest ?? {}));
    this.baselines = new Map();
    for (const [key, b] of Object.entries(saved.baselines ?? {})) {
      this.baselines.set(key, {
        stats: RunningStats.from(b.stats),
        q: [new P2Quantile(QUANTILES[0], b.q[0]), new P2Quantile(QUANTILES[1], b.q[1]), new P2Quantile(QUANTILES[2], b.q[2])],
      });
    }
    this.limitLevel = new Map(Object.entries(saved.limits ?? {}));
    this.limitSide = new Map(Object.entries(saved.limitSides ?? {}).filter(([, side]) => side === 'low'));
    this.timeInStateMs = { ...saved.timeInStateMs };
    this.starts = saved.starts | 0;
    this.stops = saved.stops | 0;
    this.clock = Number(saved.clock) || 0;
    this.history = Array.isArray(saved.history) ? saved.history.slice(-this.options.historyLimit) : [];
    this.version = Number(saved.version) || 0;
    this.updatedAt = Number(saved.updatedAt) || 0;
    return true;
  }
}

/** Persisted form of a twin; `v` versions the layout. */
export interface TwinState {
  v: 1;
  id: string;
  machine: OperatingStateSnapshot;
  window: WindowState | undefined;
  latest: Record<string, LatestValue>;
  baselines: Record<string, { stats: RunningStatsState; q: number[][] }>;
  limits: Record<string, LimitLevel>;
  /** Signals whose crossed limit is a low one (absent in states saved before low limits). */
  limitSides?: Record<string, LimitSide>;
  timeInStateMs: Partial<Record<OperatingState, number>>;
  starts: number;
  stops: number;
  clock: number;
  history: TwinEvent[];
  version: number;
  updatedAt: number;
}

/** Typical interval: a slow EWMA of observed gaps, ignoring zero gaps. */
function learnInterval(previous: number | undefined, gap: number): number | undefined {
  if (!(gap > 0)) return previous;
  return previous === undefined ? gap : previous + 0.1 * (gap - previous);
}
