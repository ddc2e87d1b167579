/**
 * The pure side of pdm-anomaly (no Node-RED): the editor settings turned into anomaly-core
 * options, the feature-window input contract, and the persisted form of one model key.
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from '../lib/contracts/ajv';
import { ASSET_ID_PATTERN, MAX_MAGNITUDE } from '../lib/contracts/reading';
import { SIGNAL_NAME_PATTERN } from '../lib/signals';
import { OPERATING_STATES } from '../lib/twin/operating-state';
import { isAssetClassId } from '../lib/assets/classes';
import type { AssetClassId } from '../lib/assets/types';
import type { FeatureWindow } from '../lib/twin/feature-window';
import { anomalyDefaults, mergeAnomalyOptions, type AnomalyOptions, type PartialAnomalyOptions, type ScorerState, type WindowStat } from '../lib/anomaly';
import { escapeKey, unescapeKey } from '../lib/persistence';

export const STATS: readonly WindowStat[] = ['mean', 'rms', 'std', 'slope'];
export const HOUR_MS = 3_600_000;

/**
 * Which detectors score: all three combined by max (default), or one alone.
 *  combined  robust z + isolation forest + Hotelling T² (one far signal, odd combinations, joint shifts)
 *  robustZ   robust z alone: few, independent signals; the easiest to explain
 *  iforest   isolation forest alone: many signals with non-linear relations between them
 *  pca       PCA T² + Q alone: many correlated signals (Q catches a broken correlation)
 */
export type Method = 'combined' | 'robustZ' | 'iforest' | 'pca';
export const METHODS: readonly Method[] = ['combined', 'robustZ', 'iforest', 'pca'];

export interface AnomalySettingsInput {
  method?: unknown;
  scope?: unknown;
  assetClass?: unknown;
  features?: unknown;
  warmupWindows?: unknown;
  warmupHours?: unknown;
  threshold?: unknown;
  retrainHours?: unknown;
  seed?: unknown;
}

export interface AnomalySettings {
  method: Method;
  scope: 'asset' | 'class';
  assetClass: AssetClassId;
  stats: WindowStat[];
  warmupWindows: number;
  warmupHours: number;
  threshold: number;
  retrainHours: number;
  seed: number;
  /** Core options: the class defaults with these settings over them. */
  options: AnomalyOptions;
}

/** What a saved model must have been learned with to be used again (features and scope). */
export interface Signature {
  stats: string;
  scope: 'asset' | 'class';
}

/** How the model is trained; when it differs from a restored model's, the model is retrained. */
export interface TrainingSignature {
  method: Method;
  threshold: number;
  seed: number;
}

const num = (v: unknown): number => (v === '' || v === null || v === undefined || typeof v === 'boolean' ? NaN : Number(v));
const pick = (v: unknown, ok: (n: number) => boolean, fallback: number): number => {
  const n = num(v);
  return Number.isFinite(n) && ok(n) ? n : fallback;
};

/** "mean,std" → ['mean', 'std'] in the canonical order; unknown names are dropped, none → ['mean']. */
export function parseStats(v: unknown): WindowStat[] {
  const want = new Set(String(v ?? '').split(/[\s,]+/).filter(Boolean));
  const stats = STATS.filter((s) => want.has(s));
  return stats.length ? stats : ['mean'];
}

/**
 * The node's settings: invalid values fall back to the class defaults (the editor refuses them
 * first). Feature windows are aggregates already, so the core's input smoothing and its
 * confirmation time (both meant for 1 Hz rows) are off: one window is one decision.
 */
export function parseSettings(config: AnomalySettingsInput): AnomalySettings {
  const assetClass: AssetClassId = isAssetClassId(config.assetClass) ? config.assetClass : 'pump';
  const base = anomalyDefaults(assetClass);
  const scope = config.scope === 'class' ? 'class' : 'asset';
  const warmupWindows = Math.round(pick(config.warmupWindows, (n) => n >= 2 && n <= 100_000, base.warmup.minSamples));
  const warmupHours = pick(config.warmupHours, (n) => n >= 0 && n <= 8784, base.warmup.minSpanMs / HOUR_MS);
  const threshold = pick(config.threshold, (n) => n > 0 && n < 1, base.model.threshold);
  const retrainHours = pick(config.retrainHours, (n) => n >= 0 && n <= 8784, base.retrain.everyMs / HOUR_MS);
  const seed = Math.trunc(pick(config.seed, (n) => Number.isSafeInteger(n), base.model.detectors.iforest.seed));
  const stats = parseStats(config.features);
  const method: Method = METHODS.includes(config.method as Method) ? (config.method as Method) : 'combined';
  const on = (m: Method): boolean => method === 'combined' || method === m;
  const over: PartialAnomalyOptions = {
    pooling: scope,
    warmup: { minSamples: warmupWindows, minSpanMs: warmupHours * HOUR_MS },
    // A retrain needs as many new normal windows as the warm-up does; the buffer holds at least that.
    retrain: { everyMs: retrainHours * HOUR_MS, minNewSamples: warmupWindows },
    bufferSize: Math.max(base.bufferSize, warmupWindows),
    learnBelow: threshold * base.model.hysteresis,
    model: {
      threshold,
      smoothingMs: 0,
      confirmMs: 0,
      detectors: {
        robustZ: { enabled: on('robustZ') },
        iforest: { enabled: on('iforest'), seed },
        // Combined: Hotelling T² over all components; alone: PCA T² on the components that keep 95 % of the variance, plus Q on the rest.
        pca: method === 'pca' ? { enabled: true, varianceKept: 0.95 } : { enabled: on('pca') },
      },
    },
  };
  const options = mergeAnomalyOptions(base, over);
  return { method, scope, assetClass, stats, warmupWindows, warmupHours, threshold, retrainHours, seed, options };
}

export function signatureOf(s: AnomalySettings): Signature {
  return { stats: s.stats.join(','), scope: s.scope };
}

export function trainingSignatureOf(s: AnomalySettings): TrainingSignature {
  return { method: s.method, threshold: s.threshold, seed: s.seed };
}

// ---- input: feature windows ------------------------------------------------------------------

const finite = { type: 'number', minimum: -MAX_MAGNITUDE, maximum: MAX_MAGNITUDE };
const epoch = { type: 'number', minimum: 0, maximum: 8.64e15 };

/** A FeatureWindow as pdm-twin sends it (output 2); extra properties are allowed (forward compatible). */
export const featureWindowSchema: SchemaObject = {
  $id: 'pdm-twin/anomaly-feature-window.json',
  title: 'FeatureWindow (as pdm-anomaly reads it)',
  type: 'object',
  required: ['assetId', 'start', 'end', 'state', 'features'],
  additionalProperties: true,
  properties: {
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    assetClass: { type: 'string' },
    start: epoch,
    end: epoch,
    state: { type: 'string', enum: [...OPERATING_STATES] },
    stateMs: { type: 'object' },
    transient: { type: 'boolean' },
    features: {
      type: 'object',
      minProperties: 1,
      maxProperties: 64,
      propertyNames: { pattern: SIGNAL_NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: true,
        properties: { n: { type: 'number', minimum: 0 }, mean: finite, rms: finite, min: finite, max: finite, std: finite, slope: finite },
      },
    },
  },
};
const validateWindow = ajv.compile<FeatureWindow>(featureWindowSchema);

export type WindowProblem = { code: 'not_a_window' | 'window_order' | 'no_features'; error?: string };

/** Undefined when `item` is a feature window with at least one of `stats` for some signal. */
export function windowProblem(item: unknown, stats: readonly WindowStat[]): WindowProblem | undefined {
  if (!validateWindow(item)) return { code: 'not_a_window', error: describeErrors(validateWindow.errors) };
  const w = item as FeatureWindow;
  if (w.end < w.start) return { code: 'window_order' };
  for (const f of Object.values(w.features)) {
    for (const s of stats) if (typeof f[s] === 'number' && Number.isFinite(f[s])) return undefined;
  }
  return { code: 'no_features', error: stats.join(', ') };
}

// ---- persistence -----------------------------------------------------------------------------

/** What the node saves per model key (an asset id, or class:<id> when pooled). */
export interface SavedKey {
  v: 1;
  sig: Signature;
  training: TrainingSignature;
  scorer: ScorerState;
  /** Topic prefix (`<root>/<site>/<area>/<line>/<asset>`) of the assets seen on this key. */
  topics: Record<string, string>;
}

export function isSavedKey(v: unknown): v is SavedKey {
  const s = v as SavedKey;
  return !!s && typeof s === 'object' && s.v === 1 && !!s.sig && !!s.scorer && typeof s.scorer === 'object';
}

/** One context key per model key: `anomaly:<escaped model key>` (nodes/lib/persistence). */
const KEY_PREFIX = 'anomaly:';
export const contextKeyOf = (key: string): string => escapeKey(KEY_PREFIX, key);
export const isContextKey = (k: unknown): k is string => typeof k === 'string' && k.startsWith(KEY_PREFIX);
export const modelKeyOf = (contextKey: string): string => unescapeKey(KEY_PREFIX, contextKey);
