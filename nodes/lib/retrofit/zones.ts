/**
 * Vibration severity zones from broadband velocity RMS (mm/s, ≈10–1000 Hz), per
 * shared/reference/domain.md §2.2. Each preset is one labelled row of one standard: ISO 10816-1
 * machine classes and ISO 10816-3 machine groups × foundations are separate tables with different
 * machine definitions, so a caller picks exactly one preset and limits are never mixed.
 * ISO 20816-3:2022 supersedes 10816-3; check the tables against a licensed copy before relying
 * on them commercially.
 */
import { RetrofitError } from './errors';

export type Zone = 'A' | 'B' | 'C' | 'D';

export interface ZonePreset {
  id: string;
  standard: 'ISO 10816-1' | 'ISO 10816-3' | 'custom';
  label: string;
  /** Zone boundaries in mm/s RMS: A/B, B/C, C/D. */
  limits: readonly [number, number, number];
}

const preset = (id: string, standard: ZonePreset['standard'], label: string, ab: number, bc: number, cd: number): ZonePreset =>
  Object.freeze({ id, standard, label, limits: Object.freeze([ab, bc, cd] as const) });

export const ZONE_PRESETS = Object.freeze({
  'iso10816-1/class-I': preset('iso10816-1/class-I', 'ISO 10816-1', 'ISO 10816-1 class I (small machines ≤ 15 kW)', 0.71, 1.8, 4.5),
  'iso10816-1/class-II': preset('iso10816-1/class-II', 'ISO 10816-1', 'ISO 10816-1 class II (15–75 kW, or ≤ 300 kW on special foundations)', 1.12, 2.8, 7.1),
  'iso10816-1/class-III': preset('iso10816-1/class-III', 'ISO 10816-1', 'ISO 10816-1 class III (large machines, rigid foundation)', 1.8, 4.5, 11.2),
  'iso10816-1/class-IV': preset('iso10816-1/class-IV', 'ISO 10816-1', 'ISO 10816-1 class IV (large machines, soft foundation)', 2.8, 7.1, 18.0),
  'iso10816-3/group1-rigid': preset('iso10816-3/group1-rigid', 'ISO 10816-3', 'ISO 10816-3 group 1 (300 kW–50 MW), rigid foundation', 2.3, 4.5, 7.1),
  'iso10816-3/group1-flexible': preset('iso10816-3/group1-flexible', 'ISO 10816-3', 'ISO 10816-3 group 1 (300 kW–50 MW), flexible foundation', 3.5, 7.1, 11.0),
  'iso10816-3/group2-rigid': preset('iso10816-3/group2-rigid', 'ISO 10816-3', 'ISO 10816-3 group 2 (15–300 kW), rigid foundation', 1.4, 2.8, 4.5),
  'iso10816-3/group2-flexible': preset('iso10816-3/group2-flexible', 'ISO 10816-3', 'ISO 10816-3 group 2 (15–300 kW), flexible foundation', 2.3, 4.5, 7.1),
} satisfies Record<string, ZonePreset>);

export type ZonePresetId = keyof typeof ZONE_PRESETS;

export function isZonePresetId(id: string): id is ZonePresetId {
  return Object.prototype.hasOwnProperty.call(ZONE_PRESETS, id);
}

/** A site-specific preset (e.g. from a vendor's acceptance test), kept apart from the ISO ones. */
export function customZonePreset(id: string, label: string, limits: readonly number[]): ZonePreset {
  if (limits.length !== 3 || !limits.every((x) => Number.isFinite(x) && x > 0) || !(limits[0] < limits[1] && limits[1] < limits[2])) {
    throw new RetrofitError('invalid_zone_limits', 'zone limits must be three increasing positive numbers (A/B, B/C, C/D in mm/s)');
  }
  return preset(id, 'custom', label, limits[0], limits[1], limits[2]);
}

export interface ZoneResult {
  zone: Zone;
  preset: string;
  standard: ZonePreset['standard'];
  /** The boundaries used, so the evidence on an alert is self-contained. */
  limits: readonly [number, number, number];
}

/**
 * The zone of a velocity RMS. A value on a boundary stays in the lower zone: the zone changes
 * only once a limit is exceeded, matching how alarm limits are read.
 */
export function zoneOf(velocityRmsMmS: number, p: ZonePresetId | ZonePreset): ZoneResult {
  const chosen = typeof p === 'string' ? (isZonePresetId(p) ? ZONE_PRESETS[p] : undefined) : p;
  if (!chosen) throw new RetrofitError('unknown_zone_preset', `unknown zone preset "${String(p)}" (expected one of ${Object.keys(ZONE_PRESETS).join(', ')})`);
  if (!(velocityRmsMmS >= 0) || !Number.isFinite(velocityRmsMmS)) {
    throw new RetrofitError('invalid_velocity', 'velocity RMS must be a finite number ≥ 0');
  }
  const [ab, bc, cd] = chosen.limits;
  const zone: Zone = velocityRmsMmS <= ab ? 'A' : velocityRmsMmS <= bc ? 'B' : velocityRmsMmS <= cd ? 'C' : 'D';
  return { zone, preset: chosen.id, standard: chosen.standard, limits: chosen.limits };
}
