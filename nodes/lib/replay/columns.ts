/**
 * Which column is the time, and which signal each other column is.
 *
 * Time column: `--time-column`, else the first column named timestamp, datetime, date_time,
 * time, ts, date or _time (any case), else the first column.
 *
 * Column → signal, from the column name (lower-cased, words split at non-letters and at
 * lower→upper case changes, so "Accelerometer1RMS" reads "accelerometer 1 rms"):
 *
 * | name contains                          | signal                   | unit assumed    |
 * |----------------------------------------|--------------------------|-----------------|
 * | accelerometer, accel, acceleration     | vibration_acceleration   | g               |
 * | velocity, vibration, vib               | vibration_velocity       | mm/s            |
 * | bearing + temp                         | bearing_temperature      | °C              |
 * | winding + temp                         | winding_temperature      | °C              |
 * | ambient + temp                         | ambient_temperature      | °C              |
 * | oil + temp                             | oil_temperature          | °C              |
 * | temperature, temp, thermocouple, rtd   | temperature              | °C              |
 * | current, amps                          | current                  | A               |
 * | voltage, volt                          | voltage                  | V               |
 * | suction / discharge + pressure         | suction_/discharge_pressure | bar          |
 * | pressure                               | pressure                 | bar             |
 * | flow                                   | flow                     | l/min           |
 * | speed, rpm                             | speed                    | rpm             |
 * | power, kw                              | power                    | kW              |
 *
 * A unit in brackets in the name wins over the assumed one: "Pressure (psi)", "temp [°F]".
 * A second column of the same signal gets "_2", a third "_3" (Temperature, Thermocouple →
 * temperature, temperature_2). Anything else keeps its own name as a custom signal
 * (non-name characters → "_", unit "1"). `--map "Column=signal[:unit],..."` overrides.
 * Label columns given in `--exclude-columns` never reach this mapping nor the pipeline.
 */
import { isValidSignalName, signalDef } from '../signals';
import { QUANTITIES, isKnownUnit } from '../units';

export interface ColumnSignal {
  column: string;
  /** Index of the column in the file. */
  index: number;
  signal: string;
  unit: string;
  how: 'name' | 'custom' | 'option';
}

interface Rule {
  test: (words: string) => boolean;
  signal: string;
  unit: string;
}

const has = (...res: RegExp[]) => (w: string) => res.every((re) => re.test(w));

const RULES: Rule[] = [
  { test: has(/\b(accelerometer|accel|acceleration|acc)\b/), signal: 'vibration_acceleration', unit: 'g' },
  { test: has(/\b(velocity|vibration|vib)\b/), signal: 'vibration_velocity', unit: 'mm/s' },
  { test: has(/\bbearing\b/, /\b(temp|temperature)\b/), signal: 'bearing_temperature', unit: '°C' },
  { test: has(/\bwinding\b/, /\b(temp|temperature)\b/), signal: 'winding_temperature', unit: '°C' },
  { test: has(/\bambient\b/, /\b(temp|temperature)\b/), signal: 'ambient_temperature', unit: '°C' },
  { test: has(/\boil\b/, /\b(temp|temperature)\b/), signal: 'oil_temperature', unit: '°C' },
  { test: has(/\b(temperature|temp|thermocouple|rtd)\b/), signal: 'temperature', unit: '°C' },
  { test: has(/\b(current|amps|amp)\b/), signal: 'current', unit: 'A' },
  { test: has(/\b(voltage|volt|volts)\b/), signal: 'voltage', unit: 'V' },
  { test: has(/\bsuction\b/, /\b(pressure|press)\b/), signal: 'suction_pressure', unit: 'bar' },
  { test: has(/\bdischarge\b/, /\b(pressure|press)\b/), signal: 'discharge_pressure', unit: 'bar' },
  { test: has(/\b(pressure|press)\b/), signal: 'pressure', unit: 'bar' },
  { test: has(/\bflow\b/), signal: 'flow', unit: 'l/min' },
  { test: has(/\b(speed|rpm)\b/), signal: 'speed', unit: 'rpm' },
  { test: has(/\b(power|kw)\b/), signal: 'power', unit: 'kW' },
];

const TIME_NAMES = ['timestamp', 'datetime', 'date_time', 'time', 'ts', 'date', '_time'];

/** "Accelerometer1RMS" → "accelerometer 1 rms"; "Volume Flow RateRMS" → "volume flow rate rms". */
export function words(name: string): string {
  return name
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** A unit written in brackets in a column name, when it is one we know. */
export function unitInName(name: string): string | undefined {
  const m = /\(([^)]+)\)|\[([^\]]+)\]/.exec(name);
  const unit = m ? (m[1] ?? m[2]).trim() : undefined;
  return unit && isKnownUnit(unit) ? unit : undefined;
}

/** A column name as a valid custom signal name. */
export function customSignalName(name: string): string {
  let s = name.trim().replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[A-Za-z]/.test(s)) s = `c_${s}`;
  s = s.slice(0, 64);
  return isValidSignalName(s) ? s : 'signal';
}

export function findTimeColumn(columns: string[], given?: string): number {
  if (given !== undefined) {
    const i = columns.indexOf(given);
    if (i < 0) throw new Error(`--time-column "${given}" is not a column of the file (columns: ${columns.join(', ')})`);
    return i;
  }
  for (const name of TIME_NAMES) {
    const i = columns.findIndex((c) => c.trim().toLowerCase() === name);
    if (i >= 0) return i;
  }
  return 0;
}

export interface MapOverride {
  signal: string;
  unit?: string;
}

/** Parses `--map "Column=signal[:unit],Other=signal"`. */
export function parseMap(text: string | undefined): Record<string, MapOverride> {
  const out: Record<string, MapOverride> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const eq = part.lastIndexOf('=');
    if (eq <= 0) throw new Error(`--map: "${part}" is not Column=signal[:unit]`);
    const column = part.slice(0, eq).trim();
    const [signal, unit] = part.slice(eq + 1).split(':').map((s) => s.trim());
    if (!isValidSignalName(signal)) throw new Error(`--map: "${signal}" is not a valid signal name`);
    if (unit !== undefined && !isKnownUnit(unit)) throw new Error(`--map: unit "${unit}" of ${column} is not a known unit`);
    out[column] = { signal, unit };
  }
  return out;
}

/** Maps every non-time, non-excluded column to a signal. */
export function mapColumns(columns: string[], skip: Set<number>, overrides: Record<string, MapOverride> = {}): ColumnSignal[] {
  const used = new Map<string, number>();
  const take = (signal: string) => {
    const n = (used.get(signal) ?? 0) + 1;
    used.set(signal, n);
    return n === 1 ? signal : `${signal}_${n}`.slice(0, 64);
  };
  const out: ColumnSignal[] = [];
  columns.forEach((column, index) => {
    if (skip.has(index)) return;
    const over = overrides[column];
    if (over) {
      const def = signalDef(over.signal);
      out.push({ column, index, signal: take(over.signal), unit: over.unit ?? unitInName(column) ?? (def ? QUANTITIES[def.quantity].canonical : '1'), how: 'option' });
      return;
    }
    const w = words(column);
    const rule = RULES.find((r) => r.test(w));
    if (rule) out.push({ column, index, signal: take(rule.signal), unit: unitInName(column) ?? rule.unit, how: 'name' });
    else out.push({ column, index, signal: take(customSignalName(column)), unit: unitInName(column) ?? '1', how: 'custom' });
  });
  return out;
}
