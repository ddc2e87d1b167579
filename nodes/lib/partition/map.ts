/**
 * The partition map: which Node-RED instance owns which asset. Pure and deterministic, so every
 * instance that loads the same map computes the same owner for every asset without talking to
 * the others; a reading, its twin, its model and its alerts therefore live on exactly one instance.
 *
 * Ownership, first rule that applies:
 *   1. `assets[<asset id>]`                     an explicit assignment;
 *   2. `paths[<site>/<area>/<line> prefix]`     the longest matching ISA-95 prefix;
 *   3. `default`                                an instance name, or "hash" (the default):
 *                                               rendezvous hashing over the weighted instances, or
 *                                               "none": a closed map, unlisted assets have no owner.
 *
 * Asset ids and path levels are compared as topic levels (topicSegment: blanks become `_`), the
 * form the asset has in the unified namespace, so a reading identified by its payload and one
 * identified by its topic always get the same owner.
 */
import type { ErrorObject } from 'ajv';
import { isValidRootTopic, topicSegment, type AssetPath } from '../topic';
import { rendezvousOwner, type Candidate } from './rendezvous';
import { HASH_RULE, NONE_RULE, validatePartitionMap, type PartitionMapInput } from './schema';

/** An instance name; null when a closed map gives the asset to nobody; undefined when a path is needed. */
export type Owner = string | null | undefined;

export type ParseResult = { ok: true; map: PartitionMap } | { ok: false; errors: string[] };

/** Which topics an instance subscribes to: raw readings, clean readings or every kind under an asset. */
export type SubscribeKind = 'raw' | 'clean' | 'all';

const CACHE_LIMIT = 10_000;

/** A readable line for the first schema violation, naming where it is. */
function schemaProblem(errors: ErrorObject[] | null | undefined): string {
  const list = errors ?? [];
  // For "name or {name, weight}" the anyOf summary reads better than its branches' details.
  const error = list.find((e) => e.keyword === 'anyOf') ?? list[0];
  if (!error) return 'the partition map is invalid';
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${JSON.stringify(part).slice(1, -1)}` : part), '');
  const at = where ? `${where}: ` : '';
  const params = error.params as Record<string, unknown>;
  const badKey = (key: string) =>
    `${at}"${key}" is not a valid ${where === 'paths' ? 'path prefix (site, site/area or site/area/line, no wildcards or blanks)' : 'asset id (no / + # and not blank)'}`;
  switch (error.keyword) {
    case 'required':
      return `${at}missing "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `${at}unknown key "${String(params.additionalProperty)}" (allowed: instances, assets, paths, default)`;
    case 'anyOf':
      return `${at}must be an instance name or {"name": …, "weight": > 0}`;
    case 'propertyNames':
      return badKey(String(params.propertyName));
    case 'pattern':
      if (error.propertyName !== undefined) return badKey(error.propertyName);
      return `${at}"${String(error.data)}" is not a valid instance name (letters, digits, _ . -, up to 64, starting with a letter or digit)`;
    case 'minItems':
      return `${at}list at least one instance`;
    default:
      return `${at}${error.message ?? 'is invalid'}`;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: false, error: 'the partition map is empty' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `the partition map is not JSON: ${(err as Error).message}` };
  }
}

/** Validates a map given as JSON text or as an object; every cross-reference problem is listed. */
export function parsePartitionMap(input: unknown): ParseResult {
  let value = input;
  if (typeof input === 'string') {
    const parsed = parseJson(input);
    if (!parsed.ok) return { ok: false, errors: [parsed.error] };
    value = parsed.value;
  }
  if (!validatePartitionMap(value)) return { ok: false, errors: [schemaProblem(validatePartitionMap.errors)] };
  const raw = value as PartitionMapInput;
  const errors: string[] = [];

  const instances: Candidate[] = [];
  const seen = new Set<string>();
  for (const entry of raw.instances) {
    const { name, weight = 1 } = typeof entry === 'string' ? { name: entry } : entry;
    if (name === HASH_RULE || name === NONE_RULE) errors.push(`instance name "${name}" is reserved for the default rule`);
    else if (seen.has(name)) errors.push(`instance "${name}" is listed twice`);
    seen.add(name);
    instances.push({ name, weight });
  }
  const known = `(instances: ${[...seen].join(', ')})`;
  const checkTarget = (where: string, target: string) => {
    if (!seen.has(target)) errors.push(`${where} names instance "${target}", which is not in instances ${known}`);
  };

  const assets = new Map<string, string>();
  const assetKeyOf = new Map<string, string>();
  for (const [assetId, target] of Object.entries(raw.assets ?? {})) {
    checkTarget(`assets["${assetId}"]`, target);
    const key = topicSegment(assetId);
    const earlier = assetKeyOf.get(key);
    if (earlier !== undefined) errors.push(`assets "${earlier}" and "${assetId}" are the same asset in the topic namespace ("${key}")`);
    assetKeyOf.set(key, assetId);
    assets.set(key, target);
  }
  const paths = new Map<string, string>();
  for (const [prefix, target] of Object.entries(raw.paths ?? {})) {
    checkTarget(`paths["${prefix}"]`, target);
    paths.set(prefix, target);
  }
  const defaultRule = raw.default ?? HASH_RULE;
  if (defaultRule !== HASH_RULE && defaultRule !== NONE_RULE) checkTarget('default', defaultRule);
  if (defaultRule === NONE_RULE && assets.size === 0 && paths.size === 0) errors.push('a closed map ("default": "none") must list assets or paths');

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, map: new PartitionMap(instances, assets, paths, defaultRule) };
}

export class PartitionMap {
  /** Sorted by name: nothing below depends on the order the map listed them in. */
  readonly instances: readonly Candidate[];
  private readonly cache = new Map<string, Owner>();

  constructor(
    instances: Candidate[],
    /** Keyed by the asset's topic level. */
    readonly assets: ReadonlyMap<string, string>,
    /** Keyed by "site", "site/area" or "site/area/line". */
    readonly paths: ReadonlyMap<string, string>,
    readonly defaultRule: string,
  ) {
    this.instances = [...instances].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  has(instance: string): boolean {
    return this.instances.some((c) => c.name === instance);
  }

  get names(): string[] {
    return this.instances.map((c) => c.name);
  }

  /** True when ownership can depend on the ISA-95 path, so a reading without one cannot be placed. */
  get needsPath(): boolean {
    return this.paths.size > 0;
  }

  /**
   * The instance that owns `assetId`; null for an unlisted asset of a closed map. Undefined only
   * when the map has path rules, the asset has no rule of its own and no path is known: guessing
   * could give the asset two owners.
   */
  ownerOf(assetId: string, path?: AssetPath): Owner {
    const assetKey = topicSegment(assetId);
    const explicit = this.assets.get(assetKey);
    if (explicit !== undefined) return explicit;
    if (!this.needsPath) return this.defaultOwner(assetKey);
    if (path === undefined) return undefined;
    const levels = [topicSegment(path.site), topicSegment(path.area), topicSegment(path.line)];
    const cacheKey = `${assetKey}\u0000${levels.join('/')}`;
    if (this.cache.has(cacheKey)) return this.cache.get(cacheKey);
    let owner: Owner;
    for (let depth = 3; depth >= 1 && owner === undefined; depth--) owner = this.paths.get(levels.slice(0, depth).join('/'));
    owner ??= this.defaultOwner(assetKey);
    this.remember(cacheKey, owner);
    return owner;
  }

  private defaultOwner(assetKey: string): string | null {
    if (this.defaultRule === NONE_RULE) return null;
    if (this.defaultRule !== HASH_RULE) return this.defaultRule;
    if (this.cache.has(assetKey)) return this.cache.get(assetKey) as string;
    // Weights are > 0 (schema) and there is at least one instance, so someone always wins.
    const owner = rendezvousOwner(this.instances, assetKey)!;
    this.remember(assetKey, owner);
    return owner;
  }

  private remember(key: string, owner: Owner): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, owner);
  }

  /** True when `instance` gets assets no explicit rule names (the default instance, or any under "hash"). */
  takesUnlisted(instance: string): boolean {
    return this.defaultRule === HASH_RULE ? this.has(instance) : this.defaultRule === instance;
  }

  /**
   * MQTT subscription filters that deliver `instance` every topic of the assets it may own, and as
   * little else as the namespace allows. A filter cannot express a hash or an exception, so an
   * instance that takes unlisted assets subscribes to everything of that kind, and a path filter
   * also brings assets that an explicit rule gives to another instance: the partition node drops
   * those. Under a closed map ("default": "none") nobody takes unlisted assets, so every instance
   * subscribes to its own rules only. Sorted, no duplicates.
   */
  topicFiltersFor(instance: string, root: string, kind: SubscribeKind = 'raw'): string[] {
    if (!isValidRootTopic(root)) throw new Error(`root topic "${root}" is not valid`);
    const tail = kind === 'all' ? '#' : `${kind}/#`;
    if (this.takesUnlisted(instance)) return [`${root}/+/+/+/+/${tail}`];
    const filters = new Set<string>();
    for (const [prefix, owner] of this.paths) {
      if (owner !== instance) continue;
      const levels = prefix.split('/');
      while (levels.length < 3) levels.push('+');
      filters.add(`${root}/${levels.join('/')}/+/${tail}`);
    }
    for (const [assetKey, owner] of this.assets) {
      if (owner === instance) filters.add(`${root}/+/+/+/${assetKey}/${tail}`);
    }
    return [...filters].sort();
  }
}
