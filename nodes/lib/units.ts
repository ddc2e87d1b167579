/**
 * Canonical units and conversions (DESIGN.md "Contracts").
 * Every quantity has one canonical unit; every accepted unit is a linear map
 * `canonical = value * factor + offset` onto it.
 */

export type Quantity =
  | 'velocity'
  | 'acceleration'
  | 'temperature'
  | 'current'
  | 'voltage'
  | 'pressure'
  | 'flow'
  | 'speed'
  | 'power'
  | 'energy'
  | 'frequency'
  | 'ratio'
  | 'count';

interface UnitDef {
  factor: number;
  offset?: number;
  aliases: string[];
  /** Mega-prefixed units are matched exactly: lower-cased, "mw" could mean mW or MW. */
  exactCase?: boolean;
}

interface QuantityDef {
  canonical: string;
  units: Record<string, UnitDef>;
}

const GRAVITY = 9.80665; // m/s² per g (standard gravity)

export const QUANTITIES: Record<Quantity, QuantityDef> = {
  velocity: {
    canonical: 'mm/s',
    units: {
      'mm/s': { factor: 1, aliases: ['mm/s rms', 'mms'] },
      'in/s': { factor: 25.4, aliases: ['ips', 'in/sec', 'inch/s'] },
      'm/s': { factor: 1000, aliases: [] },
    },
  },
  acceleration: {
    canonical: 'm/s²',
    units: {
      'm/s²': { factor: 1, aliases: ['m/s^2', 'm/s2', 'm s-2'] },
      g: { factor: GRAVITY, aliases: ['gn', 'g0'] },
      'mm/s²': { factor: 0.001, aliases: ['mm/s^2', 'mm/s2'] },
    },
  },
  temperature: {
    canonical: '°C',
    units: {
      '°C': { factor: 1, aliases: ['c', 'degc', 'celsius', 'deg c', '℃'] },
      '°F': { factor: 5 / 9, offset: -32 * (5 / 9), aliases: ['f', 'degf', 'fahrenheit', 'deg f', '℉'] },
      K: { factor: 1, offset: -273.15, aliases: ['kelvin'] },
    },
  },
  current: {
    canonical: 'A',
    units: {
      A: { factor: 1, aliases: ['amp', 'amps', 'ampere'] },
      mA: { factor: 0.001, aliases: ['milliamp'] },
      kA: { factor: 1000, aliases: [] },
    },
  },
  voltage: {
    canonical: 'V',
    units: {
      V: { factor: 1, aliases: ['volt', 'volts', 'vac', 'vdc'] },
      mV: { factor: 0.001, aliases: [] },
      kV: { factor: 1000, aliases: [] },
    },
  },
  pressure: {
    canonical: 'bar',
    units: {
      bar: { factor: 1, aliases: ['barg'] },
      mbar: { factor: 0.001, aliases: [] },
      psi: { factor: 0.0689475729, aliases: ['psig', 'lbf/in2', 'lbf/in²'] },
      Pa: { factor: 1e-5, aliases: [] },
      kPa: { factor: 0.01, aliases: [] },
      MPa: { factor: 10, aliases: [], exactCase: true },
    },
  },
  flow: {
    canonical: 'm³/h',
    units: {
      'm³/h': { factor: 1, aliases: ['m3/h', 'm^3/h', 'cmh'] },
      'l/min': { factor: 0.06, aliases: ['lpm', 'l/m', 'litre/min', 'liter/min'] },
      'l/s': { factor: 3.6, aliases: ['lps'] },
      gpm: { factor: 0.227124707, aliases: ['us gpm', 'usgpm', 'gal/min'] },
    },
  },
  speed: {
    canonical: 'rpm',
    units: {
      rpm: { factor: 1, aliases: ['r/min', '1/min', 'min-1'] },
      // Hz here is shaft rotation frequency: 1 Hz = 60 r/min.
      Hz: { factor: 60, aliases: ['rps', 'r/s'] },
    },
  },
  power: {
    canonical: 'kW',
    units: {
      kW: { factor: 1, aliases: [] },
      W: { factor: 0.001, aliases: ['watt', 'watts'] },
      MW: { factor: 1000, aliases: [], exactCase: true },
      hp: { factor: 0.745699872, aliases: ['bhp'] },
    },
  },
  energy: {
    canonical: 'kWh',
    units: {
      kWh: { factor: 1, aliases: [] },
      Wh: { factor: 0.001, aliases: [] },
      MWh: { factor: 1000, aliases: [], exactCase: true },
    },
  },
  frequency: {
    canonical: 'Hz',
    units: { Hz: { factor: 1, aliases: [] }, kHz: { factor: 1000, aliases: [] } },
  },
  ratio: {
    canonical: '%',
    units: { '%': { factor: 1, aliases: ['percent', 'pct'] } },
  },
  count: {
    canonical: '1',
    units: { '1': { factor: 1, aliases: ['', 'count', 'counts', 'n'] } },
  },
};

export interface ResolvedUnit {
  quantity: Quantity;
  unit: string;
  def: UnitDef;
}

/** Unit spellings → definitions, one per quantity the spelling can mean; exact spellings first, then lower-cased. */
const EXACT_INDEX = new Map<string, ResolvedUnit[]>();
const FOLDED_INDEX = new Map<string, ResolvedUnit[]>();
function indexUnit(index: Map<string, ResolvedUnit[]>, key: string, entry: ResolvedUnit): void {
  const list = index.get(key) ?? [];
  list.push(entry);
  index.set(key, list);
}
for (const [quantity, q] of Object.entries(QUANTITIES) as [Quantity, QuantityDef][]) {
  for (const [unit, def] of Object.entries(q.units)) {
    for (const spelling of [unit, ...def.aliases]) {
      indexUnit(EXACT_INDEX, spelling, { quantity, unit, def });
      if (!def.exactCase) indexUnit(FOLDED_INDEX, spelling.toLowerCase(), { quantity, unit, def });
    }
  }
}

function lookupUnit(unit: string): ResolvedUnit[] | undefined {
  const trimmed = unit.trim();
  return EXACT_INDEX.get(trimmed) ?? FOLDED_INDEX.get(trimmed.toLowerCase());
}

/** Resolves a unit spelling, preferring the quantity the signal expects (Hz is speed for `speed`, frequency otherwise). */
export function resolveUnit(unit: string, expected?: Quantity): ResolvedUnit | undefined {
  const matches = lookupUnit(unit);
  if (!matches) return undefined;
  if (expected) return matches.find((m) => m.quantity === expected);
  // Without an expectation, a unit that names several quantities is read as the non-speed one.
  return matches.find((m) => m.quantity !== 'speed') ?? matches[0];
}

export interface Converted {
  value: number;
  unit: string;
  quantity: Quantity;
}

/** Converts `value` in `unit` to the canonical unit; undefined when the unit is unknown or belongs to another quantity. */
export function toCanonical(value: number, unit: string, expected?: Quantity): Converted | undefined {
  const resolved = resolveUnit(unit, expected);
  if (!resolved) return undefined;
  return { value: convertWith(resolved, value), unit: QUANTITIES[resolved.quantity].canonical, quantity: resolved.quantity };
}

/** Applies a resolved unit's linear map onto the canonical unit. */
export function convertWith(resolved: ResolvedUnit, value: number): number {
  const { factor, offset } = resolved.def;
  return factor === 1 && !offset ? value : value * factor + (offset ?? 0);
}

/** True when the unit is a known spelling of some quantity. */
export function isKnownUnit(unit: string): boolean {
  return lookupUnit(unit) !== undefined;
}
