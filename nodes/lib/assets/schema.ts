/**
 * JSON Schema for AssetConfig (one asset as configured), compiled once on the shared ajv, plus the
 * checks a schema cannot express (a range's min ≤ max, threshold order). Problems read as one
 * line a plant engineer can act on, e.g. `nameplate.ratedCurrentA must be > 0`.
 */
import type { ErrorObject, SchemaObject } from 'ajv';
import { ajv } from '../contracts/ajv';
import { ASSET_ID_PATTERN } from '../contracts/reading';
import { SIGNAL_NAME_PATTERN } from '../signals';
import { ASSET_CLASS_IDS } from './classes';
import type { AssetConfig } from './types';

/** Stable codes, so a node can key its message catalog on them instead of parsing English. */
export type AssetErrorCode =
  | 'invalid_config'
  | 'unknown_class'
  | 'invalid_signal'
  | 'unknown_signal'
  | 'limits_without_sensor'
  | 'inconsistent_thresholds'
  | 'inconsistent_limits';

export class AssetConfigError extends Error {
  constructor(
    readonly code: AssetErrorCode,
    message: string,
    readonly assetId?: string,
  ) {
    super(message);
    this.name = 'AssetConfigError';
  }
}

/** ISA-95 levels become topic segments: 1–128 characters, no separators or wildcards, no outer spaces. */
export const PATH_LEVEL_PATTERN = '^[^/+#\\s]([^/+#]{0,126}[^/+#\\s])?$';

const positive = { type: 'number', exclusiveMinimum: 0, maximum: 1e7 };
const fraction = { type: 'number', minimum: 0, maximum: 1 };
const durationMs = { type: 'integer', minimum: 0, maximum: 3_600_000 };
const level = { type: 'string', pattern: PATH_LEVEL_PATTERN };

export const signalLimitsSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    range: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], minItems: 2, additionalItems: false },
    warning: { type: 'number' },
    action: { type: 'number' },
    warningLow: { type: 'number' },
    actionLow: { type: 'number' },
  },
};

export const vibrationPresetSchema: SchemaObject = {
  type: 'object',
  required: ['standard'],
  additionalProperties: false,
  properties: {
    standard: { type: 'string', enum: ['ISO 10816-1', 'ISO 10816-3'] },
    machineClass: { type: 'string', enum: ['I', 'II', 'III', 'IV'] },
    group: { type: 'integer', enum: [1, 2] },
    foundation: { type: 'string', enum: ['rigid', 'flexible'] },
  },
  // 10816-1 is read by machine class, 10816-3 by group and foundation: never a mix of both.
  if: { properties: { standard: { const: 'ISO 10816-1' } } },
  then: { required: ['machineClass'], properties: { machineClass: true, group: false, foundation: false } },
  else: {
    if: { properties: { standard: { const: 'ISO 10816-3' } } },
    then: { required: ['group', 'foundation'], properties: { group: true, foundation: true, machineClass: false } },
  },
};

export const assetConfigSchema: SchemaObject = {
  $id: 'pdm-twin/asset-config.json',
  title: 'AssetConfig',
  type: 'object',
  required: ['id', 'assetClass'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: ASSET_ID_PATTERN },
    name: { type: 'string', minLength: 1, maxLength: 256 },
    path: {
      type: 'object',
      additionalProperties: false,
      properties: { site: level, area: level, line: level },
    },
    assetClass: { type: 'string', enum: [...ASSET_CLASS_IDS] },
    nameplate: {
      type: 'object',
      additionalProperties: false,
      properties: { ratedCurrentA: positive, ratedPowerKW: positive, ratedSpeedRpm: positive, ratedVoltageV: positive },
    },
    sensors: { type: 'array', maxItems: 64, uniqueItems: true, items: { type: 'string', pattern: SIGNAL_NAME_PATTERN } },
    stateThresholds: {
      type: 'object',
      additionalProperties: false,
      properties: {
        offBelow: fraction,
        idleBelow: fraction,
        overloadAbove: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
        startupMs: durationMs,
        shutdownMs: durationMs,
        speedRunningAbove: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      },
    },
    limits: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: SIGNAL_NAME_PATTERN },
      additionalProperties: signalLimitsSchema,
    },
    presets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        vibration: vibrationPresetSchema,
        insulationClass: { type: 'string', enum: ['A', 'B', 'F', 'H'] },
        currentUnbalanceLimitPct: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
      },
    },
  },
};

export const validateAssetConfig = ajv.compile<AssetConfig>(assetConfigSchema);

/** `/limits/vibration_velocity/range/0` → `limits.vibration_velocity.range[0]`. */
function fieldOf(instancePath: string): string {
  if (!instancePath) return 'the asset';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

const PATTERN_HINTS: [RegExp, string][] = [
  [/^\/id$/, 'must be 1–128 characters without / + # and not start with a space'],
  [/^\/path\//, 'must be 1–128 characters without / + # and without leading or trailing spaces'],
  [/^\/sensors\//, 'must be a signal name: a letter, then up to 63 letters, digits, _ . or -'],
];

/** One ajv error as a line an engineer can act on. */
export function describeAssetError(error: ErrorObject): string {
  const field = fieldOf(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.propertyName !== undefined) return `${field} has an invalid signal name "${error.propertyName}"`;
  switch (error.keyword) {
    case 'required':
      return `${field === 'the asset' ? 'the asset' : field} is missing "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `${field} has an unknown field "${String(params.additionalProperty)}"`;
    case 'false schema':
      return `${field} is not allowed here`;
    case 'enum':
      return `${field} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern': {
      const hint = PATTERN_HINTS.find(([re]) => re.test(error.instancePath));
      return `${field} ${hint ? hint[1] : error.message ?? 'is invalid'}`;
    }
    case 'uniqueItems': {
      const [a, b] = [Number(params.i), Number(params.j)].sort((x, y) => x - y);
      return `${field} lists the same signal twice (positions ${a + 1} and ${b + 1})`;
    }
    case 'if':
      return `${field} must be {standard: "ISO 10816-1", machineClass} or {standard: "ISO 10816-3", group, foundation}`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

/** Checks the schema cannot express; `config` is already schema-valid. */
function semanticProblem(config: AssetConfig): string | undefined {
  for (const [signal, limits] of Object.entries(config.limits ?? {})) {
    if (limits.range && !(limits.range[0] <= limits.range[1])) {
      return `limits.${signal}.range must be [min, max] with min ≤ max (got [${limits.range.join(', ')}])`;
    }
  }
  const t = config.stateThresholds ?? {};
  const order = (['offBelow', 'idleBelow', 'overloadAbove'] as const).filter((k) => t[k] !== undefined);
  for (let i = 1; i < order.length; i++) {
    const [lo, hi] = [order[i - 1], order[i]];
    if (!((t[lo] as number) < (t[hi] as number))) return `stateThresholds.${lo} (${t[lo]}) must be below stateThresholds.${hi} (${t[hi]})`;
  }
  return undefined;
}

/** Undefined when `candidate` is a valid AssetConfig, else the first problem as one readable line. */
export function assetConfigProblem(candidate: unknown): string | undefined {
  if (!validateAssetConfig(candidate)) {
    const first = validateAssetConfig.errors?.[0];
    return first ? describeAssetError(first) : 'the asset is invalid';
  }
  return semanticProblem(candidate);
}

/** Throws AssetConfigError('invalid_config') unless `candidate` is a valid AssetConfig. */
export function assertAssetConfig(candidate: unknown): asserts candidate is AssetConfig {
  const problem = assetConfigProblem(candidate);
  if (problem !== undefined) {
    const id = candidate && typeof candidate === 'object' ? (candidate as { id?: unknown }).id : undefined;
    throw new AssetConfigError('invalid_config', problem, typeof id === 'string' ? id : undefined);
  }
}
