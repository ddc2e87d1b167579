/**
 * Where a message belongs: its asset id and, when known, its ISA-95 path. The asset comes from
 * `payload.assetId` (what pdm-normalise and pdm-twin will use) or else from a unified-namespace
 * topic `<root>/<site>/<area>/<line>/<asset>/<kind>[/<signal>]`; the path from `msg.path` or else
 * from that topic.
 */
import { parseAssetPath, type AssetPath } from '../topic';

export interface Address {
  assetId: string;
  path?: AssetPath;
}

const KINDS = new Set(['raw', 'clean', 'state', 'alert', 'event', 'model', 'features']);

/** The asset and path a namespace topic names, or undefined when the topic is not one under `root`. */
export function addressOfTopic(topic: unknown, root: string): Required<Address> | undefined {
  if (typeof topic !== 'string' || !topic.startsWith(`${root}/`)) return undefined;
  const levels = topic.slice(root.length + 1).split('/');
  if (levels.length < 5 || !KINDS.has(levels[4]) || levels.slice(0, 4).some((l) => l === '')) return undefined;
  const [site, area, line, assetId] = levels;
  return { assetId, path: { site, area, line } };
}

function assetIdIn(item: unknown): string | undefined {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const id = (item as { assetId?: unknown }).assetId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The address of one payload item (a reading, a batch or a snapshot) in a message with `topic`
 * and `path`; undefined when no asset id can be found.
 */
export function addressOf(item: unknown, topic: unknown, msgPath: unknown, root: string): Address | undefined {
  const fromTopic = addressOfTopic(topic, root);
  const assetId = assetIdIn(item) ?? fromTopic?.assetId;
  if (assetId === undefined) return undefined;
  const path = msgPath !== undefined ? parseAssetPath(msgPath) : fromTopic?.path;
  return path ? { assetId, path } : { assetId };
}
