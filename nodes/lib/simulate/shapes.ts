/**
 * What the simulator sends besides readings, so the retrofit path is exercised too:
 *
 * - **Modbus**: each asset is a Modbus unit whose holding registers (from 0) hold the latest value
 *   of every simulated signal, in a mix of types and byte orders (float32/64, int16/32, uint16/32;
 *   ABCD, CDAB, BADC, DCBA) with scaling. `modbusLayout` gives the register map that
 *   nodes/lib/retrofit decodes them with; `modbusReadMessage` the message a node-red-contrib-modbus
 *   Modbus-Read sends (output 1: payload = registers, responseBuffer {data, buffer}, input.payload
 *   {unitid, fc, address, quantity}).
 * - **OPC UA**: one item per reading, shaped like a node-red-contrib-opcua subscription output:
 *   topic = NodeId `ns=2;s=<asset>.<signal>`, payload = value, datatype, statusCode,
 *   sourceTimestamp/serverTimestamp = simulated time (shared/reference/node-red.md C2).
 */
import type { Reading } from '../contracts/reading';
import { REGISTER_WORDS, compileRegisterMap, type ByteOrder, type RegisterEntry, type RegisterMap, type RegisterType } from '../retrofit/registers';
import type { TagEntry } from '../retrofit/tags';

interface Encoding {
  type: RegisterType;
  order: ByteOrder;
  scale: number;
}

/** Register encoding per signal: each type and byte order of the retrofit decoder is used by some signal. */
const ENCODINGS: Record<string, Encoding> = {
  vibration_velocity: { type: 'float32', order: 'ABCD', scale: 1 },
  vibration_acceleration: { type: 'float32', order: 'CDAB', scale: 1 },
  current: { type: 'uint32', order: 'CDAB', scale: 0.01 },
  voltage: { type: 'float32', order: 'BADC', scale: 1 },
  speed: { type: 'uint32', order: 'DCBA', scale: 0.1 },
  belt_speed: { type: 'int32', order: 'BADC', scale: 0.01 },
  power: { type: 'float32', order: 'DCBA', scale: 1 },
  suction_pressure: { type: 'int32', order: 'ABCD', scale: 0.001 },
  discharge_pressure: { type: 'int32', order: 'ABCD', scale: 0.001 },
  filter_differential_pressure: { type: 'uint16', order: 'ABCD', scale: 0.0001 },
  flow: { type: 'float64', order: 'ABCD', scale: 1 },
};
/** Temperatures: signed tenths of a degree, one register. */
const TEMPERATURE: Encoding = { type: 'int16', order: 'ABCD', scale: 0.1 };
const FALLBACK: Encoding = { type: 'float32', order: 'ABCD', scale: 1 };

function encodingOf(signal: string): Encoding {
  return ENCODINGS[signal] ?? (signal.endsWith('_temperature') ? TEMPERATURE : FALLBACK);
}

export interface ModbusLayout {
  assetId: string;
  /** Modbus unit id of the asset (1-based position in the asset list, wrapping at 247). */
  unitId: number;
  /** The register map, as pdm-retrofit's editor or JSON import takes it. */
  entries: RegisterEntry[];
  /** Registers to read (fc 3 from address 0). */
  quantity: number;
  /** The same map compiled for decoding. */
  map: RegisterMap;
}

/** Register map of an asset's signals, laid out one after another from register 0. */
export function modbusLayout(assetId: string, unitId: number, signals: readonly { signal: string; unit: string }[]): ModbusLayout {
  const entries: RegisterEntry[] = [];
  let offset = 0;
  for (const { signal, unit } of signals) {
    const e = encodingOf(signal);
    const entry: RegisterEntry = { signal, offset, type: e.type, unit };
    if (e.order !== 'ABCD') entry.order = e.order;
    if (e.scale !== 1) entry.scale = e.scale;
    entries.push(entry);
    offset += REGISTER_WORDS[e.type];
  }
  const compiled = compileRegisterMap(entries);
  if (!compiled.ok) throw new Error(`internal register map error: ${compiled.errors.join('; ')}`);
  return { assetId, unitId, entries, quantity: offset, map: compiled.map };
}

const LIMITS: Partial<Record<RegisterType, [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const scratch = new DataView(new ArrayBuffer(8));
const swap16 = (w: number) => ((w & 0xff) << 8) | (w >>> 8);

/** Big-endian 16-bit words of a raw value of `type`. */
function words(type: RegisterType, raw: number): number[] {
  switch (type) {
    case 'int16':
    case 'uint16':
      return [raw & 0xffff];
    case 'int32':
      return [(raw >>> 16) & 0xffff, raw & 0xffff];
    case 'uint32':
      return [Math.floor(raw / 65536), raw % 65536];
    case 'float32':
      scratch.setFloat32(0, raw);
      return [scratch.getUint16(0), scratch.getUint16(2)];
    case 'float64':
      scratch.setFloat64(0, raw);
      return [scratch.getUint16(0), scratch.getUint16(2), scratch.getUint16(4), scratch.getUint16(6)];
    default:
      return [raw & 1];
  }
}

export interface EncodedRegisters {
  /** Holding registers 0..quantity−1 as unsigned 16-bit numbers, as Modbus-Read's payload. */
  registers: number[];
  /**
   * The engineering value each signal decodes to: the value quantised to its register's
   * resolution (raw × scale), or float32-rounded. The decoder must return exactly these.
   */
  expected: Record<string, number>;
}

/** Encodes the latest values into the asset's registers; a signal without a value reads 0. */
export function encodeRegisters(layout: ModbusLayout, values: ReadonlyMap<string, number> | Record<string, number>): EncodedRegisters {
  const get = (s: string) => (values instanceof Map ? values.get(s) : (values as Record<string, number>)[s]);
  const registers = new Array<number>(layout.quantity).fill(0);
  const expected: Record<string, number> = {};
  for (const e of layout.map.entries) {
    const value = get(e.signal) ?? 0;
    let raw: number;
    if (e.type === 'float32') raw = Math.fround(value);
    else if (e.type === 'float64') raw = value;
    else {
      const [lo, hi] = LIMITS[e.type]!;
      raw = Math.min(hi, Math.max(lo, Math.round((value - e.bias) / e.scale)));
    }
    // The decoder computes raw × scale + bias; so must we, to the last bit.
    expected[e.signal] = raw * e.scale + e.bias;
    const w = words(e.type, raw);
    for (let j = 0; j < e.words; j++) {
      const word = w[e.swapWords ? e.words - 1 - j : j];
      registers[e.offset + j] = e.swapBytes ? swap16(word) : word;
    }
  }
  return { registers, expected };
}

/** The response bytes of the registers (big-endian per register), as responseBuffer.buffer carries them. */
export function registerBytes(registers: readonly number[]): Buffer {
  const b = Buffer.alloc(registers.length * 2);
  registers.forEach((r, i) => b.writeUInt16BE(r, 2 * i));
  return b;
}

/** A message as node-red-contrib-modbus Modbus-Read output 1 sends it (shared/reference/node-red.md C1). */
export function modbusReadMessage(layout: ModbusLayout, registers: number[], messageId: string): Record<string, unknown> {
  const request = { unitid: layout.unitId, fc: 3, address: 0, quantity: layout.quantity, messageId };
  return {
    topic: 'polling',
    payload: registers,
    responseBuffer: { data: [...registers], buffer: registerBytes(registers) },
    input: { topic: 'polling', payload: request },
  };
}

/** OPC UA NodeId of a simulated signal: `ns=2;s=<assetId>.<signal>`. */
export function opcuaNodeId(assetId: string, signal: string): string {
  return `ns=2;s=${assetId}.${signal}`;
}

/** Tag map of an asset (NodeId → signal and unit), as pdm-retrofit takes it. */
export function opcuaTagMap(assetId: string, signals: readonly { signal: string; unit: string }[]): TagEntry[] {
  return signals.map(({ signal, unit }) => ({ address: opcuaNodeId(assetId, signal), signal, unit }));
}

/** A reading as a node-red-contrib-opcua subscription sends it (one message per monitored item). */
export function opcuaItemMessage(reading: Reading): Record<string, unknown> {
  return {
    topic: opcuaNodeId(reading.assetId, reading.signal),
    payload: reading.value,
    datatype: 'Double',
    statusCode: { value: 0, name: 'Good' },
    sourceTimestamp: new Date(reading.ts),
    serverTimestamp: new Date(reading.ts),
  };
}
