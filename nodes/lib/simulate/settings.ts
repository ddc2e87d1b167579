/**
 * The pdm-simulate node's settings as the editor stores them (strings or numbers), checked and
 * turned into numbers. Errors name the field (SimConfigError 'invalid_option').
 */
import { SimConfigError } from './config';
import type { ClockMode, ClockOptions } from './clock';

export type OutputShape = 'readings' | 'modbus' | 'opcua';
export const OUTPUT_SHAPES: readonly OutputShape[] = ['readings', 'modbus', 'opcua'];

export interface RawSimSettings {
  seed?: string | number;
  interval?: string | number;
  clock?: string;
  factor?: string | number;
  stepSec?: string | number;
  historyHours?: string | number;
  hold?: boolean | string;
  shifts?: boolean | string;
  sampleSec?: string | number;
  shape?: string;
  autoStart?: boolean | string;
}

export interface SimSettings {
  seed: number;
  /** Wall-clock ms between ticks; 0 = only on a `tick` command. */
  intervalMs: number;
  clock: ClockOptions;
  /** The simulation starts this long before the deploy (or reset). */
  historyMs: number;
  shifts: boolean;
  sampleSec?: number;
  shape: OutputShape;
  autoStart: boolean;
}

/** Most readings one tick may produce; a faster clock lags instead of flooding the runtime. */
export const MAX_READINGS_PER_TICK = 200_000;

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

function number(field: string, value: unknown, fallback: number, check: (n: number) => boolean, rule: string): number {
  if (blank(value)) return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || !check(n)) throw new SimConfigError('invalid_option', `${field} must be ${rule} (got "${String(value)}")`);
  return n;
}

function flag(value: unknown, fallback: boolean): boolean {
  if (blank(value)) return fallback;
  return value === true || value === 'true';
}

export function parseSimSettings(raw: RawSimSettings): SimSettings {
  const seed = number('seed', raw.seed, 1, Number.isSafeInteger, 'a whole number');
  const interval = number('interval', raw.interval, 1, (n) => n >= 0 && n <= 3600, 'a number of seconds from 0 (manual ticks) to 3600');
  if (interval > 0 && interval < 0.01) throw new SimConfigError('invalid_option', 'interval must be at least 0.01 s (or 0 for manual ticks)');
  const mode = blank(raw.clock) ? 'accelerated' : raw.clock;
  if (mode !== 'accelerated' && mode !== 'step') throw new SimConfigError('invalid_option', `clock must be accelerated or step (got "${String(raw.clock)}")`);
  const factor = number('factor', raw.factor, 1, (n) => n > 0 && n <= 100_000, 'a number above 0 and at most 100000');
  const stepSec = number('stepSec', raw.stepSec, 60, (n) => Number.isInteger(n) && n >= 1 && n <= 31 * 86_400, 'a whole number of seconds from 1 to 2678400');
  const historyHours = number('historyHours', raw.historyHours, 0, (n) => n >= 0 && n <= 24 * 366, 'a number of hours from 0 to 8784');
  const sampleSec = blank(raw.sampleSec)
    ? undefined
    : number('sampleSec', raw.sampleSec, 0, (n) => Number.isInteger(n) && n >= 1 && n <= 86_400, 'empty or a whole number of seconds from 1 to 86400');
  const shape = blank(raw.shape) ? 'readings' : raw.shape;
  if (!(OUTPUT_SHAPES as readonly string[]).includes(shape as string)) {
    throw new SimConfigError('invalid_option', `shape must be one of ${OUTPUT_SHAPES.join(', ')} (got "${String(raw.shape)}")`);
  }
  const settings: SimSettings = {
    seed,
    intervalMs: Math.round(interval * 1000),
    clock: { mode: mode as ClockMode, factor, stepSec, hold: flag(raw.hold, false) },
    historyMs: Math.round(historyHours * 3_600_000),
    shifts: flag(raw.shifts, false),
    shape: shape as OutputShape,
    autoStart: flag(raw.autoStart, true),
  };
  if (sampleSec !== undefined) settings.sampleSec = sampleSec;
  return settings;
}
