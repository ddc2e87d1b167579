/**
 * pdm-retrofit fed by a REAL node-red-contrib-modbus 5.23.3 (modbus-client + modbus-read +
 * modbus-flex-getter, loaded into the same Node-RED 4.1 runtime by node-red-node-test-helper)
 * polling a REAL Modbus TCP server (modbus-serial ServerTCP on 127.0.0.1, a free port).
 *
 * The server holds test/fixtures/modbus/layout.json: float32 in all four byte/word orders, int32,
 * uint32, scaled int16/uint16, bits, a 4–20 mA loop value, a float64 and a byte-swapped int16.
 * The registers are encoded here with Buffer's own writers (not with the decoder under test), and
 * every decoded value must equal the layout's exactly.
 *
 * The messages arriving at pdm-retrofit are compared, by shape, with the committed fixtures in
 * test/fixtures/modbus/ (so a partner release that changes its output fails here), and
 * `PDM_UPDATE_FIXTURES=1` rewrites those fixtures from this run. test/node/retrofit.test.ts
 * replays them without a server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nodeModule, repoRoot } from '../helpers/node-red';
import { freePort } from '../pack/support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ModbusRTU = require('modbus-serial');
const contrib = (file: string): unknown => require(path.join(repoRoot, 'node_modules', 'node-red-contrib-modbus', 'modbus', file));
const MODBUS_VERSION: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', 'node-red-contrib-modbus', 'package.json'), 'utf8')).version;
const SERIAL_VERSION: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', 'modbus-serial', 'package.json'), 'utf8')).version;

type Msg = Record<string, any>;
const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'modbus');
const layout = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'layout.json'), 'utf8'));
const UPDATE = process.env.PDM_UPDATE_FIXTURES === '1';

// ---------------------------------------------------------------------------------------------
// The server's registers, encoded independently of the decoder under test

const ORDER_BYTES: Record<string, (b: number[]) => number[]> = {
  ABCD: (b) => b,
  CDAB: (b) => b.reduce<number[][]>((w, _, i) => (i % 2 ? w : [...w, b.slice(i, i + 2)]), []).reverse().flat(),
  BADC: (b) => b.map((_, i) => b[i ^ 1]),
  DCBA: (b) => [...b].reverse(),
};

function encode(type: string, order: string, value: number): number[] {
  const size = { int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 }[type]!;
  const buf = Buffer.alloc(size);
  if (type === 'int16') buf.writeInt16BE(value);
  else if (type === 'uint16') buf.writeUInt16BE(value);
  else if (type === 'int32') buf.writeInt32BE(value);
  else if (type === 'uint32') buf.writeUInt32BE(value);
  else if (type === 'float32') buf.writeFloatBE(value);
  else buf.writeDoubleBE(value);
  const bytes = ORDER_BYTES[order]([...buf]);
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  return words;
}

const holding = new Map<number, number>();
for (const s of layout.server) encode(s.type, s.order, s.value).forEach((w, i) => holding.set(layout.start + s.offset + i, w));
for (let a = layout.start; a < layout.start + layout.quantity; a++) if (!holding.has(a)) holding.set(a, 0);

// ---------------------------------------------------------------------------------------------
// Fixture capture: JSON as Node-RED's debug/export would see it, minus the per-run _msgid

function serialise(msg: Msg): Msg {
  const { _msgid, ...rest } = msg;
  // An Error keeps its name, message and own properties; an own property set to undefined (the
  // flex-getter's `error.nodeStatus`) becomes null so the key survives JSON.
  const errorJson = (e: Error & Msg) => ({ ...Object.fromEntries(Object.keys(e).map((k) => [k, e[k] === undefined ? null : e[k]])), name: e.name, message: e.message });
  return JSON.parse(JSON.stringify(rest, (_k, v) => (v instanceof Error ? errorJson(v as Error & Msg) : v)));
}

/** The structure of a value: keys and leaf types, not the values (ids and timestamps change). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? ['array', shape(v[0])] : ['array'];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Msg)[k])]));
  return v === null ? 'null' : typeof v;
}

function checkFixture(name: string, variant: string, message: Msg): void {
  const file = path.join(FIXTURES, `${name}.json`);
  const captured = serialise(message);
  if (UPDATE || !fs.existsSync(file)) {
    const doc = {
      description: `${variant}, as it arrived at pdm-retrofit`,
      partner: `node-red-contrib-modbus@${MODBUS_VERSION}`,
      server: `modbus-serial@${SERIAL_VERSION} ServerTCP holding test/fixtures/modbus/layout.json`,
      captured: new Date().toISOString(),
      message: captured,
    };
    fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    if (!UPDATE) assert.fail(`fixture ${name}.json did not exist and was written now: review and commit it, then rerun`);
    return;
  }
  const committed = JSON.parse(fs.readFileSync(file, 'utf8')).message;
  assert.deepEqual(shape(captured), shape(committed), `${name}: the partner's message shape differs from the committed fixture (PDM_UPDATE_FIXTURES=1 rewrites it)`);
}

// ---------------------------------------------------------------------------------------------

function readingsBySignal(msg: Msg): Record<string, Msg> {
  assert.ok(Array.isArray(msg.payload), 'output 1 carries an array of readings');
  return Object.fromEntries(msg.payload.map((r: Msg) => [r.signal, r]));
}

function assertExact(msg: Msg, what: string): void {
  const got = readingsBySignal(msg);
  for (const [signal, [value, unit]] of Object.entries(layout.expected as Record<string, [number, string]>)) {
    assert.ok(got[signal], `${what}: no reading for ${signal}; got ${Object.keys(got).join(', ')}`);
    assert.equal(got[signal].value, value, `${what}: ${signal}`);
    assert.equal(got[signal].unit, unit, `${what}: unit of ${signal}`);
    assert.equal(got[signal].quality, 'good', `${what}: quality of ${signal}`);
    assert.equal(got[signal].assetId, layout.assetId);
    assert.equal(got[signal].source.protocol, 'modbus');
  }
  assert.equal(Object.keys(got).length, Object.keys(layout.expected).length, `${what}: exactly the mapped signals`);
  assert.equal(got.power.source.address, String(layout.start));
  assert.equal(got.voltage.source.order, 'CDAB');
  assert.equal(got.discharge_pressure.source.scaled.input, 12);
  assert.equal(got[layout.expectedZone.signal].source.zone.zone, layout.expectedZone.zone);
}

/** Resolves when `pick` finds something in `list`, polling; rejects after `ms`. */
async function waitFor<T>(what: string, pick: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = pick();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('pdm-retrofit with node-red-contrib-modbus against a real Modbus TCP server', { timeout: 60_000 }, () => {
  let server: any;
  let port: number;
  const out: Msg[] = [];
  const rejects: Msg[] = [];
  const seen: Record<string, Msg[]> = {};

  before(async () => {
    port = await freePort();
    const vector = {
      getHoldingRegister: (addr: number) => {
        if (addr >= 1000) throw { modbusErrorCode: 0x02, msg: 'Illegal data address' };
        return holding.get(addr) ?? 0;
      },
      getInputRegister: (addr: number) => holding.get(addr) ?? 0,
      getCoil: (addr: number) => addr % 2 === 0,
      getDiscreteInput: () => false,
      setRegister: () => undefined,
      setCoil: () => undefined,
    };
    server = new ModbusRTU.ServerTCP(vector, { host: '127.0.0.1', port, unitID: layout.unitId });
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', resolve);
      server.on('error', reject);
    });
    await helper.startServer();

    const at = { z: 'tab', x: 100, y: 100 };
    const rf = {
      type: 'pdm-retrofit',
      assetId: layout.assetId,
      unmapped: 'pass',
      registers: layout.registerMap,
      tags: [],
      scaling: layout.scaling,
      zonePreset: layout.zonePreset,
    };
    await helper.load(
      [nodeModule('pdm-retrofit'), contrib('modbus-client.js'), contrib('modbus-read.js'), contrib('modbus-getter.js'), contrib('modbus-flex-getter.js')],
      [
        { id: 'tab', type: 'tab', label: 'modbus' },
        {
          id: 'client', type: 'modbus-client', name: 'test server', clienttype: 'tcp', bufferCommands: true, stateLogEnabled: false, queueLogEnabled: false, failureLogEnabled: false,
          tcpHost: '127.0.0.1', tcpPort: String(port), tcpType: 'DEFAULT', serialPort: '/dev/ttyUSB', serialType: 'RTU-BUFFERD', serialBaudrate: '9600',
          serialDatabits: '8', serialStopbits: '1', serialParity: 'none', serialConnectionDelay: '100', unit_id: String(layout.unitId), commandDelay: '1',
          clientTimeout: '1000', reconnectOnTimeout: true, reconnectTimeout: '2000', parallelUnitIdsAllowed: true,
        },
        {
          id: 'read', ...at, type: 'modbus-read', name: 'meter poll', topic: '', showStatusActivities: false, logIOActivities: false, showErrors: false, unitid: String(layout.unitId),
          dataType: 'HoldingRegister', adr: String(layout.start), quantity: String(layout.quantity), rate: '300', rateUnit: 'ms', delayOnStart: false, startDelayTime: '',
          server: 'client', useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail: false, wires: [['rf', 'in-read-1'], ['rf', 'in-read-2']],
        },
        {
          id: 'coils', ...at, type: 'modbus-read', name: 'coil poll', topic: 'coils', showStatusActivities: false, logIOActivities: false, showErrors: false, unitid: String(layout.unitId),
          dataType: 'Coil', adr: String(layout.coils.start), quantity: String(layout.coils.quantity), rate: '300', rateUnit: 'ms', delayOnStart: false, startDelayTime: '',
          server: 'client', useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail: false, wires: [['rf-raw', 'in-coils-1'], []],
        },
        {
          id: 'flex', ...at, type: 'modbus-flex-getter', name: 'on demand', showStatusActivities: false, showErrors: false, logIOActivities: false, server: 'client',
          useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail: true, keepMsgProperties: true, wires: [['rf', 'in-flex-1'], ['rf', 'in-flex-2']],
        },
        {
          id: 'getter', ...at, type: 'modbus-getter', name: 'on trigger', showStatusActivities: false, showErrors: false, logIOActivities: false, unitid: String(layout.unitId),
          dataType: 'HoldingRegister', adr: String(layout.start), quantity: String(layout.quantity), server: 'client', useIOFile: false, ioFile: '', useIOForPayload: false,
          emptyMsgOnFail: false, keepMsgProperties: false, wires: [['rf', 'in-getter-1'], []],
        },
        { id: 'rf', ...at, ...rf, name: 'meter', wires: [['out'], ['rejects']] },
        { id: 'rf-raw', ...at, type: 'pdm-retrofit', assetId: layout.assetId, unmapped: 'pass', registers: [], tags: [], scaling: [], wires: [['out-raw'], ['rejects']] },
        ...['out', 'out-raw', 'rejects', 'in-read-1', 'in-read-2', 'in-coils-1', 'in-flex-1', 'in-flex-2', 'in-getter-1'].map((id) => ({ id, ...at, type: 'helper', wires: [] })),
      ],
    );
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    helper.getNode('out-raw').on('input', (m: Msg) => out.push(m));
    helper.getNode('rejects').on('input', (m: Msg) => rejects.push(m));
    for (const id of ['in-read-1', 'in-read-2', 'in-coils-1', 'in-flex-1', 'in-flex-2', 'in-getter-1']) {
      seen[id] = [];
      helper.getNode(id).on('input', (m: Msg) => seen[id].push(m));
    }
  });

  after(async () => {
    await helper.unload();
    await helper.stopServer();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('Modbus-Read output 1 (registers + responseBuffer): every type and order decodes to the exact value the server holds', async () => {
    const msg = await waitFor('a readings message from modbus-read output 1', () => out.find((m) => m.responseBuffer && m.input && m.sendingNodeId === 'read'));
    assertExact(msg, 'modbus-read output 1');
    assert.equal(readingsBySignal(msg).power.source.variant, 'modbus-read output 1');
    assert.equal(readingsBySignal(msg).power.source.node, 'read');
    assert.deepEqual(msg.original, msg.responseBuffer.data, 'the input payload travels as msg.original');
    assert.equal(msg.topic, 'polling', "the partner's properties pass through");
    checkFixture('read-output1', 'modbus-read output 1 (HoldingRegister 100, 21 registers)', seen['in-read-1'][0]);
  });

  it('Modbus-Read output 2 (payload {data, buffer} + values): the same exact values', async () => {
    const msg = await waitFor('a readings message from modbus-read output 2', () => out.find((m) => m.values && m.sendingNodeId === 'read'));
    assertExact(msg, 'modbus-read output 2');
    assert.equal(readingsBySignal(msg).power.source.variant, 'modbus-read output 2');
    checkFixture('read-output2', 'modbus-read output 2 (HoldingRegister 100, 21 registers)', seen['in-read-2'][0]);
  });

  it('coils without a register map: one reading per coil, named by table and address', async () => {
    const msg = await waitFor('coil readings', () => out.find((m) => m.sendingNodeId === 'coils'));
    const got = readingsBySignal(msg);
    assert.deepEqual(
      Object.keys(got),
      Array.from({ length: layout.coils.quantity }, (_, i) => `coil_${layout.coils.start + i}`),
    );
    for (let i = 0; i < layout.coils.quantity; i++) assert.equal(got[`coil_${i}`].value, i % 2 === 0 ? 1 : 0);
    checkFixture('read-coils-output1', 'modbus-read output 1 (Coil 0, 8 coils)', seen['in-coils-1'][0]);
  });

  it('Flex-Getter outputs 1 and 2 (modbusRequest): exact values, and parts and other properties pass through', async () => {
    helper.getNode('flex').receive({
      topic: 'meter on demand',
      payload: { fc: 3, unitid: layout.unitId, address: layout.start, quantity: layout.quantity },
      parts: { id: 'batch-7', index: 0, count: 1 },
      _custom: 'kept',
    });
    const one = await waitFor('flex-getter output 1 readings', () => out.find((m) => m.modbusRequest && m.responseBuffer));
    const two = await waitFor('flex-getter output 2 readings', () => out.find((m) => m.modbusRequest && m.values));
    for (const [msg, variant] of [[one, 'modbus-getter output 1'], [two, 'modbus-getter output 2']] as const) {
      assertExact(msg, variant);
      assert.equal(readingsBySignal(msg).power.source.variant, variant);
      assert.deepEqual(msg.parts, { id: 'batch-7', index: 0, count: 1 });
      assert.equal(msg._custom, 'kept');
      assert.equal(msg.topic, 'meter on demand');
    }
    checkFixture('flex-getter-output1', 'modbus-flex-getter output 1 (fc 3, address 100, 21 registers, keepMsgProperties)', seen['in-flex-1'][0]);
    checkFixture('flex-getter-output2', 'modbus-flex-getter output 2 (fc 3, address 100, 21 registers, keepMsgProperties)', seen['in-flex-2'][0]);
  });

  it('Getter output 1 (fixed address, triggered by any message, keepMsgProperties off): the same exact values', async () => {
    helper.getNode('getter').receive({ topic: 'trigger', payload: 'go' });
    const msg = await waitFor('getter output 1 readings', () => out.find((m) => m.modbusRequest && m.responseBuffer && m.topic === 'trigger'));
    assertExact(msg, 'modbus-getter output 1');
    checkFixture('getter-output1', 'modbus-getter output 1 (HoldingRegister 100, 21 registers, keepMsgProperties off)', seen['in-getter-1'][0]);
  });

  it('a read shorter than the register map: the entries it covers decode, the others are rejected as out_of_range', async () => {
    const before = rejects.length;
    helper.getNode('flex').receive({ topic: 'short', payload: { fc: 3, unitid: layout.unitId, address: layout.start, quantity: 4 } });
    const msg = await waitFor('short read readings', () => out.find((m) => m.topic === 'short' && m.responseBuffer));
    assert.deepEqual(Object.keys(readingsBySignal(msg)), ['power', 'voltage']);
    assert.equal(readingsBySignal(msg).voltage.value, 400.25);
    const rejected = await waitFor('short read reject', () => rejects.slice(before).find((m) => m.topic === 'short' && m.responseBuffer));
    assert.equal(rejected.reject.code, 'out_of_range');
    assert.equal(rejected.reject.count, layout.registerMap.length - 2);
    assert.deepEqual(rejected.payload, [...holding.entries()].filter(([a]) => a < layout.start + 4).map(([, w]) => w), 'the reject carries the input untouched');
    checkFixture('flex-getter-short-output1', 'modbus-flex-getter output 1 (fc 3, address 100, only 4 registers)', seen['in-flex-1'].find((m) => m.topic === 'short')!);
  });

  it('a failed read (illegal address, emptyMsgOnFail): a bad reading per mapped signal, never a silent gap', async () => {
    helper.getNode('flex').receive({ topic: 'fails', payload: { fc: 3, unitid: layout.unitId, address: 5000, quantity: 2 } });
    const msg = await waitFor('failed read readings', () => out.find((m) => m.topic === 'fails'));
    const got = readingsBySignal(msg);
    assert.equal(Object.keys(got).length, layout.registerMap.length);
    for (const r of Object.values(got)) {
      assert.equal(r.quality, 'bad');
      assert.equal(r.qualityReason, 'read_failed');
      assert.equal(r.value, 0);
      assert.match(String(r.source.error), /./);
    }
    assert.equal(got.discharge_pressure.unit, 'bar', 'a placeholder takes the scaled unit');
    checkFixture('flex-getter-failed-output1', 'modbus-flex-getter output 1 after a failed read (address 5000, emptyMsgOnFail)', seen['in-flex-1'].find((m) => m.topic === 'fails')!);
  });
});
