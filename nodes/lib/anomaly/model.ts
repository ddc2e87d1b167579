/**
 * ScoringModel: one fitted model for one asset (or asset class) in one operating state, and
 * ModelStream: the little state a live stream of observations carries between scores.
 *
 * Scoring one observation x (a numeric vector of features, e.g. one value per signal):
 *  1. Smooth: xs ← xs + α(x − xs), α = 1 − exp(−Δt / smoothingMs) — a rolling window in time
 *     that never looks ahead (Δt ≥ window spacing makes it a no-op for long feature windows).
 *  2. Standardise: z_j = (xs_j − location_j(t) − drift_j) / scale_j (robust baseline, optional
 *     seasonal location; drift_j follows "slow" signals such as temperatures, see `adaptive`).
 *  3. Detectors, each a raw statistic:
 *       robustZ  max_j |z_j|                          one signal far from its normal
 *       cusum    max_j max(S⁺_j, S⁻_j), two-sided CUSUM of the unsmoothed z with allowance k
 *       iforest  isolation-forest score of z            unusual combinations, non-linear
 *       pca      Hotelling T² (varianceKept = 1), or T² and Q of a PCA (varianceKept < 1)
 *  4. Calibrate each statistic r against its own distribution on the training data:
 *       u = (r − median) / (margin · (q − median)),  s = 1 − 2^(−max(0, u))
 *     with q the `calibrationQuantile` (0.99) of the training values: s = 0.5 exactly where r
 *     reaches `margin` times the training spread to that quantile; s → 1 as r grows.
 *  5. Combine: score = max over detectors of s (an alarm from any detector counts; default) or
 *     their weighted mean (`combine: 'mean'`). One documented threshold: anomalous when
 *     score ≥ threshold (0.5) for `confirmMs`, and it stays anomalous until
 *     score < threshold × hysteresis (for `holdMs`).
 *  6. Contributions: each detector splits its statistic over features (robust z: z_j²; CUSUM:
 *     the feature's own sums; iforest: path attribution; T²: Westerhuis contributions; Q: e_j²);
 *     the combination weighs the detectors' shares by their calibrated scores s; features are
 *     summed per signal. Shares sum to 1; topSignal is the largest.
 */
import { IsolationForest, type IsolationForestJSON } from './isolation-forest';
import { PcaModel, type PcaJSON } from './pca';
import { quantileSorted } from './math';
import {
  DEFAULT_SCALE_FLOOR,
  fitRobust,
  fitSeasonal,
  seasonalBin,
  type ScaleFloor,
  type SeasonalJSON,
  type SeasonalMode,
} from './baseline';

/** The model JSON layout this code writes; a model with a higher number is refused. */
export const MODEL_FORMAT = 'pdm-anomaly-model';
export const MODEL_FORMAT_VERSION = 1;

export type DetectorId = 'robustZ' | 'cusum' | 'iforest' | 'pca';
export const DETECTOR_IDS: readonly DetectorId[] = ['robustZ', 'cusum', 'iforest', 'pca'];

export interface DetectorSettings {
  robustZ: { enabled: boolean; weight: number };
  /** k: allowance in σ (detects shifts of about 2k); cap: the sums are clamped so they recover. */
  cusum: { enabled: boolean; weight: number; k: number; cap: number };
  iforest: { enabled: boolean; weight: number; trees: number; sampleSize: number; seed: number };
  /** varianceKept 1 = Hotelling T² over all components; < 1 = PCA T² + Q. */
  pca: { enabled: boolean; weight: number; varianceKept: number; eigenFloorAbs: number };
}

export interface ModelConfig {
  detectors: DetectorSettings;
  combine: 'max' | 'mean';
  calibrationQuantile: number;
  margin: number;
  threshold: number;
  /** An anomalous stream returns to normal only below threshold × hysteresis. */
  hysteresis: number;
  /**
   * Off-delay: an anomalous stream returns to normal only once its score stayed below the exit
   * level this long, ms, counting the time each observation stands for like `confirmMs` (so a
   * 60 s window clears at once; 15 quiet 1 Hz rows clear a 15 s off-delay).
   */
  holdMs: number;
  /**
   * A normal stream turns anomalous only once its score stayed at or above the threshold this
   * long, ms, counting the time each observation stands for (0 = at once; a 60 s window covers
   * 5 s by itself, five 1 Hz rows do).
   */
  confirmMs: number;
  /** Time constant of the smoothing of the input vector, ms (0 = none). */
  smoothingMs: number;
  scaleFloor: ScaleFloor;
  seasonal: SeasonalMode;
  seasonalMinPerBin: number;
  seasonalUtcOffsetMin: number;
  /**
   * Slow signals (matched by name, e.g. "temperature" matches "temperature" and
   * "bearing_temperature") whose baseline follows them with time constant tauMs while the
   * stream is normal: their level drifts with ambient and load, a step still shows. The
   * baseline lags a steady drift by rate × tauMs, so drifts faster than about half the
   * signal's noise σ per tauMs still alarm. `protect` freezes it while the stream is anomalous.
   */
  adaptive: { signals: string[]; tauMs: number; protect: boolean };
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  detectors: {
    robustZ: { enabled: true, weight: 1 },
    cusum: { enabled: false, weight: 1, k: 0.5, cap: 50 },
    iforest: { enabled: true, weight: 1, trees: 100, sampleSize: 256, seed: 1 },
    pca: { enabled: true, weight: 1, varianceKept: 1, eigenFloorAbs: 0 },
  },
  combine: 'max',
  calibrationQuantile: 0.99,
  margin: 1.5,
  threshold: 0.5,
  hysteresis: 0.8,
  holdMs: 0,
  confirmMs: 0,
  smoothingMs: 0,
  scaleFloor: DEFAULT_SCALE_FLOOR,
  seasonal: 'off',
  seasonalMinPerBin: 30,
  seasonalUtcOffsetMin: 0,
  adaptive: { signals: [], tauMs: 600_000, protect: false },
};

/** Deep-merges a partial configuration over a base. */
export function mergeModelConfig(base: ModelConfig, over: PartialModelConfig | undefined): ModelConfig {
  if (!over) return base;
  const d = over.detectors ?? {};
  return {
    ...base,
    ...over,
    detectors: {
      robustZ: { ...base.detectors.robustZ, ...d.robustZ },
      cusum: { ...base.detectors.cusum, ...d.cusum },
      iforest: { ...base.detectors.iforest, ...d.iforest },
      pca: { ...base.detectors.pca, ...d.pca },
    },
    scaleFloor: { ...base.scaleFloor, ...over.scaleFloor },
    adaptive: { ...base.adaptive, ...over.adaptive, signals: [...(over.adaptive?.signals ?? base.adaptive.signals)] },
  };
}

export type PartialModelConfig = Partial<Omit<ModelConfig, 'detectors' | 'scaleFloor' | 'adaptive'>> & {
  detectors?: { [K in DetectorId]?: Partial<DetectorSettings[K]> };
  scaleFloor?: Partial<ScaleFloor>;
  adaptive?: Partial<ModelConfig['adaptive']>;
};

export interface FeatureSpec {
  name: string;
  signal: string;
}

/** One calibrated statistic: s = 1 − 2^(−max(0, (r − median) / ref)). */
export interface Calibration {
  median: number;
  ref: number;
}

export interface TrainingSample {
  t: number;
  x: ArrayLike<number>;
}

export interface ModelMeta {
  id: string;
  version: number;
  assetId?: string;
  assetClass?: string;
  state?: string;
}

export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  id: string;
  version: number;
  assetId?: string;
  assetClass?: string;
  state?: string;
  trainedAt: number;
  samples: number;
  spanMs: number;
  features: FeatureSpec[];
  config: ModelConfig;
  location: number[];
  scale: number[];
  seasonal?: SeasonalJSON;
  /** Indices of the features whose baseline adapts. */
  adaptive: number[];
  calibration: Partial<Record<'robustZ' | 'cusum' | 'iforest' | 't2' | 'q', Calibration>>;
  iforest?: IsolationForestJSON;
  pca?: PcaJSON;
}

export class ModelFormatError extends Error {
  readonly code: 'model_format' | 'model_version' | 'model_invalid';
  constructor(code: ModelFormatError['code'], message: string) {
    super(message);
    this.code = code;
    this.name = 'ModelFormatError';
  }
}

/** What one step of scoring gives back. */
export interface RawScore {
  score: number;
  anomalous: boolean;
  /** Calibrated score of each enabled detector. */
  detectors: Partial<Record<'robustZ' | 'cusum' | 'iforest' | 't2' | 'q', number>>;
  /** Per-signal shares (sum 1), only when explained. */
  contributions?: Record<string, number>;
  topSignal?: string;
}

/** State carried along a stream between scores; survives a retrain (smoothing is in raw units). */
export interface ModelStreamState {
  lastT: number | null;
  xs: number[] | null;
  drift: number[] | null;
  cusumPos: number[] | null;
  cusumNeg: number[] | null;
  anomalous: boolean;
  quietSince: number | null;
  aboveSince?: number | null;
  modelKey: string | null;
}

export class ModelStream {
  lastT: number | null = null;
  xs: Float64Array | null = null;
  /** Drift of adaptive features, raw units. */
  drift: Float64Array | null = null;
  cusumPos: Float64Array | null = null;
  cusumNeg: Float64Array | null = null;
  anomalous = false;
  /** Since when an anomalous stream's score has been below the exit level. */
  quietSince: number | null = null;
  /** Since when a normal stream's score has been at or above the threshold. */
  aboveSince: number | null = null;
  /** id@version of the model the z-space state (CUSUM) belongs to. */
  modelKey: string | null = null;

  toJSON(): ModelStreamState {
    const arr = (a: Float64Array | null) => (a ? Array.from(a) : null);
    return { lastT: this.lastT, xs: arr(this.xs), drift: arr(this.drift), cusumPos: arr(this.cusumPos), cusumNeg: arr(this.cusumNeg), anomalous: this.anomalous, quietSince: this.quietSince, aboveSince: this.aboveSince, modelKey: this.modelKey };
  }

  static from(s: Partial<ModelStreamState> | undefined): ModelStream {
    const m = new ModelStream();
    if (!s) return m;
    const arr = (a: unknown) => (Array.isArray(a) && a.every((v) => typeof v === 'number') ? Float64Array.from(a as number[]) : null);
    m.lastT = typeof s.lastT === 'number' ? s.lastT : null;
    m.xs = arr(s.xs);
    m.drift = arr(s.drift);
    m.cusumPos = arr(s.cusumPos);
    m.cusumNeg = arr(s.cusumNeg);
    m.anomalous = !!s.anomalous;
    m.quietSince = typeof s.quietSince === 'number' ? s.quietSince : null;
    m.aboveSince = typeof s.aboveSince === 'number' ? s.aboveSince : null;
    m.modelKey = typeof s.modelKey === 'string' ? s.modelKey : null;
    return m;
  }
}

type StatId = 'robustZ' | 'cusum' | 'iforest' | 't2' | 'q';

function calibrate(c: Calibration | undefined, r: number): number {
  if (!c) return 0;
  const u = (r - c.median) / c.ref;
  return u > 0 ? 1 - Math.pow(2, -u) : 0;
}

function fitCalibration(values: Float64Array, q: number, margin: number): Calibration {
  const sorted = values.slice().sort();
  const med = quantileSorted(sorted, 0.5);
  const hi = quantileSorted(sorted, q);
  const spread = Math.max(hi - med, Math.abs(med) * 1e-3, 1e-9);
  return { median: med, ref: margin * spread };
}

export class ScoringModel {
  readonly id: string;
  readonly version: number;
  readonly meta: ModelMeta;
  readonly features: FeatureSpec[];
  readonly config: ModelConfig;
  readonly trainedAt: number;
  readonly samples: number;
  readonly spanMs: number;
  private readonly location: Float64Array;
  private readonly scale: Float64Array;
  private readonly seasonal?: SeasonalJSON;
  private readonly adaptive: Int32Array;
  private readonly isAdaptive: Uint8Array;
  private readonly calibration: ModelJSON['calibration'];
  private readonly iforest?: IsolationForest;
  private readonly pca?: PcaModel;
  private readonly dims: number;
  private readonly signalIndex: { signal: string; features: number[] }[];
  // scratch
  private readonly z: Float64Array;
  private readonly zr: Float64Array;
  private readonly shareA: Float64Array;
  private readonly shareB: Float64Array;
  private readonly shareSum: Float64Array;
  private readonly residual: Float64Array;
  private beta = 0;

  private constructor(j: ModelJSON, iforest?: IsolationForest, pca?: PcaModel) {
    this.id = j.id;
    this.version = j.version;
    this.meta = { id: j.id, version: j.version, assetId: j.assetId, assetClass: j.assetClass, state: j.state };
    this.features = j.features.map((f) => ({ ...f }));
    this.config = j.config;
    this.trainedAt = j.trainedAt;
    this.samples = j.samples;
    this.spanMs = j.spanMs;
    this.dims = j.features.length;
    this.location = Float64Array.from(j.location);
    this.scale = Float64Array.from(j.scale);
    this.seasonal = j.seasonal;
    this.adaptive = Int32Array.from(j.adaptive);
    this.isAdaptive = new Uint8Array(this.dims);
    for (const i of j.adaptive) this.isAdaptive[i] = 1;
    this.calibration = j.calibration;
    this.iforest = iforest;
    this.pca = pca;
    const bySignal = new Map<string, number[]>();
    j.features.forEach((f, i) => {
      const list = bySignal.get(f.signal) ?? [];
      list.push(i);
      bySignal.set(f.signal, list);
    });
    this.signalIndex = [...bySignal].map(([signal, features]) => ({ signal, features }));
    this.z = new Float64Array(this.dims);
    this.zr = new Float64Array(this.dims);
    this.shareA = new Float64Array(this.dims);
    this.shareB = new Float64Array(this.dims);
    this.shareSum = new Float64Array(this.dims);
    this.residual = new Float64Array(this.dims);
  }

  /** Key of this model's z-space, for stream state. */
  get key(): string {
    return `${this.id}@${this.version}`;
  }

  /**
   * Fits a model on training samples in time order (raw feature vectors). The samples are
   * replayed through a fresh stream (smoothing, drift) exactly as live data will be, the
   * detectors are fitted on the standardised result, and each statistic is calibrated on it.
   * Returns the model and the stream state at the end of training (to continue live).
   */
  static fit(samples: TrainingSample[], features: FeatureSpec[], config: ModelConfig, meta: ModelMeta, trainedAt = samples.length ? samples[samples.length - 1].t : 0): { model: ScoringModel; stream: ModelStream } {
    const dims = features.length;
    if (dims < 1) throw new RangeError('model: no features to learn from');
    const n = samples.length;
    if (n < 2) throw new RangeError('model: needs at least 2 training samples');
    const columns = Array.from({ length: dims }, () => new Float64Array(n));
    const times = new Float64Array(n);
    samples.forEach((s, i) => {
      times[i] = s.t;
      for (let j = 0; j < dims; j++) columns[j][i] = s.x[j];
    });
    const base = fitRobust(columns, config.scaleFloor);
    const seasonal = config.seasonal !== 'off' ? fitSeasonal(config.seasonal, times, columns, base.location, config.seasonalMinPerBin, config.seasonalUtcOffsetMin) : undefined;
    const adaptive: number[] = [];
    features.forEach((f, i) => {
      if (config.adaptive.signals.some((s) => f.signal === s || f.signal.endsWith(`_${s}`) || f.signal.startsWith(`${s}_`))) adaptive.push(i);
    });
    const json: ModelJSON = {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      id: meta.id,
      version: meta.version,
      assetId: meta.assetId,
      assetClass: meta.assetClass,
      state: meta.state,
      trainedAt,
      samples: n,
      spanMs: times[n - 1] - times[0],
      features: features.map((f) => ({ name: f.name, signal: f.signal })),
      config,
      location: base.location,
      scale: base.scale,
      seasonal,
      adaptive,
      calibration: {},
    };
    // Pass 1: the standardised training vectors, through the same stream logic as live data.
    const stage = new ScoringModel(json);
    const stream = new ModelStream();
    const zs: Float64Array[] = [];
    const zrs: Float64Array[] = [];
    for (const s of samples) {
      stage.standardise(stream, s.t, s.x, true);
      zs.push(stage.z.slice());
      zrs.push(stage.zr.slice());
    }
    const d = config.detectors;
    const iforest = d.iforest.enabled ? IsolationForest.fit(flat(zs, dims), dims, { trees: d.iforest.trees, sampleSize: d.iforest.sampleSize, seed: d.iforest.seed }) : undefined;
    const pca = d.pca.enabled ? PcaModel.fit(zs, dims, { varianceKept: d.pca.varianceKept, eigenFloorAbs: d.pca.eigenFloorAbs }) : undefined;
    // Pass 2: calibration of every statistic on the training data.
    const stats: Record<StatId, Float64Array> = {
      robustZ: new Float64Array(n),
      cusum: new Float64Array(n),
      iforest: new Float64Array(n),
      t2: new Float64Array(n),
      q: new Float64Array(n),
    };
    const pos = new Float64Array(dims);
    const neg = new Float64Array(dims);
    for (let i = 0; i < n; i++) {
      const z = zs[i];
      let m = 0;
      for (let j = 0; j < dims; j++) m = Math.max(m, Math.abs(z[j]));
      stats.robustZ[i] = m;
      stats.cusum[i] = cusumStep(zrs[i], pos, neg, d.cusum.k, d.cusum.cap);
      if (iforest) stats.iforest[i] = iforest.score(z);
      if (pca) {
        const p = pca.stats(z);
        stats.t2[i] = p.t2;
        stats.q[i] = p.q;
      }
    }
    const cal = (id: StatId) => fitCalibration(stats[id], config.calibrationQuantile, config.margin);
    if (d.robustZ.enabled) json.calibration.robustZ = cal('robustZ');
    if (d.cusum.enabled) json.calibration.cusum = cal('cusum');
    if (iforest) json.calibration.iforest = cal('iforest');
    if (pca) {
      json.calibration.t2 = cal('t2');
      if (pca.k < dims) json.calibration.q = cal('q');
    }
    if (iforest) json.iforest = iforest.toJSON();
    if (pca) json.pca = pca.toJSON();
    const model = new ScoringModel(json, iforest, pca);
    // The live stream continues from the end of training, in the final model's z-space.
    stream.cusumPos = pos;
    stream.cusumNeg = neg;
    stream.modelKey = model.key;
    stream.anomalous = false;
    stream.quietSince = null;
    stream.aboveSince = null;
    return { model, stream };
  }

  /**
   * Smooths and standardises x into this.z (smoothed) and this.zr (unsmoothed). With
   * `learnNow` the adaptive baselines move at once (training); otherwise `adapt()` moves them
   * after the decision.
   */
  private standardise(stream: ModelStream, t: number, x: ArrayLike<number>, learnNow: boolean): void {
    const { dims, location, scale, z, zr, isAdaptive } = this;
    const cfg = this.config;
    if (!stream.xs || stream.xs.length !== dims) {
      stream.xs = Float64Array.from({ length: dims }, (_, j) => x[j]);
      stream.lastT = t;
    }
    if (!stream.drift || stream.drift.length !== dims) stream.drift = new Float64Array(dims);
    const dt = stream.lastT === null ? Infinity : Math.max(0, t - stream.lastT);
    const alpha = cfg.smoothingMs > 0 ? 1 - Math.exp(-dt / cfg.smoothingMs) : 1;
    const beta = this.adaptive.length && cfg.adaptive.tauMs > 0 ? 1 - Math.exp(-dt / cfg.adaptive.tauMs) : 0;
    this.beta = beta;
    stream.lastT = t;
    const xs = stream.xs;
    const drift = stream.drift;
    let bin = -1;
    if (this.seasonal) bin = seasonalBin(this.seasonal.mode, t, this.seasonal.utcOffsetMin) * dims;
    for (let j = 0; j < dims; j++) {
      const v = x[j];
      xs[j] += alpha * (v - xs[j]);
      const loc = (bin >= 0 ? this.seasonal!.location[bin + j] : location[j]) + drift[j];
      z[j] = (xs[j] - loc) / scale[j];
      zr[j] = (v - loc) / scale[j];
      if (isAdaptive[j]) {
        this.residual[j] = xs[j] - loc;
        if (learnNow) drift[j] += beta * this.residual[j];
      }
    }
  }

  /** Moves the adaptive baselines towards the last standardised observation. */
  private adapt(stream: ModelStream): void {
    const drift = stream.drift!;
    for (let k = 0; k < this.adaptive.length; k++) {
      const j = this.adaptive[k];
      drift[j] += this.beta * this.residual[j];
    }
  }

  /** The baseline (training median) of feature j, raw units. */
  baseline(j: number): number {
    return this.location[j];
  }

  /**
   * Scores one observation of a stream: smoothing, standardising, detectors, calibration,
   * combination and the decision with hysteresis. `explain`: true = per-signal contributions
   * always, 'anomalous' = only when the decision is anomalous (cheaper), false = never.
   * `learn` = false keeps adaptive baselines still (e.g. an observation labelled as a fault).
   */
  step(stream: ModelStream, t: number, x: ArrayLike<number>, explain: boolean | 'anomalous' = true, learn = true): RawScore {
    const { dims, zr, config } = this;
    const d = config.detectors;
    if (stream.modelKey !== this.key || !stream.cusumPos || stream.cusumPos.length !== dims) {
      stream.cusumPos = new Float64Array(dims);
      stream.cusumNeg = new Float64Array(dims);
      stream.modelKey = this.key;
    }
    // Each observation stands for the time since the previous one (1 s of a 1 Hz stream, a whole 60 s window).
    const covers = stream.lastT === null ? 0 : Math.max(0, t - stream.lastT);
    this.standardise(stream, t, x, false);
    const cusumRaw = d.cusum.enabled ? cusumStep(zr, stream.cusumPos, stream.cusumNeg!, d.cusum.k, d.cusum.cap) : 0;
    let out = this.evaluate(stream, cusumRaw, explain === true);
    const score = out.score;
    let anomalous: boolean;
    if (!stream.anomalous) {
      if (score >= config.threshold) {
        if (stream.aboveSince === null) stream.aboveSince = t;
        anomalous = t - stream.aboveSince + covers >= (config.confirmMs ?? 0);
      } else {
        stream.aboveSince = null;
        anomalous = false;
      }
      stream.quietSince = null;
    } else if (score >= config.threshold * config.hysteresis) {
      anomalous = true;
      stream.quietSince = null;
    } else {
      if (stream.quietSince === null) stream.quietSince = t;
      anomalous = t - stream.quietSince + covers < config.holdMs;
    }
    stream.anomalous = anomalous;
    // Adaptive baselines learn after the decision (not from a fault label; not while anomalous when protected).
    if (this.adaptive.length && learn && !(anomalous && config.adaptive.protect)) this.adapt(stream);
    if (explain === 'anomalous' && anomalous) out = this.evaluate(stream, cusumRaw, true);
    out.anomalous = anomalous;
    return out;
  }

  /** Detector statistics of the current standardised vector (this.z), calibrated and combined. */
  private evaluate(stream: ModelStream, cusumRaw: number, explain: boolean): RawScore {
    const { dims, z, config } = this;
    const d = config.detectors;
    const detectors: RawScore['detectors'] = {};
    const shares = this.shareSum;
    if (explain) shares.fill(0);
    let weightSum = 0;
    let combined = 0;
    let wSum = 0;
    const add = (id: StatId, s: number, weight: number, part: Float64Array | null) => {
      detectors[id] = s;
      if (config.combine === 'max') combined = Math.max(combined, s);
      else {
        combined += weight * s;
        wSum += weight;
      }
      if (explain && part && s > 0) {
        const w = s * weight;
        for (let j = 0; j < dims; j++) shares[j] += w * part[j];
        weightSum += w;
      }
    };
    if (d.robustZ.enabled) {
      let m = 0;
      let sum = 0;
      for (let j = 0; j < dims; j++) {
        const a = Math.abs(z[j]);
        if (a > m) m = a;
        if (explain) {
          this.shareA[j] = z[j] * z[j];
          sum += this.shareA[j];
        }
      }
      if (explain) for (let j = 0; j < dims; j++) this.shareA[j] = sum > 0 ? this.shareA[j] / sum : 0;
      add('robustZ', calibrate(this.calibration.robustZ, m), d.robustZ.weight, this.shareA);
    }
    if (d.cusum.enabled) {
      if (explain) {
        let sum = 0;
        for (let j = 0; j < dims; j++) sum += this.shareA[j] = Math.max(stream.cusumPos![j], stream.cusumNeg![j]);
        for (let j = 0; j < dims; j++) this.shareA[j] = sum > 0 ? this.shareA[j] / sum : 0;
      }
      add('cusum', calibrate(this.calibration.cusum, cusumRaw), d.cusum.weight, this.shareA);
    }
    if (this.iforest) {
      const r = explain ? this.iforest.explain(z, this.shareA) : this.iforest.score(z);
      add('iforest', calibrate(this.calibration.iforest, r), d.iforest.weight, this.shareA);
    }
    if (this.pca) {
      const p = explain ? this.pca.explain(z, this.shareA, this.shareB) : this.pca.stats(z);
      add('t2', calibrate(this.calibration.t2, p.t2), d.pca.weight, this.shareA);
      if (this.calibration.q) add('q', calibrate(this.calibration.q, p.q), d.pca.weight, this.shareB);
    }
    const score = config.combine === 'max' ? combined : wSum > 0 ? combined / wSum : 0;
    const out: RawScore = { score, anomalous: false, detectors };
    if (explain) {
      const contributions: Record<string, number> = {};
      let top: string | undefined;
      let best = -1;
      for (const { signal, features } of this.signalIndex) {
        let s = 0;
        if (weightSum > 0) for (const j of features) s += shares[j] / weightSum;
        contributions[signal] = s;
        if (s > best) {
          best = s;
          top = signal;
        }
      }
      out.contributions = contributions;
      out.topSignal = weightSum > 0 ? top : undefined;
    }
    return out;
  }

  toJSON(): ModelJSON {
    const j: ModelJSON = {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      id: this.id,
      version: this.version,
      trainedAt: this.trainedAt,
      samples: this.samples,
      spanMs: this.spanMs,
      features: this.features.map((f) => ({ ...f })),
      config: this.config,
      location: Array.from(this.location),
      scale: Array.from(this.scale),
      adaptive: Array.from(this.adaptive),
      calibration: { ...this.calibration },
    };
    if (this.meta.assetId !== undefined) j.assetId = this.meta.assetId;
    if (this.meta.assetClass !== undefined) j.assetClass = this.meta.assetClass;
    if (this.meta.state !== undefined) j.state = this.meta.state;
    if (this.seasonal) j.seasonal = this.seasonal;
    if (this.iforest) j.iforest = this.iforest.toJSON();
    if (this.pca) j.pca = this.pca.toJSON();
    return j;
  }

  /** Restores a model; throws ModelFormatError for another format, a newer version or a malformed model. */
  static fromJSON(input: unknown): ScoringModel {
    let json = input;
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json);
      } catch (e) {
        throw new ModelFormatError('model_format', `model: not JSON (${(e as Error).message})`);
      }
    }
    const j = json as ModelJSON;
    if (!j || typeof j !== 'object' || j.format !== MODEL_FORMAT) {
      throw new ModelFormatError('model_format', `model: not a ${MODEL_FORMAT} (format is ${JSON.stringify((j as { format?: unknown })?.format)})`);
    }
    if (!Number.isInteger(j.formatVersion) || j.formatVersion < 1) throw new ModelFormatError('model_invalid', 'model: formatVersion is missing');
    if (j.formatVersion > MODEL_FORMAT_VERSION) {
      throw new ModelFormatError(
        'model_version',
        `model ${j.id ?? ''} has format version ${j.formatVersion}, newer than this version of @pdm-twin/node-red-pdm understands (${MODEL_FORMAT_VERSION}): update the package where it scores, or export the model from a matching version`,
      );
    }
    const dims = Array.isArray(j.features) ? j.features.length : 0;
    const numbers = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));
    const ok =
      typeof j.id === 'string' && Number.isInteger(j.version) && dims > 0 &&
      j.features.every((f) => f && typeof f.name === 'string' && typeof f.signal === 'string') &&
      numbers(j.location, dims) && numbers(j.scale, dims) && j.scale.every((s) => s > 0) &&
      Array.isArray(j.adaptive) && j.adaptive.every((i) => Number.isInteger(i) && i >= 0 && i < dims) &&
      j.config && typeof j.config === 'object' && j.calibration && typeof j.calibration === 'object' &&
      Object.values(j.calibration).every((c) => c && Number.isFinite(c.median) && c.ref > 0) &&
      (!j.seasonal || numbers(j.seasonal.location, (j.seasonal.mode === 'hour' ? 24 : 168) * dims));
    if (!ok) throw new ModelFormatError('model_invalid', `model ${String(j.id)}: malformed (features, baseline or calibration)`);
    const config = mergeModelConfig(DEFAULT_MODEL_CONFIG, j.config as PartialModelConfig);
    let iforest: IsolationForest | undefined;
    let pca: PcaModel | undefined;
    try {
      if (j.iforest) iforest = IsolationForest.fromJSON(j.iforest);
      if (j.pca) pca = PcaModel.fromJSON(j.pca);
    } catch (e) {
      throw new ModelFormatError('model_invalid', `model ${j.id}: ${(e as Error).message}`);
    }
    if ((iforest && iforest.dims !== dims) || (pca && pca.dims !== dims)) throw new ModelFormatError('model_invalid', `model ${j.id}: detector dimensions do not match its features`);
    return new ScoringModel({ ...j, config }, iforest, pca);
  }
}

function cusumStep(z: ArrayLike<number>, pos: Float64Array, neg: Float64Array, k: number, cap: number): number {
  let m = 0;
  for (let j = 0; j < pos.length; j++) {
    pos[j] = Math.min(cap, Math.max(0, pos[j] + z[j] - k));
    neg[j] = Math.min(cap, Math.max(0, neg[j] - z[j] - k));
    const v = pos[j] > neg[j] ? pos[j] : neg[j];
    if (v > m) m = v;
  }
  return m;
}

function flat(rows: Float64Array[], dims: number): Float64Array {
  const out = new Float64Array(rows.length * dims);
  rows.forEach((r, i) => out.set(r, i * dims));
  return out;
}
