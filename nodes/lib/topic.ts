/**
 * The unified namespace: `<root>/<site>/<area>/<line>/<asset>/<kind>/<signal>` (DESIGN.md "Topics").
 */

export interface AssetPath {
  site?: string;
  area?: string;
  line?: string;
}

export type TopicKind = 'raw' | 'clean' | 'state' | 'alert' | 'event' | 'model' | 'features';

/** Placeholder for a level of the ISA-95 path nobody configured. */
export const UNSET_LEVEL = '_';

/** A topic segment may not contain separators, wildcards or NUL; whitespace becomes `_`. */
export function topicSegment(text: string | undefined): string {
  if (text === undefined || text === '') return UNSET_LEVEL;
  return String(text).replace(/[/+#\u0000]/g, '_').replace(/\s+/g, '_');
}

/** Reads a path given as an object or as "site/area/line"; missing levels stay undefined. */
export function parseAssetPath(input: unknown): AssetPath | undefined {
  if (typeof input === 'string') {
    const [site, area, line] = input.split('/').map((part) => part.trim() || undefined);
    return { site, area, line };
  }
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const { site, area, line } = input as Record<string, unknown>;
    const level = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    return { site: level(site), area: level(area), line: level(line) };
  }
  return undefined;
}

/** Levels from `override` win over `fallback`, one level at a time. */
export function mergePath(override: AssetPath | undefined, fallback: AssetPath): AssetPath {
  return {
    site: override?.site ?? fallback.site,
    area: override?.area ?? fallback.area,
    line: override?.line ?? fallback.line,
  };
}

export function assetTopic(root: string, path: AssetPath, assetId: string, kind: TopicKind, signal?: string): string {
  const base = `${root}/${topicSegment(path.site)}/${topicSegment(path.area)}/${topicSegment(path.line)}/${topicSegment(assetId)}/${kind}`;
  return signal === undefined ? base : `${base}/${topicSegment(signal)}`;
}

/** A root topic is one or more plain levels: no wildcards, no leading or trailing slash. */
export function isValidRootTopic(root: string): boolean {
  return /^[^/+#\s]+(\/[^/+#\s]+)*$/.test(root);
}

/** Memoises the clean topic per (asset, signal) for one configured path; bounded, cleared when full. */
export class TopicCache {
  private readonly byAsset = new Map<string, Map<string, string>>();
  private size = 0;

  constructor(
    private readonly build: (assetId: string, signal: string) => string,
    private readonly capacity = 10_000,
  ) {}

  get(assetId: string, signal: string): string {
    let bySignal = this.byAsset.get(assetId);
    if (bySignal === undefined) {
      if (this.size >= this.capacity) this.clear();
      bySignal = new Map();
      this.byAsset.set(assetId, bySignal);
    }
    let topic = bySignal.get(signal);
    if (topic === undefined) {
      if (this.size >= this.capacity) {
        this.clear();
        return this.get(assetId, signal);
      }
      topic = this.build(assetId, signal);
      bySignal.set(signal, topic);
      this.size++;
    }
    return topic;
  }

  clear(): void {
    this.byAsset.clear();
    this.size = 0;
  }
}
