import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from './ajv';
import { SIGNAL_NAME_PATTERN } from '../signals';

export type Quality = 'good' | 'uncertain' | 'bad';
export const QUALITIES: readonly Quality[] = ['good', 'uncertain', 'bad'];

/** Where a reading came from and what it looked like before normalisation. */
export interface ReadingSource {
  protocol?: string;
  address?: string;
  node?: string;
  originalUnit?: string;
  originalValue?: number;
  /** ISO 10816 severity zone of a vibration velocity reading (pdm-retrofit). */
  zone?: { zone: 'A' | 'B' | 'C' | 'D'; preset: string; standard: string; limits: readonly [number, number, number] };
  [key: string]: unknown;
}

/** The canonical reading every pdm node exchanges (DESIGN.md "Contracts"). */
export interface Reading {
  assetId: string;
  signal: string;
  value: number;
  unit: string;
  /** Epoch milliseconds. */
  ts: number;
  quality: Quality;
  /** Why quality is not `good`, e.g. "out_of_range" or "stuck". */
  qualityReason?: string;
  /** Replayed after a connectivity gap (pdm-buffer): live views should not treat it as current. */
  historical?: boolean;
  source?: ReadingSource;
}

/** No physical reading comes near this; beyond it, squares in the statistics would overflow. */
export const MAX_MAGNITUDE = 1e15;

/** Asset ids become a topic segment: no MQTT wildcards or separators. */
export const ASSET_ID_PATTERN = '^[^/+#\\s][^/+#]{0,127}$';

export const readingSchema: SchemaObject = {
  $id: 'pdm-twin/reading.json',
  title: 'Reading',
  type: 'object',
  required: ['assetId', 'signal', 'value', 'unit', 'ts', 'quality'],
  additionalProperties: false,
  properties: {
    assetId: { type: 'string', pattern: ASSET_ID_PATTERN },
    signal: { type: 'string', pattern: SIGNAL_NAME_PATTERN },
    value: { type: 'number', minimum: -MAX_MAGNITUDE, maximum: MAX_MAGNITUDE },
    unit: { type: 'string', maxLength: 32 },
    ts: { type: 'integer', minimum: 0 },
    quality: { type: 'string', enum: ['good', 'uncertain', 'bad'] },
    qualityReason: { type: 'string' },
    historical: { type: 'boolean' },
    source: {
      type: 'object',
      additionalProperties: true,
      properties: {
        protocol: { type: 'string' },
        address: { type: 'string' },
        node: { type: 'string' },
        originalUnit: { type: 'string' },
        originalValue: { type: 'number' },
        zone: {
          type: 'object',
          required: ['zone', 'preset', 'standard', 'limits'],
          properties: {
            zone: { type: 'string', enum: ['A', 'B', 'C', 'D'] },
            preset: { type: 'string' },
            standard: { type: 'string' },
            limits: { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 },
          },
        },
      },
    },
  },
};

export const validateReading = ajv.compile<Reading>(readingSchema);

/** Returns undefined when `candidate` is a valid Reading, else the first problem. */
export function readingProblem(candidate: unknown): string | undefined {
  return validateReading(candidate) ? undefined : describeErrors(validateReading.errors);
}
