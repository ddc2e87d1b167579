/**
 * One simulated machine: its operating schedule, mechanics, heating, hydraulics and injected
 * faults, advanced in one-second steps of simulated time, and the noisy readings its sensors
 * report. Pure and deterministic: everything random comes from the machine's own seeded streams.
 */
import type { Reading } from '../contracts/reading';
import { ZONE_PRESETS } from '../retrofit/zones';
import { vibrationPresetId } from '../assets/classes';
import { Rng } from './rng';
import type { SimAsset } from './config';
import {
  COMPRESSOR,
  FAULT_VIBRATION,
  HEALTHY_VIBRATION,
  PROFILES,
  PUMP,
  pumpRatedFlow,
  type ClassProfile,
  type ThermalNode,
} from './profiles';
import {
  DEFAULT_REPAIR_HOURS,
  HOUR_MS,
  isProgressive,
  severityAt,
  type FaultConfig,
  type FaultType,
  type TruthEvent,
  type TruthFault,
} from './faults';

/** Simulated time advances in steps of this many milliseconds. */
export const STEP_MS = 1000;
const DT = STEP_MS / 1000;
const MIN_MS = 60_000;
/** Overload pulls the load towards this fraction of rated power (current ≈ 1.28 × rated). */
const OVERLOAD_LOAD = 1.4;
/** Process demand follows its set point with this time constant (s). */
const PROCESS_TAU_S = 30;
/** Shift pattern: Monday–Friday, two shifts from 06:00 to 22:00 UTC. */
export const SHIFT_HOURS: readonly [number, number] = [6, 22];

export type Phase = 'off' | 'starting' | 'running';

/** The noise-free physical state of a machine at the current simulated time. */
export interface MachineState {
  assetId: string;
  ts: number;
  phase: Phase;
  /** Tripped by a failure, waiting for its repair. */
  tripped: boolean;
  /** Shaft speed as a fraction of rated. */
  speed: number;
  /** Mechanical load as a fraction of rated power. */
  load: number;
  /** Process demand (see profiles.ts PROCESS). */
  demand: number;
  currentA: number;
  powerKW: number;
  voltageV: number;
  speedRpm: number;
  /** Velocity RMS components at the bearing housing (mm/s) and their total. */
  vibration: { oneX: number; twoX: number; broadband: number; total: number };
  accelerationRms: number;
  ambient: number;
  temperatures: Record<ThermalNode, number>;
  /** Belt slip as a fraction (conveyor: belt vs drive pulley, fan: fan vs motor pulley). */
  slip: number;
  pump?: { flow: number; suction: number; discharge: number };
  compressor?: { pressure: number; loaded: boolean; standby: boolean };
  /** Severity of every fault type currently acting (0 when none). */
  severity: Record<FaultType, number>;
}

interface ActiveFault {
  config: FaultConfig;
  truth: TruthFault;
  decile: number;
  stuckValue?: number;
  /** The final offset of a drift. */
  amount: number;
}

const ZERO_SEVERITY = (): Record<FaultType, number> => ({
  bearing_wear: 0,
  imbalance: 0,
  misalignment: 0,
  overload: 0,
  belt_slip: 0,
  cavitation: 0,
  sensor_drift: 0,
  stuck_sensor: 0,
  dropout: 0,
});

/** Resolution each signal is reported with (decimals). */
function decimalsOf(signal: string, ratedCurrentA: number): number {
  switch (signal) {
    case 'vibration_velocity':
    case 'vibration_acceleration':
    case 'suction_pressure':
    case 'discharge_pressure':
      return 3;
    case 'filter_differential_pressure':
      return 5;
    case 'current':
      return ratedCurrentA < 20 ? 3 : 2;
    case 'voltage':
    case 'speed':
      return 1;
    default:
      return 2;
  }
}

const round = (v: number, decimals: number): number => {
  const f = 10 ** decimals;
  const r = Math.round(v * f) / f;
  return r === 0 ? 0 : r; // no -0 in JSON comparisons
};

/** Signals that cannot be negative: noise is folded back above zero. */
const MAGNITUDES = new Set([
  'vibration_velocity',
  'vibration_acceleration',
  'current',
  'voltage',
  'speed',
  'belt_speed',
  'power',
  'flow',
  'filter_differential_pressure',
]);

export class Machine {
  readonly id: string;
  readonly profile: ClassProfile;
  /** Zone boundaries of the asset's vibration preset (mm/s): A/B, B/C, C/D. */
  readonly zone: readonly [number, number, number];
  readonly ratedFlow: number;
  readonly units: Record<string, string>;
  private readonly intervals: Record<string, number>;
  private readonly decimals: Record<string, number>;

  private readonly schedule: Rng;
  private readonly noise: Rng;
  private readonly sensorRng: Rng;

  // Per-machine variation, drawn once.
  private readonly k1: number;
  private readonly k2: number;
  private readonly kb: number;
  private readonly ka: number;
  private readonly kInrush: number;
  private readonly ambientOffset: number;
  private readonly shiftDelayMs: number;
  private readonly dp0: number;

  // Operating state.
  private phase: Phase = 'off';
  private startedAt = 0;
  private speed = 0;
  private demand: number;
  private process: number;
  private stopUntil = 0;
  private trippedUntil = 0;
  private pumpOn = true;
  private pumpUntil: number;
  private pressure = 6.8;
  private loaded = false;
  private unloadedS = 0;
  private standby = false;
  private readonly temps: Record<ThermalNode, number>;
  private readonly alpha: Record<ThermalNode, number>;
  private now: number;
  private state!: MachineState;

  private readonly faults: ActiveFault[] = [];
  private readonly latestValues = new Map<string, { value: number; ts: number }>();

  constructor(
    readonly asset: SimAsset,
    seed: number,
    private readonly start: number,
    private readonly shifts: boolean,
    sampleMs: number | undefined,
  ) {
    this.id = asset.resolved.id;
    this.profile = PROFILES[asset.assetClass];
    this.zone = ZONE_PRESETS[vibrationPresetId(asset.resolved.presets.vibration)].limits;
    this.ratedFlow = pumpRatedFlow(asset.nameplate.ratedPowerKW);
    this.units = {};
    this.intervals = {};
    this.decimals = {};
    for (const spec of asset.resolved.sensors) {
      this.units[spec.signal] = spec.unit;
      this.intervals[spec.signal] = sampleMs ?? Math.max(STEP_MS, Math.round(spec.intervalMs / STEP_MS) * STEP_MS);
      this.decimals[spec.signal] = decimalsOf(spec.signal, asset.nameplate.ratedCurrentA);
    }
    this.schedule = new Rng(seed, this.id, 'schedule');
    this.noise = new Rng(seed, this.id, 'noise');
    this.sensorRng = new Rng(seed, this.id, 'sensor');
    const params = new Rng(seed, this.id, 'params');
    this.k1 = params.uniform(0.85, 1.15);
    this.k2 = params.uniform(0.85, 1.15);
    this.kb = params.uniform(0.85, 1.15);
    this.ka = params.uniform(0.85, 1.15);
    this.kInrush = params.uniform(0.95, 1.05);
    this.ambientOffset = params.uniform(-1.5, 1.5);
    this.shiftDelayMs = Math.round(params.uniform(0, 15)) * MIN_MS;
    this.dp0 = PUMP.shutoffBar * params.uniform(0.95, 1.05);
    const [lo, hi] = this.profile.demand;
    this.demand = asset.load ?? params.uniform(lo, hi);
    this.process = this.demand;
    this.pumpUntil = start + Math.round(params.uniform(10, 50)) * MIN_MS;

    this.now = start;
    const ambient = this.ambientAt(start);
    this.temps = { winding: ambient, bearing: ambient, oil: ambient, discharge: ambient };
    this.alpha = { winding: 0, bearing: 0, oil: 0, discharge: 0 };
    for (const node of ['winding', 'bearing', 'oil', 'discharge'] as ThermalNode[]) {
      const tau = this.profile.tau[node] ?? 1200;
      this.alpha[node] = 1 - Math.exp(-DT / tau);
    }
    asset.faults.forEach((f) => this.addFault(f, start));
    this.state = this.compute(start, this.profile.demand[0]);
  }

  // ---- faults ----------------------------------------------------------------------------

  /** Adds a fault whose onset is `onsetHours` after `from`. Returns its ground truth. */
  addFault(config: FaultConfig, from: number): TruthFault {
    const n = this.faults.length + 1;
    const faultId = config.id ?? `${this.id}/${config.type}/${n}`;
    if (this.faults.some((f) => f.truth.faultId === faultId)) throw new Error(`fault id "${faultId}" is already used`);
    const onset = from + Math.round(config.onsetHours * HOUR_MS);
    const duration = Math.max(STEP_MS, Math.round(config.durationHours * HOUR_MS));
    const truth: TruthFault = {
      faultId,
      assetId: this.id,
      assetClass: this.asset.assetClass,
      fault: config.type,
      onset,
      phase: 'pending',
      severity: 0,
    };
    if (config.signal !== undefined) truth.signal = config.signal;
    if (isProgressive(config.type)) {
      truth.failureAt = onset + duration;
      truth.repairedAt = truth.failureAt + Math.round((config.repairHours ?? DEFAULT_REPAIR_HOURS) * HOUR_MS);
    } else {
      truth.endsAt = onset + duration;
    }
    const amount = config.amount ?? (config.signal ? 0.2 * this.nominal(config.signal) : 0);
    this.faults.push({ config: { ...config }, truth, decile: 0, amount });
    return { ...truth };
  }

  truth(): TruthFault[] {
    return this.faults.map((f) => publish(f.truth));
  }

  private updateFaults(t: number, events: TruthEvent[]): void {
    const emit = (f: ActiveFault, event: TruthEvent['event']) => events.push({ kind: 'fault', event, ts: t, ...publish(f.truth) });
    for (const f of this.faults) {
      const tr = f.truth;
      if (tr.phase === 'pending' && t >= tr.onset) {
        tr.phase = 'active';
        tr.severity = severityAt(tr.fault, (t - tr.onset) / this.durationOf(tr));
        if (tr.fault === 'stuck_sensor' && tr.signal) f.stuckValue = this.latestValues.get(tr.signal)?.value;
        emit(f, 'onset');
      }
      if (tr.phase === 'active') {
        const end = tr.failureAt ?? tr.endsAt!;
        if (t >= end) {
          if (tr.failureAt !== undefined) {
            tr.phase = 'failed';
            tr.severity = 1;
            this.trippedUntil = Math.max(this.trippedUntil, tr.repairedAt!);
            emit(f, 'failure');
          } else {
            tr.phase = 'ended';
            tr.severity = 0;
            emit(f, 'end');
          }
        } else {
          tr.severity = severityAt(tr.fault, (t - tr.onset) / this.durationOf(tr));
          const decile = Math.min(9, Math.floor(tr.severity * 10 + 1e-9));
          if (decile > f.decile && tr.fault !== 'stuck_sensor' && tr.fault !== 'dropout') {
            f.decile = decile;
            emit(f, 'progress');
          }
        }
      }
      if (tr.phase === 'failed' && t >= tr.repairedAt!) {
        tr.phase = 'repaired';
        tr.severity = 0;
        emit(f, 'repaired');
      }
    }
  }

  private durationOf(tr: TruthFault): number {
    return (tr.failureAt ?? tr.endsAt!) - tr.onset;
  }

  private severities(): Record<FaultType, number> {
    const s = ZERO_SEVERITY();
    for (const f of this.faults) {
      if (f.truth.phase === 'active' || f.truth.phase === 'failed') s[f.truth.fault] = Math.max(s[f.truth.fault], f.truth.severity);
    }
    return s;
  }

  /** A typical value of a signal, for the default drift (20 % of it). */
  private nominal(signal: string): number {
    const np = this.asset.nameplate;
    switch (signal) {
      case 'current':
        return np.ratedCurrentA;
      case 'voltage':
        return np.ratedVoltageV;
      case 'power':
        return np.ratedPowerKW;
      case 'speed':
      case 'belt_speed':
        return np.ratedSpeedRpm;
      case 'vibration_velocity':
        return this.zone[1];
      case 'vibration_acceleration':
        return this.profile.accel;
      case 'flow':
        return this.ratedFlow;
      case 'filter_differential_pressure':
        return 0.02;
      case 'suction_pressure':
        return 1;
      case 'discharge_pressure':
        return 7;
      default:
        return 50; // temperatures: a 10 °C drift
    }
  }

  // ---- schedule ----------------------------------------------------------------------------

  private ambientAt(t: number): number {
    const hour = (((t / HOUR_MS) % 24) + 24) % 24;
    return this.profile.ambient + this.ambientOffset + 3 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
  }

  /** True during the shift pattern (shifted by this machine's own start-up delay). */
  private onShift(t: number): boolean {
    const d = new Date(t - this.shiftDelayMs);
    const day = d.getUTCDay();
    if (day === 0 || day === 6) return false;
    const hour = d.getUTCHours() + d.getUTCMinutes() / 60;
    if (hour < SHIFT_HOURS[0] || hour >= SHIFT_HOURS[1]) return false;
    // The conveyor stops for the lunch break.
    if (this.asset.assetClass === 'conveyor' && hour >= 12 && hour < 12.5) return false;
    return true;
  }

  /** Whether the machine should run at t; advances the duty cycles (one schedule draw per step). */
  private wantsToRun(t: number): boolean {
    const draw = this.schedule.next();
    if (t < this.trippedUntil) return false;
    const mode = this.asset.schedule;
    if (mode === 'off') return false;
    if (mode === 'continuous') return true;
    if (this.shifts && !this.onShift(t)) return false;
    const cls = this.asset.assetClass;
    if (cls === 'pump') {
      if (t >= this.pumpUntil) {
        this.pumpOn = !this.pumpOn;
        this.pumpUntil = t + Math.round(this.pumpOn ? this.schedule.uniform(25, 50) : this.schedule.uniform(8, 20)) * MIN_MS;
      }
      if (!this.pumpOn) return false;
    }
    if (cls === 'compressor' && this.standby) {
      if (this.pressure > COMPRESSOR.restartAt) return false;
      this.standby = false;
    }
    if (t < this.stopUntil) return false;
    const stops = this.profile.stops;
    if (stops && this.phase === 'running' && draw < DT / stops.everyS) {
      this.stopUntil = t + Math.round(this.schedule.uniform(stops.forS[0], stops.forS[1])) * 1000;
      return false;
    }
    return true;
  }

  private updateDemand(): void {
    if (this.asset.load !== undefined) {
      this.demand = this.process = this.asset.load;
      return;
    }
    const draw = this.schedule.next();
    if (draw < DT / this.profile.demandChangeS) {
      const [lo, hi] = this.profile.demand;
      // A conveyor sometimes runs empty (idle) for a while.
      this.demand = this.asset.assetClass === 'conveyor' && this.schedule.next() < 0.12 ? 0 : this.schedule.uniform(lo, hi);
    }
    this.process += (this.demand - this.process) * (1 - Math.exp(-DT / PROCESS_TAU_S));
  }

  // ---- stepping ------------------------------------------------------------------------------

  /** Advances from the previous step to t (t = previous + STEP_MS), pushing ground-truth events. */
  step(t: number, events: TruthEvent[]): void {
    this.now = t;
    this.updateFaults(t, events);
    const run = this.wantsToRun(t);
    this.updateDemand();
    const cls = this.asset.assetClass;

    if (run && this.phase === 'off') {
      this.phase = 'starting';
      this.startedAt = t;
      if (cls === 'compressor') {
        this.loaded = this.pressure < COMPRESSOR.unloadAt;
        this.unloadedS = 0;
      }
    } else if (!run && this.phase !== 'off') {
      this.phase = 'off';
    }

    // Compressor: load/unload on receiver pressure, auto-stop after running unloaded.
    if (cls === 'compressor') {
      const consumption = this.shifts && !this.onShift(t) ? 0.03 : this.process;
      if (this.phase !== 'off') {
        if (this.pressure <= COMPRESSOR.loadAt) this.loaded = true;
        if (this.pressure >= COMPRESSOR.unloadAt) this.loaded = false;
        this.unloadedS = this.loaded ? 0 : this.unloadedS + DT;
        if (this.phase === 'running' && this.unloadedS >= COMPRESSOR.autoStopS && this.asset.schedule === 'auto') {
          this.standby = true;
          this.phase = 'off';
        }
      }
      const delivering = this.phase !== 'off' && this.loaded ? this.speed : 0;
      this.pressure = Math.max(0, this.pressure + (delivering - consumption) * COMPRESSOR.ratePerS * DT);
    }

    const s = this.severities();
    // Speed: run-up ramp, follow the load-dependent running speed, coast down.
    const loadNow = this.loadAt(1, s);
    const slip = this.slipOf(s);
    const running = (1 + 0.013 * (1 - Math.min(loadNow, 1))) * (cls === 'fan' ? 1 - slip : 1);
    if (this.phase === 'starting') {
      const e = (t - this.startedAt) / 1000;
      this.speed = running * Math.min(1, (e / this.profile.startS) ** 1.2);
      // Run-up is over: the inrush ends and the machine is at speed.
      if (e >= this.profile.startS) this.phase = 'running';
    } else if (this.phase === 'running') {
      this.speed += (running - this.speed) * (1 - Math.exp(-DT / 2));
    } else {
      this.speed *= Math.exp(-DT / this.profile.coastS);
      if (this.speed < 0.002) this.speed = 0;
    }

    this.state = this.compute(t, loadNow);
    // Heating: first-order lag of every thermal node towards its steady state.
    const ss = this.steadyTemperatures(this.state, s);
    for (const node of ['winding', 'bearing', 'oil', 'discharge'] as ThermalNode[]) {
      this.temps[node] += (ss[node] - this.temps[node]) * this.alpha[node];
    }
    this.state.temperatures = { ...this.temps };
  }

  private slipOf(s: Record<FaultType, number>): number {
    const cls = this.asset.assetClass;
    if (cls === 'conveyor') return 0.002 + 0.12 * s.belt_slip;
    if (cls === 'fan') return 0.004 + 0.12 * s.belt_slip;
    return 0;
  }

  /** Mechanical load at speed fraction r (1 = rated). */
  private loadAt(r: number, s: Record<FaultType, number>): number {
    const p = this.process;
    let load: number;
    switch (this.asset.assetClass) {
      case 'fan': {
        const speed = r * (1 - this.slipOf(s));
        load = 0.95 * Math.max(0.05, p) * speed ** 3;
        break;
      }
      case 'conveyor':
        load = 0.05 + 0.9 * p;
        break;
      case 'pump':
        load = r ** 3 * (0.4 + 0.6 * this.pumpFlow(r, s));
        break;
      case 'compressor':
        load = this.loaded ? COMPRESSOR.loadedLoad : COMPRESSOR.unloadedLoad;
        break;
      default:
        load = p;
    }
    if (s.overload > 0 && load < OVERLOAD_LOAD) load += (OVERLOAD_LOAD - load) * s.overload;
    return load;
  }

  /** Normalised pump flow q at speed fraction r: the pump curve meets the system curve. */
  private pumpFlow(r: number, s: Record<FaultType, number>): number {
    const valve = Math.min(1, Math.max(0.05, this.process));
    const kFull = this.dp0 * (1 - PUMP.curve) - PUMP.staticBar;
    const k = (kFull / (valve * valve)) * (1 - 0.75 * s.overload);
    const q = Math.sqrt(Math.max(0, this.dp0 * r * r - PUMP.staticBar) / (PUMP.curve * this.dp0 + k));
    return q * (1 - 0.3 * s.cavitation);
  }

  private compute(t: number, loadAtRated: number): MachineState {
    const np = this.asset.nameplate;
    const prof = this.profile;
    const s = this.severities();
    const r = this.speed;
    const phase = this.phase;
    const load = phase === 'off' ? 0 : loadAtRated;
    const m = prof.noLoadCurrent;
    let currentFrac = 0;
    let powerFrac = 0;
    if (phase === 'starting') {
      const e = (t - this.startedAt) / 1000;
      currentFrac = prof.inrush * this.kInrush * (1 - (0.12 * e) / prof.startS);
      powerFrac = 1.5;
    } else if (phase === 'running') {
      currentFrac = m + (1 - m) * load;
      powerFrac = (0.04 + 0.96 * load) / 0.92;
    }
    const [, bc, cd] = this.zone;
    const loadFactor = 0.85 + 0.3 * Math.min(load, 1.2);
    const r2 = r * r;
    const oneX = (HEALTHY_VIBRATION.oneX * bc * this.k1 + (FAULT_VIBRATION.imbalanceOneX * s.imbalance + FAULT_VIBRATION.misalignmentOneX * s.misalignment + FAULT_VIBRATION.beltOneX * s.belt_slip) * cd) * r2;
    const twoX = (HEALTHY_VIBRATION.twoX * bc * this.k2 + FAULT_VIBRATION.misalignmentTwoX * s.misalignment * cd) * r2;
    const broadband = (HEALTHY_VIBRATION.broadband * bc * this.kb * loadFactor + (FAULT_VIBRATION.bearingBroadband * s.bearing_wear ** 1.5 + FAULT_VIBRATION.cavitationBroadband * s.cavitation) * cd) * r2;
    const floor = 0.02 * bc;
    const total = Math.sqrt(oneX * oneX + twoX * twoX + broadband * broadband + floor * floor);
    const accelMult = (1 + 9 * Math.sqrt(s.bearing_wear)) * (1 + 5 * s.cavitation) * (1 + 1.5 * s.misalignment) * (1 + 0.3 * s.imbalance);
    const accelerationRms = prof.accel * this.ka * r2 * (0.8 + 0.3 * Math.min(load, 1.2)) * accelMult + 0.05;

    const state: MachineState = {
      assetId: this.id,
      ts: t,
      phase,
      tripped: t < this.trippedUntil,
      speed: r,
      load,
      demand: this.process,
      currentA: currentFrac * np.ratedCurrentA,
      powerKW: powerFrac * np.ratedPowerKW,
      voltageV: np.ratedVoltageV * (1 - (phase === 'starting' ? 0.03 : 0.004 * currentFrac)),
      speedRpm: r * np.ratedSpeedRpm,
      vibration: { oneX, twoX, broadband, total },
      accelerationRms,
      ambient: this.ambientAt(t),
      temperatures: { ...this.temps },
      slip: this.slipOf(s),
      severity: s,
    };
    if (this.asset.assetClass === 'pump') {
      const q = phase === 'off' && r === 0 ? 0 : this.pumpFlow(r, s);
      const dp = r > 0 ? Math.max(0, this.dp0 * r * r - PUMP.curve * this.dp0 * q * q) * (1 - 0.25 * s.cavitation) : 0;
      const suction = PUMP.suctionBar + 0.1 * Math.sin((2 * Math.PI * (t - this.start)) / (6 * HOUR_MS)) - 0.75 * s.cavitation - 0.05 * q * q;
      state.pump = { flow: q * this.ratedFlow, suction, discharge: suction + dp };
    }
    if (this.asset.assetClass === 'compressor') {
      state.compressor = { pressure: this.pressure, loaded: this.loaded && phase !== 'off', standby: this.standby };
    }
    return state;
  }

  private steadyTemperatures(st: MachineState, s: Record<FaultType, number>): Record<ThermalNode, number> {
    const prof = this.profile;
    const amb = st.ambient;
    const m = prof.noLoadCurrent;
    // Copper losses go with the running current squared; a start is too short to count.
    const cRun = st.phase === 'off' ? 0 : m + (1 - m) * st.load;
    const r = st.speed;
    const rise = (node: ThermalNode) => prof.rise[node] ?? 0;
    return {
      winding: amb + rise('winding') * cRun * cRun,
      bearing: amb + rise('bearing') * r * (0.6 + 0.4 * Math.min(st.load, 1.3)) + 35 * s.bearing_wear ** 2 + 15 * s.misalignment,
      oil: amb + rise('oil') * r * (0.4 + 0.6 * st.load),
      discharge: st.phase === 'off' ? amb : amb + rise('discharge') * r * (st.compressor?.loaded ? 1 : 0.75),
    };
  }

  // ---- sensors -------------------------------------------------------------------------------

  /** The noise-free value of a signal now. */
  private trueValue(signal: string): number {
    const st = this.state;
    const cls = this.asset.assetClass;
    const fanFilter = () => 0.0005 + 0.006 * (Math.max(0.05, st.demand) * st.speed) ** 2;
    const days = (st.ts - this.start) / (24 * HOUR_MS);
    switch (signal) {
      case 'vibration_velocity':
        return st.vibration.total;
      case 'vibration_acceleration':
        return st.accelerationRms;
      case 'bearing_temperature':
        return st.temperatures.bearing;
      case 'winding_temperature':
        return st.temperatures.winding;
      case 'oil_temperature':
        return st.temperatures.oil;
      case 'discharge_temperature':
        return st.temperatures.discharge;
      case 'ambient_temperature':
        return st.ambient;
      case 'current':
        return st.currentA;
      case 'voltage':
        return st.voltageV;
      case 'speed':
        return st.speedRpm;
      case 'belt_speed':
        return st.speedRpm * (1 - st.slip);
      case 'power':
        return st.powerKW;
      case 'suction_pressure':
        return st.pump?.suction ?? 0;
      case 'discharge_pressure':
        return cls === 'compressor' ? this.pressure : (st.pump?.discharge ?? 0);
      case 'flow':
        return st.pump?.flow ?? 0;
      case 'filter_differential_pressure':
        if (cls === 'fan') return fanFilter() + 0.0002 * days;
        return st.phase === 'off' ? 0.0005 : 0.02 + 0.015 * (st.compressor?.loaded ? 1 : 0.3) * st.speed ** 2 + 0.0005 * days;
      default:
        return 0;
    }
  }

  /** The value a sensor reports: true value plus its noise (exactly one normal draw). */
  private measured(signal: string): number {
    const v = this.trueValue(signal);
    const n = this.noise.normal();
    const st = this.state;
    const np = this.asset.nameplate;
    const off = st.phase === 'off';
    switch (signal) {
      case 'vibration_velocity':
        return v * (1 + 0.04 * n);
      case 'vibration_acceleration':
        return v * (1 + 0.05 * n);
      case 'ambient_temperature':
        return v + 0.1 * n;
      case 'bearing_temperature':
      case 'winding_temperature':
      case 'oil_temperature':
      case 'discharge_temperature':
        return v + 0.08 * n;
      case 'current':
        return off ? Math.abs(0.002 * np.ratedCurrentA * n) : v * (1 + 0.008 * n);
      case 'power':
        return off ? Math.abs(0.002 * np.ratedPowerKW * n) : v * (1 + 0.01 * n);
      case 'voltage':
        return v * (1 + 0.003 * n);
      case 'speed':
      case 'belt_speed':
        return v < 0.5 ? Math.abs(0.15 * n) : v * (1 + 0.0004 * n);
      case 'flow':
        return v < 0.5 ? Math.abs(0.1 * n) : v * (1 + 0.01 * n);
      case 'discharge_pressure':
        return v + (0.01 + 0.35 * st.severity.cavitation) * n;
      case 'suction_pressure':
        return v + 0.01 * n;
      case 'filter_differential_pressure':
        return v * (1 + 0.02 * n);
      default:
        return v;
    }
  }

  /** Readings due at t (its signals whose interval divides t − start), after sensor faults. */
  sample(t: number, out: Reading[]): void {
    const since = t - this.start;
    for (const signal of this.asset.signals) {
      if (since % this.intervals[signal] !== 0) continue;
      let value = this.measured(signal);
      let lost = false;
      for (const f of this.faults) {
        const tr = f.truth;
        if (tr.phase !== 'active') continue;
        if (tr.signal !== undefined && tr.signal !== signal) continue;
        if (tr.fault === 'sensor_drift') value += f.amount * tr.severity;
        else if (tr.fault === 'stuck_sensor') {
          if (f.stuckValue === undefined) f.stuckValue = round(value, this.decimals[signal]);
          value = f.stuckValue;
        } else if (tr.fault === 'dropout') {
          const rate = f.config.rate ?? 1;
          if (rate >= 1 || this.sensorRng.next() < rate) lost = true;
        }
      }
      if (lost) continue;
      if (MAGNITUDES.has(signal) && value < 0) value = -value;
      value = round(value, this.decimals[signal]);
      this.latestValues.set(signal, { value, ts: t });
      out.push({ assetId: this.id, signal, value, unit: this.units[signal], ts: t, quality: 'good' });
    }
  }

  /** Readings per simulated second this machine's sensors produce. */
  readingRate(): number {
    return this.asset.signals.reduce((sum, signal) => sum + 1000 / this.intervals[signal], 0);
  }

  /** The last value each signal reported (what a PLC register or an OPC UA item would hold). */
  latest(): Map<string, { value: number; ts: number }> {
    return this.latestValues;
  }

  /** True while a dropout without a signal (a gateway or PLC outage) is active. */
  offline(): boolean {
    return this.faults.some((f) => f.truth.phase === 'active' && f.truth.fault === 'dropout' && f.truth.signal === undefined && (f.config.rate ?? 1) >= 1);
  }

  snapshot(): MachineState {
    return structuredClone(this.state);
  }

  get time(): number {
    return this.now;
  }
}

function publish(t: TruthFault): TruthFault {
  const out: TruthFault = { ...t, severity: Math.round(t.severity * 10_000) / 10_000 };
  return out;
}
