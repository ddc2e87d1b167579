/**
 * Register maps: turn a Modbus response (16-bit registers) into named engineering values.
 *
 * Byte and word order. Modbus sends each register big-endian (high byte first). A value wider
 * than one register has no standard word order, so each entry names it with four letters. Read
 * the letters as the value's bytes, A = most significant, in the order they arrive on the wire:
 *
 * | order | 32-bit (2 registers) on the wire | 64-bit (4 registers) on the wire | 16-bit (1 register) |
 * |-------|----------------------------------|----------------------------------|---------------------|
 * | ABCD  | AB CD  (big-endian, as Modbus)   | AB CD EF GH                      | AB  (as sent)       |
 * | CDAB  | CD AB  (low word first)          | GH EF CD AB (all words reversed) | AB  (as sent)       |
 * | BADC  | BA DC  (bytes swapped per word)  | BA DC FE HG                      | BA  (bytes swapped) |
 * | DCBA  | DC BA  (fully little-endian)     | HG FE DC BA                      | BA  (bytes swapped) |
 *
 * So the first letter pair says which bytes the first register holds. For one-register types only
 * the byte half of the order applies. A `bit` entry reads bit 0 (least significant) … 15 of the
 * 16-bit value after that byte order, so with the default ABCD bit 0 is the LSB of the register
 * exactly as the device sent it.
 *
 * Engineering value = raw × scale + bias. (`bias` rather than `offset`: `offset` is the register
 * index within the response.)
 */
import type { ErrorObject, SchemaObject } from 'ajv';
import { ajv } from '../contracts/ajv';
import { SIGNAL_NAME_PATTERN } from '../signals';

export const REGISTER_TYPES = ['bit', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
export const BYTE_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** One row of a register map, as the editor, JSON import or CSV import gives it. */
export interface RegisterEntry {
  signal: string;
  /** Register index within the response (0 = the first register read), not the device address. */
  offset: number;
  type: RegisterType;
  /** Bit 0–15, only for type `bit`. */
  bit?: number;
  /** Default ABCD (big-endian, as Modbus sends it). */
  order?: ByteOrder;
  /** Default 1. */
  scale?: number;
  /** Added after scaling. Default 0. */
  bias?: number;
  /** Unit of the scaled value. Default '' (dimensionless). */
  unit?: string;
}

/** Registers each type occupies. */
export const REGISTER_WORDS: Record<RegisterType, number> = {
  bit: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  float64: 4,
};

/** A validated entry with its decoding decisions made once, so decoding is a tight loop. */
export interface CompiledEntry extends Readonly<Required<RegisterEntry>> {
  readonly words: number;
  readonly swapWords: boolean;
  readonly swapBytes: boolean;
}

export interface RegisterMap {
  readonly entries: readonly CompiledEntry[];
  /** Registers a poll must read to cover every entry (max offset + size). */
  readonly span: number;
}

export type CompileResult = { ok: true; map: RegisterMap } | { ok: false; errors: string[] };

export type DecodeErrorCode = 'out_of_range' | 'invalid_register' | 'not_finite';

export type Decoded =
  | { ok: true; signal: string; unit: string; offset: number; value: number; raw: number }
  | { ok: false; signal: string; unit: string; offset: number; code: DecodeErrorCode; message: string };

/** 16-bit registers as numbers (Modbus-Read payload), coils as booleans, or the raw response bytes. */
export type RegisterInput = readonly (number | boolean)[] | Uint8Array;

const entrySchema: SchemaObject = {
  $id: 'pdm-twin/register-entry.json',
  type: 'object',
  required: ['signal', 'offset', 'type'],
  additionalProperties: false,
  properties: {
    signal: { type: 'string', pattern: SIGNAL_NAME_PATTERN },
    offset: { type: 'integer', minimum: 0, maximum: 65535 },
    type: { type: 'string', enum: [...REGISTER_TYPES] },
    bit: { type: 'integer', minimum: 0, maximum: 15 },
    order: { type: 'string', enum: [...BYTE_ORDERS] },
    scale: { type: 'number' },
    bias: { type: 'number' },
    unit: { type: 'string', maxLength: 32 },
  },
};
const validateEntry = ajv.compile<RegisterEntry>(entrySchema);

/** Enough problems to fix a pasted map in one go, without flooding the editor. */
const MAX_ERRORS = 20;

function describeAjvError(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing ${String(params.missingProperty)}`;
    case 'additionalProperties':
      return `unknown field "${String(params.additionalProperty)}"`;
    case 'enum':
      return `${field} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `${field} must start with a letter and use only letters, digits, _ . - (max 64)`;
    case 'type':
      return field ? `${field} must be ${params.type === 'integer' ? 'an integer' : `a ${String(params.type)}`}` : `entry must be an object`;
    default:
      return `${field || 'entry'} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Validates a register map and prepares it for decoding. Errors are readable lines naming the
 * entry, e.g. `entry 3 (motor_temp): order must be one of ABCD, CDAB, BADC, DCBA`.
 * `label` lets importers name entries their own way (CSV uses line numbers).
 */
export function compileRegisterMap(
  input: unknown,
  label: (index: number) => string = (i) => `entry ${i + 1}`,
): CompileResult {
  if (!Array.isArray(input)) return { ok: false, errors: ['register map must be an array of entries'] };
  if (input.length === 0) return { ok: false, errors: ['register map is empty'] };
  const errors: string[] = [];
  const entries: CompiledEntry[] = [];
  const seen = new Map<string, number>();
  let span = 0;
  for (let i = 0; i < input.length && errors.length < MAX_ERRORS; i++) {
    const raw: unknown = input[i];
    const signal = raw && typeof raw === 'object' && typeof (raw as { signal?: unknown }).signal === 'string' ? (raw as { signal: string }).signal : '';
    const where = signal ? `${label(i)} (${signal})` : label(i);
    if (!validateEntry(raw)) {
      errors.push(`${where}: ${describeAjvError(validateEntry.errors![0])}`);
      continue;
    }
    const e = raw;
    // A scale of 0 would turn every reading into a plausible-looking constant. (ajv's `number`
    // already refuses NaN and ±Infinity.)
    if (e.scale === 0) {
      errors.push(`${where}: scale must not be 0`);
      continue;
    }
    if (e.type === 'bit' && e.bit === undefined) {
      errors.push(`${where}: type bit needs bit (0-15)`);
      continue;
    }
    if (e.type !== 'bit' && e.bit !== undefined) {
      errors.push(`${where}: bit only applies to type bit`);
      continue;
    }
    const first = seen.get(e.signal);
    if (first !== undefined) {
      errors.push(`${where}: signal also mapped by ${label(first)}`);
      continue;
    }
    seen.set(e.signal, i);
    const order = e.order ?? 'ABCD';
    const words = REGISTER_WORDS[e.type];
    if (e.offset + words > 65536) {
      errors.push(`${where}: offset ${e.offset} + ${words} registers is past register 65535`);
      continue;
    }
    span = Math.max(span, e.offset + words);
    entries.push({
      signal: e.signal,
      offset: e.offset,
      type: e.type,
      bit: e.bit ?? 0,
      order,
      scale: e.scale ?? 1,
      bias: e.bias ?? 0,
      unit: e.unit ?? '',
      words,
      swapWords: words > 1 && (order === 'CDAB' || order === 'DCBA'),
      swapBytes: order === 'BADC' || order === 'DCBA',
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, map: { entries, span } };
}

/** Parses a JSON register map: an array of entries or `{ "registers": [...] }`. */
export function parseRegisterMapJson(text: string): CompileResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`not valid JSON: ${(err as Error).message}`] };
  }
  const list = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { registers?: unknown }).registers : parsed;
  return compileRegisterMap(list);
}

const CSV_COLUMNS = ['signal', 'offset', 'type', 'order', 'scale', 'bias', 'unit', 'bit'] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const NUMERIC_COLUMNS: ReadonlySet<CsvColumn> = new Set(['offset', 'scale', 'bias', 'bit']);

/** Splits CSV text into rows of fields (RFC 4180 quoting), remembering each row's line number. */
function csvRows(text: string, delimiter: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      field = '';
      quoted = true;
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      rows.push({ line: rowLine, fields });
      fields = [];
      field = '';
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== '' || fields.length) {
    fields.push(field);
    rows.push({ line: rowLine, fields });
  }
  // Blank lines and `#` comments let a fleet file carry notes.
  return rows.filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === '') && !r.fields[0].trimStart().startsWith('#'));
}

/**
 * Parses a CSV register map with a header row naming the columns (any order, any case):
 * signal, offset, type, order, scale, bias, unit, bit. Empty cells take the defaults. The
 * delimiter is `,`, or `;` / tab when the header uses one (spreadsheets in many locales do).
 */
export function parseRegisterMapCsv(text: string): CompileResult {
  const body = text.replace(/^\uFEFF/, ''); // Excel writes a byte-order mark
  const headerLine = body.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  const delimiter = headerLine.includes(',') ? ',' : headerLine.includes(';') ? ';' : headerLine.includes('\t') ? '\t' : ',';
  const rows = csvRows(body, delimiter);
  if (rows.length === 0) return { ok: false, errors: ['CSV is empty'] };
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const errors: string[] = [];
  header.forEach((h) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(h)) errors.push(`line ${rows[0].line}: unknown column "${h}" (expected ${CSV_COLUMNS.join(', ')})`);
  });
  for (const needed of ['signal', 'offset', 'type']) {
    if (!header.includes(needed)) errors.push(`line ${rows[0].line}: missing column "${needed}"`);
  }
  if (errors.length) return { ok: false, errors };
  const entries: Record<string, unknown>[] = [];
  const lines: number[] = [];
  for (const row of rows.slice(1)) {
    const entry: Record<string, unknown> = {};
    row.fields.forEach((cell, c) => {
      const column = header[c] as CsvColumn | undefined;
      const value = cell.trim();
      if (!column || value === '') return;
      // A non-numeric cell stays a string so the schema names the field in its error.
      entry[column] = NUMERIC_COLUMNS.has(column) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : value;
    });
    if (row.fields.length > header.length && row.fields.slice(header.length).some((f) => f.trim() !== '')) {
      errors.push(`line ${row.line}: more cells than header columns`);
    }
    entries.push(entry);
    lines.push(row.line);
  }
  if (errors.length) return { ok: false, errors };
  if (entries.length === 0) return { ok: false, errors: ['CSV has a header but no entries'] };
  return compileRegisterMap(entries, (i) => `line ${lines[i]}`);
}

// One scratch buffer for assembling floats: decoding is synchronous, so it is never shared.
const scratch = new DataView(new ArrayBuffer(8));

function swap16(w: number): number {
  return ((w & 0xff) << 8) | (w >>> 8);
}

/**
 * Decodes every entry of `map` from a response. Never throws for bad data: an entry that falls
 * outside the response, reads a malformed register or yields NaN/±Infinity comes back as an
 * error result, and the other entries still decode.
 */
export function decodeRegisters(map: RegisterMap, input: RegisterInput): Decoded[] {
  const bytes = input instanceof Uint8Array ? input : undefined;
  const regs = bytes ? undefined : (input as readonly (number | boolean)[]);
  // An odd trailing byte is not a register.
  const count = bytes ? bytes.length >>> 1 : regs!.length;
  const out: Decoded[] = new Array(map.entries.length);
  const w = [0, 0, 0, 0];
  for (let k = 0; k < map.entries.length; k++) {
    const e = map.entries[k];
    if (e.offset + e.words > count) {
      out[k] = {
        ok: false,
        signal: e.signal,
        unit: e.unit,
        offset: e.offset,
        code: 'out_of_range',
        message: `registers ${e.offset}..${e.offset + e.words - 1} are outside the ${count} registers read`,
      };
      continue;
    }
    let bad = -1;
    for (let j = 0; j < e.words; j++) {
      const i = e.offset + j;
      let r: number;
      if (bytes) r = (bytes[2 * i] << 8) | bytes[2 * i + 1];
      else {
        const v = regs![i];
        // Some clients hand out signed int16 registers; both spellings mean the same 16 bits.
        if (typeof v === 'boolean') r = v ? 1 : 0;
        else if (Number.isInteger(v) && v >= -32768 && v <= 65535) r = v & 0xffff;
        else {
          bad = i;
          break;
        }
      }
      // Words are stored most significant first, whatever order they arrived in.
      w[e.swapWords ? e.words - 1 - j : j] = e.swapBytes ? swap16(r) : r;
    }
    if (bad >= 0) {
      out[k] = {
        ok: false,
        signal: e.signal,
        unit: e.unit,
        offset: e.offset,
        code: 'invalid_register',
        message: `register ${bad} is ${JSON.stringify(regs![bad])}, not a 16-bit integer`,
      };
      continue;
    }
    let raw: number;
    switch (e.type) {
      case 'bit':
        raw = (w[0] >>> e.bit) & 1;
        break;
      case 'uint16':
        raw = w[0];
        break;
      case 'int16':
        raw = (w[0] << 16) >> 16;
        break;
      case 'uint32':
        raw = w[0] * 65536 + w[1];
        break;
      case 'int32':
        raw = (w[0] << 16) | w[1];
        break;
      case 'float32':
        scratch.setUint16(0, w[0]);
        scratch.setUint16(2, w[1]);
        raw = scratch.getFloat32(0);
        break;
      case 'float64':
        scratch.setUint16(0, w[0]);
        scratch.setUint16(2, w[1]);
        scratch.setUint16(4, w[2]);
        scratch.setUint16(6, w[3]);
        raw = scratch.getFloat64(0);
        break;
    }
    const value = raw * e.scale + e.bias;
    if (!Number.isFinite(value)) {
      // Devices often report a failed sensor as a NaN float; JSON cannot carry it anyway.
      out[k] = { ok: false, signal: e.signal, unit: e.unit, offset: e.offset, code: 'not_finite', message: `decoded value is ${value}` };
      continue;
    }
    out[k] = { ok: true, signal: e.signal, unit: e.unit, offset: e.offset, value, raw };
  }
  return out;
}
