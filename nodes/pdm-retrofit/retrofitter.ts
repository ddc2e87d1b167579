/**
 * The pdm-retrofit node's conversion, without Node-RED: one incoming message (whatever
 * node-red-contrib-modbus, node-red-contrib-opcua, a gateway or an accelerometer produced) in,
 * readings in the Reading contract and itemised rejects out. The node is a thin adapter over this;
 * tests and the fuzzer drive it through the runtime, the core it builds on is nodes/lib/retrofit.
 *
 * Order of work for one message:
 *  1. control messages of the partner nodes (OPC UA `subscriptionId`) are ignored, and counted;
 *  2. detectSource(): Modbus shapes decode through the register map (or, without one, one reading
 *     per register), a failed Modbus read becomes a `bad` reading per mapped signal;
 *  3. an acceleration array (`payload: number[]` or `payload: {samples, sampleRate?, rpm?}`) becomes
 *     waveform features, with the ISO 10816 zone on the velocity reading;
 *  4. OPC UA values, topic values and gateway JSON go through the tag map (unmapped ones get a
 *     signal derived from their address, or are rejected when the node says so);
 *  5. every reading then gets its retrofit scaling (4–20 mA, CT), calibration and, for
 *     `vibration_velocity`, the zone; it is validated against the contract before it leaves.
 * Pure and synchronous; never throws for bad input.
 */
import { ASSET_ID_PATTERN, validateReading, type Quality, type Reading, type ReadingSource } from '../lib/contracts/reading';
import { describeErrors } from '../lib/contracts/ajv';
import { isValidSignalName } from '../lib/signals';
import { toEpochMs } from '../lib/time';
import { toCanonical } from '../lib/units';
import {
  bearingFrequencies,
  calibrate,
  compileRegisterMap,
  compileTagMap,
  ctPrimaryCurrent,
  decodeRegisters,
  detectSource,
  isZonePresetId,
  loopToEngineering,
  RetrofitError,
  validateBearing,
  waveformFeatures,
  zoneOf,
  ZONE_PRESETS,
  type BearingGeometry,
  type CompiledEntry,
  type CtConfig,
  type DetectedItem,
  type DetectedSource,
  type LoopRange,
  type RegisterMap,
  type Scaled,
  type TagMap,
  type ZonePresetId,
} from '../lib/retrofit';

// ---------------------------------------------------------------------------------------------
// Configuration

export type ScalingKind = 'none' | 'loop' | 'ct';

/** One row of the Scaling table: what to do with a signal after it was mapped. */
export interface ScalingRow {
  signal: string;
  kind?: ScalingKind;
  /** Engineering unit after a 4–20 mA loop (required for `loop`); overrides the unit for `none`. */
  unit?: string;
  min?: number;
  max?: number;
  currentUnit?: 'mA' | 'A';
  primary?: number;
  secondary?: number;
  ctInput?: CtConfig['input'];
  burdenOhms?: number;
  /** Calibration, applied last: value × gain + offset. */
  gain?: number;
  offset?: number;
}

export interface RetrofitOptions {
  /** Default asset id; msg.assetId (and a gateway document's `assetId`) override it. */
  assetId?: string;
  /** What to do with a value the tag map (or a register message without a register map) does not name. */
  unmapped?: 'pass' | 'reject';
  registers?: unknown;
  tags?: unknown;
  scaling?: unknown;
  /** Waveform defaults; the message may carry sampleRate, unit and rpm itself. */
  sampleRate?: number;
  accelUnit?: 'm/s²' | 'g';
  bearing?: BearingGeometry;
  rpm?: number;
  /** One ISO 10816 preset (never mixed), or none. */
  zonePreset?: string;
  /** Node id, used as `source.node` when the message does not name the node that read it. */
  nodeId?: string;
}

export type RejectCode =
  | 'config'
  | 'unknown_shape'
  | 'missing_asset'
  | 'modbus_no_values'
  | 'modbus_read_failed'
  | 'no_register_map'
  | 'out_of_range'
  | 'invalid_register'
  | 'unmapped'
  | 'not_numeric'
  | 'no_sample_rate'
  | 'waveform'
  | 'truncated'
  | 'no_values'
  | 'invalid_reading';

export interface RejectItem {
  code: RejectCode;
  /** Placeholders for the catalog text `pdm-retrofit.reject.<code>`. */
  params: Record<string, string>;
  /** Position of the item in the message (register entry, OPC UA item, gateway value). */
  index?: number;
  /** The part of the input that was rejected. */
  item?: unknown;
}

export interface Outcome {
  /** What the message was recognised as ('control' = ignored partner control message). */
  kind: DetectedSource['kind'] | 'waveform' | 'control';
  readings: Reading[];
  rejects: RejectItem[];
}

interface CompiledScaling {
  row: ScalingRow;
  kind: ScalingKind;
  loop?: LoopRange;
  ct?: CtConfig;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ASSET_ID = new RegExp(ASSET_ID_PATTERN);
const POINT = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_SIGNAL = 64;

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** A number from a number or numeric text; undefined for anything else. */
function numeric(v: unknown): number | undefined {
  if (finite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** Validates the Scaling table; errors are readable lines naming the row. */
export function compileScaling(input: unknown): { ok: true; map: Map<string, CompiledScaling> } | { ok: false; errors: string[] } {
  const rows = input === undefined || input === null || input === '' ? [] : input;
  if (!Array.isArray(rows)) return { ok: false, errors: ['scaling must be an array of rows'] };
  const errors: string[] = [];
  const map = new Map<string, CompiledScaling>();
  rows.forEach((raw: unknown, i) => {
    const where = `scaling row ${i + 1}`;
    if (!isObj(raw)) return void errors.push(`${where}: must be an object`);
    const row = raw as unknown as ScalingRow;
    const at = typeof row.signal === 'string' && row.signal ? `${where} (${row.signal})` : where;
    if (typeof row.signal !== 'string' || !isValidSignalName(row.signal)) return void errors.push(`${at}: signal must start with a letter and use only letters, digits, _ . -`);
    if (map.has(row.signal)) return void errors.push(`${at}: signal is scaled twice`);
    const kind = row.kind ?? 'none';
    if (kind !== 'none' && kind !== 'loop' && kind !== 'ct') return void errors.push(`${at}: kind must be none, loop or ct`);
    for (const key of ['min', 'max', 'primary', 'secondary', 'burdenOhms', 'gain', 'offset'] as const) {
      if (row[key] !== undefined && !finite(row[key])) return void errors.push(`${at}: ${key} must be a number`);
    }
    if (row.gain === 0) return void errors.push(`${at}: gain must not be 0`);
    if (row.unit !== undefined && (typeof row.unit !== 'string' || row.unit.length > 32)) return void errors.push(`${at}: unit must be text of at most 32 characters`);
    const compiled: CompiledScaling = { row, kind };
    try {
      if (kind === 'loop') {
        if (!row.unit) return void errors.push(`${at}: a 4-20 mA loop needs the engineering unit`);
        if (row.currentUnit !== undefined && row.currentUnit !== 'mA' && row.currentUnit !== 'A') return void errors.push(`${at}: currentUnit must be mA or A`);
        compiled.loop = { min: row.min as number, max: row.max as number, currentUnit: row.currentUnit ?? 'mA' };
        loopToEngineering(12, compiled.loop); // throws for a missing or empty range
      } else if (kind === 'ct') {
        const ctInput = row.ctInput ?? 'secondary_current';
        if (ctInput !== 'secondary_current' && ctInput !== 'burden_voltage' && ctInput !== 'voltage_output') {
          return void errors.push(`${at}: ctInput must be secondary_current, burden_voltage or voltage_output`);
        }
        compiled.ct = { primary: row.primary as number, secondary: row.secondary as number, input: ctInput, burdenOhms: row.burdenOhms };
        ctPrimaryCurrent(0, compiled.ct); // throws for impossible ratings
      }
    } catch (err) {
      return void errors.push(`${at}: ${(err as Error).message}`);
    }
    map.set(row.signal, compiled);
  });
  return errors.length ? { ok: false, errors } : { ok: true, map };
}

// ---------------------------------------------------------------------------------------------
// Signal names derived from addresses (zero configuration)

/** `ns=1;s=Pump1.Temp` → `Pump1.Temp`, `ns=2;i=1001` → `ns2.i1001`, `plant/p1/temp` → `temp`. */
export function signalFromAddress(address: string, protocol: string): string {
  let text = address.trim();
  if (protocol === 'opcua') {
    const m = /^(?:nsu=[^;]*;|ns=(\d+);)?([isgb])=(.*)$/s.exec(text);
    if (m) text = m[2] === 's' ? m[3] : `${m[1] && m[1] !== '0' ? `ns${m[1]}.` : ''}${m[2]}${m[3]}`;
  } else if (protocol === 'topic') {
    const parts = text.split('/').filter(Boolean);
    text = parts.length ? parts[parts.length - 1] : text;
  }
  text = text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z]+/, '');
  return (text || 'value').slice(0, MAX_SIGNAL);
}

const FC_NAMES: Record<number, string> = { 1: 'coil', 2: 'discrete_input', 3: 'holding', 4: 'input_register' };

// ---------------------------------------------------------------------------------------------

/** The readings and rejects of one message, being built. */
class Batch {
  readonly readings: Reading[] = [];
  readonly rejects: RejectItem[] = [];
  constructor(
    readonly assetId: string,
    readonly now: number,
  ) {}
  reject(code: RejectCode, params: Record<string, string> = {}, index?: number, item?: unknown): void {
    const r: RejectItem = { code, params };
    if (index !== undefined) r.index = index;
    if (item !== undefined) r.item = item;
    this.rejects.push(r);
  }
}

/** Worst of two qualities, keeping the reason that goes with it. */
function worse(a: { quality: Quality; qualityReason?: string }, b: { quality: Quality; qualityReason?: string }): { quality: Quality; qualityReason?: string } {
  const rank = { good: 0, uncertain: 1, bad: 2 } as const;
  return rank[b.quality] > rank[a.quality] ? b : a;
}

function shortText(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export class Retrofitter {
  private readonly registerMap?: RegisterMap;
  private readonly tagMap?: TagMap;
  private readonly scaling = new Map<string, CompiledScaling>();
  private readonly zonePreset?: ZonePresetId;
  /** Configuration problems; while there are any, every message is rejected with code `config`. */
  readonly errors: string[] = [];

  constructor(private readonly options: RetrofitOptions = {}) {
    const registers = options.registers;
    if (Array.isArray(registers) && registers.length > 0) {
      const r = compileRegisterMap(registers);
      if (r.ok) this.registerMap = r.map;
      else this.errors.push(...r.errors.map((e) => `register map: ${e}`));
    } else if (registers !== undefined && registers !== null && registers !== '' && !Array.isArray(registers)) {
      this.errors.push('register map must be an array of entries');
    }
    const tags = options.tags;
    if (Array.isArray(tags) && tags.length > 0) {
      const t = compileTagMap(tags);
      if (t.ok) this.tagMap = t.map;
      else this.errors.push(...t.errors.map((e) => `tag map: ${e}`));
    } else if (tags !== undefined && tags !== null && tags !== '' && !Array.isArray(tags)) {
      this.errors.push('tag map must be an array of entries');
    }
    const s = compileScaling(options.scaling);
    if (s.ok) this.scaling = s.map;
    else this.errors.push(...s.errors);
    if (options.zonePreset) {
      if (isZonePresetId(options.zonePreset)) this.zonePreset = options.zonePreset;
      else this.errors.push(`unknown zone preset "${options.zonePreset}" (expected one of ${Object.keys(ZONE_PRESETS).join(', ')})`);
    }
    if (options.assetId && !ASSET_ID.test(options.assetId)) this.errors.push(`asset id "${options.assetId}" is not usable as a topic level`);
    if (options.sampleRate !== undefined && !(finite(options.sampleRate) && options.sampleRate > 0)) this.errors.push('sample rate must be a number > 0');
    if (options.rpm !== undefined && !(finite(options.rpm) && options.rpm >= 0)) this.errors.push('shaft speed must be a number ≥ 0 rpm');
    if (options.accelUnit !== undefined && options.accelUnit !== 'm/s²' && options.accelUnit !== 'g') this.errors.push('acceleration unit must be m/s² or g');
    if (options.bearing) {
      try {
        validateBearing(options.bearing);
      } catch (err) {
        this.errors.push(`bearing: ${(err as Error).message}`);
      }
    }
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  /** Converts one message. `now` stamps readings whose source gave no time. */
  convert(msg: Obj, now = Date.now()): Outcome {
    if (!this.ok) {
      return { kind: 'unknown', readings: [], rejects: [{ code: 'config', params: { error: this.errors.slice(0, 3).join('; ') } }] };
    }
    // node-red-contrib-opcua announces a new subscription on its data output.
    if (msg.topic === 'subscriptionId' && (finite(msg.payload) || typeof msg.payload === 'string')) return { kind: 'control', readings: [], rejects: [] };

    const detected = detectSource(msg);
    const assetId = this.assetOf(msg);
    const fail = (code: RejectCode, params: Record<string, string> = {}): Outcome => ({ kind: detected.kind, readings: [], rejects: [{ code, params }] });
    if (assetId === undefined) return fail('missing_asset');
    const batch = new Batch(assetId, now);

    if (detected.protocol === 'modbus') {
      this.modbus(msg, detected, batch);
      return this.outcome(detected.kind, batch);
    }
    // An OPC UA 64-bit integer also arrives as a number array ([high, low]); its datatype tells.
    const int64 = detected.protocol === 'opcua' && detected.items.length === 1 && /^U?Int64$/i.test(detected.items[0].datatype ?? '');
    const samples = int64 ? undefined : waveformSamples(msg.payload);
    if (samples) {
      this.waveform(msg, samples, batch);
      return this.outcome('waveform', batch);
    }
    if (detected.kind === 'unknown') return fail('unknown_shape', { reason: detected.reason ?? '' });
    this.items(detected, detected.items, batch, this.sourceNode(msg));
    if (detected.reason) batch.reject('truncated', { reason: detected.reason });
    return this.outcome(detected.kind, batch);
  }

  /** Every message is accounted for: one that yielded nothing at all (e.g. zero registers) is a reject. */
  private outcome(kind: Outcome['kind'], batch: Batch): Outcome {
    if (batch.readings.length === 0 && batch.rejects.length === 0) batch.reject('no_values');
    return { kind, readings: batch.readings, rejects: batch.rejects };
  }

  // ---- asset ---------------------------------------------------------------------------------

  private assetOf(msg: Obj): string | undefined {
    const fromMsg = msg.assetId;
    if (typeof fromMsg === 'string' && fromMsg !== '') return fromMsg;
    if (finite(fromMsg)) return String(fromMsg);
    const doc = msg.payload;
    if (isObj(doc) && typeof doc.assetId === 'string' && doc.assetId !== '') return doc.assetId;
    return this.options.assetId || undefined;
  }

  private sourceNode(msg: Obj): string | undefined {
    return typeof msg.sendingNodeId === 'string' && msg.sendingNodeId ? msg.sendingNodeId : this.options.nodeId;
  }

  // ---- Modbus --------------------------------------------------------------------------------

  private modbus(msg: Obj, d: DetectedSource, batch: Batch): void {
    const base: ReadingSource = { protocol: 'modbus', kind: d.kind };
    if (d.variant) base.variant = d.variant;
    const node = this.sourceNode(msg);
    if (node) base.node = node;
    const req = d.modbus ?? {};
    if (req.unitId !== undefined) base.unitId = req.unitId;
    if (req.fc !== undefined) base.fc = req.fc;
    const start = req.address ?? 0;

    // A failed read (emptyMsgOnFail): the partner says so; every mapped signal is bad, not absent.
    if (d.error !== undefined && msg.error !== undefined && msg.error !== null) {
      if (!this.registerMap) return batch.reject('modbus_read_failed', { error: d.error });
      for (const e of this.registerMap.entries) {
        const source = { ...base, address: String(start + e.offset), offset: e.offset, type: e.type, error: d.error };
        this.emit(batch, e.signal, 0, e.unit, { quality: 'bad', qualityReason: 'read_failed' }, undefined, source, undefined, { placeholder: true });
      }
      return;
    }

    const input = d.buffer ?? d.registers;
    if (this.registerMap && input) return this.decode(this.registerMap, input, start, base, batch);
    // IO-file named values, when no register map says otherwise.
    if (d.items.length > 0) return this.items(d, d.items, batch, node, base);
    if (!input) return batch.reject('modbus_no_values', { reason: d.error ?? '' });
    if (this.options.unmapped === 'reject') return batch.reject('no_register_map');
    // Zero configuration: one reading per register (or coil), named by its table and address.
    const table = FC_NAMES[req.fc ?? 0] ?? 'register';
    const regs = d.registers ?? bytesToRegisters(d.buffer!);
    regs.forEach((r, i) => {
      const value = typeof r === 'boolean' ? (r ? 1 : 0) : r;
      if (!Number.isInteger(value) || value < -32768 || value > 65535) {
        const signal = `${table}_${start + i}`;
        return batch.reject('invalid_register', { signal, offset: String(i), error: `register ${start + i} is ${shortText(r)}, not a 16-bit integer` }, i, { signal, offset: i });
      }
      this.emit(batch, `${table}_${start + i}`, value, '', { quality: 'good' }, undefined, { ...base, address: String(start + i), offset: i });
    });
  }

  private decode(map: RegisterMap, input: readonly (number | boolean)[] | Uint8Array, start: number, base: ReadingSource, batch: Batch): void {
    const decoded = decodeRegisters(map, input);
    decoded.forEach((r, i) => {
      const e: CompiledEntry = map.entries[i];
      const source: ReadingSource = { ...base, address: String(start + e.offset), offset: e.offset, type: e.type };
      if (e.words > 1 || e.order !== 'ABCD') source.order = e.order;
      if (e.type === 'bit') source.bit = e.bit;
      if (r.ok) {
        source.raw = r.raw;
        this.emit(batch, r.signal, r.value, r.unit, { quality: 'good' }, undefined, source, i);
      } else if (r.code === 'not_finite') {
        // A NaN/∞ float is how many devices report a failed sensor: a bad reading, not bad input.
        this.emit(batch, r.signal, 0, r.unit, { quality: 'bad', qualityReason: 'not_finite' }, undefined, source, i, { placeholder: true });
      } else {
        batch.reject(r.code, { signal: r.signal, offset: String(r.offset), error: r.message }, i, { signal: r.signal, offset: r.offset });
      }
    });
  }

  // ---- named values (OPC UA, topic, gateway JSON, Modbus IO file) ----------------------------

  private items(d: DetectedSource, items: readonly DetectedItem[], batch: Batch, node: string | undefined, modbusBase?: ReadingSource): void {
    items.forEach((item, index) => {
      const tag = this.tagMap?.lookup(item.address);
      if (!tag && this.options.unmapped === 'reject') {
        return batch.reject('unmapped', { address: item.address }, index, { address: item.address, value: item.value });
      }
      const source: ReadingSource = modbusBase ? { ...modbusBase } : { protocol: d.protocol, kind: d.kind };
      if (!modbusBase && d.variant) source.variant = d.variant;
      if (node) source.node = node;
      source.address = item.address;
      if (item.datatype) source.datatype = item.datatype;
      if (item.statusCode !== undefined) source.statusCode = item.statusCode;
      const signal = tag?.signal ?? signalFromAddress(item.address, d.protocol);
      const unit = tag?.unit || item.unit || '';
      let quality: { quality: Quality; qualityReason?: string } = { quality: item.quality, qualityReason: item.qualityReason };

      const raw = itemValue(item.value, item.datatype);
      let value: number;
      let placeholder = false;
      if (raw === undefined) {
        if (item.value !== null && item.value !== undefined) {
          return batch.reject('not_numeric', { address: item.address, value: shortText(item.value) }, index, { address: item.address, value: item.value });
        }
        // No value: the source says why (BadNodeIdUnknown, a gateway's null). A bad reading, value 0.
        value = 0;
        placeholder = true;
        quality = { quality: 'bad', qualityReason: item.quality === 'bad' && item.qualityReason ? item.qualityReason : 'no_value' };
      } else if (tag && (tag.scale !== 1 || tag.bias !== 0)) {
        value = raw * tag.scale + tag.bias;
        source.raw = raw;
      } else {
        value = raw;
      }
      this.emit(batch, signal, value, unit, quality, item.ts, source, index, { placeholder });
    });
  }

  // ---- waveform ------------------------------------------------------------------------------

  private waveform(msg: Obj, samples: readonly unknown[], batch: Batch): void {
    const doc = isObj(msg.payload) ? msg.payload : {};
    const sampleRate = numeric(doc.sampleRate) ?? numeric(msg.sampleRate) ?? this.options.sampleRate;
    if (sampleRate === undefined) return batch.reject('no_sample_rate');
    const unit = (typeof doc.unit === 'string' ? doc.unit : typeof msg.unit === 'string' ? msg.unit : undefined) ?? this.options.accelUnit ?? 'm/s²';
    const rpm = numeric(doc.rpm) ?? numeric(msg.rpm) ?? this.options.rpm;
    const pointRaw = doc.point ?? msg.point;
    if (pointRaw !== undefined && (typeof pointRaw !== 'string' || !POINT.test(pointRaw))) {
      return batch.reject('waveform', { error: `measurement point ${shortText(pointRaw)} must be 1-32 letters, digits, _ or -` });
    }
    const suffix = pointRaw ? `.${pointRaw}` : '';
    const ts = toEpochMs(doc.ts ?? doc.timestamp) ?? toEpochMs(msg.timestamp);
    let defects: Record<string, number> | undefined;
    let features;
    try {
      if (this.options.bearing && rpm !== undefined && rpm > 0) {
        const f = bearingFrequencies(this.options.bearing, rpm);
        defects = { bpfo: f.bpfo, bpfi: f.bpfi, bsf: f.bsf, ftf: f.ftf };
      }
      features = waveformFeatures(samples as ArrayLike<number>, { sampleRate, unit: unit as 'm/s²', defects });
    } catch (err) {
      if (err instanceof RetrofitError) return batch.reject('waveform', { error: err.message, reason: err.code });
      throw err;
    }
    const base: ReadingSource = { protocol: 'waveform', kind: 'waveform', address: typeof msg.topic === 'string' && msg.topic ? msg.topic : 'waveform', sampleRate, samples: features.samples };
    const node = this.sourceNode(msg);
    if (node) base.node = node;
    if (rpm !== undefined) base.rpm = rpm;
    const q: { quality: Quality; qualityReason?: string } = features.flat ? { quality: 'bad', qualityReason: 'flat_signal' } : { quality: 'good' };
    const emit = (signal: string, value: number, u: string, extra: ReadingSource = {}, quality = q) =>
      this.emit(batch, `${signal}${suffix}`, value, u, quality, ts, { ...base, ...extra }, undefined, { features: true });

    emit('vibration_acceleration', features.accelerationRms, 'm/s²');
    // The ISO 10816 band is 10-1000 Hz; a slower sampler cannot see all of it.
    const [lo, hi] = features.velocityBand;
    const clipped = hi < 1000;
    emit('vibration_velocity', features.velocityRms, 'mm/s', { band: [lo, hi] }, clipped ? worse(q, { quality: 'uncertain', qualityReason: 'band_limited' }) : q);
    emit('vibration_peak', features.peak, 'm/s²');
    emit('vibration_crest_factor', features.crestFactor, '1');
    emit('vibration_kurtosis', features.kurtosis, '1');
    for (const b of features.bands) emit(`vibration_band.${b.name}`, b.rms, 'm/s²', { band: [b.lo, b.hi] });
    for (const d of features.defects) emit(`bearing_${d.name}`, d.rms, 'm/s²', { frequency: round(d.frequency, 4), peakHz: round(d.peakHz, 4), tolerance: round(d.tolerance, 4) });
  }

  // ---- one reading ---------------------------------------------------------------------------

  /**
   * Applies the retrofit scaling, calibration and zone of `signal`, validates, and adds the reading
   * (or a reject). A `placeholder` value (0 standing in for a value the source could not give) is
   * never scaled, but takes the scaled unit so one signal always has one unit.
   */
  private emit(
    batch: Batch,
    signal: string,
    value: number,
    unit: string,
    quality: { quality: Quality; qualityReason?: string },
    ts: number | undefined,
    source: ReadingSource,
    index?: number,
    opts: { placeholder?: boolean; features?: boolean } = {},
  ): void {
    let q = quality;
    const s = opts.features ? undefined : this.scaling.get(signal);
    if (s) {
      if (s.kind === 'loop' || s.kind === 'ct') {
        const scaledUnit = s.kind === 'loop' ? s.row.unit! : 'A';
        if (!opts.placeholder) {
          const scaled: Scaled = s.kind === 'loop' ? loopToEngineering(value, s.loop!) : ctPrimaryCurrent(value, s.ct!);
          const inputUnit = s.kind === 'loop' ? (s.loop!.currentUnit ?? 'mA') : s.ct!.input === 'secondary_current' ? 'A' : 'V';
          source.scaled = { kind: s.kind, input: value, inputUnit };
          value = scaled.value;
          q = worse(q, scaled);
        }
        unit = scaledUnit;
      } else if (s.row.unit) {
        unit = s.row.unit;
      }
      if (!opts.placeholder && (s.row.gain !== undefined || s.row.offset !== undefined)) {
        value = calibrate(value, { gain: s.row.gain, offset: s.row.offset });
        source.calibration = { gain: s.row.gain ?? 1, offset: s.row.offset ?? 0 };
      }
    }
    if (this.zonePreset && q.quality !== 'bad' && !opts.placeholder && (signal === 'vibration_velocity' || signal.startsWith('vibration_velocity.'))) {
      const mmS = toCanonical(value, unit, 'velocity');
      if (mmS && Number.isFinite(mmS.value) && mmS.value >= 0) {
        const z = zoneOf(mmS.value, this.zonePreset);
        source.zone = { preset: z.preset, standard: z.standard, zone: z.zone, limits: [...z.limits] };
      }
    }
    let stamp = ts;
    if (stamp === undefined) {
      stamp = batch.now;
      source.tsFilled = 'received';
    }
    const reading: Reading = { assetId: batch.assetId, signal, value, unit, ts: stamp, quality: q.quality };
    if (q.quality !== 'good' && q.qualityReason) reading.qualityReason = q.qualityReason;
    reading.source = source;
    if (!validateReading(reading)) {
      batch.reject('invalid_reading', { signal: shortText(signal), error: describeErrors(validateReading.errors) }, index, { signal, value });
      return;
    }
    batch.readings.push(reading);
  }
}

// ---------------------------------------------------------------------------------------------

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A waveform: `payload: number[]`, or `payload: {samples | waveform: number[], …}`. */
function waveformSamples(payload: unknown): readonly unknown[] | undefined {
  if (Array.isArray(payload) && payload.length > 0 && typeof payload[0] === 'number') return payload;
  if (isObj(payload)) {
    const s = payload.samples ?? payload.waveform;
    if (Array.isArray(s)) return s;
    if (ArrayBuffer.isView(s) && !(s instanceof DataView)) return Array.from(s as unknown as ArrayLike<number>);
  }
  return undefined;
}

/**
 * A number from an item value: numbers, booleans (1/0), numeric text, and OPC UA 64-bit integers,
 * which node-opcua delivers as [high, low] 32-bit words. Undefined for anything else.
 */
function itemValue(value: unknown, datatype?: string): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  const n = numeric(value);
  if (n !== undefined) return n;
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    datatype !== undefined &&
    /^U?Int64$/i.test(datatype) &&
    value.every((w) => Number.isInteger(w) && (w as number) >= -0x80000000 && (w as number) <= 0xffffffff)
  ) {
    const [hi, lo] = value as number[];
    return hi * 4294967296 + (lo >>> 0);
  }
  return undefined;
}

function bytesToRegisters(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) out.push((bytes[i] << 8) | bytes[i + 1]);
  return out;
}
