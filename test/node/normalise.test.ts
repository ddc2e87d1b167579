/**
 * pdm-normalise in a real Node-RED runtime (4.1 on Node 20; 5.x on Node 22 via NR_PKG).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helper, nodeModule, once } from '../helpers/node-red';

const normaliseNode = nodeModule('pdm-normalise');
const NOW = Date.now();
const reading = { assetId: 'P-101', signal: 'temperature', value: 212, unit: '°F', ts: NOW - 1000 };

/**
 * A tab with normalise → clean/reject sinks and a Catch node → sink. Nodes on a tab need x/y,
 * or the runtime takes them for config nodes; no id may equal a type name.
 */
function flow(config: Record<string, unknown> = {}) {
  const at = { z: 'tab', x: 100, y: 100 };
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'n1', ...at, type: 'pdm-normalise', name: 'norm', root: 'pdm', site: 's1', area: 'a1', line: 'l1', stuckCount: 0, dedupe: 1000, maxFuture: 600, wires: [['clean'], ['rejects']], ...config },
    { id: 'clean', ...at, type: 'helper', wires: [] },
    { id: 'rejects', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
  ];
}

type Msg = Record<string, any>;

function collect(nodeId: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(nodeId).on('input', (msg: Msg) => got.push(msg));
  return got;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('pdm-normalise node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('loads with its configuration', async () => {
    await helper.load(normaliseNode, flow());
    const n1 = helper.getNode('n1');
    assert.equal(n1.name, 'norm');
    assert.equal(n1.type, 'pdm-normalise');
  });

  it('sends a clean reading on output 1 with the namespace topic and keeps other properties', async () => {
    await helper.load(normaliseNode, flow());
    const clean = once<Msg>(helper.getNode('clean'), 'input');
    const parts = { id: 'abc', index: 0, count: 1 };
    helper.getNode('n1').receive({ payload: reading, parts, _custom: 'kept' });
    const msg = await clean;
    assert.equal(msg.topic, 'pdm/s1/a1/l1/P-101/clean/temperature');
    assert.equal(msg.payload.unit, '°C');
    assert.ok(Math.abs(msg.payload.value - 100) < 1e-9);
    assert.equal(msg.payload.quality, 'good');
    assert.equal(msg.payload.source.originalUnit, '°F');
    assert.deepEqual(msg.parts, parts);
    assert.equal(msg._custom, 'kept');
  });

  it('takes the ISA-95 path from msg.path over the node setting', async () => {
    await helper.load(normaliseNode, flow());
    const clean = once<Msg>(helper.getNode('clean'), 'input');
    helper.getNode('n1').receive({ payload: reading, path: 'plant9/press' });
    assert.equal((await clean).topic, 'pdm/plant9/press/l1/P-101/clean/temperature');
  });

  it('reads from a configured property', async () => {
    await helper.load(normaliseNode, flow({ property: 'data.reading' }));
    const clean = once<Msg>(helper.getNode('clean'), 'input');
    helper.getNode('n1').receive({ payload: 'untouched', data: { reading } });
    assert.equal((await clean).payload.signal, 'temperature');
  });

  it('splits a batch into one message per reading, each its own object', async () => {
    await helper.load(normaliseNode, flow());
    const got = collect('clean');
    helper.getNode('n1').receive({
      payload: { assetId: 'M-1', ts: NOW, readings: [{ signal: 'current', value: 10, unit: 'A' }, { signal: 'speed', value: 25, unit: 'Hz' }] },
      parts: { id: 'p' },
    });
    await settle();
    assert.deepEqual(got.map((m) => m.topic), ['pdm/s1/a1/l1/M-1/clean/current', 'pdm/s1/a1/l1/M-1/clean/speed']);
    assert.equal(got[1].payload.value, 1500);
    assert.notEqual(got[0], got[1]);
    assert.notEqual(got[0].parts, got[1].parts);
    assert.deepEqual(got[0].parts, { id: 'p' });
  });

  const badInputs: [string, unknown, string][] = [
    ['a string', 'hello', 'not_a_reading'],
    ['an empty array', [], 'empty'],
    ['a reading without asset', { ...reading, assetId: undefined }, 'missing_field'],
    ['a wildcard asset id', { ...reading, assetId: 'a+b' }, 'invalid_asset'],
    ['a bad signal name', { ...reading, signal: '9lives' }, 'invalid_signal'],
    ['a non-numeric value', { ...reading, value: 'warm' }, 'invalid_value'],
    ['an unknown unit', { ...reading, unit: 'cubits' }, 'unknown_unit'],
    ['a mismatched unit', { ...reading, unit: 'bar' }, 'unit_mismatch'],
    ['an unreadable timestamp', { ...reading, ts: 'soon' }, 'invalid_timestamp'],
    ['a timestamp from next week', { ...reading, ts: NOW + 7 * 86_400_000 }, 'future_timestamp'],
    ['an unknown quality', { ...reading, quality: 'perfect' }, 'invalid_quality'],
  ];

  for (const [label, payload, code] of badInputs) {
    it(`rejects ${label} to output 2 with the original message and reaches Catch`, async () => {
      await helper.load(normaliseNode, flow());
      const clean = collect('clean');
      const rejected = once<Msg>(helper.getNode('rejects'), 'input');
      const caught = once<Msg>(helper.getNode('caught'), 'input');
      const original = { payload, parts: { id: 'x' }, topic: 'in' };
      helper.getNode('n1').receive(JSON.parse(JSON.stringify(original)));
      const msg = await rejected;
      assert.equal(msg.reject.code, code);
      assert.equal(msg.reject.count, 1);
      assert.equal(typeof msg.reject.reason, 'string');
      assert.deepEqual(msg.payload, JSON.parse(JSON.stringify(payload)));
      assert.deepEqual(msg.parts, { id: 'x' });
      assert.equal(msg.topic, 'in');
      const error = await caught;
      assert.equal(error.error.source.id, 'n1');
      assert.match(error.error.message, /pdm-normalise\.errors\.rejected/);
      await settle();
      assert.equal(clean.length, 0);
    });
  }

  it('keeps the good readings of a partly bad batch and rejects the rest once', async () => {
    await helper.load(normaliseNode, flow());
    const clean = collect('clean');
    const rejects = collect('rejects');
    helper.getNode('n1').receive({ payload: [reading, { ...reading, ts: NOW - 5, value: null }, { ...reading, ts: NOW - 6 }] });
    await settle();
    assert.equal(clean.length, 2);
    assert.equal(rejects.length, 1);
    assert.deepEqual(rejects[0].reject.items.map((i: Msg) => [i.index, i.code]), [[1, 'missing_field']]);
  });

  it('drops exact duplicates, counts them in the status, and msg.reset forgets', async () => {
    await helper.load(normaliseNode, flow());
    const n1 = helper.getNode('n1');
    const clean = collect('clean');
    n1.receive({ payload: reading });
    n1.receive({ payload: reading });
    await settle();
    assert.equal(clean.length, 1);
    await new Promise((resolve) => setTimeout(resolve, 600)); // status renders at most every 500 ms
    const last = n1.status.lastCall.args[0];
    assert.equal(last.text, 'pdm-normalise.status.counts');
    n1.receive({ reset: true });
    n1.receive({ payload: reading });
    await settle();
    assert.equal(clean.length, 2);
  });

  it('marks implausible values bad and stuck values uncertain', async () => {
    await helper.load(normaliseNode, flow({ stuckCount: 2, ranges: '{"temperature":[0,80]}' }));
    const clean = collect('clean');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: { ...reading, unit: '°C', value: 90, ts: NOW - 3 } });
    n1.receive({ payload: { ...reading, unit: '°C', value: 50, ts: NOW - 2 } });
    n1.receive({ payload: { ...reading, unit: '°C', value: 50, ts: NOW - 1 } });
    await settle();
    assert.deepEqual(clean.map((m) => [m.payload.quality, m.payload.qualityReason]), [
      ['bad', 'out_of_range'],
      ['good', undefined],
      ['uncertain', 'stuck'],
    ]);
  });

  it('an invalid ranges setting rejects every message with a config reason instead of guessing', async () => {
    await helper.load(normaliseNode, flow({ ranges: '{oops' }));
    const rejected = once<Msg>(helper.getNode('rejects'), 'input');
    helper.getNode('n1').receive({ payload: reading });
    assert.equal((await rejected).reject.code, 'config');
  });

  it('redeploying 50 times leaves no timers or listeners behind', async () => {
    await helper.load(normaliseNode, flow());
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const listeners = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    for (let i = 0; i < 50; i++) {
      const next = flow({ name: `norm${i}`, site: `s${i}` });
      await helper.setFlows(next);
      const n1 = helper.getNode('n1');
      // Two messages back to back leave a status render pending: close() must clear it.
      n1.receive({ payload: { ...reading, ts: NOW - i * 10 } });
      n1.receive({ payload: { ...reading, ts: NOW - i * 10 - 1 } });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle();
    assert.ok(timers() <= baseline, `timers grew from ${baseline} to ${timers()}`);
    assert.equal(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection'), listeners);
  });
});
