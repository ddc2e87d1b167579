/**
 * Tag maps: OPC UA NodeIds, topics or gateway JSON paths → signal, unit and scaling. The
 * counterpart of the register map for sources that already deliver named values.
 */
import type { SchemaObject } from 'ajv';
import { ajv, describeErrors } from '../contracts/ajv';
import { SIGNAL_NAME_PATTERN } from '../signals';
import { splitNodeIdTopic } from './detect';

export interface TagEntry {
  /** NodeId (`ns=3;s=Motor.Temp`), topic or gateway path (`motor.temp`). */
  address: string;
  signal: string;
  unit?: string;
  scale?: number;
  bias?: number;
}

export interface CompiledTag extends Readonly<Required<TagEntry>> {}

export interface TagMap {
  readonly entries: readonly CompiledTag[];
  lookup(address: string): CompiledTag | undefined;
}

const tagSchema: SchemaObject = {
  $id: 'pdm-twin/tag-entry.json',
  type: 'object',
  required: ['address', 'signal'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 1024 },
    signal: { type: 'string', pattern: SIGNAL_NAME_PATTERN },
    unit: { type: 'string', maxLength: 32 },
    scale: { type: 'number' },
    bias: { type: 'number' },
  },
};
const validateTag = ajv.compile<TagEntry>(tagSchema);

/**
 * One spelling per address: the `;datatype=` tail goes, and namespace 0 is implicit
 * (`ns=0;i=2258` and `i=2258` are the same node).
 */
export function normaliseAddress(address: string): string {
  return splitNodeIdTopic(address.trim()).nodeId.replace(/^ns=0;/, '');
}

export function compileTagMap(input: unknown): { ok: true; map: TagMap } | { ok: false; errors: string[] } {
  if (!Array.isArray(input)) return { ok: false, errors: ['tag map must be an array of entries'] };
  const errors: string[] = [];
  const byAddress = new Map<string, CompiledTag>();
  input.forEach((raw: unknown, i) => {
    if (!validateTag(raw)) {
      errors.push(`entry ${i + 1}: ${describeErrors(validateTag.errors)}`);
      return;
    }
    if (raw.scale === 0) {
      errors.push(`entry ${i + 1} (${raw.signal}): scale must not be 0`);
      return;
    }
    const key = normaliseAddress(raw.address);
    if (byAddress.has(key)) {
      errors.push(`entry ${i + 1} (${raw.signal}): address ${key} is mapped twice`);
      return;
    }
    byAddress.set(key, { address: key, signal: raw.signal, unit: raw.unit ?? '', scale: raw.scale ?? 1, bias: raw.bias ?? 0 });
  });
  if (errors.length) return { ok: false, errors };
  const entries = [...byAddress.values()];
  return { ok: true, map: { entries, lookup: (address) => byAddress.get(normaliseAddress(address)) } };
}
