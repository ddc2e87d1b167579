/**
 * Saving node state to a Node-RED context store, shared by pdm-twin, pdm-alert and pdm-anomaly:
 * escaped context keys, one key per item (so a save writes only what changed), loading every key
 * of a node back, and the in-process handover of state from a closing node to its redeployed
 * successor. No Node-RED here: the context is taken as the small interface below.
 */

/** The part of a Node-RED node context (`node.context()`) this module uses. */
export interface ContextStore {
  get(key: string, store: string, callback: (err: Error | undefined, value: unknown) => void): void;
  set(key: string, value: unknown, store: string, callback: (err?: Error) => void): void;
  keys(store: string, callback: (err: Error | undefined, keys: unknown[]) => void): void;
}

/**
 * Node-RED reads context keys as property expressions ("a.b" is a nested path, "a[0]" an index,
 * a space throws), so the id in a key is escaped: every UTF-8 byte but letters, digits, "_" and
 * "-" becomes %XX. Different ids never share a key, and unescapeKey() gives the id back.
 */
export function escapeKey(prefix: string, id: string): string {
  let out = prefix;
  for (const byte of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapeKey(prefix: string, key: string): string {
  return decodeURIComponent(key.slice(prefix.length));
}

/** A key to write; `undefined` deletes it (an item that no longer exists). */
export type Write = [key: string, value: unknown];

/**
 * Writes every key; `callback` runs once all writes finished (at once when there are none).
 * Each failure, thrown or called back, goes to `onError` and does not stop the others.
 */
export function saveAll(context: ContextStore, store: string | undefined, writes: Write[], onError: (err: unknown) => void, callback?: () => void): void {
  let left = writes.length;
  if (left === 0) return callback?.();
  const finish = (err?: unknown) => {
    if (err) onError(err);
    if (--left === 0) callback?.();
  };
  for (const [key, value] of writes) {
    try {
      context.set(key, value, store as string, finish);
    } catch (err) {
      finish(err);
    }
  }
}

export interface Loaded {
  key: string;
  value?: unknown;
  error?: Error;
}

/**
 * Reads every key of the store that `ours` accepts and calls back once with all of them (in the
 * store's order; a failed read carries its error). A failure to list the keys goes to
 * `onListError`, and whatever was listed is still read.
 */
export function loadAll(
  context: ContextStore,
  store: string | undefined,
  ours: (key: string) => boolean,
  onListError: (err: Error) => void,
  callback: (loaded: Loaded[]) => void,
): void {
  context.keys(store as string, (err, found) => {
    if (err) onListError(err);
    const keys = (found ?? []).filter((k): k is string => typeof k === 'string' && ours(k));
    const loaded: Loaded[] = keys.map((key) => ({ key }));
    let left = keys.length;
    if (left === 0) return callback(loaded);
    keys.forEach((key, i) => {
      context.get(key, store as string, (getErr, value) => {
        if (getErr) loaded[i].error = getErr;
        else loaded[i].value = value;
        if (--left === 0) callback(loaded);
      });
    });
  });
}

/**
 * State handed from a closing node to its redeployed successor (same node id), within one process.
 * Node-RED deletes a node's context on every close when no context store is configured, so without
 * this a plain redeploy would forget everything; with a persistent store this is simply the
 * freshest copy.
 */
export class Handover<T> {
  private readonly entries = new Map<string, { at: number; state: T }>();

  /** A successor starts within milliseconds of its predecessor's close; older entries are leftovers. */
  constructor(private readonly maxAgeMs = 30_000) {}

  set(nodeId: string, state: T): void {
    this.entries.set(nodeId, { at: Date.now(), state });
  }

  /** The state left for this node id, once; leftovers older than the limit are dropped. */
  take(nodeId: string): T | undefined {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (now - entry.at > this.maxAgeMs) this.entries.delete(id);
    const entry = this.entries.get(nodeId);
    this.entries.delete(nodeId);
    return entry?.state;
  }
}
