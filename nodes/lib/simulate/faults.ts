/**
 * Injected faults: what each does to a machine, how it progresses from onset, and the ground
 * truth the simulator publishes about it.
 *
 * Progressive faults (bearing wear, imbalance, misalignment, belt slip, cavitation) grow from
 * severity 0 at onset to 1 at the failure time (onset + duration); at failure the machine trips
 * and stays down for `repairHours`, then runs healthy again. Episodes (overload, sensor drift,
 * stuck sensor, dropout) last `durationHours` and end without a failure.
 */
import type { AssetClassId } from '../assets/types';

export const FAULT_TYPES = [
  'bearing_wear',
  'imbalance',
  'misalignment',
  'overload',
  'belt_slip',
  'cavitation',
  'sensor_drift',
  'stuck_sensor',
  'dropout',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export const PROGRESSIVE_FAULTS: readonly FaultType[] = ['bearing_wear', 'imbalance', 'misalignment', 'belt_slip', 'cavitation'];
export const SENSOR_FAULTS: readonly FaultType[] = ['sensor_drift', 'stuck_sensor', 'dropout'];

/** Classes a fault applies to (absent: every class). */
export const FAULT_CLASSES: Partial<Record<FaultType, readonly AssetClassId[]>> = {
  belt_slip: ['conveyor', 'fan'],
  cavitation: ['pump'],
};

/** A fault as configured (or sent with an `inject-fault` command). */
export interface FaultConfig {
  type: FaultType;
  /** Hours after the simulation start (configured faults) or after the current simulated time (injected). */
  onsetHours: number;
  /** Progressive faults: onset to failure. Episodes: how long they last. */
  durationHours: number;
  /** The sensor a sensor fault affects (required for drift and stuck; dropout without it loses every signal of the asset). */
  signal?: string;
  /** sensor_drift: offset reached at the end of the drift, in the signal's canonical unit (default 20 % of its nominal value). */
  amount?: number;
  /** dropout: share of readings lost, (0, 1] (default 1: an outage). */
  rate?: number;
  /** Progressive faults: hours the machine stays down after failure before it runs healthy again (default 4). */
  repairHours?: number;
  /** Ground-truth id; default `<assetId>/<type>/<n>`. */
  id?: string;
}

export type FaultPhase = 'pending' | 'active' | 'failed' | 'ended' | 'repaired';

/** Ground truth of one injected fault, as published (times are epoch ms of simulated time). */
export interface TruthFault {
  faultId: string;
  assetId: string;
  assetClass: AssetClassId;
  fault: FaultType;
  signal?: string;
  onset: number;
  /** Progressive faults: when the machine fails (severity reaches 1). */
  failureAt?: number;
  /** Episodes: when the fault ends. */
  endsAt?: number;
  /** Progressive faults: when the machine runs again after the repair. */
  repairedAt?: number;
  phase: FaultPhase;
  /** 0 before onset, rising to 1 at failure (progressive) or while active (episodes). */
  severity: number;
}

/**
 * `scheduled`: the fault is known (configured, at the start; injected, at once) with its onset and
 * failure or end times; `onset`: it begins; `progress`: its severity passed another tenth;
 * `failure`: the machine fails and trips; `end`: an episode is over; `repaired`: the machine runs
 * healthy again after a failure.
 */
export type TruthEventType = 'scheduled' | 'onset' | 'progress' | 'failure' | 'end' | 'repaired';

/** A ground-truth event: the fault as it is now, and what just happened to it. */
export interface TruthEvent extends TruthFault {
  kind: 'fault';
  event: TruthEventType;
  /** Simulated time of the event (epoch ms). */
  ts: number;
}

export const HOUR_MS = 3_600_000;
/** Defaults and limits (hours). */
export const DEFAULT_REPAIR_HOURS = 4;
const MAX_HOURS = 24 * 366 * 10;

export function isProgressive(type: FaultType): boolean {
  return PROGRESSIVE_FAULTS.includes(type);
}

/**
 * Severity at fraction x ∈ [0, 1] of the way from onset to failure (or through an episode).
 * Bearing wear follows the P–F curve: slow for most of its life, then fast — e^{3x} normalised.
 * Belt slip accelerates as the belt glazes (x²). Overload builds within the first tenth of the
 * episode and then holds. The others grow linearly; stuck and dropout are on or off.
 */
export function severityAt(type: FaultType, x: number): number {
  if (!(x > 0)) return 0;
  const u = Math.min(1, x);
  switch (type) {
    case 'bearing_wear':
      return (Math.exp(3 * u) - 1) / (Math.exp(3) - 1);
    case 'belt_slip':
      return u * u;
    case 'overload':
      return Math.min(1, u / 0.1);
    case 'stuck_sensor':
    case 'dropout':
      return 1;
    default:
      return u;
  }
}

type Problem = { field: string; message: string };

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks one fault for an asset of class `cls` with the given simulated signals. Returns the
 * first problem (field and readable message) or undefined.
 */
export function faultProblem(raw: unknown, cls: AssetClassId, signals: readonly string[]): Problem | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { field: 'fault', message: 'a fault must be an object {type, onsetHours, durationHours}' };
  const f = raw as Record<string, unknown>;
  const allowed = new Set(['type', 'onsetHours', 'durationHours', 'signal', 'amount', 'rate', 'repairHours', 'id']);
  const extra = Object.keys(f).find((k) => !allowed.has(k));
  if (extra) return { field: extra, message: `unknown field "${extra}" (expected ${[...allowed].join(', ')})` };
  if (typeof f.type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(f.type)) {
    return { field: 'type', message: `type must be one of ${FAULT_TYPES.join(', ')}` };
  }
  const type = f.type as FaultType;
  const classes = FAULT_CLASSES[type];
  if (classes && !classes.includes(cls)) return { field: 'type', message: `${type} applies to ${classes.join(' and ')} assets, not a ${cls}` };
  if (!finite(f.onsetHours) || f.onsetHours < 0 || f.onsetHours > MAX_HOURS) return { field: 'onsetHours', message: 'onsetHours must be a number ≥ 0' };
  if (!finite(f.durationHours) || f.durationHours <= 0 || f.durationHours > MAX_HOURS) return { field: 'durationHours', message: 'durationHours must be a number > 0' };
  if (f.repairHours !== undefined && (!finite(f.repairHours) || f.repairHours < 0 || f.repairHours > MAX_HOURS)) {
    return { field: 'repairHours', message: 'repairHours must be a number ≥ 0' };
  }
  if (f.id !== undefined && (typeof f.id !== 'string' || f.id === '' || f.id.length > 128)) return { field: 'id', message: 'id must be a non-empty string' };
  const needsSignal = type === 'sensor_drift' || type === 'stuck_sensor';
  if (f.signal !== undefined || needsSignal) {
    if (typeof f.signal !== 'string') return { field: 'signal', message: `${type} needs the signal it affects` };
    if (!signals.includes(f.signal)) return { field: 'signal', message: `signal "${f.signal}" is not simulated on this asset (${signals.join(', ')})` };
    if (!SENSOR_FAULTS.includes(type)) return { field: 'signal', message: `signal only applies to ${SENSOR_FAULTS.join(', ')}` };
  }
  if (f.amount !== undefined && (type !== 'sensor_drift' || !finite(f.amount))) return { field: 'amount', message: 'amount is the final offset of a sensor_drift, a number' };
  if (f.rate !== undefined && (type !== 'dropout' || !finite(f.rate) || f.rate <= 0 || f.rate > 1)) {
    return { field: 'rate', message: 'rate is the share of readings a dropout loses, in (0, 1]' };
  }
  return undefined;
}
