import type { Quantity } from './units';

/** A signal the pipeline knows: what it measures and the range a real sensor can report. */
export interface SignalDef {
  quantity: Quantity;
  /** Physically plausible range in the canonical unit; outside it a reading is `bad`. */
  range: [number, number];
}

/** Built-in signals. Others are accepted too; their unit decides the quantity. */
export const SIGNALS: Record<string, SignalDef> = {
  vibration_velocity: { quantity: 'velocity', range: [0, 100] },
  vibration_acceleration: { quantity: 'acceleration', range: [0, 2000] },
  temperature: { quantity: 'temperature', range: [-50, 400] },
  bearing_temperature: { quantity: 'temperature', range: [-50, 250] },
  winding_temperature: { quantity: 'temperature', range: [-50, 250] },
  ambient_temperature: { quantity: 'temperature', range: [-60, 80] },
  discharge_temperature: { quantity: 'temperature', range: [-50, 300] },
  oil_temperature: { quantity: 'temperature', range: [-40, 200] },
  current: { quantity: 'current', range: [0, 10000] },
  voltage: { quantity: 'voltage', range: [0, 20000] },
  pressure: { quantity: 'pressure', range: [-1.1, 1000] },
  suction_pressure: { quantity: 'pressure', range: [-1.1, 1000] },
  discharge_pressure: { quantity: 'pressure', range: [-1.1, 1000] },
  flow: { quantity: 'flow', range: [0, 100000] },
  speed: { quantity: 'speed', range: [0, 100000] },
  // Tail-pulley speed of a conveyor: rpm, so a Hz reading converts as rotation, not frequency.
  belt_speed: { quantity: 'speed', range: [0, 10000] },
  filter_differential_pressure: { quantity: 'pressure', range: [-1, 10] },
  power: { quantity: 'power', range: [0, 100000] },
};

/** Signal names are the last topic segment, so they are restricted to safe characters. */
export const SIGNAL_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
const SIGNAL_NAME = new RegExp(SIGNAL_NAME_PATTERN);

export function isValidSignalName(name: string): boolean {
  return SIGNAL_NAME.test(name);
}

export function signalDef(signal: string): SignalDef | undefined {
  return Object.prototype.hasOwnProperty.call(SIGNALS, signal) ? SIGNALS[signal] : undefined;
}
