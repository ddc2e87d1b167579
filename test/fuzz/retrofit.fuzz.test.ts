/**
 * Property-based fuzzing of pdm-retrofit in a real runtime: ≥ 10,000 generated messages in the
 * shapes of node-red-contrib-modbus, node-red-contrib-opcua, gateways, retrofit sensors and
 * waveforms, mostly malformed, plus arbitrary junk.
 *
 * Nothing may crash, and every input must be accounted for: each message completes exactly once
 * (a Complete node sees done(), a Catch node sees done(err)); each one leaves a readings message,
 * a reject message, or is a counted control message; every reading satisfies the contract; and the
 * node's counts equal what arrived downstream.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { validateReading } from '../../nodes/lib/contracts/reading';

const retrofitNode = nodeModule('pdm-retrofit');
const RUNS = 10_000;
const NOW = Date.now();

/** Node-RED messages never hold null-prototype objects (Node-RED's own Flow.handleError would throw on one). */
const R = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T) => fc.record(model, { noNullPrototype: true });

const MAPPED = ['ns=1;s=Pump1.Temp', 'ns=1;s=Pump1.Loop', 'ns=1;s=Pump1.Ct', 'ns=1;s=Pump1.Vib', 'i=2258'];
const nodeId = fc.oneof(
  fc.constantFrom(...MAPPED),
  fc.constantFrom(...MAPPED).map((id) => `${id};datatype=Double`),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.constantFrom('s', 'i', 'g', 'b'), fc.string({ maxLength: 12 })).map(([ns, t, id]) => `ns=${ns};${t}=${id}`),
);
const u16 = fc.integer({ min: 0, max: 65535 });
const register = fc.oneof({ weight: 8, arbitrary: u16 }, { weight: 1, arbitrary: fc.integer({ min: -40000, max: 80000 }) }, { weight: 1, arbitrary: fc.oneof(fc.double(), fc.boolean(), fc.string({ maxLength: 3 }), fc.constant(null)) });
const registers = fc.array(register, { maxLength: 24 });
const fcode = fc.oneof(fc.constantFrom(1, 2, 3, 4), fc.integer(), fc.string({ maxLength: 2 }));
const request = fc.record({ unitid: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.string({ maxLength: 3 })), fc: fcode, address: fc.oneof(u16, fc.string({ maxLength: 5 })), quantity: u16 }, { requiredKeys: [], noNullPrototype: true });
const bytes = fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b));
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 86_400_000, max: NOW }),
  fc.date({ noInvalidDate: false }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.double(),
);
const status = fc.oneof(
  fc.constant(undefined),
  R({ value: fc.oneof(fc.constant(0), fc.constant(0x80340000), fc.integer({ min: 0, max: 0xffffffff })) }),
  fc.integer(),
  fc.constantFrom('Good', 'BadNodeIdUnknown', 'Uncertain', 'weird'),
  fc.anything({ withNullPrototype: false }),
);
const value = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ maxLength: 6 }), fc.constant(null), fc.tuple(fc.integer(), fc.integer()), fc.object({ maxDepth: 1, withNullPrototype: false }));
const dataValue = fc.record({ value: R({ dataType: fc.constantFrom('Double', 'Int64', 'Boolean', 'String', 11), value }), statusCode: status, sourceTimestamp: timestamp, serverTimestamp: timestamp }, { requiredKeys: ['value'], noNullPrototype: true });
const samples = fc.array(fc.oneof({ weight: 20, arbitrary: fc.double({ min: -100, max: 100, noNaN: true }) }, { weight: 1, arbitrary: fc.oneof(fc.double(), fc.string({ maxLength: 2 })) }), { minLength: 0, maxLength: 300 });

const shapes = {
  modbusRead: R({ topic: fc.constant('polling'), payload: registers, responseBuffer: R({ data: registers, buffer: fc.oneof(bytes, fc.constant(undefined)) }), input: R({ payload: request }), sendingNodeId: fc.constant('r1') }),
  modbusValues: R({ payload: fc.record({ data: fc.oneof(registers, fc.anything({ withNullPrototype: false })), buffer: fc.oneof(bytes, fc.anything({ withNullPrototype: false })) }, { requiredKeys: ['data'], noNullPrototype: true }), values: fc.oneof(registers, fc.anything({ withNullPrototype: false })), input: R({ payload: request }) }),
  modbusGetter: fc.record({ payload: fc.oneof(registers, fc.anything({ withNullPrototype: false })), modbusRequest: request, responseBuffer: fc.oneof(R({ data: registers, buffer: bytes }), fc.constant(undefined)) }, { requiredKeys: ['modbusRequest'], noNullPrototype: true }),
  modbusFailure: R({ payload: fc.constant(''), error: R({ message: fc.string({ maxLength: 10 }), nodeStatus: fc.constant(null) }), modbusRequest: fc.oneof(request, fc.constant(undefined)) }),
  opcua: fc.record({ topic: nodeId, payload: value, statusCode: status, sourceTimestamp: timestamp, serverTimestamp: timestamp, datatype: fc.oneof(fc.constant(undefined), fc.constantFrom('Double', 'Int64', 'UInt64')) }, { requiredKeys: ['topic', 'payload'], noNullPrototype: true }),
  opcuaMultiple: R({ topic: nodeId, payload: dataValue }),
  opcuaAll: fc.array(fc.tuple(nodeId, dataValue), { minLength: 1, maxLength: 5 }).map((pairs) => ({ topic: 'readmultiple', payload: pairs.map((p) => p[1]), items: pairs.map((p) => ({ nodeId: p[0] })) })),
  control: R({ topic: fc.constant('subscriptionId'), payload: fc.integer({ min: 1, max: 1e9 }) }),
  topicValue: R({ topic: fc.oneof(fc.constantFrom('pressure', 'current', 'plant/p1/vibration_velocity'), fc.string({ maxLength: 10 })), payload: fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 6 }), fc.boolean()) }),
  gateway: R({ payload: fc.oneof(fc.object({ maxDepth: 3, withNullPrototype: false }), fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))) }),
  waveform: R({ payload: fc.oneof(samples, fc.record({ samples, sampleRate: fc.oneof(fc.double({ min: 1, max: 50_000 }), fc.anything({ withNullPrototype: false })), rpm: fc.oneof(fc.double({ min: 0, max: 6000 }), fc.anything({ withNullPrototype: false })), unit: fc.constantFrom('g', 'm/s²', 'furlongs'), point: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 4 })) }, { requiredKeys: ['samples'], noNullPrototype: true })) }),
  junk: fc.anything({ withNullPrototype: false }).map((payload) => ({ payload })),
};
const message = fc
  .tuple(
    fc.oneof(...Object.values(shapes)),
    fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('P-1', 'a/b', ''), fc.string({ maxLength: 6 }), fc.integer()) }),
  )
  .map(([msg, assetId]) => (assetId === undefined ? msg : { ...msg, assetId }) as Record<string, unknown>);

describe('pdm-retrofit fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it(`accounts for every one of ${RUNS} generated messages and never crashes`, { timeout: 240_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(retrofitNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      {
        id: 'rf', ...at, type: 'pdm-retrofit', assetId: 'M-7', unmapped: 'pass', zonePreset: 'iso10816-3/group2-rigid',
        registers: [
          { signal: 'power', offset: 0, type: 'float32', order: 'CDAB', unit: 'kW' },
          { signal: 'temperature', offset: 2, type: 'int16', scale: 0.1, unit: '°C' },
          { signal: 'pressure', offset: 3, type: 'uint16', scale: 0.001, unit: 'mA' },
          { signal: 'running', offset: 4, type: 'bit', bit: 0 },
          { signal: 'energy', offset: 5, type: 'float64', order: 'DCBA', unit: 'kWh' },
        ],
        tags: [
          { address: 'ns=1;s=Pump1.Temp', signal: 'temperature', unit: '°C' },
          { address: 'ns=1;s=Pump1.Loop', signal: 'pressure', unit: 'mA' },
          { address: 'ns=1;s=Pump1.Ct', signal: 'current', unit: 'A' },
          { address: 'ns=1;s=Pump1.Vib', signal: 'vibration_velocity', unit: 'mm/s' },
        ],
        scaling: [
          { signal: 'pressure', kind: 'loop', min: 0, max: 10, unit: 'bar' },
          { signal: 'current', kind: 'ct', primary: 100, secondary: 5, gain: 1.01 },
        ],
        sampleRate: 2000, bearingN: 9, bearingd: 7.94, bearingD: 39.04, contactAngle: 0, rpm: 1797,
        wires: [['readings'], ['rejects']],
      },
      // Without any map: every register and value passes with a name from its address.
      { id: 'rf-bare', ...at, type: 'pdm-retrofit', assetId: 'M-8', unmapped: 'pass', registers: [], tags: [], scaling: [], wires: [['readings'], ['rejects']] },
      // Only what the tag map names; registers without a map are rejected.
      {
        id: 'rf-strict', ...at, type: 'pdm-retrofit', assetId: 'M-9', unmapped: 'reject', registers: [], scaling: [],
        tags: [{ address: 'ns=1;s=Pump1.Temp', signal: 'temperature', unit: '°C', scale: 0.1, bias: -40 }], wires: [['readings'], ['rejects']],
      },
      { id: 'readings', ...at, type: 'helper', wires: [] },
      { id: 'rejects', ...at, type: 'helper', wires: [] },
      { id: 'catcher', ...at, type: 'catch', scope: ['rf', 'rf-bare', 'rf-strict'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
      { id: 'completer', ...at, type: 'complete', scope: ['rf', 'rf-bare', 'rf-strict'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
    ]);
    const nodes = ['rf', 'rf-bare', 'rf-strict'].map((id) => helper.getNode(id));
    const answered = new Set<number>();
    const completions = new Map<number, number>();
    const complete = (seq: number) => completions.set(seq, (completions.get(seq) ?? 0) + 1);
    let readings = 0;
    let rejected = 0;
    let invalid = 0;
    const unexpected: string[] = [];
    helper.getNode('readings').on('input', (msg: { _seq: number; payload: unknown[] }) => {
      answered.add(msg._seq);
      assert.ok(Array.isArray(msg.payload) && msg.payload.length > 0, 'output 1 carries a non-empty array');
      readings += msg.payload.length;
      for (const r of msg.payload) if (!validateReading(r)) invalid++;
    });
    helper.getNode('rejects').on('input', (msg: { _seq: number; reject: { count: number; code: string; reason: string; items: unknown[] } }) => {
      answered.add(msg._seq);
      rejected += msg.reject.count;
      assert.ok(msg.reject.code && msg.reject.reason && msg.reject.items.length === msg.reject.count);
    });
    helper.getNode('caught').on('input', (msg: { _seq: number; error: { message: string } }) => {
      complete(msg._seq);
      if (!/^(Error: )?pdm-retrofit\.errors\.rejected$/.test(msg.error.message)) unexpected.push(msg.error.message);
    });
    helper.getNode('completed').on('input', (msg: { _seq: number }) => complete(msg._seq));

    const samplesDrawn = fc.sample(message, { numRuns: RUNS, seed: 20261127 });
    for (let i = 0; i < samplesDrawn.length; i++) {
      nodes[i % nodes.length].receive({ ...samplesDrawn[i], _seq: i });
      if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    type Counts = { messages: number; readings: number; rejected: number; ignored: number };
    const counts = nodes.map((n) => n.counts as Counts).reduce((a, c) => ({ messages: a.messages + c.messages, readings: a.readings + c.readings, rejected: a.rejected + c.rejected, ignored: a.ignored + c.ignored }));
    assert.deepEqual(unexpected.slice(0, 5), [], 'only catalog-keyed rejects reach Catch: anything else is a crash inside the handler');
    assert.equal(counts.messages, RUNS);
    assert.equal(completions.size, RUNS, 'every message completed (done() or done(err))');
    assert.ok([...completions.values()].every((n) => n === 1), 'no message completed twice');
    assert.equal(answered.size + counts.ignored, RUNS, 'every message left a readings or reject message, or was a counted control message');
    assert.equal(counts.readings, readings, 'readings seen downstream = readings counted');
    assert.equal(counts.rejected, rejected, 'rejects seen downstream = rejects counted');
    assert.equal(invalid, 0, 'every reading satisfies the contract');
    assert.ok(readings > RUNS / 2, `too few readings (${readings}): generator or node broken`);
    assert.ok(rejected > RUNS / 10, `too few rejects (${rejected})`);
    assert.ok(counts.ignored > 0, 'control messages were generated and ignored');
    console.log(JSON.stringify({ messages: RUNS, readings, rejected, ignored: counts.ignored }));
  });
});
