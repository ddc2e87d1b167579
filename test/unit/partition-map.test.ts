/**
 * The partition map: validation messages, the ownership rules in order, rendezvous hashing
 * (balance, minimal movement, independence of list order), subscription filters and the
 * address of a message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePartitionMap, type PartitionMap } from '../../nodes/lib/partition/map';
import { hash32, rendezvousOwner } from '../../nodes/lib/partition/rendezvous';
import { addressOf, addressOfTopic } from '../../nodes/lib/partition/address';

function mapOf(input: unknown): PartitionMap {
  const parsed = parsePartitionMap(input);
  assert.ok(parsed.ok, `expected a valid map: ${JSON.stringify(parsed)}`);
  return parsed.map;
}

function problems(input: unknown): string[] {
  const parsed = parsePartitionMap(input);
  assert.equal(parsed.ok, false, `expected ${JSON.stringify(input)} to be refused`);
  return (parsed as { errors: string[] }).errors;
}

const assetIds = (n: number) => Array.from({ length: n }, (_, i) => `M-${i}`);

describe('partition map validation', () => {
  it('accepts names, weighted entries, assets, paths and a default', () => {
    const map = mapOf({ instances: ['b', { name: 'a', weight: 2 }], assets: { 'P-1': 'a' }, paths: { 'plant1/press': 'b' }, default: 'hash' });
    assert.deepEqual(map.names, ['a', 'b']);
    assert.equal(map.instances[0].weight, 2);
    assert.equal(map.defaultRule, 'hash');
  });

  it('reads JSON text and says what is wrong with broken text', () => {
    assert.deepEqual(mapOf('{"instances":["x"]}').names, ['x']);
    assert.match(problems('')[0], /empty/);
    assert.match(problems('{instances')[0], /not JSON/);
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['no instances key', {}, /missing "instances"/],
    ['an empty instance list', { instances: [] }, /at least one instance/],
    ['an unknown key', { instances: ['a'], owners: {} }, /unknown key "owners"/],
    ['a bad instance name', { instances: ['a b'] }, /instances\[0\]: must be an instance name/],
    ['a zero weight', { instances: [{ name: 'a', weight: 0 }] }, /instances\[0\]/],
    ['a wildcard asset id', { instances: ['a'], assets: { 'M+1': 'a' } }, /assets: "M\+1" is not a valid asset id/],
    ['a four-level path', { instances: ['a'], paths: { 'a/b/c/d': 'a' } }, /paths: "a\/b\/c\/d" is not a valid path prefix/],
    ['a path with a wildcard', { instances: ['a'], paths: { 'plant/#': 'a' } }, /not a valid path prefix/],
    ['a bad target name', { instances: ['a'], assets: { M: 'not ok' } }, /assets\.M/],
    ['a duplicate instance', { instances: ['a', { name: 'a' }] }, /instance "a" is listed twice/],
    ['the reserved name', { instances: ['hash'] }, /"hash" is reserved/],
    ['the other reserved name', { instances: ['none'] }, /"none" is reserved/],
    ['a closed map that lists nothing', { instances: ['a'], default: 'none' }, /closed map .* must list assets or paths/],
    ['an asset on an unknown instance', { instances: ['a'], assets: { M: 'c' } }, /assets\["M"\] names instance "c", which is not in instances \(instances: a\)/],
    ['a path on an unknown instance', { instances: ['a'], paths: { p: 'c' } }, /paths\["p"\] names instance "c"/],
    ['a default on an unknown instance', { instances: ['a'], default: 'c' }, /default names instance "c"/],
    ['two ids that are one topic level', { instances: ['a'], assets: { 'Pump 1': 'a', Pump_1: 'a' } }, /"Pump 1" and "Pump_1" are the same asset/],
  ];
  for (const [label, input, message] of cases) {
    it(`refuses ${label}`, () => {
      assert.match(problems(input).join('\n'), message);
    });
  }

  it('lists every cross-reference problem at once', () => {
    assert.equal(problems({ instances: ['a'], assets: { M: 'x' }, paths: { p: 'y' }, default: 'z' }).length, 3);
  });
});

describe('ownership rules', () => {
  const map = mapOf({
    instances: ['a', 'b', 'c'],
    assets: { 'P-1': 'c', 'Pump 7': 'a' },
    paths: { plant1: 'a', 'plant1/press': 'b', 'plant1/press/line2': 'c' },
    default: 'b',
  });

  it('an asset entry wins over every path', () => {
    assert.equal(map.ownerOf('P-1', { site: 'plant1', area: 'press', line: 'line1' }), 'c');
    assert.equal(map.ownerOf('P-1'), 'c');
  });

  it('the longest matching path prefix wins', () => {
    assert.equal(map.ownerOf('M-1', { site: 'plant1', area: 'paint', line: 'l' }), 'a');
    assert.equal(map.ownerOf('M-1', { site: 'plant1', area: 'press', line: 'line1' }), 'b');
    assert.equal(map.ownerOf('M-1', { site: 'plant1', area: 'press', line: 'line2' }), 'c');
  });

  it('unlisted assets go to the default instance; unset levels are "_"', () => {
    assert.equal(map.ownerOf('M-1', { site: 'plant2' }), 'b');
    assert.equal(map.ownerOf('M-1', {}), 'b');
  });

  it('cannot place an unlisted asset without its path when paths decide', () => {
    assert.equal(map.needsPath, true);
    assert.equal(map.ownerOf('M-1'), undefined);
    assert.equal(mapOf({ instances: ['a'] }).ownerOf('M-1'), 'a');
  });

  it('compares asset ids as topic levels: a blank is "_"', () => {
    assert.equal(map.ownerOf('Pump_7'), 'a');
    assert.equal(map.ownerOf('Pump 7'), 'a');
  });
});

describe('rendezvous hashing', () => {
  it('hash32 is a stable 32-bit hash', () => {
    assert.equal(hash32(''), hash32(''));
    assert.notEqual(hash32('a'), hash32('b'));
    for (const s of ['', 'M-1', 'a\u0000b', '€']) assert.ok(Number.isInteger(hash32(s)) && hash32(s) >= 0 && hash32(s) < 2 ** 32);
  });

  it('spreads 10,000 assets evenly over 4 instances (each within 8 % of a quarter)', () => {
    const map = mapOf({ instances: ['n1', 'n2', 'n3', 'n4'] });
    const counts = new Map<string, number>();
    for (const id of assetIds(10_000)) counts.set(map.ownerOf(id)!, (counts.get(map.ownerOf(id)!) ?? 0) + 1);
    for (const [name, n] of counts) assert.ok(Math.abs(n - 2500) < 200, `${name} owns ${n}`);
  });

  it('follows the weights: weight 3 owns about three times what weight 1 owns', () => {
    const map = mapOf({ instances: [{ name: 'big', weight: 3 }, 'small'] });
    const big = assetIds(10_000).filter((id) => map.ownerOf(id) === 'big').length;
    assert.ok(big > 7200 && big < 7800, `big owns ${big} of 10,000`);
  });

  it('adding a fourth instance moves only the assets it takes, about a quarter', () => {
    const three = mapOf({ instances: ['n1', 'n2', 'n3'] });
    const four = mapOf({ instances: ['n1', 'n2', 'n3', 'n4'] });
    let moved = 0;
    for (const id of assetIds(10_000)) {
      const before = three.ownerOf(id);
      const after = four.ownerOf(id);
      if (before !== after) {
        moved++;
        assert.equal(after, 'n4', `${id} moved from ${before} to ${after}, not to the new instance`);
      }
    }
    assert.ok(moved > 2200 && moved < 2800, `${moved} of 10,000 moved`);
  });

  it('removing an instance moves only its own assets', () => {
    const three = mapOf({ instances: ['n1', 'n2', 'n3'] });
    const two = mapOf({ instances: ['n1', 'n3'] });
    for (const id of assetIds(5000)) if (three.ownerOf(id) !== 'n2') assert.equal(two.ownerOf(id), three.ownerOf(id));
  });

  it('ignores candidates without a positive weight', () => {
    assert.equal(rendezvousOwner([{ name: 'x', weight: 0 }], 'M'), undefined);
  });
});

describe('ownership properties', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
  const asset = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,11}$/);
  const level = fc.constantFrom('plant1', 'plant2', 'press', 'paint', 'line1', 'line2', '_');
  const pathArb = fc.record({ site: level, area: level, line: level });
  /** A random valid map: unique instance names, some assets and paths on them, a default. */
  const mapArb = fc
    .uniqueArray(name.filter((n) => n !== 'hash'), { minLength: 1, maxLength: 6 })
    .chain((names) =>
      fc.record({
        instances: fc.constant(names),
        weights: fc.array(fc.constantFrom(1, 1, 2, 0.5), { minLength: names.length, maxLength: names.length }),
        assets: fc.dictionary(asset.map((a) => a.replace(/\s/g, '_')), fc.constantFrom(...names), { maxKeys: 5 }),
        paths: fc.dictionary(fc.tuple(level, level).map(([s, a]) => `${s}/${a}`), fc.constantFrom(...names), { maxKeys: 4 }),
        default: fc.constantFrom('hash', 'none', ...names),
      }),
    )
    .filter((m) => m.default !== 'none' || Object.keys(m.assets).length + Object.keys(m.paths).length > 0);
  const toInput = (m: { instances: string[]; weights: number[]; assets: object; paths: object; default: string }, order: number[]) => ({
    instances: order.map((i) => ({ name: m.instances[i], weight: m.weights[i] })),
    assets: m.assets,
    paths: m.paths,
    default: m.default,
  });

  it('every asset has exactly one owner, a listed instance, whatever the order of the map', () => {
    fc.assert(
      fc.property(mapArb, fc.array(fc.tuple(asset, pathArb), { minLength: 1, maxLength: 20 }), fc.integer(), (m, probes, seed) => {
        const order = m.instances.map((_, i) => i);
        const shuffled = [...order].sort((x, y) => hash32(`${seed}:${x}`) - hash32(`${seed}:${y}`));
        const one = mapOf(toInput(m, order));
        const two = mapOf({
          ...toInput(m, shuffled),
          assets: Object.fromEntries(Object.entries(m.assets).reverse()),
          paths: Object.fromEntries(Object.entries(m.paths).reverse()),
        });
        for (const [id, path] of probes) {
          const owner = one.ownerOf(id, path);
          // A closed map may give an unlisted asset to nobody; anything else has a listed owner.
          if (owner === null) assert.equal(m.default, 'none');
          else assert.ok(owner !== undefined && m.instances.includes(owner), `owner of ${id}: ${owner}`);
          // Exactly one: each instance asks "is it mine?" and exactly one says yes.
          assert.equal(m.instances.filter((n) => one.ownerOf(id, path) === n).length, owner === null ? 0 : 1);
          assert.equal(two.ownerOf(id, path), owner, `${id} changed owner when the map was reordered`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("an instance's subscription filters deliver every asset it owns", () => {
    const matches = (filter: string, topic: string) => {
      const f = filter.split('/');
      const t = topic.split('/');
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '#') return true;
        if (f[i] !== '+' && f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    fc.assert(
      fc.property(mapArb, fc.array(fc.tuple(asset, pathArb), { minLength: 1, maxLength: 20 }), (m, probes) => {
        const map = mapOf(toInput(m, m.instances.map((_, i) => i)));
        for (const [id, path] of probes) {
          const owner = map.ownerOf(id, path);
          if (owner === null) continue;
          const topic = `pdm/${path.site}/${path.area}/${path.line}/${id.replace(/\s/g, '_')}/raw/current`;
          assert.ok(map.topicFiltersFor(owner!, 'pdm').some((f) => matches(f, topic)), `${owner} does not receive ${topic}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('subscription filters', () => {
  it('an explicit-only instance subscribes to its assets and paths, padded to the asset level', () => {
    const map = mapOf({ instances: ['a', 'b'], assets: { 'P-1': 'a', 'P-2': 'b' }, paths: { plant1: 'a', 'plant2/press': 'a', 'plant2/press/l1': 'b' }, default: 'b' });
    assert.deepEqual(map.topicFiltersFor('a', 'pdm'), ['pdm/+/+/+/P-1/raw/#', 'pdm/plant1/+/+/+/raw/#', 'pdm/plant2/press/+/+/raw/#']);
    assert.deepEqual(map.topicFiltersFor('a', 'acme/pdm', 'clean'), ['acme/pdm/+/+/+/P-1/clean/#', 'acme/pdm/plant1/+/+/+/clean/#', 'acme/pdm/plant2/press/+/+/clean/#']);
    assert.deepEqual(map.topicFiltersFor('a', 'pdm', 'all'), ['pdm/+/+/+/P-1/#', 'pdm/plant1/+/+/+/#', 'pdm/plant2/press/+/+/#']);
  });

  it('the default instance, and every instance under "hash", subscribes to the whole kind', () => {
    const explicitDefault = mapOf({ instances: ['a', 'b'], assets: { 'P-1': 'a' }, default: 'b' });
    assert.deepEqual(explicitDefault.topicFiltersFor('b', 'pdm'), ['pdm/+/+/+/+/raw/#']);
    const hashed = mapOf({ instances: ['a', 'b'], assets: { 'P-1': 'a' } });
    assert.deepEqual(hashed.topicFiltersFor('a', 'pdm'), ['pdm/+/+/+/+/raw/#']);
  });

  it('under a closed map nobody subscribes to everything, and unlisted assets have no owner', () => {
    const closed = mapOf({ instances: ['a', 'b'], paths: { plant1: 'a', plant2: 'b' }, default: 'none' });
    assert.deepEqual(closed.topicFiltersFor('a', 'pdm'), ['pdm/plant1/+/+/+/raw/#']);
    assert.deepEqual(closed.topicFiltersFor('b', 'pdm'), ['pdm/plant2/+/+/+/raw/#']);
    assert.equal(closed.ownerOf('M-1', { site: 'plant3' }), null);
    assert.equal(closed.ownerOf('M-1', { site: 'plant2' }), 'b');
  });

  it('an instance that owns nothing subscribes to nothing', () => {
    assert.deepEqual(mapOf({ instances: ['a', 'spare'], default: 'a' }).topicFiltersFor('spare', 'pdm'), []);
  });

  it('refuses an invalid root topic', () => {
    assert.throws(() => mapOf({ instances: ['a'] }).topicFiltersFor('a', 'pdm/#'), /root topic/);
  });
});

describe('the address of a message', () => {
  it('reads asset and path from a namespace topic under the root', () => {
    assert.deepEqual(addressOfTopic('pdm/plant1/press/l1/M-1/raw/current', 'pdm'), { assetId: 'M-1', path: { site: 'plant1', area: 'press', line: 'l1' } });
    assert.deepEqual(addressOfTopic('acme/pdm/s/a/l/M-2/state', 'acme/pdm')?.assetId, 'M-2');
    for (const t of ['pdm/plant1/press/l1/M-1', 'other/s/a/l/M/raw/x', 'pdm/s/a/l/M/telemetry/x', 'pdm//a/l/M/raw/x', 42, undefined]) {
      assert.equal(addressOfTopic(t, 'pdm'), undefined, String(t));
    }
  });

  it('prefers payload.assetId, takes the topic otherwise, and msg.path over the topic path', () => {
    const topic = 'pdm/plant1/press/l1/M-1/raw/current';
    assert.deepEqual(addressOf({ assetId: 'X' }, topic, undefined, 'pdm'), { assetId: 'X', path: { site: 'plant1', area: 'press', line: 'l1' } });
    assert.deepEqual(addressOf(12.5, topic, undefined, 'pdm')?.assetId, 'M-1');
    assert.deepEqual(addressOf({ assetId: 'X' }, undefined, 'p2/a', 'pdm'), { assetId: 'X', path: { site: 'p2', area: 'a', line: undefined } });
    assert.deepEqual(addressOf({ assetId: 'X' }, undefined, undefined, 'pdm'), { assetId: 'X' });
    assert.equal(addressOf({ value: 1 }, 'not/a/namespace', undefined, 'pdm'), undefined);
    assert.equal(addressOf({ assetId: '' }, undefined, undefined, 'pdm'), undefined);
  });
});
