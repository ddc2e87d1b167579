/**
 * The partition map's JSON Schema (structure only; cross-references are checked in map.ts).
 *
 *   {
 *     "instances": ["edge-a", {"name": "edge-b", "weight": 2}],
 *     "assets":    {"P-101": "edge-a"},                 exact asset ids
 *     "paths":     {"plant1/press": "edge-b"},          ISA-95 prefixes: site, site/area or site/area/line
 *     "default":   "hash"                               unlisted assets: "hash", an instance name, or
 *   }                                                   "none" (a closed map: nobody handles them)
 */
import type { SchemaObject } from 'ajv';
import { ajv } from '../contracts/ajv';
import { ASSET_ID_PATTERN } from '../contracts/reading';

/** Instance names appear in statuses, logs and env vars: a plain token. */
export const INSTANCE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** One to three topic levels (site, area, line) without wildcards, separators at the ends or blanks. */
export const PATH_PREFIX_PATTERN = '^[^/+#\\s]+(/[^/+#\\s]+){0,2}$';
/** The `default` rule that spreads unlisted assets over all instances by rendezvous hashing. */
export const HASH_RULE = 'hash';
/** The `default` rule of a closed map: unlisted assets belong to nobody, so nobody subscribes to everything. */
export const NONE_RULE = 'none';

export interface InstanceEntry {
  name: string;
  weight?: number;
}

export interface PartitionMapInput {
  instances: Array<string | InstanceEntry>;
  assets?: Record<string, string>;
  paths?: Record<string, string>;
  default?: string;
}

const instanceName = { type: 'string', pattern: INSTANCE_NAME_PATTERN };

export const partitionMapSchema: SchemaObject = {
  $id: 'pdm-twin/partition-map.json',
  title: 'Partition map',
  type: 'object',
  required: ['instances'],
  additionalProperties: false,
  properties: {
    instances: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        anyOf: [
          instanceName,
          {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: instanceName, weight: { type: 'number', exclusiveMinimum: 0, maximum: 1000 } },
          },
        ],
      },
    },
    assets: { type: 'object', propertyNames: { pattern: ASSET_ID_PATTERN }, additionalProperties: instanceName },
    paths: { type: 'object', propertyNames: { pattern: PATH_PREFIX_PATTERN }, additionalProperties: instanceName },
    default: instanceName,
  },
};

export const validatePartitionMap = ajv.compile<PartitionMapInput>(partitionMapSchema);
