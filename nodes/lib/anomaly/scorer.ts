/**
 * AnomalyScorer: the learning and scoring core behind pdm-anomaly and pdm-replay.
 *
 * - One learner per (asset, operating state), or per (asset class, state) when pooled. The
 *   states with a baseline are idle, running and overload, plus `unknown` for machines whose
 *   state cannot be told (no rated current or speed): one model for all their data.
 * - Masking: windows that saw a startup or shutdown (`transient`), and the states startup,
 *   shutdown and off, are never scored nor learned (Score.masked says why).
 * - Warm-up gate: a learner is `learning` until it has `minSamples` observations spanning
 *   `minSpanMs`; while learning every Score has score 0, anomalous false (nothing can alert).
 * - Protected learning: once ready, only observations scoring below `learnBelow` that are not
 *   anomalous, not labelled a fault and not inside a fault label join the recent-normal buffer;
 *   when an anomaly starts, the samples of the `guardMs` before it leave the buffer too.
 * - Scheduled retraining on that buffer every `retrain.everyMs` (version + 1);
 *   `rebaseline()` forgets models and buffers ("new normal" on command or after maintenance).
 * - Models export and import as versioned JSON (ScoringModel.toJSON / bundles here); importing
 *   a model makes the learner ready at once (train centrally, score at the edge).
 */
import type { OperatingState } from '../twin/operating-state';
import {
  DEFAULT_MODEL_CONFIG,
  ModelFormatError,
  ModelStream,
  ScoringModel,
  mergeModelConfig,
  type FeatureSpec,
  type ModelConfig,
  type ModelJSON,
  type ModelStreamState,
  type PartialModelConfig,
} from './model';
import { signalOfFeature, type Observation, type Score } from './types';

export const BUNDLE_FORMAT = 'pdm-anomaly-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

export interface AnomalyOptions {
  model: ModelConfig;
  warmup: { minSamples: number; minSpanMs: number };
  /** Recent normal observations kept per learner for (re)training. */
  bufferSize: number;
  /** Retrain on the buffer this often (ms of event time; 0 = never) once this many new samples joined it. */
  retrain: { everyMs: number; minNewSamples: number };
  /** Only observations scoring below this join the baseline. */
  learnBelow: number;
  /** When an anomaly starts, buffered samples this close before it are dropped (its lead-in). */
  guardMs: number;
  /** One model per asset, or one per asset class shared by its assets. */
  pooling: 'asset' | 'class';
  /** States that get their own model; others (off, startup, shutdown) are masked. */
  scoredStates: OperatingState[];
  /** Model ids are `${prefix}${asset or class}/${state}`. */
  idPrefix: string;
  /** Compute contributions for every score (false: only for anomalous ones; faster). */
  explainAll: boolean;
  /**
   * The operating envelope: the range of the load signals (drive current, power, flow) a
   * model was trained on. When at least two of them left that range (widened by `pad` × its
   * width) in the same direction, the load moved; the anomaly is then a new operating point,
   * not a fault, unless the condition signals (vibration) carry at least `share` of it (they
   * hardly move with load; a shift of every signal, vibration included, stays a fault). The
   * process values that follow the load (pressures, temperatures, filter pressure drop, speed)
   * count with the load. A new operating point is masked (`operating_point`), kept, and after
   * `absorbAfter` such observations the model is retrained to take it in. `signals: []` turns
   * this off.
   */
  envelope: { signals: string[]; conditionSignals: string[]; pad: number; share: number; absorbAfter: number };
}

export type PartialAnomalyOptions = Partial<Omit<AnomalyOptions, 'model' | 'warmup' | 'retrain' | 'envelope'>> & {
  model?: PartialModelConfig;
  warmup?: Partial<AnomalyOptions['warmup']>;
  retrain?: Partial<AnomalyOptions['retrain']>;
  envelope?: Partial<AnomalyOptions['envelope']>;
};

export const DEFAULT_ANOMALY_OPTIONS: AnomalyOptions = {
  model: DEFAULT_MODEL_CONFIG,
  warmup: { minSamples: 120, minSpanMs: 2 * 3_600_000 },
  bufferSize: 2000,
  retrain: { everyMs: 24 * 3_600_000, minNewSamples: 200 },
  learnBelow: 0.4,
  guardMs: 60_000,
  pooling: 'asset',
  scoredStates: ['idle', 'running', 'overload', 'unknown'],
  idPrefix: '',
  explainAll: true,
  envelope: { signals: ['current', 'power', 'flow'], conditionSignals: ['vibration_velocity', 'vibration_acceleration'], pad: 0.1, share: 0.2, absorbAfter: 30 },
};

export function mergeAnomalyOptions(base: AnomalyOptions, over: PartialAnomalyOptions | undefined): AnomalyOptions {
  if (!over) return base;
  return {
    ...base,
    ...over,
    model: mergeModelConfig(base.model, over.model),
    warmup: { ...base.warmup, ...over.warmup },
    retrain: { ...base.retrain, ...over.retrain },
    envelope: {
      ...base.envelope,
      ...over.envelope,
      signals: [...(over.envelope?.signals ?? base.envelope.signals)],
      conditionSignals: [...(over.envelope?.conditionSignals ?? base.envelope.conditionSignals)],
    },
    scoredStates: [...(over.scoredStates ?? base.scoredStates)],
  };
}

interface Sample {
  t: number;
  x: Float64Array;
}

class Learner {
  features: FeatureSpec[] | null = null;
  samples: Sample[] = [];
  model: ScoringModel | null = null;
  stream = new ModelStream();
  lastTrainAt = -Infinity;
  newSinceTrain = 0;
  version = 0;
  last: Float64Array | null = null;
  wasAnomalous = false;
  /** Per feature index of a load signal: the [low, high] it was trained on (see AnomalyOptions.envelope). */
  envelope: Array<[number, number, number]> = [];
  /** Observations at a new operating point since the last training. */
  outside = 0;

  constructor(
    readonly key: string,
    readonly state: OperatingState,
  ) {}
}

export interface LearnerStatus {
  state: OperatingState;
  status: 'learning' | 'ready';
  samples: number;
  spanMs: number;
  model: { id: string; version: number; trainedAt: number } | null;
}

export interface ModelBundle {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  /** Asset id, or `class:<id>` for pooled models. */
  key: string;
  exportedAt: number;
  models: ModelJSON[];
  /** Per state, the trained range of each load signal [feature, low, high] (AnomalyOptions.envelope); older bundles have none. */
  envelopes?: Record<string, Array<[string, number, number]>>;
}

export interface ScorerState {
  v: 1;
  learners: Array<{
    key: string;
    state: OperatingState;
    features: FeatureSpec[] | null;
    samples: Array<[number, number[]]>;
    model: ModelJSON | null;
    stream: ModelStreamState;
    lastTrainAt: number | null;
    newSinceTrain: number;
    version: number;
  }>;
  faults: Record<string, Array<[number, number]>>;
}

const MAX_FAULT_LABELS = 100;

export class AnomalyScorer {
  private options: AnomalyOptions;
  private readonly learners = new Map<string, Learner>();
  /** Fault labels per model key: observations inside them never join a baseline. */
  private readonly faults = new Map<string, Array<[number, number]>>();

  constructor(options: PartialAnomalyOptions = {}, base: AnomalyOptions = DEFAULT_ANOMALY_OPTIONS) {
    this.options = mergeAnomalyOptions(base, options);
  }

  get config(): AnomalyOptions {
    return this.options;
  }

  /** Changes options; models already fitted keep their own model configuration until retrained. */
  configure(options: PartialAnomalyOptions, base: AnomalyOptions = this.options): void {
    this.options = mergeAnomalyOptions(base, options);
  }

  keyOf(obs: Pick<Observation, 'assetId' | 'assetClass'>): string {
    return this.options.pooling === 'class' && obs.assetClass ? `class:${obs.assetClass}` : obs.assetId;
  }

  score(obs: Observation): Score {
    const threshold = this.options.model.threshold;
    const base: Score = {
      assetId: obs.assetId,
      window: { start: obs.start, end: obs.end },
      state: obs.state,
      score: 0,
      anomalous: false,
      threshold,
      contributions: {},
      topSignal: null,
      model: null,
      status: 'learning',
    };
    const key = this.keyOf(obs);
    const masked: Score['masked'] = obs.transient || obs.state === 'startup' || obs.state === 'shutdown' ? 'transient' : obs.state === 'off' ? 'off' : !this.options.scoredStates.includes(obs.state) ? 'state' : undefined;
    if (masked) {
      base.masked = masked;
      const learner = this.learners.get(`${key}|${obs.state}`) ?? this.anyLearner(key);
      if (learner?.model) {
        base.status = 'ready';
        base.model = { id: learner.model.id, version: learner.model.version };
        base.threshold = learner.model.config.threshold;
      }
      return base;
    }
    const learner = this.learner(key, obs.state);
    if (!learner.features) learner.features = Object.keys(obs.values).filter((k) => Number.isFinite(obs.values[k])).map((name) => ({ name, signal: signalOfFeature(name) }));
    const x = this.vector(learner, obs);
    const t = obs.end;
    const fault = !!obs.fault || this.inFault(key, t);

    if (!learner.model) {
      if (x && !fault) this.push(learner, t, x);
      const spanMs = learner.samples.length ? learner.samples[learner.samples.length - 1].t - learner.samples[0].t : 0;
      const { minSamples, minSpanMs } = this.options.warmup;
      base.learned = !!x && !fault;
      base.warmup = { samples: learner.samples.length, spanMs, minSamples, minSpanMs };
      if (learner.samples.length >= Math.max(2, minSamples) && spanMs >= minSpanMs) this.train(learner, t);
      return base;
    }

    const model = learner.model;
    const vec = x ?? this.fillFromModel(learner, obs);
    const raw = model.step(learner.stream, t, vec, this.options.explainAll ? true : 'anomalous', !fault);
    const { contributions, topSignal } = raw;
    if (raw.anomalous && x && !fault && this.atNewOperatingPoint(learner, x, contributions)) {
      // A load the model never saw: say so instead of alarming, and learn it once it persists.
      base.status = 'ready';
      base.masked = 'operating_point';
      base.model = { id: model.id, version: model.version };
      base.threshold = model.config.threshold;
      base.learned = true;
      this.push(learner, t, x);
      // Retrain only on a buffer as large as the warm-up's (an imported model starts with none).
      const enough = learner.samples.length >= Math.max(2, this.options.warmup.minSamples);
      if (++learner.outside >= Math.max(1, this.options.envelope.absorbAfter) && enough) this.train(learner, t);
      return base;
    }
    base.status = 'ready';
    base.score = raw.score;
    base.anomalous = raw.anomalous;
    base.threshold = model.config.threshold;
    base.contributions = contributions ?? {};
    base.topSignal = topSignal ?? null;
    base.model = { id: model.id, version: model.version };
    base.detectors = raw.detectors as Record<string, number>;

    if (raw.anomalous && !learner.wasAnomalous && this.options.guardMs > 0) {
      const from = t - this.options.guardMs;
      while (learner.samples.length && learner.samples[learner.samples.length - 1].t >= from) learner.samples.pop();
    }
    learner.wasAnomalous = raw.anomalous;
    const learn = !!x && !fault && !raw.anomalous && raw.score < this.options.learnBelow;
    base.learned = learn;
    if (learn) {
      this.push(learner, t, x!);
      learner.newSinceTrain++;
      const r = this.options.retrain;
      // A retrain needs as much data as the warm-up did (fault labels and the guard may have thinned the buffer).
      const enough = learner.samples.length >= Math.max(2, this.options.warmup.minSamples);
      if (r.everyMs > 0 && t - learner.lastTrainAt >= r.everyMs && learner.newSinceTrain >= r.minNewSamples && enough) this.train(learner, t);
    }
    return base;
  }

  /** Labels a time range of an asset (or pooled class key) as a fault: its samples leave the baseline, none join later. */
  labelFault(assetOrKey: string, start: number, end: number): number {
    const list = this.faults.get(assetOrKey) ?? [];
    list.push([start, end]);
    if (list.length > MAX_FAULT_LABELS) list.splice(0, list.length - MAX_FAULT_LABELS);
    this.faults.set(assetOrKey, list);
    let removed = 0;
    for (const l of this.learners.values()) {
      if (l.key !== assetOrKey) continue;
      const before = l.samples.length;
      l.samples = l.samples.filter((s) => s.t < start || s.t > end);
      removed += before - l.samples.length;
    }
    return removed;
  }

  /** Forgets the models and buffers of an asset (all states, or one): back to learning. */
  rebaseline(assetOrKey: string, state?: OperatingState): number {
    let n = 0;
    for (const [k, l] of this.learners) {
      if (l.key === assetOrKey && (!state || l.state === state)) {
        this.learners.delete(k);
        n++;
      }
    }
    return n;
  }

  /**
   * Retrains now on the current buffers (e.g. on command), where there is enough data.
   * `readyOnly` leaves learners still in warm-up alone (only existing models are refitted).
   */
  retrainNow(assetOrKey: string, now: number, opts: { readyOnly?: boolean } = {}): number {
    let n = 0;
    for (const l of this.learners.values()) {
      if (l.key === assetOrKey && l.samples.length >= 2 && (!opts.readyOnly || l.model)) {
        this.train(l, now);
        n++;
      }
    }
    return n;
  }

  status(assetOrKey: string): LearnerStatus[] {
    const out: LearnerStatus[] = [];
    for (const l of this.learners.values()) {
      if (l.key !== assetOrKey) continue;
      out.push({
        state: l.state,
        status: l.model ? 'ready' : 'learning',
        samples: l.samples.length,
        spanMs: l.samples.length ? l.samples[l.samples.length - 1].t - l.samples[0].t : 0,
        model: l.model ? { id: l.model.id, version: l.model.version, trainedAt: l.model.trainedAt } : null,
      });
    }
    return out;
  }

  keys(): string[] {
    return [...new Set([...this.learners.values()].map((l) => l.key))];
  }

  model(assetOrKey: string, state: OperatingState): ScoringModel | undefined {
    return this.learners.get(`${assetOrKey}|${state}`)?.model ?? undefined;
  }

  exportModels(assetOrKey: string, now = Date.now()): ModelBundle | undefined {
    const ready = [...this.learners.values()].filter((l) => l.key === assetOrKey && l.model);
    if (ready.length === 0) return undefined;
    const envelopes: NonNullable<ModelBundle['envelopes']> = {};
    for (const l of ready) if (l.envelope.length) envelopes[l.state] = l.envelope.map(([j, lo, hi]) => [l.features![j].name, lo, hi]);
    return { format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, key: assetOrKey, exportedAt: now, models: ready.map((l) => l.model!.toJSON()), envelopes };
  }

  /**
   * Installs exported models (a bundle, one model, or their JSON text); every model must say
   * its asset (or pooled key) and state. Throws ModelFormatError for a newer or foreign format.
   * Returns the learners made ready.
   */
  importModels(input: unknown, key?: string): Array<{ key: string; state: OperatingState; id: string; version: number }> {
    let json = input;
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json);
      } catch (e) {
        throw new ModelFormatError('model_format', `model: not JSON (${(e as Error).message})`);
      }
    }
    const j = json as ModelBundle;
    let models: unknown[];
    let envelopes: ModelBundle['envelopes'];
    let bundleKey = key;
    if (j && typeof j === 'object' && j.format === BUNDLE_FORMAT) {
      if (!Number.isInteger(j.formatVersion) || j.formatVersion > BUNDLE_FORMAT_VERSION) {
        throw new ModelFormatError('model_version', `model bundle has format version ${String(j.formatVersion)}, newer than this version of @pdm-twin/node-red-pdm understands (${BUNDLE_FORMAT_VERSION}): update the package where it scores`);
      }
      if (!Array.isArray(j.models)) throw new ModelFormatError('model_invalid', 'model bundle has no models');
      models = j.models;
      envelopes = j.envelopes && typeof j.envelopes === 'object' ? j.envelopes : undefined;
      bundleKey = key ?? j.key;
    } else {
      models = [json];
    }
    const restored = models.map((m) => ScoringModel.fromJSON(m)); // validate all before installing any
    const out: Array<{ key: string; state: OperatingState; id: string; version: number }> = [];
    for (const model of restored) {
      const k = bundleKey ?? model.meta.assetId;
      const state = model.meta.state as OperatingState | undefined;
      if (!k || !state) throw new ModelFormatError('model_invalid', `model ${model.id} does not say which asset and state it is for`);
      const learner = this.learner(k, state);
      // Buffered samples of other features no longer fit the model (nor a retrain of it).
      const same = !!learner.features && learner.features.length === model.features.length && learner.features.every((f, j) => f.name === model.features[j].name);
      if (!same) {
        learner.samples = [];
        learner.last = null;
      }
      learner.model = model;
      learner.features = model.features.map((f) => ({ ...f }));
      learner.version = model.version;
      learner.stream = new ModelStream();
      learner.lastTrainAt = model.trainedAt;
      learner.newSinceTrain = 0;
      learner.outside = 0;
      learner.envelope = importedEnvelope(envelopes?.[state], learner.features);
      out.push({ key: k, state, id: model.id, version: model.version });
    }
    return out;
  }

  /** The learners and fault labels of every key, or only of `keys` (e.g. the ones that changed). */
  toJSON(keys?: Iterable<string>): ScorerState {
    const only = keys ? new Set(keys) : undefined;
    return {
      v: 1,
      learners: [...this.learners.values()].filter((l) => !only || only.has(l.key)).map((l) => ({
        key: l.key,
        state: l.state,
        features: l.features,
        samples: l.samples.map((s) => [s.t, Array.from(s.x)] as [number, number[]]),
        model: l.model ? l.model.toJSON() : null,
        stream: l.stream.toJSON(),
        lastTrainAt: Number.isFinite(l.lastTrainAt) ? l.lastTrainAt : null,
        newSinceTrain: l.newSinceTrain,
        version: l.version,
      })),
      faults: Object.fromEntries(only ? [...this.faults].filter(([k]) => only.has(k)) : this.faults),
    };
  }

  /** Restores persisted learners; a model that cannot be read leaves its learner learning. Returns how many were restored. */
  restore(state: ScorerState | undefined): number {
    if (!state || state.v !== 1 || !Array.isArray(state.learners)) return 0;
    let n = 0;
    for (const s of state.learners) {
      if (typeof s.key !== 'string' || typeof s.state !== 'string') continue;
      const l = this.learner(s.key, s.state);
      l.features = Array.isArray(s.features) ? s.features : null;
      const dims = l.features?.length ?? 0;
      l.samples = (Array.isArray(s.samples) ? s.samples : [])
        .filter((p) => Array.isArray(p) && typeof p[0] === 'number' && Array.isArray(p[1]) && p[1].length === dims)
        .map(([t, x]) => ({ t, x: Float64Array.from(x) }));
      try {
        l.model = s.model ? ScoringModel.fromJSON(s.model) : null;
      } catch {
        l.model = null;
      }
      l.stream = ModelStream.from(s.stream);
      l.lastTrainAt = typeof s.lastTrainAt === 'number' ? s.lastTrainAt : -Infinity;
      l.newSinceTrain = Number(s.newSinceTrain) || 0;
      l.version = Number(s.version) || (l.model?.version ?? 0);
      if (l.model) this.fitEnvelope(l);
      n++;
    }
    for (const [k, v] of Object.entries(state.faults ?? {})) if (Array.isArray(v)) this.faults.set(k, v.slice(-MAX_FAULT_LABELS));
    return n;
  }

  private learner(key: string, state: OperatingState): Learner {
    const id = `${key}|${state}`;
    let l = this.learners.get(id);
    if (!l) this.learners.set(id, (l = new Learner(key, state)));
    return l;
  }

  private anyLearner(key: string): Learner | undefined {
    for (const l of this.learners.values()) if (l.key === key && l.model) return l;
    return undefined;
  }

  /** The observation as the learner's feature vector; missing values carry the last one forward. Undefined when incomplete. */
  private vector(learner: Learner, obs: Observation): Float64Array | undefined {
    const features = learner.features!;
    const x = new Float64Array(features.length);
    let complete = true;
    for (let j = 0; j < features.length; j++) {
      const v = obs.values[features[j].name];
      if (typeof v === 'number' && Number.isFinite(v)) x[j] = v;
      else if (learner.last && Number.isFinite(learner.last[j])) x[j] = learner.last[j];
      else {
        x[j] = NaN;
        complete = false;
      }
    }
    learner.last = x;
    return complete ? x : undefined;
  }

  private fillFromModel(learner: Learner, obs: Observation): Float64Array {
    const model = learner.model!;
    const x = new Float64Array(model.features.length);
    model.features.forEach((f, j) => {
      const v = obs.values[f.name];
      x[j] = typeof v === 'number' && Number.isFinite(v) ? v : learner.last && Number.isFinite(learner.last[j]) ? learner.last[j] : model.baseline(j);
    });
    return x;
  }

  private push(learner: Learner, t: number, x: Float64Array): void {
    learner.samples.push({ t, x });
    const max = Math.max(2, this.options.bufferSize);
    if (learner.samples.length > max) learner.samples.splice(0, learner.samples.length - max);
  }

  private inFault(key: string, t: number): boolean {
    const list = this.faults.get(key);
    return !!list && list.some(([a, b]) => t >= a && t <= b);
  }

  /**
   * True when the load moved, not the machine's condition: at least two load signals left
   * their trained range in the same direction (current with power or flow — a heavier load
   * raises both; current alone rising at the same power or flow is a fault) and the condition
   * signals (vibration) carry less than `share` of the anomaly.
   */
  private atNewOperatingPoint(learner: Learner, x: Float64Array, contributions: Record<string, number> | undefined): boolean {
    const env = learner.envelope;
    if (env.length < 2 || !contributions) return false;
    let above = 0;
    let below = 0;
    for (const [j, lo, hi] of env) {
      if (x[j] > hi) above++;
      else if (x[j] < lo) below++;
    }
    if (Math.max(above, below) < 2 || Math.min(above, below) > 0) return false;
    const condition = new Set(this.options.envelope.conditionSignals);
    let share = 0;
    for (const [signal, c] of Object.entries(contributions)) if (condition.has(signal)) share += c;
    return share < this.options.envelope.share;
  }

  /** The trained range of each load signal, widened by `pad` × its width (at least 2 % of its level). */
  private fitEnvelope(learner: Learner): void {
    const { signals, pad } = this.options.envelope;
    learner.envelope = [];
    learner.outside = 0;
    if (!learner.features || learner.samples.length === 0) return;
    learner.features.forEach((f, j) => {
      if (!signals.includes(f.signal) || f.name !== f.signal) return;
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of learner.samples) {
        if (s.x[j] < lo) lo = s.x[j];
        if (s.x[j] > hi) hi = s.x[j];
      }
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
      const widen = Math.max(pad * (hi - lo), 0.02 * Math.max(Math.abs(lo), Math.abs(hi)));
      learner.envelope.push([j, lo - widen, hi + widen]);
    });
  }

  private train(learner: Learner, now: number): void {
    const version = learner.version + 1;
    const { model, stream } = ScoringModel.fit(learner.samples, learner.features!, this.options.model, {
      id: `${this.options.idPrefix}${learner.key}/${learner.state}`,
      version,
      assetId: learner.key.startsWith('class:') ? undefined : learner.key,
      assetClass: learner.key.startsWith('class:') ? learner.key.slice(6) : undefined,
      state: learner.state,
    }, now);
    const first = !learner.model;
    learner.model = model;
    learner.version = version;
    learner.lastTrainAt = now;
    learner.newSinceTrain = 0;
    this.fitEnvelope(learner);
    // First model: continue from the end of training. Retrain: keep the live stream (raw-unit smoothing survives).
    if (first) learner.stream = stream;
  }
}

/** A bundle's envelope of one state as [feature index, low, high], for the model's features; malformed entries are left out. */
function importedEnvelope(entries: unknown, features: FeatureSpec[]): Array<[number, number, number]> {
  if (!Array.isArray(entries)) return [];
  const out: Array<[number, number, number]> = [];
  for (const e of entries) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !Number.isFinite(e[1]) || !Number.isFinite(e[2])) continue;
    const j = features.findIndex((f) => f.name === e[0]);
    if (j >= 0) out.push([j, e[1] as number, e[2] as number]);
  }
  return out;
}
