import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectSource, MAX_ITEMS, splitNodeIdTopic, statusToQuality, toBytes } from '../../nodes/lib/retrofit/detect';
import { compileRegisterMap, decodeRegisters } from '../../nodes/lib/retrofit/registers';

/*
 * Fixtures mirror shared/reference/node-red.md §C, i.e. what node-red-contrib-modbus 5.23 and
 * node-red-contrib-opcua put on the wire. Registers: 1234.5678 as float32 ABCD, 21.5 °C as int16
 * ×0.1, -2 as int16.
 */
const REGS = [0x449a, 0x522b, 215, 0xfffe];
const bytes = () => Buffer.from([0x44, 0x9a, 0x52, 0x2b, 0x00, 0xd7, 0xff, 0xfe]);
const readRequest = { topic: 'polling', from: 'PLC read', payload: { unitid: 1, fc: 3, address: 100, quantity: 4, messageId: '66a0f0c2e4b0a1b2c3d4e5f6' } };
const modbusRequest = {
  value: 0,
  unitid: 2,
  fc: 4,
  address: 300,
  quantity: 4,
  emptyMsgOnFail: false,
  keepMsgProperties: true,
  enableDeformedMessages: false,
  messageId: '66a0f0c2e4b0a1b2c3d4e5f7',
};

/** Stand-in for node-opcua's ConstantStatusCode: private fields behind getters, toJSON → {value}. */
class ConstantStatusCode {
  constructor(
    private readonly _value: number,
    private readonly _name: string,
  ) {}
  get value(): number {
    return this._value;
  }
  get name(): string {
    return this._name;
  }
  toString(): string {
    return `${this._name} (0x${this._value.toString(16).padStart(8, '0')})`;
  }
  toJSON(): { value: number } {
    return { value: this._value };
  }
}
const Good = new ConstantStatusCode(0, 'Good');
const BadNodeIdUnknown = new ConstantStatusCode(0x80340000, 'BadNodeIdUnknown');

/** node-opcua NodeId stand-in: an object whose own toString gives the NodeId text. */
class NodeId {
  constructor(
    readonly namespace: number,
    readonly value: string,
  ) {}
  toString(): string {
    return `ns=${this.namespace};s=${this.value}`;
  }
}

const T1 = Date.UTC(2024, 5, 1, 12, 0, 0);
const T2 = T1 + 250;

describe('source detection: node-red-contrib-modbus', () => {
  const map = (() => {
    const r = compileRegisterMap([
      { signal: 'flow', offset: 0, type: 'float32', unit: 'm³/h' },
      { signal: 'temp', offset: 2, type: 'int16', scale: 0.1, unit: '°C' },
      { signal: 'level', offset: 3, type: 'int16', unit: 'mm' },
    ]);
    assert.ok(r.ok);
    return r.map;
  })();
  const decodeAll = (d: ReturnType<typeof detectSource>) =>
    decodeRegisters(map, d.buffer ?? d.registers!).map((x) => (x.ok ? x.value : x.code));

  it('Modbus-Read output 1: responseBuffer + input.payload.fc', () => {
    const msg = { topic: 'polling', payload: REGS, responseBuffer: { data: REGS, buffer: bytes() }, input: readRequest, sendingNodeId: '8f2c1d3e.4b5a6' };
    const d = detectSource(msg);
    assert.equal(d.kind, 'modbus-read');
    assert.equal(d.protocol, 'modbus');
    assert.equal(d.variant, 'modbus-read output 1');
    assert.deepEqual(d.modbus, { unitId: 1, fc: 3, address: 100, quantity: 4 });
    assert.deepEqual(d.registers, REGS);
    assert.deepEqual(d.buffer, bytes());
    assert.deepEqual(d.items, []);
    assert.deepEqual(decodeAll(d), [1234.5677490234375, 21.5, -2]);
  });

  it('Modbus-Read output 2: values + payload.data (the response object)', () => {
    const msg = { topic: 'polling', payload: { data: REGS, buffer: bytes() }, values: REGS, input: readRequest, sendingNodeId: '8f2c1d3e.4b5a6' };
    const d = detectSource(msg);
    assert.equal(d.kind, 'modbus-read-values');
    assert.equal(d.variant, 'modbus-read output 2');
    assert.deepEqual(d.modbus, { unitId: 1, fc: 3, address: 100, quantity: 4 });
    assert.deepEqual(decodeAll(d), [1234.5677490234375, 21.5, -2]);
  });

  it('Getter / Flex-Getter output 1: modbusRequest, payload = values, responseBuffer', () => {
    const msg = { topic: 'pump-1', messageId: modbusRequest.messageId, payload: REGS, responseBuffer: { data: REGS, buffer: bytes() }, modbusRequest, parts: { id: 'x', index: 0, count: 2 } };
    const d = detectSource(msg);
    assert.equal(d.kind, 'modbus-getter');
    assert.equal(d.variant, 'modbus-getter output 1');
    assert.deepEqual(d.modbus, { unitId: 2, fc: 4, address: 300, quantity: 4 });
    assert.deepEqual(decodeAll(d), [1234.5677490234375, 21.5, -2]);
  });

  it('Getter output 2: modbusRequest, payload = response object, values, no responseBuffer', () => {
    const msg = { topic: 'pump-1', payload: { data: REGS, buffer: bytes() }, values: REGS, modbusRequest };
    const d = detectSource(msg);
    assert.equal(d.kind, 'modbus-getter');
    assert.equal(d.variant, 'modbus-getter output 2');
    assert.deepEqual(decodeAll(d), [1234.5677490234375, 21.5, -2]);
  });

  it('a responseBuffer that went through JSON ({type:"Buffer", data}) still decodes', () => {
    const msg = JSON.parse(JSON.stringify({ topic: 'polling', payload: REGS, responseBuffer: { data: REGS, buffer: bytes() }, input: readRequest }));
    const d = detectSource(msg);
    assert.ok(d.buffer instanceof Uint8Array);
    assert.deepEqual(decodeAll(d), [1234.5677490234375, 21.5, -2]);
  });

  it('coils (fc 1) come as booleans; their bit-packed buffer is not used as registers', () => {
    const coils = [true, false, true, true];
    const msg = { topic: 'polling', payload: coils, responseBuffer: { data: coils, buffer: Buffer.from([0x0d]) }, input: { ...readRequest, payload: { ...readRequest.payload, fc: 1 } } };
    const d = detectSource(msg);
    assert.equal(d.kind, 'modbus-read');
    assert.deepEqual(d.registers, coils);
    assert.equal(d.buffer, undefined);
  });

  it('IO-file mode: named values become items', () => {
    const valueNames = [
      { register: 'MB-INPUTS', name: 'wTemp', addressStart: 2, addressOffset: 1, bits: 16, dataType: 'Word', type: 'input', value: 215 },
      { register: 'MB-INPUTS', name: 'rFlow', addressStart: 0, addressOffset: 2, bits: 32, dataType: 'Real', type: 'input', value: 1234.5677490234375 },
      { name: 'xBad', type: 'x', mapping: {}, error: 'variable name does not match input mapping' },
    ];
    const d = detectSource({ topic: 'polling', payload: REGS, responseBuffer: { data: REGS, buffer: bytes() }, input: readRequest, valueNames });
    assert.deepEqual(d.items, [
      { address: 'wTemp', value: 215, quality: 'good' },
      { address: 'rFlow', value: 1234.5677490234375, quality: 'good' },
    ]);
    assert.deepEqual(d.registers, REGS);
  });

  it('emptyMsgOnFail: the request comes back with payload "" and error', () => {
    const error = Object.assign(new Error('Timed out'), { nodeStatus: 'active' });
    const d = detectSource({ topic: 'polling', from: 'PLC read', payload: '', error });
    assert.equal(d.kind, 'modbus-error');
    assert.equal(d.protocol, 'modbus');
    assert.equal(d.error, 'Timed out');
    assert.deepEqual(d.items, []);
  });
});

describe('source detection: node-red-contrib-opcua', () => {
  it('read: value in payload, StatusCode object, Date timestamps, msg.datatype', () => {
    const msg = { topic: 'ns=3;s=Counter', datatype: 'Double', browseName: 'Counter', payload: 42.5, statusCode: Good, serverTimestamp: new Date(T2), sourceTimestamp: new Date(T1) };
    const d = detectSource(msg);
    assert.equal(d.kind, 'opcua');
    assert.equal(d.protocol, 'opcua');
    assert.deepEqual(d.items, [{ address: 'ns=3;s=Counter', value: 42.5, ts: T1, quality: 'good', statusCode: 0, datatype: 'Double' }]);
  });

  it('read of an unknown node: BadNodeIdUnknown → bad', () => {
    const d = detectSource({ topic: 'ns=3;s=Missing', payload: null, statusCode: BadNodeIdUnknown, serverTimestamp: new Date(T2), sourceTimestamp: null });
    assert.deepEqual(d.items, [{ address: 'ns=3;s=Missing', value: null, ts: T2, quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 }]);
  });

  it('subscribe (single): topic keeps ;datatype=, timestamps as epoch-ms numbers', () => {
    const msg = { topic: 'ns=3;s=Temp;datatype=Double', payload: 21.3, statusCode: Good, serverTimestamp: T2, sourceTimestamp: T1, serverPicoseconds: 0, sourcePicoseconds: 0 };
    const d = detectSource(msg);
    assert.equal(d.kind, 'opcua');
    assert.deepEqual(d.items, [{ address: 'ns=3;s=Temp', value: 21.3, ts: T1, quality: 'good', statusCode: 0, datatype: 'Double' }]);
  });

  it('subscribe "multiple": whole DataValue in payload, value at payload.value.value', () => {
    const dataValue = {
      value: { dataType: 'Double', arrayType: 'Scalar', value: 3.7 },
      statusCode: { value: 0 },
      sourceTimestamp: new Date(T1).toISOString(),
      sourcePicoseconds: 0,
      serverTimestamp: new Date(T2).toISOString(),
      serverPicoseconds: 0,
    };
    const d = detectSource({ topic: 'ns=2;i=1005', payload: dataValue });
    assert.equal(d.kind, 'opcua-datavalue');
    assert.deepEqual(d.items, [{ address: 'ns=2;i=1005', value: 3.7, ts: T1, quality: 'good', statusCode: 0, datatype: 'Double' }]);
    // In-process DataValues carry a numeric dataType (node-opcua DataType.Double = 11) and Dates.
    const live = detectSource({ topic: 'ns=2;i=1005', payload: { value: { dataType: 11, value: 3.7 }, statusCode: new ConstantStatusCode(0x40000000, 'Uncertain'), sourceTimestamp: null, serverTimestamp: new Date(T2) } });
    assert.deepEqual(live.items, [{ address: 'ns=2;i=1005', value: 3.7, ts: T2, quality: 'uncertain', qualityReason: 'Uncertain', statusCode: 0x40000000 }]);
  });

  it('readmultiple: per-item messages, topic as a string or as the stored item object', () => {
    const asString = detectSource({ topic: 'ns=3;s=Counter', payload: 7, statusCode: Good, serverTimestamp: new Date(T2), sourceTimestamp: new Date(T1) });
    const asItem = detectSource({ topic: { nodeId: 'ns=3;s=Counter', attributeId: 13, TimestampsToReturn: 2 }, payload: 7, serverTimestamp: new Date(T2), sourceTimestamp: new Date(T1) });
    assert.equal(asString.items[0].address, 'ns=3;s=Counter');
    assert.deepEqual(asItem.items, [{ address: 'ns=3;s=Counter', value: 7, ts: T1, quality: 'good' }]);
  });

  it('readmultiple "ALL": DataValue[] with msg.items', () => {
    const d = detectSource({
      topic: 'ALL',
      payload: [
        { value: { dataType: 11, value: 1.5 }, statusCode: Good, sourceTimestamp: new Date(T1), serverTimestamp: new Date(T2) },
        { value: { dataType: 0, value: null }, statusCode: BadNodeIdUnknown, sourceTimestamp: null, serverTimestamp: null },
      ],
      items: [
        { nodeId: 'ns=3;s=A', attributeId: 13 },
        { nodeId: new NodeId(3, 'B'), attributeId: 13 },
      ],
    });
    assert.equal(d.kind, 'opcua-datavalues');
    assert.deepEqual(d.items, [
      { address: 'ns=3;s=A', value: 1.5, ts: T1, quality: 'good', statusCode: 0 },
      { address: 'ns=3;s=B', value: null, quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 },
    ]);
  });

  it('a missing statusCode and missing timestamps give good quality and no ts', () => {
    const d = detectSource({ topic: 'i=2258', payload: 1 });
    assert.deepEqual(d.items, [{ address: 'i=2258', value: 1, quality: 'good' }]);
  });

  it('splits ;datatype= tails', () => {
    assert.deepEqual(splitNodeIdTopic('ns=2;s=MyLevel;datatype=Double'), { nodeId: 'ns=2;s=MyLevel', datatype: 'Double' });
    assert.deepEqual(splitNodeIdTopic('ns=2;s=MyLevel'), { nodeId: 'ns=2;s=MyLevel' });
  });
});

describe('StatusCode severity → quality', () => {
  it('reads severity bits from numbers, objects, JSON and names', () => {
    assert.deepEqual(statusToQuality(0), { quality: 'good', statusCode: 0 });
    assert.deepEqual(statusToQuality(0x002f0000), { quality: 'good', statusCode: 0x002f0000 });
    assert.deepEqual(statusToQuality(0x40000000), { quality: 'uncertain', qualityReason: 'Uncertain', statusCode: 0x40000000 });
    assert.deepEqual(statusToQuality(0x80340000), { quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 });
    // Signed 32-bit spelling and info bits in the low word.
    assert.deepEqual(statusToQuality(0x80340000 | 0), { quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 });
    assert.deepEqual(statusToQuality(0x80340400), { quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340400 });
    // Severity 3 is reserved; treat as bad.
    assert.deepEqual(statusToQuality(0xc0120000), { quality: 'bad', qualityReason: '0xC0120000', statusCode: 0xc0120000 });
    assert.deepEqual(statusToQuality(0x80ab0000), { quality: 'bad', qualityReason: '0x80AB0000', statusCode: 0x80ab0000 });
    assert.deepEqual(statusToQuality(BadNodeIdUnknown), { quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 });
    assert.deepEqual(statusToQuality(JSON.parse(JSON.stringify(BadNodeIdUnknown))), { quality: 'bad', qualityReason: 'BadNodeIdUnknown', statusCode: 0x80340000 });
    assert.deepEqual(statusToQuality({ _value: 0x40000000, _name: 'UncertainLastUsableValue' }), { quality: 'uncertain', qualityReason: 'UncertainLastUsableValue', statusCode: 0x40000000 });
    assert.deepEqual(statusToQuality('Good'), { quality: 'good' });
    assert.deepEqual(statusToQuality('GoodOverload'), { quality: 'good' });
    assert.deepEqual(statusToQuality('BadNodeIdUnknown'), { quality: 'bad', qualityReason: 'BadNodeIdUnknown' });
    assert.deepEqual(statusToQuality('BadNodeIdUnknown (0x80340000)'), { quality: 'bad', qualityReason: 'BadNodeIdUnknown' });
    assert.deepEqual(statusToQuality('UncertainSensorNotAccurate'), { quality: 'uncertain', qualityReason: 'UncertainSensorNotAccurate' });
    assert.deepEqual(statusToQuality(undefined), { quality: 'good' });
    assert.deepEqual(statusToQuality('weird'), { quality: 'uncertain', qualityReason: 'unknown_status' });
    assert.deepEqual(statusToQuality({}), { quality: 'uncertain', qualityReason: 'unknown_status' });
  });
});

describe('source detection: plain values and gateway JSON', () => {
  it('a number with a topic', () => {
    assert.deepEqual(detectSource({ topic: 'pump1/temp', payload: 41.2 }), { kind: 'topic-value', protocol: 'topic', items: [{ address: 'pump1/temp', value: 41.2, quality: 'good' }] });
    assert.deepEqual(detectSource({ topic: 'pump1/temp', payload: ' 41.2 ' }).items[0].value, 41.2);
  });

  it('a flat or nested object of values, with a timestamp', () => {
    const d = detectSource({ payload: { ts: T1, temperature: 41.2, running: true, vib: { x: 1.1, y: 0.9 }, serial: 'A-17' } });
    assert.equal(d.kind, 'gateway-json');
    assert.deepEqual(d.items, [
      { address: 'temperature', value: 41.2, quality: 'good', ts: T1 },
      { address: 'running', value: true, quality: 'good', ts: T1 },
      { address: 'vib.x', value: 1.1, quality: 'good', ts: T1 },
      { address: 'vib.y', value: 0.9, quality: 'good', ts: T1 },
    ]);
  });

  it('JSON text, a values wrapper and per-value objects with unit and quality', () => {
    const text = JSON.stringify({ timestamp: new Date(T1).toISOString(), values: { temp: { value: 41.2, unit: '°C' }, flow: { value: 3, unit: 'l/min', quality: 'uncertain' } } });
    const d = detectSource({ topic: 'gw/1', payload: text });
    assert.deepEqual(d.items, [
      { address: 'temp', value: 41.2, quality: 'good', ts: T1, unit: '°C' },
      { address: 'flow', value: 3, quality: 'uncertain', ts: T1, unit: 'l/min' },
    ]);
  });

  it('a list of entries, and a single entry', () => {
    const list = detectSource({
      payload: [
        { name: 'temp', value: 41.2, unit: '°C', ts: new Date(T1).toISOString() },
        { tag: 'current', value: 12.5, q: 0x80000000 },
        { nope: 1 },
      ],
    });
    assert.deepEqual(list.items, [
      { address: 'temp', value: 41.2, quality: 'good', ts: T1, unit: '°C' },
      { address: 'current', value: 12.5, quality: 'bad', qualityReason: 'Bad' },
    ]);
    const single = detectSource({ payload: { signal: 'vibration_velocity', value: 2.1, unit: 'mm/s', ts: T1 } });
    assert.deepEqual(single.items, [{ address: 'vibration_velocity', value: 2.1, quality: 'good', ts: T1, unit: 'mm/s' }]);
  });

  it('says when a huge document was cut short', () => {
    const doc = Object.fromEntries(Array.from({ length: MAX_ITEMS + 5 }, (_, i) => [`v${i}`, i]));
    const d = detectSource({ payload: doc });
    assert.equal(d.items.length, MAX_ITEMS);
    assert.equal(d.reason, `gateway JSON has ${MAX_ITEMS + 5} values; only the first ${MAX_ITEMS} were read`);
  });

  it('a field called "time" that is not a timestamp stays a value', () => {
    const d = detectSource({ payload: { time: 12.5, temp: 20 } });
    assert.deepEqual(d.items, [
      { address: 'time', value: 12.5, quality: 'good' },
      { address: 'temp', value: 20, quality: 'good' },
    ]);
  });

  it('unknown shapes say why, and never throw', () => {
    assert.deepEqual(detectSource({ payload: 42 }), { kind: 'unknown', protocol: 'unknown', items: [], reason: 'a bare value needs msg.topic to name it' });
    assert.equal(detectSource({ payload: 'hello' }).kind, 'unknown');
    assert.equal(detectSource({ payload: '{not json' }).kind, 'unknown');
    assert.equal(detectSource({ payload: { text: 'no numbers' } }).kind, 'unknown');
    assert.deepEqual(detectSource(null), { kind: 'unknown', protocol: 'unknown', items: [], reason: 'message is not an object' });
    assert.equal(detectSource([1, 2]).kind, 'unknown');
  });

  it('does not modify the message', () => {
    const msg = { topic: 'ns=3;s=Temp;datatype=Double', payload: 21.3, statusCode: { value: 0 }, sourceTimestamp: T1, parts: { id: 'p', index: 1, count: 3 } };
    const before = JSON.stringify(msg);
    detectSource(msg);
    assert.equal(JSON.stringify(msg), before);
  });
});

describe('toBytes', () => {
  it('accepts Buffer, Uint8Array and serialised Buffers only', () => {
    assert.deepEqual(toBytes({ type: 'Buffer', data: [1, 2] }), Uint8Array.from([1, 2]));
    assert.equal(toBytes({ type: 'Buffer', data: [1, 300] }), undefined);
    assert.equal(toBytes([1, 2]), undefined);
    const b = Buffer.from([9]);
    assert.equal(toBytes(b), b);
  });
});
