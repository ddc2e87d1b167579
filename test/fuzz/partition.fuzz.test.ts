/**
 * Property-based fuzzing of pdm-partition in a real runtime: ≥ 10,000 generated messages (readings,
 * arrays, plain values with namespace topics, junk, msg.path of any shape). Nothing may crash; each
 * message completes exactly once (Complete or Catch); every item leaves on exactly one of own /
 * others / rejects, and on own or others only when the map says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { parsePartitionMap } from '../../nodes/lib/partition/map';
import { addressOf } from '../../nodes/lib/partition/address';

const partitionNode = nodeModule('pdm-partition');
const RUNS = 10_000;
const MAP = { instances: ['edge-a', { name: 'edge-b', weight: 2 }], assets: { 'P-1': 'edge-b', 'Pump 7': 'edge-a' }, paths: { plant1: 'edge-a', 'plant2/press': 'edge-b' } };
const parsed = parsePartitionMap(MAP);
if (!parsed.ok) throw new Error(parsed.errors.join('; '));
const map = parsed.map;

const assetId = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('P-1', 'Pump 7', 'Pump_7', 'M-1', 'M-2', 'C-3') }, fc.string({ maxLength: 8 }), fc.integer(), fc.constant(undefined), fc.constant(''));
const level = fc.oneof(fc.constantFrom('plant1', 'plant2', 'press', 'paint', 'l1', '_'), fc.string({ maxLength: 5 }));
const kind = fc.oneof(fc.constantFrom('raw', 'clean', 'state'), fc.string({ maxLength: 5 }));
const topic = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(level, level, level, fc.oneof(fc.constantFrom('P-1', 'M-1', 'Pump_7'), fc.string({ maxLength: 6 })), kind).map((l) => `pdm/${l.join('/')}/current`) },
  fc.string({ maxLength: 20 }),
  fc.constant(undefined),
  fc.integer(),
);
const path = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom('plant1', 'plant2/press', 'plant2/paint/l1'), fc.record({ site: level, area: level }, { requiredKeys: [] }), fc.anything());
const item = fc.oneof(
  { weight: 4, arbitrary: fc.record({ assetId, signal: fc.constant('current'), value: fc.double(), unit: fc.constant('A') }, { requiredKeys: ['assetId'] }) },
  fc.record({ assetId, value: fc.double() }, { requiredKeys: [] }),
  fc.double(),
  fc.anything(),
);
const payload = fc.oneof({ weight: 4, arbitrary: item }, { weight: 2, arbitrary: fc.array(item, { maxLength: 5 }) });
const message = fc.record({ payload, topic, path }, { requiredKeys: ['payload'] });

type Msg = Record<string, any>;

describe('pdm-partition fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it(`places or rejects every item of ${RUNS} generated messages exactly once, as the map says`, { timeout: 240_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(partitionNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      { id: 'p1', ...at, type: 'pdm-partition', instance: 'edge-a', map: JSON.stringify(MAP), mapType: 'json', root: 'pdm', kind: 'raw', qos: '1', wires: [['own'], ['others'], ['rejects'], []] },
      { id: 'own', ...at, type: 'helper', wires: [] },
      { id: 'others', ...at, type: 'helper', wires: [] },
      { id: 'rejects', ...at, type: 'helper', wires: [] },
      { id: 'complete', ...at, type: 'complete', scope: ['p1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catch', ...at, type: 'catch', scope: ['p1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    const p1 = helper.getNode('p1');
    const finished = new Map<number, number>();
    const finish = (msg: Msg) => finished.set(msg._seq, (finished.get(msg._seq) ?? 0) + 1);
    helper.getNode('completed').on('input', finish);
    helper.getNode('caught').on('input', finish);
    const seen = { own: 0, others: 0, rejects: 0 };
    const wrongOwner: string[] = [];
    const check = (msg: Msg, expectOwn: boolean) => {
      const items = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
      for (const it of items) {
        const address = addressOf(it, msg.topic, msg.path, 'pdm')!;
        const owner = map.ownerOf(address.assetId, address.path);
        if (owner !== msg.owner || (owner === 'edge-a') !== expectOwn) wrongOwner.push(`${JSON.stringify(it)} → ${msg.owner}, map says ${owner}`);
      }
      return items.length;
    };
    helper.getNode('own').on('input', (msg: Msg) => (seen.own += check(msg, true)));
    helper.getNode('others').on('input', (msg: Msg) => (seen.others += check(msg, false)));
    helper.getNode('rejects').on('input', (msg: Msg) => {
      assert.ok(['no_asset', 'no_path'].includes(msg.reject.code), msg.reject.code);
      seen.rejects++;
    });

    const samples = fc.sample(message, { numRuns: RUNS, seed: 20261127 });
    let items = 0;
    let rejectable = 0;
    for (let i = 0; i < samples.length; i++) {
      const m = samples[i];
      const list = Array.isArray(m.payload) ? m.payload : [m.payload];
      // What the node must do with it, decided independently of the node: any unplaceable item rejects the message.
      const placeable = list.every((it) => {
        const a = addressOf(it, m.topic, m.path, 'pdm');
        return a !== undefined && map.ownerOf(a.assetId, a.path) !== undefined;
      });
      if (placeable) items += list.length;
      else rejectable++;
      p1.receive({ ...m, _seq: i });
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    assert.equal(finished.size, RUNS, 'every message completes');
    assert.deepEqual([...finished.values()].filter((n) => n !== 1), [], 'exactly one done() per message');
    assert.deepEqual(wrongOwner.slice(0, 5), [], 'items sent to the wrong output');
    assert.equal(seen.own + seen.others, items, 'own + others = items of placeable messages');
    assert.equal(seen.rejects, rejectable, 'one reject per unplaceable message');
    assert.deepEqual(p1.counts, { own: seen.own, others: seen.others, rejected: seen.rejects });
    assert.ok(seen.own > RUNS / 20 && seen.others > RUNS / 20 && seen.rejects > RUNS / 20, JSON.stringify(seen));
    console.log(JSON.stringify({ messages: RUNS, ...seen }));
  });
});
