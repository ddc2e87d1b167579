/**
 * What the journal stores per MQTT message, how messages become records, and how records go
 * back onto the wire. Knows nothing about Node-RED.
 *
 * - A payload that looks like a reading (`assetId`, `signal`, integer `ts`) gets the idempotency
 *   key `<assetId>/<signal>/<ts>` (each part URI-encoded, so the key is unambiguous) and, without a
 *   topic of its own, the clean topic of the unified namespace.
 * - `historical` is not stored in the payload: it is a flag of the record, and the publisher adds
 *   `"historical": true` to an object payload when the record is replayed.
 */
import { assetTopic, type AssetPath } from '../topic';

export type PayloadEncoding = 'json' | 'string' | 'base64';

export interface RecordInput {
  topic: string;
  /** JSON text (`json`), the string itself (`string`) or base64 of the bytes (`base64`). */
  payload: string;
  enc: PayloadEncoding;
  retain?: boolean;
  /** Idempotency key: equal keys are the same reading, so a consumer keeps the first. */
  key?: string;
  /** The asset the record belongs to (informational; order is kept for every record). */
  asset?: string;
  /** It was already historical when it arrived (e.g. from another buffer upstream). */
  historical?: boolean;
}

export interface JournalRecord extends RecordInput {
  /** Position in the journal: strictly increasing, never reused. */
  seq: number;
  /** When it was appended (epoch ms). */
  ts: number;
  /** Its frame's size on disk in bytes. */
  bytes: number;
  /** The connection generation that was live when it was appended (0: none). */
  gen: number;
}

// ---------------------------------------------------------------------------------------------
// Body codec: one record as one line of JSON (the payload embedded raw when it is JSON)

const ENC_CODE: Record<PayloadEncoding, string> = { json: 'j', string: 's', base64: 'b' };

export function encodeBody(rec: RecordInput, seq: number, ts: number): string {
  let body = `{"s":${seq},"t":${ts},"q":${JSON.stringify(rec.topic)},"e":"${ENC_CODE[rec.enc]}","p":`;
  body += rec.enc === 'json' ? rec.payload : JSON.stringify(rec.payload);
  if (rec.retain) body += ',"r":1';
  if (rec.key !== undefined) body += `,"k":${JSON.stringify(rec.key)}`;
  if (rec.asset !== undefined) body += `,"a":${JSON.stringify(rec.asset)}`;
  if (rec.historical) body += ',"h":1';
  return body + '}';
}

/** Parses a frame body back into a record; undefined when it is not one (never throws). */
export function decodeBody(body: string, bytes: number): JournalRecord | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object') return undefined;
  const { s, t, q, e } = o;
  if (!Number.isSafeInteger(s) || (s as number) < 0 || typeof t !== 'number' || typeof q !== 'string' || !('p' in o)) return undefined;
  let enc: PayloadEncoding;
  let payload: string;
  if (e === 'j') {
    enc = 'json';
    payload = JSON.stringify(o.p);
  } else if ((e === 's' || e === 'b') && typeof o.p === 'string') {
    enc = e === 's' ? 'string' : 'base64';
    payload = o.p;
  } else return undefined;
  const rec: JournalRecord = { seq: s as number, ts: t, topic: q, payload, enc, bytes, gen: 0 };
  if (o.r === 1) rec.retain = true;
  if (typeof o.k === 'string') rec.key = o.k;
  if (typeof o.a === 'string') rec.asset = o.a;
  if (o.h === 1) rec.historical = true;
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Messages → records

export interface ReadingLike {
  assetId: string;
  signal: string;
  ts: number;
  [key: string]: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** Enough of a reading to key it: a non-empty asset id and signal and an integer epoch-ms `ts`. */
export function isReadingLike(v: unknown): v is ReadingLike {
  return (
    isPlainObject(v) &&
    typeof v.assetId === 'string' &&
    v.assetId !== '' &&
    typeof v.signal === 'string' &&
    v.signal !== '' &&
    typeof v.ts === 'number' &&
    Number.isSafeInteger(v.ts) &&
    v.ts >= 0
  );
}

/** The idempotency key (asset, signal, ts) of a reading. */
export function idempotencyKey(assetId: string, signal: string, ts: number): string {
  return `${encodeURIComponent(assetId)}/${encodeURIComponent(signal)}/${ts}`;
}

/** A topic a client may publish to: 1–65535 bytes, no wildcards, no NUL, not `$SYS`-like. */
export function isPublishTopic(topic: unknown): topic is string {
  if (typeof topic !== 'string' || topic === '' || topic.startsWith('$')) return false;
  if (/[+#\u0000]/.test(topic)) return false;
  return Buffer.byteLength(topic, 'utf8') <= 65535;
}

/** Only the twin snapshot, the latest alert and the model are retained in the namespace. */
export function isRetainedKind(topic: string): boolean {
  return /\/(state|alert|model)$/.test(topic);
}

export interface RecordReject {
  /** Position in an array payload. */
  index?: number;
  code: 'empty' | 'not_a_reading' | 'no_topic' | 'bad_topic' | 'no_payload' | 'not_serialisable';
  item: unknown;
}

export interface MessageLike {
  topic?: unknown;
  payload?: unknown;
  retain?: unknown;
  idempotencyKey?: unknown;
}

export interface RecordOptions {
  /** Root of the namespace for readings that come without a topic. */
  root: string;
  /** ISA-95 levels of an asset (from pdm-asset), for those topics. */
  pathOf?: (assetId: string) => AssetPath | undefined;
}

function jsonText(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined; // circular, BigInt
  }
}

/** An object payload without its `historical` flag, and whether the flag was set. */
function withoutHistorical(obj: Record<string, unknown>): [Record<string, unknown>, boolean] {
  if (!('historical' in obj)) return [obj, false];
  const { historical, ...rest } = obj;
  return [rest, historical === true];
}

function readingRecord(reading: ReadingLike, topic: string): RecordInput | undefined {
  const [clean, historical] = withoutHistorical(reading);
  const payload = jsonText(clean);
  if (payload === undefined) return undefined;
  const rec: RecordInput = { topic, payload, enc: 'json', key: idempotencyKey(reading.assetId, reading.signal, reading.ts), asset: reading.assetId };
  if (historical) rec.historical = true;
  return rec;
}

/**
 * Turns one message into records: one per reading for a reading or an array of readings (each on
 * its own clean topic unless a single reading comes with `msg.topic`), one for anything else with
 * a valid `msg.topic`. What cannot be stored comes back as rejects.
 */
export function recordsOf(msg: MessageLike, options: RecordOptions): { records: RecordInput[]; positions: Array<number | undefined>; rejects: RecordReject[] } {
  const records: RecordInput[] = [];
  /** Index in an array payload of each record (undefined for a single payload). */
  const positions: Array<number | undefined> = [];
  const rejects: RecordReject[] = [];
  const cleanTopic = (r: ReadingLike) => assetTopic(options.root, options.pathOf?.(r.assetId) ?? {}, r.assetId, 'clean', r.signal);
  const payload = msg.payload;

  if (Array.isArray(payload)) {
    if (payload.length === 0) rejects.push({ code: 'empty', item: payload });
    payload.forEach((item, index) => {
      if (!isReadingLike(item)) return rejects.push({ index, code: 'not_a_reading', item });
      const rec = readingRecord(item, cleanTopic(item));
      if (rec) {
        records.push(rec);
        positions.push(index);
      } else rejects.push({ index, code: 'not_serialisable', item });
    });
    return { records, positions, rejects };
  }

  if (isReadingLike(payload)) {
    if (msg.topic !== undefined && msg.topic !== '' && !isPublishTopic(msg.topic)) return { records, positions, rejects: [{ code: 'bad_topic', item: payload }] };
    const rec = readingRecord(payload, isPublishTopic(msg.topic) ? msg.topic : cleanTopic(payload));
    if (rec) {
      records.push(rec);
      positions.push(undefined);
    } else rejects.push({ code: 'not_serialisable', item: payload });
    return { records, positions, rejects };
  }

  if (msg.topic === undefined || msg.topic === '') return { records, positions, rejects: [{ code: 'no_topic', item: payload }] };
  if (!isPublishTopic(msg.topic)) return { records, positions, rejects: [{ code: 'bad_topic', item: payload }] };
  if (payload === undefined) return { records, positions, rejects: [{ code: 'no_payload', item: payload }] };
  const topic = msg.topic;
  let rec: RecordInput;
  if (Buffer.isBuffer(payload)) rec = { topic, payload: payload.toString('base64'), enc: 'base64' };
  else if (typeof payload === 'string') rec = { topic, payload, enc: 'string' };
  else {
    let value = payload;
    let historical = false;
    if (isPlainObject(payload)) [value, historical] = withoutHistorical(payload);
    const text = jsonText(value);
    if (text === undefined) return { records, positions, rejects: [{ code: 'not_serialisable', item: payload }] };
    rec = { topic, payload: text, enc: 'json' };
    if (historical) rec.historical = true;
    if (isPlainObject(payload) && typeof payload.assetId === 'string') rec.asset = payload.assetId;
  }
  if (msg.retain === true && isRetainedKind(topic)) rec.retain = true;
  if (typeof msg.idempotencyKey === 'string' && msg.idempotencyKey !== '') rec.key = msg.idempotencyKey;
  records.push(rec);
  positions.push(undefined);
  return { records, positions, rejects };
}

// ---------------------------------------------------------------------------------------------
// Records → the wire

/** The bytes to publish; an object payload sent as a replay carries `"historical": true`. */
export function wirePayload(rec: RecordInput, historical: boolean): string | Buffer {
  if (rec.enc === 'base64') return Buffer.from(rec.payload, 'base64');
  if (rec.enc === 'json' && historical && rec.payload.startsWith('{') && rec.payload.endsWith('}')) {
    return rec.payload === '{}' ? '{"historical":true}' : `${rec.payload.slice(0, -1)},"historical":true}`;
  }
  return rec.payload;
}
