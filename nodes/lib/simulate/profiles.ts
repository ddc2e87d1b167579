/**
 * The physics of each asset class, as the simulator models it: default nameplates, how the
 * process loads the machine, starting and coasting, heating, healthy vibration and the hydraulics
 * of pumps and compressors. Numbers are typical of mid-size plant machines; the comments say where
 * each comes from or why it was chosen.
 *
 * Healthy vibration is set from the class's ISO preset (classes.ts presets.vibration), so a
 * healthy simulated machine always lies in zone A or B of the zones the rest of the pipeline uses.
 */
import type { AssetClassId, Nameplate } from '../assets/types';

/** Thermal nodes with first-order dynamics: dT/dt = (T∞ − T) / τ. */
export type ThermalNode = 'winding' | 'bearing' | 'oil' | 'discharge';

export interface ClassProfile {
  /** Nameplate used where the asset gives none (current is derived from power if only power is given). */
  nameplate: Required<Nameplate>;
  /**
   * No-load (magnetising) current as a fraction of rated: running current fraction
   * c = noLoadCurrent + (1 − noLoadCurrent) × load. 0.3 is typical of 4-pole induction motors.
   */
  noLoadCurrent: number;
  /** Process demand range while running (see PROCESS below for what it means per class). */
  demand: [number, number];
  /** Mean simulated time between process demand changes (s). */
  demandChangeS: number;
  /** Run-up time of a direct-on-line start (s): inrush lasts this long. */
  startS: number;
  /** Inrush (locked-rotor) current as a multiple of rated current during run-up. */
  inrush: number;
  /** Coast-down time constant after a stop (s): high-inertia fans coast for a minute. */
  coastS: number;
  /** Thermal time constants (s) of the nodes this class has. */
  tau: Partial<Record<ThermalNode, number>>;
  /** Steady-state rise over ambient (°C) at rated speed and load. */
  rise: Partial<Record<ThermalNode, number>>;
  /** Ambient temperature around the machine, daily mean (°C). */
  ambient: number;
  /** Healthy acceleration RMS at rated speed (m/s²); gearboxes carry gear-mesh energy. */
  accel: number;
  /** Random stops while demanded (none when 0): mean time between stops and stop length (s). */
  stops?: { everyS: number; forS: [number, number] };
}

const MIN = 60;
const HOUR = 3600;

/**
 * What "demand" means per class: the load of a motor, gearbox or fan (fan: damper opening), the
 * material on a conveyor belt (0 = running empty), the discharge valve opening of a pump, the air
 * consumption of a compressor's network as a fraction of its capacity.
 */
export const PROCESS: Readonly<Record<AssetClassId, string>> = Object.freeze({
  motor: 'mechanical load as a fraction of rated power',
  pump: 'discharge valve opening (0–1); flow and head follow the pump curve',
  compressor: 'air consumption as a fraction of the compressor capacity',
  fan: 'damper opening (0–1); load follows the fan laws',
  conveyor: 'material on the belt (0 = running empty)',
  gearbox: 'output load as a fraction of rated power',
});

export const PROFILES: Readonly<Record<AssetClassId, ClassProfile>> = Object.freeze({
  motor: {
    nameplate: { ratedPowerKW: 30, ratedCurrentA: 55, ratedSpeedRpm: 1480, ratedVoltageV: 400 },
    noLoadCurrent: 0.3,
    demand: [0.55, 0.9],
    demandChangeS: 90 * MIN,
    startS: 2,
    inrush: 6,
    coastS: 4,
    // Class F winding at rated load runs ≈ 70 K over ambient (NEMA rise at SF 1.0 is 105 K: margin).
    tau: { winding: 20 * MIN, bearing: 40 * MIN },
    rise: { winding: 70, bearing: 30 },
    ambient: 24,
    accel: 3,
    stops: { everyS: 8 * HOUR, forS: [3 * MIN, 12 * MIN] },
  },
  pump: {
    nameplate: { ratedPowerKW: 22, ratedCurrentA: 40, ratedSpeedRpm: 2950, ratedVoltageV: 400 },
    noLoadCurrent: 0.3,
    demand: [0.6, 1],
    demandChangeS: 60 * MIN,
    startS: 2,
    inrush: 6,
    coastS: 3,
    tau: { winding: 15 * MIN, bearing: 35 * MIN },
    rise: { winding: 65, bearing: 28 },
    ambient: 20,
    accel: 4,
  },
  compressor: {
    nameplate: { ratedPowerKW: 37, ratedCurrentA: 68, ratedSpeedRpm: 2960, ratedVoltageV: 400 },
    // Unloaded, a screw compressor draws 35–45 % of full-load current (classes.ts idleBelow 0.45).
    noLoadCurrent: 0.3,
    demand: [0.3, 0.75],
    demandChangeS: 75 * MIN,
    startS: 3,
    inrush: 6,
    coastS: 5,
    // Air/oil leaving the element heats within minutes; the trip is at 110–120 °C.
    tau: { winding: 20 * MIN, bearing: 40 * MIN, discharge: 3 * MIN },
    rise: { winding: 70, bearing: 35, discharge: 58 },
    ambient: 27,
    accel: 6,
  },
  fan: {
    nameplate: { ratedPowerKW: 7.5, ratedCurrentA: 14.5, ratedSpeedRpm: 1460, ratedVoltageV: 400 },
    noLoadCurrent: 0.3,
    demand: [0.7, 1],
    demandChangeS: 120 * MIN,
    startS: 3,
    inrush: 6,
    coastS: 20,
    tau: { winding: 20 * MIN, bearing: 45 * MIN },
    rise: { winding: 60, bearing: 22 },
    ambient: 22,
    accel: 2.5,
  },
  conveyor: {
    // Speed is the drive pulley speed after the gear motor (classes.ts), not the motor shaft.
    nameplate: { ratedPowerKW: 11, ratedCurrentA: 21, ratedSpeedRpm: 120, ratedVoltageV: 400 },
    noLoadCurrent: 0.3,
    demand: [0.35, 0.95],
    demandChangeS: 30 * MIN,
    startS: 3,
    inrush: 6,
    coastS: 2,
    tau: { winding: 20 * MIN, bearing: 40 * MIN },
    rise: { winding: 60, bearing: 20 },
    ambient: 18,
    accel: 3,
    // Jams, empty chutes, operators: conveyors stop several times a day.
    stops: { everyS: 3 * HOUR, forS: [4 * MIN, 20 * MIN] },
  },
  gearbox: {
    nameplate: { ratedPowerKW: 45, ratedCurrentA: 82, ratedSpeedRpm: 1485, ratedVoltageV: 400 },
    noLoadCurrent: 0.3,
    demand: [0.5, 0.85],
    demandChangeS: 90 * MIN,
    startS: 2,
    inrush: 6,
    coastS: 6,
    // Mineral gear oil settles about an hour after a load change.
    tau: { winding: 20 * MIN, bearing: 40 * MIN, oil: 60 * MIN },
    rise: { winding: 70, bearing: 30, oil: 42 },
    ambient: 22,
    accel: 8,
    stops: { everyS: 10 * HOUR, forS: [3 * MIN, 10 * MIN] },
  },
} satisfies Record<AssetClassId, ClassProfile>);

/**
 * Healthy velocity components at rated speed, as fractions of the preset's B/C boundary:
 * 1× (residual unbalance), 2× (residual misalignment) and broadband (bearings, flow, mesh).
 * Together ≈ 0.44 × B/C: zone A or low B, as a sound machine should be.
 */
export const HEALTHY_VIBRATION = Object.freeze({ oneX: 0.33, twoX: 0.15, broadband: 0.2 });

/**
 * Vibration added at full fault severity, as fractions of the preset's C/D boundary (so a
 * progressive mechanical fault ends in zone D, or C for cavitation).
 */
export const FAULT_VIBRATION = Object.freeze({
  imbalanceOneX: 1.15,
  misalignmentTwoX: 0.95,
  misalignmentOneX: 0.25,
  bearingBroadband: 1.2,
  cavitationBroadband: 0.8,
  beltOneX: 0.15,
});

/** Line current of a three-phase motor from its power: P / (√3 · V · cos φ · η), cos φ 0.85, η 0.92. */
export function currentFromPower(powerKW: number, voltageV: number): number {
  return (powerKW * 1000) / (Math.sqrt(3) * voltageV * 0.85 * 0.92);
}

/** The nameplate the simulator runs with: the asset's values, gaps filled from the class. */
export function fullNameplate(cls: AssetClassId, given: Nameplate | undefined): Required<Nameplate> {
  const d = PROFILES[cls].nameplate;
  const ratedVoltageV = given?.ratedVoltageV ?? d.ratedVoltageV;
  const ratedPowerKW = given?.ratedPowerKW ?? d.ratedPowerKW;
  const ratedCurrentA =
    given?.ratedCurrentA ??
    (given?.ratedPowerKW !== undefined || given?.ratedVoltageV !== undefined
      ? Math.round(currentFromPower(ratedPowerKW, ratedVoltageV) * 10) / 10
      : d.ratedCurrentA);
  return { ratedPowerKW, ratedCurrentA, ratedSpeedRpm: given?.ratedSpeedRpm ?? d.ratedSpeedRpm, ratedVoltageV };
}

/** Pump hydraulics at rated speed (bar, normalised flow q = Q / Q_rated). */
export const PUMP = Object.freeze({
  /** Shut-off pressure rise (bar). */
  shutoffBar: 6,
  /** Head drop coefficient: Δp = Δp0 · (s² − a · q²). */
  curve: 0.4,
  /** Static pressure the pump must overcome (bar). */
  staticBar: 1.2,
  /** Suction pressure from the tank level (bar g). */
  suctionBar: 0.8,
  /** Pump efficiency at the best-efficiency point, for the rated flow. */
  efficiency: 0.7,
});

/** Receiver pressure band of a load/unload compressor (bar g) and its pressure rate at full capacity (bar/s). */
export const COMPRESSOR = Object.freeze({ unloadAt: 7.5, loadAt: 6.5, restartAt: 6.3, ratePerS: 0.01, unloadedLoad: 0.12, loadedLoad: 0.95, autoStopS: 10 * MIN });

/** Rated flow of a pump (m³/h) from its power: Q = P·η / Δp at the rated point. */
export function pumpRatedFlow(powerKW: number): number {
  const dpRated = PUMP.shutoffBar * (1 - PUMP.curve) * 1e5; // Pa
  return Math.round(((powerKW * 1000 * PUMP.efficiency) / dpRated) * 3600);
}
