/**
 * Source detection: recognise what produced a message (shared/reference/node-red.md §C) without
 * configuration, and describe it in one shape the node maps through its register or tag map.
 *
 * Order matters, most specific first (§C3):
 *  1. `msg.modbusRequest`                        → Modbus Getter / Flex-Getter / Flex-Sequencer
 *  2. `msg.responseBuffer && msg.input.payload.fc` → Modbus-Read output 1
 *  3. `msg.values && msg.payload.data`           → Modbus-Read output 2
 *     (a failed read with `emptyMsgOnFail` is the *request* message with `payload: ''` and an
 *     `error` carrying `nodeStatus`, so it is recognised by that instead)
 *  4. a topic that is an OPC UA NodeId            → node-red-contrib-opcua (value, DataValue or
 *     `readmultiple` "ALL"); `;datatype=` tails are stripped, `msg.topic` is never trusted beyond
 *     that (it may be "multiple" or "ALL" while the NodeId sits elsewhere)
 *  5. a payload that is a whole DataValue         → OPC UA `multiple` subscription
 *  6. a number (or numeric text) with a topic     → one named value
 *  7. an object or JSON text                      → gateway JSON
 * Pure: the message is only read, never changed.
 */
import type { Quality } from '../contracts/reading';
import { toEpochMs } from '../time';

export type SourceKind =
  | 'modbus-getter'
  | 'modbus-read'
  | 'modbus-read-values'
  | 'modbus-error'
  | 'opcua'
  | 'opcua-datavalue'
  | 'opcua-datavalues'
  | 'topic-value'
  | 'gateway-json'
  | 'unknown';

export type SourceProtocol = 'modbus' | 'opcua' | 'topic' | 'json' | 'unknown';

export interface DetectedItem {
  /** OPC UA NodeId (datatype tail stripped), Modbus IO-file name, topic, or gateway JSON path. */
  address: string;
  value: unknown;
  /** Epoch ms from the source (OPC UA source, else server timestamp; gateway `ts`); absent when the source gave none. */
  ts?: number;
  quality: Quality;
  qualityReason?: string;
  /** OPC UA status code as a number. */
  statusCode?: number;
  /** OPC UA datatype from `;datatype=` or msg.datatype. */
  datatype?: string;
  /** Unit the source declared (gateway JSON). */
  unit?: string;
}

export interface ModbusRequest {
  unitId?: number;
  fc?: number;
  /** First register address read; register-map offsets count from here. */
  address?: number;
  quantity?: number;
}

export interface DetectedSource {
  kind: SourceKind;
  protocol: SourceProtocol;
  /** Which partner node output this looks like, for provenance, e.g. "modbus-read output 1". */
  variant?: string;
  modbus?: ModbusRequest;
  /** Register values (fc 3/4) or coils as booleans (fc 1/2). */
  registers?: readonly (number | boolean)[];
  /** Raw response bytes (registers only, big-endian), preferred for decoding. */
  buffer?: Uint8Array;
  items: DetectedItem[];
  /** The partner node reported a failed read (Modbus `emptyMsgOnFail`); every mapped signal is bad. */
  error?: string;
  /** Why detection gave up (kind `unknown`), or what it left out (a gateway document past MAX_ITEMS). */
  reason?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A NodeId anywhere in a string: `ns=2;s=Temp`, `i=2258`, `nsu=urn:x;s=A`. */
export const NODE_ID = /(^|;)(ns=\d+;)?[isgb]=/;
const DATATYPE_TAIL = /;datatype=([^;]*)$/i;

/** Splits `ns=3;s=Counter;datatype=Double` into the NodeId and the datatype. */
export function splitNodeIdTopic(topic: string): { nodeId: string; datatype?: string } {
  const m = DATATYPE_TAIL.exec(topic);
  return m ? { nodeId: topic.slice(0, m.index), datatype: m[1] || undefined } : { nodeId: topic };
}

/** A few common codes, so a number becomes a readable reason; others are shown in hex. */
const STATUS_NAMES: Record<number, string> = {
  0x00000000: 'Good',
  0x40000000: 'Uncertain',
  0x80000000: 'Bad',
  0x80050000: 'BadCommunicationError',
  0x800a0000: 'BadTimeout',
  0x800d0000: 'BadServerNotConnected',
  0x80310000: 'BadNoCommunication',
  0x80320000: 'BadWaitingForInitialData',
  0x80330000: 'BadNodeIdInvalid',
  0x80340000: 'BadNodeIdUnknown',
  0x803a0000: 'BadNotReadable',
  0x803c0000: 'BadOutOfRange',
};

export interface StatusQuality {
  quality: Quality;
  /** Status name or hex code when not good. */
  qualityReason?: string;
  statusCode?: number;
}

/**
 * Maps an OPC UA StatusCode to quality through its severity bits (value >>> 30: 0 good,
 * 1 uncertain, 2 and 3 bad). Accepts a node-opcua StatusCode object (`value`/`name` getters, or
 * `_value`/`_name` after a deep clone), its JSON form `{value}`, a number, or a name such as
 * `Good` / `BadNodeIdUnknown` / `BadNodeIdUnknown (0x80340000)`. Missing means good: the
 * subscribe and readmultiple outputs do not always carry one.
 */
export function statusToQuality(status: unknown): StatusQuality {
  if (status === undefined || status === null) return { quality: 'good' };
  let code: number | undefined;
  let name: string | undefined;
  if (typeof status === 'number') code = status;
  else if (typeof status === 'string') name = status;
  else if (isObj(status)) {
    const v = status.value ?? status._value;
    if (typeof v === 'number') code = v;
    const n = status.name ?? status._name;
    if (typeof n === 'string') name = n;
  }
  if (code !== undefined && Number.isInteger(code)) {
    const u = code >>> 0;
    const severity = u >>> 30;
    const quality: Quality = severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
    if (quality === 'good') return { quality, statusCode: u };
    const label = name ?? STATUS_NAMES[(u & 0xffff0000) >>> 0] ?? `0x${u.toString(16).padStart(8, '0').toUpperCase()}`;
    return { quality, qualityReason: label, statusCode: u };
  }
  if (name !== undefined) {
    const base = name.trim().split(/[\s(#]/)[0];
    if (/^good/i.test(base)) return { quality: 'good' };
    if (/^uncertain/i.test(base)) return { quality: 'uncertain', qualityReason: base };
    if (/^bad/i.test(base)) return { quality: 'bad', qualityReason: base };
  }
  return { quality: 'uncertain', qualityReason: 'unknown_status' };
}

/** Turns Buffer, Uint8Array or a JSON-serialised Buffer `{type:'Buffer', data:[…]}` into bytes. */
export function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (isObj(value) && value.type === 'Buffer' && Array.isArray(value.data)) {
    const data = value.data as unknown[];
    if (data.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) return Uint8Array.from(data as number[]);
  }
  return undefined;
}

function isRegisterArray(v: unknown): v is (number | boolean)[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' || typeof x === 'boolean');
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** NodeId as text from a string, a node-opcua NodeId (its own toString) or `{nodeId}`. */
function nodeIdText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v)) {
    if (v.nodeId !== undefined) return nodeIdText(v.nodeId);
    if (typeof v.toString === 'function' && v.toString !== Object.prototype.toString) {
      const text = String(v);
      return NODE_ID.test(text) ? text : undefined;
    }
  }
  return undefined;
}

function isDataValue(v: unknown): v is Obj & { value: Obj } {
  return isObj(v) && isObj(v.value) && v.value.dataType !== undefined;
}

/** Source timestamp (when the value changed) beats server timestamp (when it was read). */
function timestampOf(source: unknown, server: unknown): number | undefined {
  return toEpochMs(source) ?? toEpochMs(server);
}

function opcuaItem(nodeId: string, datatype: string | undefined, value: unknown, status: unknown, ts: number | undefined): DetectedItem {
  const q = statusToQuality(status);
  const item: DetectedItem = { address: nodeId, value, quality: q.quality };
  if (ts !== undefined) item.ts = ts;
  if (q.qualityReason) item.qualityReason = q.qualityReason;
  if (q.statusCode !== undefined) item.statusCode = q.statusCode;
  if (datatype) item.datatype = datatype;
  return item;
}

function fromDataValue(nodeId: string, datatype: string | undefined, dv: Obj & { value: Obj }): DetectedItem {
  const dt = datatype ?? (typeof dv.value.dataType === 'string' ? dv.value.dataType : undefined);
  return opcuaItem(nodeId, dt, dv.value.value, dv.statusCode, timestampOf(dv.sourceTimestamp, dv.serverTimestamp));
}

function detectModbus(msg: Obj, kind: SourceKind, variant: string): DetectedSource {
  const request = (isObj(msg.modbusRequest) ? msg.modbusRequest : isObj(msg.input) && isObj(msg.input.payload) ? msg.input.payload : {}) as Obj;
  const modbus: ModbusRequest = {};
  const unitId = num(request.unitid);
  const fc = num(request.fc);
  const address = num(request.address);
  const quantity = num(request.quantity);
  if (unitId !== undefined) modbus.unitId = unitId;
  if (fc !== undefined) modbus.fc = fc;
  if (address !== undefined) modbus.address = address;
  if (quantity !== undefined) modbus.quantity = quantity;
  const out: DetectedSource = { kind, protocol: 'modbus', variant, modbus, items: [] };

  // emptyMsgOnFail: the same message leaves with payload '' and msg.error.
  if (msg.error !== undefined && msg.error !== null && (msg.payload === '' || msg.payload === undefined)) {
    const e = msg.error;
    out.error = e instanceof Error ? e.message : isObj(e) && typeof e.message === 'string' ? e.message : String(e);
    return out;
  }

  const response = (isObj(msg.responseBuffer) ? msg.responseBuffer : isObj(msg.payload) ? msg.payload : undefined) as Obj | undefined;
  const candidates = [response?.data, msg.values, msg.payload];
  const registers = candidates.find(isRegisterArray);
  if (registers) out.registers = registers;
  // Coil and discrete-input buffers are bit-packed, not registers; only fc 3/4 buffers decode.
  const coils = fc === 1 || fc === 2 || (registers !== undefined && typeof registers[0] === 'boolean');
  const bytes = coils ? undefined : toBytes(response?.buffer);
  if (bytes) out.buffer = bytes;

  // IO-file mode: named values in msg.valueNames, or in the payload when "use IO for payload" is on.
  const named = [msg.valueNames, msg.payload].find((v) => Array.isArray(v) && v.length > 0 && v.every((x) => isObj(x) && typeof x.name === 'string'));
  if (named) {
    for (const entry of named as Obj[]) {
      if (entry.error !== undefined || !('value' in entry)) continue;
      out.items.push({ address: entry.name as string, value: entry.value, quality: entry.value === null ? 'bad' : 'good', ...(entry.value === null ? { qualityReason: 'no_value' } : {}) });
    }
  }
  if (!registers && !bytes && out.items.length === 0) {
    out.error = 'Modbus message without register values';
  }
  return out;
}

function detectOpcua(msg: Obj, nodeIdTopic: string | undefined): DetectedSource | undefined {
  const payload = msg.payload;
  // readmultiple with payload "ALL": { topic: "ALL", payload: DataValue[], items: [{nodeId}] }.
  if (Array.isArray(payload) && Array.isArray(msg.items) && payload.length > 0 && payload.every(isDataValue)) {
    const nodeItems = msg.items as unknown[];
    const items = (payload as (Obj & { value: Obj })[]).map((dv, i) => {
      const id = nodeIdText(nodeItems[i]) ?? `#${i}`;
      const { nodeId, datatype } = splitNodeIdTopic(id);
      return fromDataValue(nodeId, datatype, dv);
    });
    return { kind: 'opcua-datavalues', protocol: 'opcua', variant: 'opcua-client readmultiple ALL', items };
  }
  if (isDataValue(payload)) {
    // `multiple` subscription: topic is the NodeId, payload the whole DataValue.
    const { nodeId, datatype } = splitNodeIdTopic(nodeIdTopic ?? nodeIdText(msg.nodeId) ?? '');
    return {
      kind: 'opcua-datavalue',
      protocol: 'opcua',
      variant: 'opcua-client subscribe multiple',
      items: [fromDataValue(nodeId, datatype ?? (typeof msg.datatype === 'string' ? msg.datatype : undefined), payload)],
    };
  }
  if (nodeIdTopic === undefined) return undefined;
  const { nodeId, datatype } = splitNodeIdTopic(nodeIdTopic);
  const dt = datatype ?? (typeof msg.datatype === 'string' && msg.datatype ? msg.datatype : undefined);
  const ts = timestampOf(msg.sourceTimestamp, msg.serverTimestamp);
  return { kind: 'opcua', protocol: 'opcua', variant: 'opcua-client read/subscribe', items: [opcuaItem(nodeId, dt, payload, msg.statusCode, ts)] };
}

const TS_KEYS = ['ts', 'timestamp', 'time'];
/** 2000-01-01: a smaller "time" is a measurement that happens to be called time, not a timestamp. */
const EARLIEST_TS = 946_684_800_000;

/** The first timestamp field of a gateway object that really holds a time. */
function gatewayTs(entry: Obj): { key: string; ts: number } | undefined {
  for (const key of TS_KEYS) {
    const ts = toEpochMs(entry[key]);
    if (ts !== undefined && ts >= EARLIEST_TS) return { key, ts };
  }
  return undefined;
}
const NAME_KEYS = ['signal', 'name', 'tag', 'id', 'key'];
/** Deep gateway documents are flattened to dotted paths this far down. */
const MAX_DEPTH = 4;
/** Bounds the work one message can cause. */
export const MAX_ITEMS = 10_000;

function gatewayQuality(entry: Obj): { quality: Quality; qualityReason?: string } {
  const q = entry.quality ?? entry.q;
  if (q === 'good' || q === 'uncertain' || q === 'bad') return { quality: q };
  if (q !== undefined && q !== null && (typeof q === 'number' || isObj(q) || typeof q === 'string')) {
    const s = statusToQuality(q);
    return s.qualityReason ? { quality: s.quality, qualityReason: s.qualityReason } : { quality: s.quality };
  }
  return { quality: 'good' };
}

function detectGateway(doc: unknown): DetectedSource | undefined {
  const items: DetectedItem[] = [];
  let dropped = 0;
  const push = (item: DetectedItem) => {
    if (items.length < MAX_ITEMS) items.push(item);
    else dropped++;
  };
  const done = (variant: string): DetectedSource | undefined => {
    if (!items.length) return undefined;
    const out: DetectedSource = { kind: 'gateway-json', protocol: 'json', variant, items };
    // Said out loud, not silently dropped: the node turns this into a warning or a reject.
    if (dropped) out.reason = `gateway JSON has ${items.length + dropped} values; only the first ${MAX_ITEMS} were read`;
    return out;
  };
  // An array of entries: [{ name|signal|tag, value, ts?, unit?, quality? }, …].
  // A single entry ({ signal, value, unit }) is a list of one, not an object of values.
  const single = isObj(doc) && 'value' in doc && NAME_KEYS.some((k) => typeof doc[k] === 'string');
  const list = Array.isArray(doc) ? doc : single ? [doc] : isObj(doc) && Array.isArray(doc.values) ? doc.values : undefined;
  if (list) {
    const outerTs = isObj(doc) ? gatewayTs(doc)?.ts : undefined;
    for (const entry of list) {
      if (!isObj(entry) || !('value' in entry)) continue;
      const name = NAME_KEYS.map((k) => entry[k]).find((v) => typeof v === 'string' && v !== '') as string | undefined;
      if (!name) continue;
      const ts = gatewayTs(entry)?.ts ?? outerTs;
      const item: DetectedItem = { address: name, value: entry.value, ...gatewayQuality(entry) };
      if (ts !== undefined) item.ts = ts;
      if (typeof entry.unit === 'string') item.unit = entry.unit;
      push(item);
    }
    return done('gateway entries');
  }
  if (!isObj(doc)) return undefined;
  // An object of values, possibly wrapped ({ ts, values|data|d: {…} }) and nested (dotted paths).
  const stamp = gatewayTs(doc);
  const ts = stamp?.ts;
  const body = ['values', 'data', 'd'].map((k) => doc[k]).find(isObj) ?? doc;
  const walk = (node: Obj, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(node)) {
      if (depth === 0 && body === doc && (key === stamp?.key || key === 'quality' || key === 'q')) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (typeof value === 'number' || typeof value === 'boolean' || (Array.isArray(value) && value.every((x) => typeof x === 'number'))) {
        push({ address: path, value, quality: 'good', ...(ts !== undefined ? { ts } : {}) });
      } else if (isObj(value) && 'value' in value && (typeof value.value === 'number' || value.value === null)) {
        // { temp: { value: 41.2, unit: "°C", ts: … } }
        const own = gatewayTs(value)?.ts ?? ts;
        const item: DetectedItem = { address: path, value: value.value, ...gatewayQuality(value) };
        if (own !== undefined) item.ts = own;
        if (typeof value.unit === 'string') item.unit = value.unit;
        push(item);
      } else if (isObj(value) && depth + 1 < MAX_DEPTH) walk(value, path, depth + 1);
    }
  };
  walk(body, '', 0);
  return done('gateway object');
}

function parseJson(text: string): unknown {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Describes a message from any supported source. Never throws; `kind: 'unknown'` says why. */
export function detectSource(message: unknown): DetectedSource {
  if (!isObj(message)) return { kind: 'unknown', protocol: 'unknown', items: [], reason: 'message is not an object' };
  const msg = message;
  if (isObj(msg.modbusRequest)) return detectModbus(msg, 'modbus-getter', `modbus-getter output ${isObj(msg.responseBuffer) ? 1 : 2}`);
  if (isObj(msg.responseBuffer) && isObj(msg.input) && isObj(msg.input.payload) && msg.input.payload.fc !== undefined) {
    return detectModbus(msg, 'modbus-read', 'modbus-read output 1');
  }
  if (msg.values !== undefined && isObj(msg.payload) && msg.payload.data !== undefined) {
    return detectModbus(msg, 'modbus-read-values', 'modbus-read output 2');
  }

  if (msg.payload === '' && isObj(msg.error) && 'nodeStatus' in msg.error) {
    const e = msg.error;
    return { kind: 'modbus-error', protocol: 'modbus', variant: 'modbus emptyMsgOnFail', items: [], error: typeof e.message === 'string' ? e.message : String(e) };
  }

  const topicId = nodeIdText(msg.topic);
  const nodeIdTopic = topicId !== undefined && NODE_ID.test(topicId) ? topicId : undefined;
  const opcua = detectOpcua(msg, nodeIdTopic);
  if (opcua) return opcua;

  const topic = typeof msg.topic === 'string' ? msg.topic.trim() : '';
  const value = msg.payload;
  if (topic && (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && num(value) !== undefined))) {
    const v = typeof value === 'string' ? num(value)! : value;
    return { kind: 'topic-value', protocol: 'topic', items: [{ address: topic, value: v, quality: 'good' }] };
  }

  const doc = typeof value === 'string' ? parseJson(value) : value;
  const gateway = detectGateway(doc);
  if (gateway) return gateway;
  if (typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'unknown', protocol: 'unknown', items: [], reason: 'a bare value needs msg.topic to name it' };
  }
  return { kind: 'unknown', protocol: 'unknown', items: [], reason: 'no Modbus, OPC UA, topic value or gateway JSON shape found' };
}
