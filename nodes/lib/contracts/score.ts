/**
 * The Score contract (DESIGN.md "Contracts": Score): what pdm-anomaly sends on its first output and
 * pdm-replay computes per row. The TypeScript type is the anomaly core's own (nodes/lib/anomaly/
 * types.ts); this file is its JSON Schema, validated with the shared ajv. `ScoreShape` below is
 * checked against the core's type at compile time, so the two cannot drift apart silently.
 *
 *   {assetId, window: {start, end}, state, score ∈ [0, 1], anomalous, threshold, contributions,
 *    topSignal, model: {id, version} | null, status: learning | ready,
 *    masked?: transient | off | state, detectors?, learned?, warmup?}
 *
 * Everything is plain JSON: finite numbers, epoch milliseconds.
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from './ajv';
import { ASSET_ID_PATTERN } from './reading';
import { OPERATING_STATES } from '../twin/operating-state';
import type { Score, ScoreStatus } from '../anomaly/types';

export type { Score, ScoreStatus };

/** Why a window was not scored: it saw a startup or shutdown, the machine was off, or its state has no model. */
export type MaskReason = NonNullable<Score['masked']>;
export const MASK_REASONS: readonly MaskReason[] = ['transient', 'off', 'state', 'operating_point'];
export const SCORE_STATUSES: readonly ScoreStatus[] = ['learning', 'ready'];
/** Detectors that may report a calibrated score (see nodes/lib/anomaly/model.ts). */
export const DETECTOR_NAMES = ['robustZ', 'cusum', 'iforest', 't2', 'q'] as const;

const epoch = { type: 'number', minimum: 0, maximum: 8.64e15 };
const unit = { type: 'number', minimum: 0, maximum: 1 };
const count = { type: 'number', minimum: 0, maximum: 9.007199254740991e15 };

export const scoreSchema: SchemaObject = {
  $id: 'pdm-twin/score.json',
  title: 'Score',
  type: 'object',
  required: ['assetId', 'window', 'state', 'score', 'anomalous', 'threshold', 'contributions', 'topSignal', 'model', 'status'],
  additionalProperties: false,
  properties: {
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    window: {
      type: 'object',
      required: ['start', 'end'],
      additionalProperties: false,
      properties: { start: epoch, end: epoch },
    },
    state: { type: 'string', enum: [...OPERATING_STATES] },
    score: unit,
    anomalous: { type: 'boolean' },
    threshold: unit,
    /** Share of the score per signal (sum 1), empty while learning or masked. */
    contributions: { type: 'object', additionalProperties: unit },
    topSignal: { type: ['string', 'null'], maxLength: 128 },
    model: {
      type: ['object', 'null'],
      required: ['id', 'version'],
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1 }, version: { type: 'integer', minimum: 0 } },
    },
    status: { type: 'string', enum: [...SCORE_STATUSES] },
    masked: { type: 'string', enum: [...MASK_REASONS] },
    detectors: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(DETECTOR_NAMES.map((d) => [d, unit])),
    },
    learned: { type: 'boolean' },
    warmup: {
      type: 'object',
      required: ['samples', 'spanMs', 'minSamples', 'minSpanMs'],
      additionalProperties: false,
      properties: { samples: count, spanMs: count, minSamples: count, minSpanMs: count },
    },
  },
};

export const validateScore = ajv.compile<Score>(scoreSchema);

/** Returns undefined when `candidate` is a valid Score, else the first problem. */
export function scoreProblem(candidate: unknown): string | undefined {
  return validateScore(candidate) ? undefined : describeErrors(validateScore.errors);
}

// ---- compile-time mirror check ---------------------------------------------------------------
/** The fields the schema lists; a change to the core's Score that the schema misses fails to compile here. */
type ScoreShape = {
  assetId: string;
  window: { start: number; end: number };
  state: Score['state'];
  score: number;
  anomalous: boolean;
  threshold: number;
  contributions: Record<string, number>;
  topSignal: string | null;
  model: { id: string; version: number } | null;
  status: ScoreStatus;
  masked?: MaskReason;
  detectors?: Record<string, number>;
  learned?: boolean;
  warmup?: { samples: number; spanMs: number; minSamples: number; minSpanMs: number };
};
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const mirrors: Same<ScoreShape, Score> = true;
void mirrors;
