/**
 * nodes/lib/persistence against Node-RED's own file context store (its real plugin, without a
 * runtime): escaped keys that round-trip ids with path syntax, per-key saves and deletes, loading,
 * failures, and the redeploy handover.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Handover, escapeKey, loadAll, saveAll, unescapeKey, type ContextStore } from '../../nodes/lib/persistence';

const dirs: string[] = [];
/** Node-RED's localfilesystem context plugin for one node scope, seen through the ContextStore interface. */
async function fileContext(): Promise<ContextStore & { close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-persist-'));
  dirs.push(dir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const plugin = require(require.resolve('@node-red/runtime/lib/nodes/context/localfilesystem', { paths: [path.dirname(require.resolve('node-red'))] }));
  const store = plugin({ dir, cache: false });
  await store.open();
  const scope = 'node1:flow1';
  return {
    get: (key, _s, cb) => store.get(scope, key, cb),
    set: (key, value, _s, cb) => store.set(scope, key, value, cb),
    keys: (_s, cb) => store.keys(scope, cb),
    close: () => store.close(),
  };
}
const save = (c: ContextStore, writes: Array<[string, unknown]>) =>
  new Promise<unknown[]>((resolve) => {
    const errors: unknown[] = [];
    saveAll(c, undefined, writes, (e) => errors.push(e), () => resolve(errors));
  });
const load = (c: ContextStore, prefix: string) => new Promise<Array<{ key: string; value?: unknown; error?: Error }>>((resolve) => loadAll(c, undefined, (k) => k.startsWith(prefix), () => {}, resolve));

/** The escaping pdm-twin and pdm-anomaly used before this module, so keys saved by them are still found. */
const previousEscape = (prefix: string, id: string) => prefix + encodeURIComponent(id).replace(/[.!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('persistence', () => {
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('escapes ids into keys without path syntax, the same keys as before, and back', () => {
    const ids = ['M-1', 'P.101', 'unit 7', 'A[1]', "o'k\"x", 'Ω', '__proto__', 'a.b', 'a_b', "~!*()'", 'Ünït/3#+', 'class:pump'];
    for (const id of ids) {
      const key = escapeKey('twin:', id);
      assert.match(key.slice(5), /^[A-Za-z0-9_%-]*$/, key);
      assert.equal(key, previousEscape('twin:', id), `key of ${id}`);
      assert.equal(unescapeKey('twin:', key), id);
    }
    assert.equal(new Set(ids.map((id) => escapeKey('x:', id))).size, ids.length);
  });

  it('saves one key per item, deletes with undefined, and loads only its own keys', async () => {
    const c = await fileContext();
    const ids = ['M-1', 'P.101', 'A[1]', 'unit 7'];
    assert.deepEqual(await save(c, ids.map((id, i) => [escapeKey('twin:', id), { id, n: i }])), []);
    assert.deepEqual(await save(c, [['other:x', 1]]), []);
    let loaded = await load(c, 'twin:');
    assert.deepEqual(loaded.map((l) => unescapeKey('twin:', l.key)).sort(), [...ids].sort());
    assert.deepEqual(loaded.find((l) => l.key === escapeKey('twin:', 'P.101'))?.value, { id: 'P.101', n: 1 });
    await save(c, [[escapeKey('twin:', 'A[1]'), undefined]]);
    loaded = await load(c, 'twin:');
    assert.equal(loaded.length, 3);
    assert.ok(!loaded.some((l) => l.key === escapeKey('twin:', 'A[1]')));
    assert.deepEqual(await load(c, 'nothing:'), []);
    await c.close();
  });

  it('reports each failed write and still calls back once; a failed listing is reported and loading goes on', async () => {
    const c = await fileContext();
    // A raw, unescaped key with path syntax is refused by Node-RED's store.
    const errors = await save(c, [['bad key[', 1], [escapeKey('t:', 'ok'), 2]]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /Invalid|expression|property/i);
    const listing: Error[] = [];
    const broken: ContextStore = { ...c, keys: (_s, cb) => cb(new Error('disk gone'), [escapeKey('t:', 'ok')]) };
    const loaded = await new Promise<unknown[]>((resolve) => loadAll(broken, undefined, () => true, (e) => listing.push(e), resolve));
    assert.deepEqual(listing.map(String), ['Error: disk gone']);
    assert.deepEqual(loaded, [{ key: 't:ok', value: 2 }]);
    let calls = 0;
    saveAll(c, undefined, [], () => {}, () => calls++);
    assert.equal(calls, 1, 'nothing to write still calls back');
    await c.close();
  });

  it('hands state to a successor with the same node id once, and forgets leftovers', async () => {
    const h = new Handover<string[]>(50);
    h.set('n1', ['a']);
    h.set('n2', ['b']);
    assert.deepEqual(h.take('n1'), ['a']);
    assert.equal(h.take('n1'), undefined, 'taken once');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(h.take('n2'), undefined, 'too old: a leftover of a node that was not redeployed');
  });
});
