/**
 * pdm-retrofit in a real Node-RED runtime (4.1 on Node 20; 5.x on Node 22 via NR_PKG), without
 * servers: it replays the partner messages captured by test/integration/{modbus,opcua}.test.ts
 * (test/fixtures/{modbus,opcua}/*.json) and hand-made retrofit shapes (4–20 mA, CT, gateway JSON,
 * waveforms), sends every class of bad input to the reject output and Catch, checks that parts and
 * other properties pass through, and that 50 redeploys leave no timers behind.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nodeModule, once, repoRoot } from '../helpers/node-red';

const retrofitNode = nodeModule('pdm-retrofit');
type Msg = Record<string, any>;

const FIXTURES = path.join(repoRoot, 'test', 'fixtures');
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(FIXTURES, ...p), 'utf8'));
const modbus = readJson('modbus', 'layout.json');
const opcua = readJson('opcua', 'layout.json');
/** A captured message as committed (Buffers as {type:'Buffer', data}, Dates as ISO text). */
const fixture = (dir: string, name: string): Msg => readJson(dir, `${name}.json`).message;
/** The same message with its Buffers revived, as a flow would hold it. */
const revived = (dir: string, name: string): Msg =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, `${name}.json`), 'utf8'), (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data) : v)).message;

function flow(config: Record<string, unknown> = {}) {
  const at = { z: 'tab', x: 100, y: 100 };
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'rf', ...at, type: 'pdm-retrofit', name: 'retrofit', assetId: 'M-1', unmapped: 'pass', registers: [], tags: [], scaling: [], wires: [['out'], ['rejects']], ...config },
    { id: 'out', ...at, type: 'helper', wires: [] },
    { id: 'rejects', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
  ];
}
const modbusFlow = (extra: Record<string, unknown> = {}) =>
  flow({ assetId: modbus.assetId, registers: modbus.registerMap, scaling: modbus.scaling, zonePreset: modbus.zonePreset, ...extra });
const opcuaFlow = (extra: Record<string, unknown> = {}) => flow({ assetId: opcua.assetId, tags: opcua.tags, scaling: opcua.scaling, zonePreset: opcua.zonePreset, ...extra });

function collect(nodeId: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(nodeId).on('input', (msg: Msg) => got.push(msg));
  return got;
}
const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
const bySignal = (msg: Msg): Record<string, Msg> => Object.fromEntries((msg.payload as Msg[]).map((r) => [r.signal, r]));

/** Sends one message and returns what came out of each output and Catch. */
async function send(msg: Msg): Promise<{ out: Msg[]; rejects: Msg[]; caught: Msg[] }> {
  const out = collect('out');
  const rejects = collect('rejects');
  const caught = collect('caught');
  helper.getNode('rf').receive(msg);
  await settle();
  return { out, rejects, caught };
}

function assertModbusExact(msg: Msg, what: string): void {
  const got = bySignal(msg);
  for (const [signal, [value, unit]] of Object.entries(modbus.expected as Record<string, [number, string]>)) {
    assert.equal(got[signal]?.value, value, `${what}: ${signal}`);
    assert.equal(got[signal].unit, unit, `${what}: unit of ${signal}`);
    assert.equal(got[signal].quality, 'good', `${what}: quality of ${signal}`);
    assert.equal(got[signal].assetId, modbus.assetId);
  }
  assert.equal(Object.keys(got).length, Object.keys(modbus.expected).length);
  assert.equal(got.vibration_velocity.source.zone.zone, modbus.expectedZone.zone);
}

/** 6205 bearing, test vector of issue 3. */
const BEARING = { bearingN: 9, bearingd: 7.94, bearingD: 39.04, contactAngle: 0 };
function tone(n: number, fs: number, amp: number, hz: number, dc = 0): number[] {
  return Array.from({ length: n }, (_, i) => dc + amp * Math.sin((2 * Math.PI * hz * i) / fs));
}
function within(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

describe('pdm-retrofit node', () => {
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
    await helper.load(retrofitNode, flow());
    const rf = helper.getNode('rf');
    assert.equal(rf.name, 'retrofit');
    assert.equal(rf.type, 'pdm-retrofit');
  });

  // ---- captured partner messages -------------------------------------------------------------

  for (const name of ['read-output1', 'read-output2', 'flex-getter-output1', 'flex-getter-output2', 'getter-output1']) {
    for (const [form, load] of [['as committed (JSON Buffers)', fixture], ['with Buffers revived', revived]] as const) {
      it(`replays node-red-contrib-modbus ${name} ${form}: exact values`, async () => {
        await helper.load(retrofitNode, modbusFlow());
        const input = load('modbus', name);
        const { out, rejects } = await send(load('modbus', name));
        assert.equal(rejects.length, 0, JSON.stringify(rejects.map((r) => r.reject)));
        assert.equal(out.length, 1, 'one readings message per input message');
        assertModbusExact(out[0], name);
        assert.deepEqual(JSON.parse(JSON.stringify(out[0].original)), fixture('modbus', name).payload, 'the input payload travels as msg.original');
        if (input.parts) assert.deepEqual(out[0].parts, input.parts);
        assert.equal(out[0].topic, input.topic);
      });
    }
  }

  it('replays modbus-read coils without a register map: coil_0 … coil_7', async () => {
    await helper.load(retrofitNode, flow({ assetId: modbus.assetId }));
    const { out } = await send(fixture('modbus', 'read-coils-output1'));
    const got = bySignal(out[0]);
    assert.deepEqual(Object.keys(got), ['coil_0', 'coil_1', 'coil_2', 'coil_3', 'coil_4', 'coil_5', 'coil_6', 'coil_7']);
    assert.deepEqual(Object.values(got).map((r) => r.value), [1, 0, 1, 0, 1, 0, 1, 0]);
    assert.equal(got.coil_0.source.fc, 1);
  });

  it('replays a short modbus read: covered entries decode, the rest reject as out_of_range, once, with Catch', async () => {
    await helper.load(retrofitNode, modbusFlow());
    const { out, rejects, caught } = await send(fixture('modbus', 'flex-getter-short-output1'));
    assert.deepEqual(Object.keys(bySignal(out[0])), ['power', 'voltage']);
    assert.equal(rejects.length, 1);
    assert.equal(rejects[0].reject.code, 'out_of_range');
    assert.equal(rejects[0].reject.count, modbus.registerMap.length - 2);
    assert.deepEqual(rejects[0].payload, fixture('modbus', 'flex-getter-short-output1').payload, 'the reject carries the original payload');
    assert.ok(rejects[0].reject.items.every((i: Msg) => i.code === 'out_of_range' && typeof i.item.signal === 'string'));
    assert.equal(caught.length, 1);
  });

  it('replays a failed modbus read (emptyMsgOnFail): one bad read_failed reading per mapped signal', async () => {
    await helper.load(retrofitNode, modbusFlow());
    const { out, rejects } = await send(fixture('modbus', 'flex-getter-failed-output1'));
    assert.equal(rejects.length, 0);
    const readings = out[0].payload as Msg[];
    assert.equal(readings.length, modbus.registerMap.length);
    assert.ok(readings.every((r) => r.quality === 'bad' && r.qualityReason === 'read_failed' && r.value === 0));
    assert.match(readings[0].source.error, /Illegal data address/);
  });

  for (const name of ['read', 'read-uint32', 'read-boolean', 'read-unknown-node', 'read-datatype', 'readmultiple-item', 'subscribe', 'subscribe-multiple']) {
    it(`replays node-red-contrib-opcua ${name}: value, unit, quality, timestamp`, async () => {
      await helper.load(retrofitNode, opcuaFlow());
      const input = fixture('opcua', name);
      const { out, rejects } = await send(fixture('opcua', name));
      assert.equal(rejects.length, 0);
      const [reading] = out[0].payload as Msg[];
      const nodeId = reading.source.address;
      const want = opcua.expected[nodeId];
      assert.ok(want, `unexpected address ${nodeId}`);
      for (const key of ['signal', 'value', 'unit', 'quality', 'qualityReason']) assert.equal(reading[key], want[key], `${name}: ${key}`);
      if (input.sourceTimestamp) assert.equal(reading.ts, Date.parse(input.sourceTimestamp));
      else if (input.payload?.sourceTimestamp) assert.equal(reading.ts, Date.parse(input.payload.sourceTimestamp));
      else assert.equal(reading.source.tsFilled, 'received');
      if (want.zone) assert.equal(reading.source.zone.zone, want.zone);
      assert.equal(reading.assetId, opcua.assetId);
    });
  }

  it('replays readmultiple "ALL": one message with a reading per DataValue', async () => {
    await helper.load(retrofitNode, opcuaFlow());
    const { out } = await send(fixture('opcua', 'readmultiple-all'));
    const readings = out[0].payload as Msg[];
    assert.deepEqual(readings.map((r) => r.signal), ['bearing_temperature', 'speed', 'current']);
    assert.deepEqual(readings.map((r) => r.value), [41.5, 1480, 85]);
  });

  it('ignores the OPC UA client\'s subscriptionId announcement, and counts it', async () => {
    await helper.load(retrofitNode, opcuaFlow());
    const { out, rejects, caught } = await send(fixture('opcua', 'subscription-id'));
    assert.equal(out.length + rejects.length + caught.length, 0);
    assert.equal((helper.getNode('rf') as Msg).counts.ignored, 1);
  });

  // ---- retrofit shapes -------------------------------------------------------------------------

  it('4–20 mA: 12 mA maps onto the range, a wire break (< 3.6 mA) is bad, 20.7 mA is uncertain', async () => {
    await helper.load(retrofitNode, flow({ scaling: [{ signal: 'pressure', kind: 'loop', min: 0, max: 10, unit: 'bar' }] }));
    const values: Msg[] = [];
    for (const mA of [12, 2.1, 20.7]) values.push((await send({ topic: 'plant/pump/pressure', payload: mA })).out[0].payload[0]);
    assert.deepEqual(values.map((r) => [r.value, r.unit, r.quality, r.qualityReason]), [
      [5, 'bar', 'good', undefined],
      [-1.1875, 'bar', 'bad', 'wire_break'],
      [10.4375, 'bar', 'uncertain', 'above_range'],
    ]);
    assert.deepEqual(values[1].source.scaled, { kind: 'loop', input: 2.1, inputUnit: 'mA' });
  });

  it('clamp-on CT: burden voltage → primary amps, with calibration', async () => {
    await helper.load(
      retrofitNode,
      flow({ scaling: [{ signal: 'current', kind: 'ct', primary: 200, secondary: 5, ctInput: 'burden_voltage', burdenOhms: 0.5, gain: 1.02, offset: -0.4 }] }),
    );
    const { out } = await send({ topic: 'current', payload: '1.25' });
    const r = out[0].payload[0];
    assert.equal(r.unit, 'A');
    within(r.value, (1.25 / 0.5) * 40 * 1.02 - 0.4, 1e-12, 'primary current');
    assert.deepEqual(r.source.calibration, { gain: 1.02, offset: -0.4 });
  });

  it('gateway JSON with its own assetId and timestamp; msg.assetId overrides both the node and the document', async () => {
    await helper.load(retrofitNode, flow());
    const ts = Date.UTC(2026, 5, 1);
    let got = await send({ payload: { assetId: 'C-3', ts, motor: { temp: 61.5, amps: 12 }, running: true } });
    let readings = got.out[0].payload as Msg[];
    assert.deepEqual(readings.map((r) => [r.assetId, r.signal, r.value, r.ts]), [
      ['C-3', 'motor.temp', 61.5, ts],
      ['C-3', 'motor.amps', 12, ts],
      ['C-3', 'running', 1, ts],
    ]);
    got = await send({ assetId: 'C-9', payload: JSON.stringify({ temp: 20 }) });
    readings = got.out[0].payload as Msg[];
    assert.equal(readings[0].assetId, 'C-9');
    assert.equal(readings[0].source.protocol, 'json');
  });

  it('a waveform: features, the velocity zone of the one chosen preset, and the 6205 bearing defect amplitudes', async () => {
    await helper.load(retrofitNode, flow({ sampleRate: 25600, ...BEARING, rpm: 1797, zonePreset: 'iso10816-3/group2-rigid' }));
    const fs = 25600;
    const bpfo = 107.36;
    const samples = tone(8192, fs, 2, bpfo, 9.81);
    const { out, rejects } = await send({ topic: 'pump/de/accel', payload: samples, parts: { id: 'w', index: 0, count: 1 } });
    assert.equal(rejects.length, 0);
    const got = bySignal(out[0]);
    within(got.vibration_acceleration.value, Math.SQRT2, 0.01, 'acceleration RMS (gravity removed)');
    const velocity = (2 / (2 * Math.PI * bpfo) / Math.SQRT2) * 1000;
    within(got.vibration_velocity.value, velocity, 0.01, 'velocity RMS');
    assert.equal(got.vibration_velocity.unit, 'mm/s');
    assert.deepEqual(got.vibration_velocity.source.zone, { preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', zone: 'B', limits: [1.4, 2.8, 4.5] });
    within(got.bearing_bpfo.value, Math.SQRT2, 0.01, 'amplitude at BPFO');
    assert.equal(Math.round(got.bearing_bpfo.source.frequency * 100) / 100, 107.36, 'BPFO of a 6205 at 1797 rpm');
    assert.equal(Math.round(got.bearing_bpfi.source.frequency * 100) / 100, 162.19, 'BPFI');
    assert.ok(got.bearing_bpfi.value < 0.05 * got.bearing_bpfo.value, 'nothing at BPFI');
    for (const s of ['vibration_peak', 'vibration_crest_factor', 'vibration_kurtosis', 'vibration_band.10-1000Hz', 'bearing_bsf', 'bearing_ftf']) assert.ok(got[s], `no ${s}`);
    within(got.vibration_crest_factor.value, Math.SQRT2, 0.01, 'crest factor of a sine');
    assert.equal(got.vibration_velocity.source.address, 'pump/de/accel');
    assert.deepEqual(out[0].parts, { id: 'w', index: 0, count: 1 });
  });

  it('waveform options from the message: {samples, sampleRate, unit g, point}; a slow sampler is band_limited; a flat frame is bad', async () => {
    await helper.load(retrofitNode, flow());
    let { out } = await send({ payload: { samples: tone(2048, 1024, 0.1, 50), sampleRate: 1024, unit: 'g', point: 'nde' } });
    const got = bySignal(out[0]);
    within(got['vibration_acceleration.nde'].value, (0.1 * 9.80665) / Math.SQRT2, 0.01, 'g converted to m/s²');
    assert.equal(got['vibration_velocity.nde'].quality, 'uncertain');
    assert.equal(got['vibration_velocity.nde'].qualityReason, 'band_limited');
    ({ out } = await send({ sampleRate: 5000, payload: new Array(1024).fill(0.3) }));
    assert.ok((out[0].payload as Msg[]).every((r) => r.quality === 'bad' && r.qualityReason === 'flat_signal'));
  });

  it('a vibration_velocity register or tag carries the zone too (in/s converted for the lookup)', async () => {
    await helper.load(retrofitNode, flow({ zonePreset: 'iso10816-1/class-I', tags: [{ address: 'ns=2;s=Vib', signal: 'vibration_velocity', unit: 'in/s' }] }));
    const { out } = await send({ topic: 'ns=2;s=Vib', payload: 0.1, statusCode: { value: 0 } });
    assert.equal(out[0].payload[0].source.zone.zone, 'C'); // 2.54 mm/s: class I B/C 1.8, C/D 4.5
  });

  it('OPC UA 64-bit integers ([high, low] words) and uncertain status codes', async () => {
    await helper.load(retrofitNode, flow());
    const { out } = await send({ topic: 'ns=3;i=1001', datatype: 'UInt64', payload: [1, 5], statusCode: { value: 0x40920000 } });
    const r = out[0].payload[0];
    assert.equal(r.value, 4294967301);
    assert.equal(r.signal, 'ns3.i1001');
    assert.equal(r.quality, 'uncertain');
  });

  // ---- bad input ---------------------------------------------------------------------------------

  const regs = (values: unknown[]) => ({ payload: { data: values }, values, input: { payload: { fc: 3, unitid: 1, address: 0, quantity: values.length } } });
  const badInputs: [string, Record<string, unknown>, Msg, string][] = [
    ['text that is no known shape', {}, { payload: 'hello' }, 'unknown_shape'],
    ['a bare number without a topic', {}, { payload: 42 }, 'unknown_shape'],
    ['no asset id anywhere', { assetId: '' }, { topic: 'temp', payload: 20 }, 'missing_asset'],
    ['a Modbus message without register values', {}, { payload: { data: 'x' }, values: 'x' }, 'modbus_no_values'],
    ['a Modbus response of zero registers', {}, { payload: [], responseBuffer: { data: [], buffer: { type: 'Buffer', data: [] } }, input: { payload: { fc: 3, address: 0 } } }, 'no_values'],
    ['a register that is not 16-bit', { registers: [{ signal: 'a', offset: 0, type: 'uint16' }] }, regs([70000]), 'invalid_register'],
    ['a map entry beyond the registers read', { registers: [{ signal: 'a', offset: 4, type: 'float32' }] }, regs([1, 2]), 'out_of_range'],
    ['registers without a map when unmapped values are rejected', { unmapped: 'reject' }, regs([1, 2]), 'no_register_map'],
    ['a NodeId not in the tag map when unmapped values are rejected', { unmapped: 'reject', tags: [{ address: 'ns=1;s=A', signal: 'a' }] }, { topic: 'ns=1;s=B', payload: 1 }, 'unmapped'],
    ['an OPC UA text value', {}, { topic: 'ns=1;s=State', payload: 'Running', statusCode: { value: 0 } }, 'not_numeric'],
    ['a waveform without a sample rate', {}, { payload: tone(64, 1000, 1, 50) }, 'no_sample_rate'],
    ['a waveform of three samples', { sampleRate: 1000 }, { payload: [1, 2, 3] }, 'waveform'],
    ['a waveform with a NaN-like sample', { sampleRate: 1000 }, { payload: { samples: [...tone(32, 1000, 1, 50), 'x'] } }, 'waveform'],
    ['an asset id that cannot be a topic level', {}, { assetId: 'a/b', topic: 'temp', payload: 1 }, 'invalid_reading'],
    ['a failed Modbus read without a register map', {}, { topic: 'x', payload: '', error: { message: 'timeout', nodeStatus: 'failure' }, modbusRequest: { fc: 3 } }, 'modbus_read_failed'],
    ['any message while the configuration is invalid', { registers: [{ signal: 'a', offset: 0, type: 'bit', bit: 16 }] }, { topic: 'temp', payload: 1 }, 'config'],
  ];

  for (const [label, config, input, code] of badInputs) {
    it(`rejects ${label} (${code}) to output 2 with the original message, and reaches Catch`, async () => {
      await helper.load(retrofitNode, flow(config));
      const rejected = once<Msg>(helper.getNode('rejects'), 'input');
      const caught = once<Msg>(helper.getNode('caught'), 'input');
      const out = collect('out');
      const original = { ...input, parts: { id: 'x', index: 2, count: 3 }, _custom: 'kept' };
      helper.getNode('rf').receive(JSON.parse(JSON.stringify(original)));
      const msg = await rejected;
      assert.equal(msg.reject.code, code);
      assert.ok(msg.reject.count >= 1);
      assert.equal(msg.reject.reason, `pdm-retrofit.reject.${code}`, 'the reason comes from the catalog');
      assert.equal(msg.reject.items.length, msg.reject.count);
      assert.deepEqual(msg.payload, JSON.parse(JSON.stringify(input.payload ?? null)) ?? undefined);
      assert.deepEqual(msg.parts, { id: 'x', index: 2, count: 3 });
      assert.equal(msg._custom, 'kept');
      const error = await caught;
      assert.equal(error.error.source.id, 'rf');
      assert.match(error.error.message, /pdm-retrofit\.errors\.rejected/);
      await settle();
      assert.equal(out.length, 0, 'no readings for a wholly bad message');
    });
  }

  it('an invalid configuration is reported once at deploy, with a red status', async () => {
    await helper.load(retrofitNode, flow({ zonePreset: 'iso-mixed', scaling: [{ signal: 'p', kind: 'loop', min: 4, max: 4, unit: 'bar' }] }));
    const rf = helper.getNode('rf');
    assert.equal(rf.error.callCount, 1);
    assert.match(String(rf.error.firstCall.args[0]), /pdm-retrofit\.errors\.config/);
    assert.deepEqual(rf.status.firstCall.args[0], { fill: 'red', shape: 'ring', text: 'pdm-retrofit.status.config-error' });
  });

  it('a gateway document past 10,000 values: the first 10,000 are readings, the rest is said out loud', async () => {
    await helper.load(retrofitNode, flow());
    const doc = Object.fromEntries(Array.from({ length: 10_005 }, (_, i) => [`v${i}`, i]));
    const { out, rejects } = await send({ payload: doc });
    assert.equal(out[0].payload.length, 10_000);
    assert.equal(rejects[0].reject.code, 'truncated');
  });

  it('status shows the counts; redeploying 50 times leaves no timers or listeners behind', async () => {
    await helper.load(retrofitNode, flow());
    const rf0 = helper.getNode('rf');
    rf0.receive({ topic: 'temp', payload: 1 });
    await settle(600);
    assert.equal(rf0.status.lastCall.args[0].text, 'pdm-retrofit.status.counts');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const listeners = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ name: `rf${i}`, assetId: `M-${i}` }));
      const rf = helper.getNode('rf');
      // Two messages back to back leave a status render pending: close() must clear it.
      rf.receive({ topic: 'temp', payload: i });
      rf.receive({ topic: 'temp', payload: 'junk' });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle();
    assert.ok(timers() <= baseline, `timers grew from ${baseline} to ${timers()}`);
    assert.equal(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection'), listeners);
  });

  // ---- the core-only example flows, as shipped (Import > Examples) -------------------------------

  /** Core nodes the example flows use, from the runtime under test (4.1, or 5 under NR_PKG). */
  const core = (file: string): unknown => {
    const nodeRed = path.dirname(require.resolve(`${process.env.NR_PKG || 'node-red'}/package.json`, { paths: [repoRoot] }));
    return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [nodeRed] }));
  };
  /** An example on a tab, with its debug nodes swapped for test helpers (same ids) and comments left out. */
  function example(file: string): Msg[] {
    const nodes = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'retrofit', file), 'utf8')) as Msg[];
    return [
      { id: 'tab', type: 'tab', label: file },
      ...nodes.filter((n) => n.type !== 'comment').map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', name: n.name, z: 'tab', x: n.x, y: n.y, wires: [] } : { ...n, z: 'tab' })),
    ];
  }
  const exampleModules = () => [retrofitNode, nodeModule('pdm-normalise'), core('common/20-inject.js'), core('function/10-function.js')];
  async function runExample(file: string, injectName: string): Promise<{ clean: Msg[]; rejects: Msg[]; caught: Msg[] }> {
    const nodes = example(file);
    const byName = (name: string) => nodes.find((n) => n.name === name)!.id as string;
    const clean = collect(byName('clean readings'));
    const rejects = collect(byName('rejects'));
    const caught = nodes.some((n) => n.name === 'caught errors') ? collect(byName('caught errors')) : [];
    helper.getNode(byName(injectName)).receive({});
    await settle(150);
    return { clean, rejects, caught };
  }

  it('example "03 - Modbus shapes without a PLC" works as its comment says', async () => {
    const file = '03 - Modbus shapes without a PLC.json';
    await helper.load(exampleModules(), example(file));
    const meter = { voltage: 231.4, current: 12.6, power: 2.75, power_factor: 0.93, frequency: 50.02 };
    for (const shape of ['read output 2 shape', 'read output 1 shape']) {
      const { clean, rejects } = await runExample(file, shape);
      assert.equal(rejects.length, 0, shape);
      assert.deepEqual(clean.map((m) => m.payload.signal).sort(), Object.keys(meter).sort(), shape);
      for (const m of clean) within(m.payload.value, meter[m.payload.signal as keyof typeof meter], 1e-6, `${shape}: ${m.payload.signal}`);
      assert.equal(clean.find((m) => m.payload.signal === 'power')!.payload.unit, 'kW', 'normalise converted W to kW');
      assert.equal(clean[0].topic, 'pdm/_/_/_/EM-101/clean/' + clean[0].payload.signal);
    }
    const failed = await runExample(file, 'failed read');
    assert.equal(failed.clean.length, 5);
    assert.ok(failed.clean.every((m) => m.payload.quality === 'bad' && m.payload.qualityReason === 'read_failed'));
    const short = await runExample(file, 'short read (4 registers)');
    assert.deepEqual(short.clean.map((m) => m.payload.signal), ['voltage']);
    assert.equal(short.rejects[0].reject.code, 'out_of_range');
    assert.equal(short.caught.length, 1);
  });

  it('example "04 - OPC UA shapes without a server" works as its comment says', async () => {
    const file = '04 - OPC UA shapes without a server.json';
    await helper.load(exampleModules(), example(file));
    const one = async (inject: string) => {
      const got = await runExample(file, inject);
      assert.equal(got.rejects.length, 0, `${inject}: ${JSON.stringify(got.rejects.map((r) => r.reject))}`);
      return got.clean.map((m) => m.payload);
    };
    const [temp] = await one('read bearing temperature');
    assert.deepEqual([temp.signal, temp.value, temp.unit, temp.quality], ['bearing_temperature', 60.5, '°C', 'good']);
    const [vib] = await one('read with ;datatype=');
    assert.equal(vib.source.zone.zone, 'C');
    const [pressure] = await one('subscribe multiple (DataValue)');
    assert.deepEqual([pressure.value, pressure.unit, pressure.ts], [8.4, 'bar', Date.parse('2026-01-01T08:00:00.000Z')]);
    const [amps] = await one('CT secondary 3.9 A');
    within(amps.value, 117, 1e-12, 'CT primary current');
    const [missing] = await one('unknown NodeId');
    assert.deepEqual([missing.quality, missing.qualityReason], ['bad', 'BadNodeIdUnknown']);
    const [broken] = await one('wire break 2.1 mA');
    assert.equal(broken.quality, 'bad');
    // -1.9 bar is also below discharge_pressure's plausible range, and pdm-normalise currently
    // replaces the upstream reason (wire_break) with its own (out_of_range).
    assert.ok(['wire_break', 'out_of_range'].includes(broken.qualityReason), broken.qualityReason);
    assert.deepEqual(broken.source.scaled, { kind: 'loop', input: 2.1, inputUnit: 'mA' });
    assert.deepEqual(await one('subscriptionId'), []);
  });

  it('example "05 - Vibration waveform and bearing defects" works as its comment says', async () => {
    const file = '05 - Vibration waveform and bearing defects.json';
    await helper.load(exampleModules(), example(file));
    const { clean, rejects } = await runExample(file, 'every 5 s');
    assert.equal(rejects.length, 0);
    const got = Object.fromEntries(clean.map((m) => [m.payload.signal, m.payload]));
    for (const s of ['vibration_acceleration', 'vibration_velocity', 'vibration_peak', 'vibration_crest_factor', 'vibration_kurtosis', 'bearing_bpfo', 'bearing_bpfi', 'bearing_bsf', 'bearing_ftf']) {
      assert.ok(got[s], `no ${s} from the example`);
    }
    assert.equal(got.vibration_velocity.source.zone.preset, 'iso10816-3/group2-rigid');
    assert.ok(got.bearing_bpfo.value > 5 * got.bearing_bpfi.value, 'the simulated outer-race defect shows at BPFO');
  });

  // ---- the editor's import endpoint ----------------------------------------------------------------

  it('POST /pdm-retrofit/register-map parses JSON and CSV with the runtime rules', async () => {
    await helper.load(retrofitNode, flow());
    const json = await helper.request().post('/pdm-retrofit/register-map').send({ text: JSON.stringify({ registers: [{ signal: 'power', offset: 0, type: 'float32', order: 'CDAB', unit: 'kW' }] }) }).expect(200);
    assert.deepEqual(json.body, { ok: true, rows: [{ signal: 'power', offset: 0, type: 'float32', order: 'CDAB', scale: 1, bias: 0, unit: 'kW' }] });
    const csv = await helper.request().post('/pdm-retrofit/register-map').send({ text: 'signal;offset;type;bit\nrunning;3;bit;2\n' }).expect(200);
    assert.deepEqual(csv.body.rows, [{ signal: 'running', offset: 3, type: 'bit', order: 'ABCD', scale: 1, bias: 0, unit: '', bit: 2 }]);
    const bad = await helper.request().post('/pdm-retrofit/register-map').send({ text: '[{"signal":"x","offset":0,"type":"bit","bit":16}]' }).expect(200);
    assert.equal(bad.body.ok, false);
    assert.match(bad.body.errors[0], /bit/);
  });
});
