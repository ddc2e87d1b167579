/**
 * The six built-in asset classes: which signals each kind of machine reports (canonical units,
 * plausible ranges, typical intervals), how it fails and what a technician should check, its
 * standard presets (shared/reference/domain.md §2.2, §2.3) and its operating-state thresholds.
 *
 * Everything here is frozen: assets share these objects, and `resolveAsset` copies what it merges.
 *
 * Class-specific signals that are not in signals.ts SIGNALS (discharge_temperature, oil_temperature,
 * belt_speed, filter_differential_pressure) are named after what they measure with a suffix that
 * says the quantity, so the unit of a reading decides its conversion in pdm-normalise.
 */
import type { AssetClass, AssetClassId, ClassPresets, FailureMode, SignalSpec, VibrationPreset } from './types';
import type { ZonePresetId } from '../retrofit/zones';
import type { Quantity } from '../units';

export const ASSET_CLASS_IDS: readonly AssetClassId[] = Object.freeze(['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox']);

export function isAssetClassId(id: unknown): id is AssetClassId {
  return typeof id === 'string' && (ASSET_CLASS_IDS as readonly string[]).includes(id);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const spec = (signal: string, unit: string, range: [number, number], intervalMs: number, description: string): SignalSpec => ({
  signal,
  unit,
  range,
  intervalMs,
  description,
});

/** Same signal, another description or range for one class. */
const variant = (base: SignalSpec, changes: Partial<Omit<SignalSpec, 'signal' | 'unit'>>): SignalSpec => ({
  ...base,
  ...changes,
  range: [...(changes.range ?? base.range)] as [number, number],
});

// Intervals are what a budget retrofit typically delivers: current and speed every second (the
// operating state is read from them), vibration every 10 s (wired sensors; wireless ones report
// less often — raise intervalMs per asset), temperatures once a minute (they move slowly).
const VIBRATION_VELOCITY = spec('vibration_velocity', 'mm/s', [0, 50], 10 * SECOND,
  'Vibration velocity RMS, broadband ≈10–1000 Hz, on a bearing housing: the value ISO 10816 zones are read from');
const VIBRATION_ACCELERATION = spec('vibration_acceleration', 'm/s²', [0, 500], 10 * SECOND,
  'Vibration acceleration RMS on a bearing housing: rises early with bearing and gear damage');
const BEARING_TEMPERATURE = spec('bearing_temperature', '°C', [-20, 150], MINUTE, 'Bearing housing temperature');
const WINDING_TEMPERATURE = spec('winding_temperature', '°C', [-20, 200], MINUTE,
  'Stator winding temperature (RTD or thermistor in the winding); compare with the insulation class limit');
const AMBIENT_TEMPERATURE = spec('ambient_temperature', '°C', [-40, 60], 5 * MINUTE,
  'Air temperature around the machine; winding rise = winding − ambient');
const CURRENT = spec('current', 'A', [0, 5000], SECOND,
  'Motor current RMS; the operating state is read from it against the rated current');
const VOLTAGE = spec('voltage', 'V', [0, 12000], 5 * SECOND, 'Supply voltage at the motor terminals (line to line)');
const SPEED = spec('speed', 'rpm', [0, 6000], SECOND, 'Shaft speed');
const POWER = spec('power', 'kW', [0, 5000], 5 * SECOND, 'Electrical input power of the drive');
const FILTER_DP = spec('filter_differential_pressure', 'bar', [0, 1], MINUTE,
  'Pressure drop across the intake filter; rises as the filter clogs');

const BEARING_WEAR: FailureMode = {
  id: 'bearing_wear',
  name: 'Bearing wear',
  signals: ['vibration_acceleration', 'vibration_velocity', 'bearing_temperature'],
  check:
    'Check the bearing temperature with a hand-held IR thermometer, listen to each bearing with a stethoscope for grinding or clicking, ' +
    'check the grease level and last relubrication date, and schedule a vibration spectrum to look for peaks at the bearing defect frequencies (BPFO/BPFI).',
};

const IMBALANCE: FailureMode = {
  id: 'imbalance',
  name: 'Imbalance',
  signals: ['vibration_velocity', 'speed'],
  check:
    'Look for a high radial vibration peak at 1× running speed; at the next stop inspect the rotating parts for dirt build-up, ' +
    'wear, damage or a lost balance weight, clean them, and arrange field balancing if the 1× vibration stays high.',
};

const MISALIGNMENT: FailureMode = {
  id: 'misalignment',
  name: 'Shaft misalignment',
  signals: ['vibration_velocity', 'vibration_acceleration', 'bearing_temperature'],
  check:
    'Look for high axial vibration at 1× and 2× running speed, check the coupling for wear, heat and cracked elements, ' +
    'and re-check the shaft alignment with a laser alignment tool, especially after any recent work on the machine or its driver.',
};

const LOOSENESS: FailureMode = {
  id: 'looseness',
  name: 'Mechanical looseness',
  signals: ['vibration_velocity'],
  check:
    'Check the hold-down bolts, base frame and grouting for loose bolts or cracks, check for soft foot (loosen one foot bolt at a time with a dial gauge on the foot), ' +
    'and tighten every bolt to the specified torque.',
};

const modes = (...list: FailureMode[]): FailureMode[] => list.map((m) => ({ ...m, signals: [...m.signals] }));

/** Default presets: NEMA class F is the usual insulation of industrial motors; 5 % current unbalance is NEMA's "do not run above". */
const presets = (vibration: VibrationPreset): ClassPresets => ({ vibration, insulationClass: 'F', currentUnbalanceLimitPct: 5 });

const CLASSES: Record<AssetClassId, AssetClass> = {
  motor: {
    id: 'motor',
    name: 'Electric motor',
    signals: [VIBRATION_VELOCITY, VIBRATION_ACCELERATION, BEARING_TEMPERATURE, WINDING_TEMPERATURE, AMBIENT_TEMPERATURE, CURRENT, VOLTAGE, SPEED, POWER],
    failureModes: modes(
      BEARING_WEAR,
      IMBALANCE,
      MISALIGNMENT,
      LOOSENESS,
      {
        id: 'overload',
        name: 'Overload',
        signals: ['current', 'power', 'winding_temperature'],
        check:
          'Compare the running current with the nameplate rated current, ask operations whether the load or product has changed, ' +
          'and check the driven machine for binding, jammed product or a dragging brake.',
      },
      {
        id: 'overheating',
        name: 'Overheating',
        signals: ['winding_temperature', 'bearing_temperature', 'ambient_temperature', 'current'],
        check:
          'Check that the cooling fan and fan cowl are intact, clean dust off the cooling fins and air intake, make sure the room or cabinet is not too hot, ' +
          'and compare the winding temperature with the limit of its insulation class.',
      },
      {
        id: 'insulation_ageing',
        name: 'Winding insulation ageing',
        signals: ['winding_temperature', 'ambient_temperature', 'current'],
        check:
          'Schedule an insulation resistance test (megger and polarisation index) at the next stop, and review how long the winding ran above its class temperature: ' +
          'every 10 °C over roughly halves insulation life.',
      },
      {
        id: 'phase_unbalance',
        name: 'Phase unbalance or single phasing',
        signals: ['current', 'voltage', 'winding_temperature'],
        check:
          'Measure all three phase currents and voltages at the motor terminals with a clamp meter; if the current unbalance (largest deviation from the average ÷ average) ' +
          'is above the limit (5 % by default), look for loose or burnt terminals, a blown fuse or worn contactor pole, and unbalanced supply voltage.',
      },
    ),
    // ISO 10816-3 group 2 (15–300 kW) on a rigid foundation covers most plant motors; use group 1
    // above 300 kW, "flexible" on isolators, and ISO 10816-1 class I for small motors ≤ 15 kW.
    presets: presets({ standard: 'ISO 10816-3', group: 2, foundation: 'rigid' }),
    // 1.15: the usual NEMA service factor; above it the winding runs hotter than its class allows.
    // 10 s covers a direct-on-line or star-delta start of a mid-size motor.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.15, startupMs: 10 * SECOND, shutdownMs: 5 * SECOND, speedRunningAbove: 0.1 },
  },

  pump: {
    id: 'pump',
    name: 'Centrifugal pump',
    signals: [
      VIBRATION_VELOCITY,
      VIBRATION_ACCELERATION,
      BEARING_TEMPERATURE,
      CURRENT,
      SPEED,
      POWER,
      spec('suction_pressure', 'bar', [-1, 40], SECOND, 'Pressure at the pump inlet, bar(g); falls towards vapour pressure before cavitation'),
      spec('discharge_pressure', 'bar', [0, 100], SECOND, 'Pressure at the pump outlet, bar(g)'),
      spec('flow', 'm³/h', [0, 5000], 5 * SECOND, 'Delivered flow'),
    ],
    failureModes: modes(
      BEARING_WEAR,
      {
        ...IMBALANCE,
        signals: ['vibration_velocity', 'speed', 'flow'],
        check:
          'Look for a high radial vibration peak at 1× running speed; at the next stop inspect the impeller for clogging, wear or broken vanes, ' +
          'clean or replace it, and have it balanced if the 1× vibration stays high.',
      },
      MISALIGNMENT,
      LOOSENESS,
      {
        id: 'cavitation',
        name: 'Cavitation',
        signals: ['suction_pressure', 'vibration_acceleration', 'flow', 'discharge_pressure'],
        check:
          'Listen at the pump casing for a gravel-like crackling noise, check that the suction valve is fully open, the suction strainer is clean and the tank level is normal, ' +
          'and compare the suction pressure with the NPSH the pump needs; throttle the discharge if the pump runs far right of its best-efficiency point.',
      },
      {
        id: 'seal_leak',
        name: 'Mechanical seal or packing leak',
        signals: ['discharge_pressure', 'flow', 'bearing_temperature'],
        check:
          'Inspect the mechanical seal or gland for drips, spray or crystal deposits and check the seal flush line; plan a seal replacement if it leaks more than a few drops a minute ' +
          '(gland packing should drip slowly — never tighten it to zero leakage).',
      },
      {
        id: 'impeller_wear',
        name: 'Impeller or wear-ring wear',
        signals: ['flow', 'discharge_pressure', 'power', 'current'],
        check:
          'Compare flow and discharge pressure with the pump curve at the same speed; if both are low while power is normal, plan to inspect the impeller and wear-ring clearances.',
      },
      {
        id: 'dry_running',
        name: 'Dry running or blocked suction',
        signals: ['flow', 'current', 'power', 'suction_pressure'],
        check:
          'Check that the suction tank is not empty and the suction valves and strainer are open and clean; stop the pump if flow and current drop together, ' +
          'because a pump running dry destroys its seal within minutes.',
      },
      {
        id: 'overload',
        name: 'Overload (running out on the curve)',
        signals: ['current', 'power', 'flow', 'discharge_pressure'],
        check:
          'Check whether the pump runs far out on its curve (discharge valve wide open, a burst or leaking pipe downstream, low system pressure) ' +
          'and whether the liquid is denser or more viscous than designed.',
      },
    ),
    // Mid-size process pumps (15–300 kW) on a rigid baseplate: ISO 10816-3 group 2, rigid.
    // (ISO 10816-7 has pump-specific limits; it is not in our tables.)
    presets: presets({ standard: 'ISO 10816-3', group: 2, foundation: 'rigid' }),
    // 1.10: pump motors are sized with margin and normally run at 70–90 % of rated current, so
    // 110 % already means the pump runs off its curve. Low-inertia rotor: starts in about 5 s.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.1, startupMs: 8 * SECOND, shutdownMs: 5 * SECOND, speedRunningAbove: 0.1 },
    // A flooded suction normally sits above atmospheric pressure: at 0 bar(g) the pump starts to
    // starve (strainer, valve, tank level); at −0.5 bar(g) (0.5 bar absolute) most water pumps are
    // near their NPSH required. Suction-lift pumps run below 0 bar(g): give them their own limits.
    lowLimits: { suction_pressure: { warningLow: 0, actionLow: -0.5 } },
  },

  compressor: {
    id: 'compressor',
    name: 'Air compressor (screw or piston)',
    signals: [
      VIBRATION_VELOCITY,
      VIBRATION_ACCELERATION,
      BEARING_TEMPERATURE,
      CURRENT,
      SPEED,
      POWER,
      spec('discharge_pressure', 'bar', [0, 50], SECOND, 'Compressed-air pressure at the package outlet, bar(g)'),
      spec('discharge_temperature', '°C', [-20, 250], 10 * SECOND,
        'Air (or air/oil) temperature leaving the compression element; screw compressors usually trip at 110–120 °C'),
      FILTER_DP,
    ],
    failureModes: modes(
      BEARING_WEAR,
      {
        id: 'valve_wear',
        name: 'Valve wear or leakage',
        signals: ['discharge_temperature', 'discharge_pressure', 'power', 'vibration_acceleration'],
        check:
          'Time how long the receiver takes to build pressure and compare it with the commissioning value; on a piston compressor IR-scan the valve covers (a leaking valve runs hotter than the others), ' +
          'on a screw compressor check the inlet and minimum-pressure valves, and plan to replace worn valve plates, springs or seats.',
      },
      {
        id: 'blocked_filter',
        name: 'Blocked intake filter',
        signals: ['filter_differential_pressure', 'current', 'discharge_temperature', 'power'],
        check:
          'Read the intake filter differential pressure or service indicator, replace the filter element if it is above the maker\'s limit, and look for dust sources near the air intake.',
      },
      {
        id: 'overheating',
        name: 'Overheating (cooler fouling, low oil)',
        signals: ['discharge_temperature', 'bearing_temperature', 'current'],
        check:
          'Check the oil level, blow the oil and air coolers clean from the fan side, check that the cooling fan runs and the compressor room is ventilated, and check the thermostatic valve.',
      },
      MISALIGNMENT,
      {
        ...LOOSENESS,
        check:
          'Check the mounting feet, anti-vibration mounts and pipe supports for loose bolts, perished rubber or cracks, and tighten every bolt to the specified torque.',
      },
      {
        id: 'overload',
        name: 'Overload',
        signals: ['current', 'power', 'discharge_pressure'],
        check:
          'Check that nobody has raised the discharge pressure set point, and check the oil separator differential pressure — a blocked separator makes the motor work harder.',
      },
      {
        id: 'air_leaks',
        name: 'Air leaks in the network',
        signals: ['power', 'current', 'discharge_pressure'],
        check:
          'Watch how often the compressor loads while production is stopped; if it still loads regularly, walk the air network with an ultrasonic leak detector and tag the leaks for repair.',
      },
    ),
    // Packaged compressors usually stand on anti-vibration mounts: ISO 10816-3 group 2, flexible.
    // Reciprocating compressors are outside 10816-3 (ISO 10816-8 applies): give custom limits.
    presets: presets({ standard: 'ISO 10816-3', group: 2, foundation: 'flexible' }),
    // idle 0.45: a screw compressor running unloaded draws roughly 35–45 % of full-load current,
    // so "idle" here means running unloaded. overload 1.10: loaded compressors already run at
    // 90–100 % of rated current. startup 20 s: star-delta start plus the delay before loading.
    // shutdown 30 s: compressors run on unloaded and blow down before they stop.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.45, overloadAbove: 1.1, startupMs: 20 * SECOND, shutdownMs: 30 * SECOND, speedRunningAbove: 0.1 },
  },

  fan: {
    id: 'fan',
    name: 'Fan or blower',
    signals: [
      VIBRATION_VELOCITY,
      VIBRATION_ACCELERATION,
      BEARING_TEMPERATURE,
      CURRENT,
      variant(SPEED, { description: 'Fan shaft speed (on belt drives: the fan side, not the motor)' }),
      POWER,
      variant(FILTER_DP, { range: [0, 0.2], description: 'Pressure drop across the filter bank (1 mbar = 100 Pa); rises as the filters clog' }),
    ],
    failureModes: modes(
      {
        ...IMBALANCE,
        check:
          'Dust or product build-up on the impeller is the most common cause: lock the fan out, clean the blades and check them for erosion, cracks or a lost balance weight; ' +
          'balance in place if the 1× vibration stays high.',
      },
      BEARING_WEAR,
      {
        ...MISALIGNMENT,
        check:
          'Check the shaft or pulley alignment with a straight edge or laser tool, check the coupling or belt for uneven wear, and look for high axial vibration at 1× and 2× running speed.',
      },
      LOOSENESS,
      {
        id: 'belt_slip',
        name: 'Belt slip (belt drives)',
        signals: ['speed', 'current', 'power', 'vibration_velocity'],
        check:
          'Compare the fan speed with the speed expected from the pulley ratio; look for glazed or cracked belts and black belt dust in the guard, ' +
          'set the tension with a belt tension gauge, and replace the belts as a matched set.',
      },
      {
        id: 'blocked_filter',
        name: 'Blocked filter or closed damper',
        signals: ['filter_differential_pressure', 'current', 'power'],
        check:
          'Read the filter differential pressure, clean or replace the filters if it is above the maker\'s final pressure drop, and check that the dampers are open — ' +
          'a centrifugal fan draws less current when its airflow is choked.',
      },
      {
        id: 'overload',
        name: 'Overload',
        signals: ['current', 'power'],
        check:
          'Check the damper positions and whether doors or access panels in the duct are open: a centrifugal fan with too little resistance moves more air and overloads its motor.',
      },
      {
        id: 'overheating',
        name: 'Bearing overheating',
        signals: ['bearing_temperature', 'current'],
        check:
          'Check the bearing grease (over-greasing overheats fan bearings as often as too little grease) and make sure hot process air does not reach the bearings.',
      },
    ),
    // Small fans (≤ 15 kW) are the common retrofit case: ISO 10816-1 class I. Use 10816-3 group 2
    // for 15–300 kW fans and "flexible" when the fan sits on isolators.
    presets: presets({ standard: 'ISO 10816-1', machineClass: 'I' }),
    // idle 0.25: a fan's load falls with the cube of speed and with a closed damper, so it can run
    // well below 30 %. startup 30 s: large impellers have high inertia and run up slowly.
    // shutdown 60 s: the impeller coasts down through its resonances long after current stops.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.25, overloadAbove: 1.1, startupMs: 30 * SECOND, shutdownMs: 60 * SECOND, speedRunningAbove: 0.1 },
  },

  conveyor: {
    id: 'conveyor',
    name: 'Belt conveyor',
    signals: [
      VIBRATION_VELOCITY,
      VIBRATION_ACCELERATION,
      BEARING_TEMPERATURE,
      CURRENT,
      variant(SPEED, { range: [0, 3000], description: 'Drive pulley speed (or motor shaft speed before the gearbox)' }),
      // Belt speed is measured as the speed of the tail (non-driven) pulley in rpm: an encoder or
      // proximity switch there turns with the belt, so a difference from the drive pulley speed is
      // slip. Linear belt speed = π × pulley diameter × rpm / 60. rpm is a canonical unit; m/s is
      // not (units.ts would read it as vibration velocity), so retrofit must scale to rpm or Hz.
      spec('belt_speed', 'rpm', [0, 1500], SECOND,
        'Tail (non-driven) pulley speed, which turns with the belt; below the drive pulley speed (same diameter) means the belt slips'),
      POWER,
    ],
    failureModes: modes(
      {
        id: 'belt_slip',
        name: 'Belt slip',
        signals: ['belt_speed', 'speed', 'current'],
        check:
          'Compare the tail pulley speed with the drive pulley speed: more than a few percent difference means slip. Check the belt tension (take-up travel), ' +
          'the lagging on the drive pulley, and water or product on the underside of the belt.',
      },
      {
        ...BEARING_WEAR,
        check:
          'Check the drive, tail and bend pulley bearings with an IR thermometer and a stethoscope, check the grease, and schedule a vibration spectrum at the bearing defect frequencies (BPFO/BPFI).',
      },
      {
        ...MISALIGNMENT,
        signals: ['vibration_velocity', 'vibration_acceleration'],
        check:
          'Check the alignment between motor, gearbox and drive pulley and the coupling for wear, then walk the belt to check its tracking — a belt running off-centre rubs on the structure.',
      },
      LOOSENESS,
      {
        id: 'overload',
        name: 'Overload or jam',
        signals: ['current', 'power', 'belt_speed', 'speed'],
        check:
          'Check for spillage under the belt, a blocked transfer chute or overfeeding at the loading point, and make sure the belt scrapers are not pressed on too hard.',
      },
      {
        id: 'seized_idlers',
        name: 'Seized idlers',
        signals: ['current', 'power'],
        check:
          'Walk the conveyor listening for squealing idlers, look for idlers that do not turn or have flat spots, and replace them — a seized idler wears through the belt and raises drive current.',
      },
      {
        id: 'overheating',
        name: 'Overheating',
        signals: ['bearing_temperature', 'current'],
        check:
          'Check the drive and pulley bearings for heat with an IR thermometer, check their lubrication, and clean off packed product that traps heat around the gear motor.',
      },
    ),
    // Most plant conveyors are driven by small gear motors (≤ 15 kW): ISO 10816-1 class I.
    presets: presets({ standard: 'ISO 10816-1', machineClass: 'I' }),
    // idle 0.40: an empty belt still draws about a third of its loaded current (idler and belt
    // friction), so "idle" means running empty. overload 1.20: lumps and surges cause short peaks;
    // the overload state is meant for a sustained jam or overfeed. startup 15 s: soft starters
    // ramp a loaded belt over 10–20 s. shutdown 10 s: a loaded belt runs on briefly after a stop.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.4, overloadAbove: 1.2, startupMs: 15 * SECOND, shutdownMs: 10 * SECOND, speedRunningAbove: 0.1 },
    // Drive speed well below rated while running: a slipping belt or a stalling drive (an induction
    // motor's own slip is a few percent). belt_speed (tail pulley) has no nameplate rating: give an
    // asset its own warningLow/actionLow for it.
    lowLimits: { speed: { ratedFraction: { warningLow: 0.9, actionLow: 0.8 } } },
  },

  gearbox: {
    id: 'gearbox',
    name: 'Gearbox',
    signals: [
      VIBRATION_VELOCITY,
      VIBRATION_ACCELERATION,
      BEARING_TEMPERATURE,
      spec('oil_temperature', '°C', [-20, 150], MINUTE, 'Oil sump temperature; mineral gear oil ages fast above about 80–90 °C'),
      variant(SPEED, { description: 'Input shaft speed' }),
      variant(CURRENT, { description: 'Current of the drive motor; the operating state is read from it against the rated current' }),
      POWER,
    ],
    failureModes: modes(
      {
        id: 'gear_tooth_wear',
        name: 'Gear tooth wear or damage',
        signals: ['vibration_acceleration', 'vibration_velocity', 'oil_temperature'],
        check:
          'Schedule a vibration spectrum and look at the gear mesh frequency (number of teeth × shaft speed) and its sidebands, take an oil sample for wear-metal analysis, ' +
          'and inspect the teeth through the inspection cover for pitting, scuffing or broken teeth.',
      },
      {
        id: 'lubrication',
        name: 'Poor lubrication',
        signals: ['oil_temperature', 'bearing_temperature', 'vibration_acceleration'],
        check:
          'Check the oil level at the sight glass with the gearbox stopped, look for leaks at the shaft seals and breather, check the oil for water (milky) or darkening, ' +
          'and change it if it is overdue.',
      },
      BEARING_WEAR,
      MISALIGNMENT,
      LOOSENESS,
      {
        id: 'overload',
        name: 'Overload',
        signals: ['current', 'power', 'oil_temperature'],
        check:
          'Compare the drive current with the rated current, ask operations whether the load has changed, and check the driven machine for binding or jams.',
      },
      {
        id: 'overheating',
        name: 'Overheating',
        signals: ['oil_temperature', 'bearing_temperature'],
        check:
          'Clean the gearbox housing and cooling fins, check the oil cooler or cooling fan, and verify the oil grade and level — an overfilled gearbox churns its oil and runs hot.',
      },
    ),
    // Gear units have their own standard (ISO 20816-9, formerly ISO 8579-2), not in our tables;
    // ISO 10816-1 class II (15–75 kW) is the general-purpose fallback. Check against the maker's limits.
    presets: presets({ standard: 'ISO 10816-1', machineClass: 'II' }),
    // The gearbox is judged by its drive motor's current: motor thresholds, with a 10 s shutdown
    // because the gear train and load run on after the motor stops.
    stateThresholds: { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.15, startupMs: 10 * SECOND, shutdownMs: 10 * SECOND, speedRunningAbove: 0.1 },
  },
};

/** The built-in classes, frozen. */
export const ASSET_CLASSES: Readonly<Record<AssetClassId, AssetClass>> = deepFreeze(
  Object.fromEntries(
    Object.entries(CLASSES).map(([id, cls]) => [id, { ...cls, signals: cls.signals.map((s) => variant(s, {})) }]),
  ) as Record<AssetClassId, AssetClass>,
);

export function getAssetClass(id: string): AssetClass | undefined {
  return isAssetClassId(id) ? ASSET_CLASSES[id] : undefined;
}

/** The class's spec for a signal, if the class names it. */
export function classSignal(cls: AssetClass, signal: string): SignalSpec | undefined {
  return cls.signals.find((s) => s.signal === signal);
}

/** Interval for a signal no class names: 10 s, the vibration cadence, neither the fastest nor the slowest. */
export const DEFAULT_INTERVAL_MS = 10 * SECOND;

/**
 * Typical interval of a signal known only by its quantity, so stale detection does not flag a
 * temperature that reports once a minute: the same cadences as the class signals above.
 */
export function defaultIntervalMs(quantity: Quantity): number {
  switch (quantity) {
    case 'temperature':
      return MINUTE;
    case 'current':
    case 'speed':
    case 'pressure':
      return SECOND;
    case 'voltage':
    case 'power':
    case 'flow':
      return 5 * SECOND;
    default:
      return DEFAULT_INTERVAL_MS;
  }
}

/** The pdm retrofit zone preset id (`nodes/lib/retrofit/zones.ts`) of a class's vibration preset. */
export function vibrationPresetId(preset: VibrationPreset): ZonePresetId {
  return preset.standard === 'ISO 10816-1'
    ? `iso10816-1/class-${preset.machineClass}`
    : `iso10816-3/group${preset.group}-${preset.foundation}`;
}

/**
 * NEMA insulation class temperatures (domain.md §2.3, 40 °C ambient): `max` is the class limit,
 * `nominal` = ambient + rise at service factor 1.0, the hottest a winding should run continuously.
 */
export const INSULATION_LIMITS: Readonly<Record<ClassPresets['insulationClass'], { nominal: number; max: number }>> = deepFreeze({
  A: { nominal: 100, max: 105 },
  B: { nominal: 120, max: 130 },
  F: { nominal: 145, max: 155 },
  H: { nominal: 165, max: 180 },
});
