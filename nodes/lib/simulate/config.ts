/**
 * Simulator configuration: the asset list (pdm-asset fields plus faults and an operating
 * schedule), its default plant and its validation. Errors carry a stable code and name the asset,
 * so the node can key its message catalogue on them.
 */
import type { AssetClassId, AssetConfig, ResolvedAsset } from '../assets/types';
import { resolveAsset } from '../assets/resolve';
import { AssetConfigError } from '../assets/schema';
import { faultProblem, type FaultConfig } from './faults';
import { fullNameplate } from './profiles';

export type Schedule = 'auto' | 'continuous' | 'off';

/** One simulated asset: an asset configuration (as pdm-asset / the twin's fleet take it) plus simulation settings. */
export interface SimAssetConfig extends AssetConfig {
  faults?: FaultConfig[];
  /**
   * `auto` (default): the class's duty cycle, random stops and, with the shift pattern on, shifts.
   * `continuous`: runs from the start without stopping. `off`: never runs.
   */
  schedule?: Schedule;
  /** Fixed process demand in [0, 1.5] instead of random changes (see profiles.ts PROCESS). */
  load?: number;
}

export type SimConfigErrorCode = 'invalid_json' | 'invalid_assets' | 'invalid_asset' | 'duplicate_asset' | 'unsupported_signal' | 'invalid_fault' | 'invalid_option';

export class SimConfigError extends Error {
  constructor(
    readonly code: SimConfigErrorCode,
    message: string,
    readonly assetId?: string,
  ) {
    super(message);
    this.name = 'SimConfigError';
  }
}

const PRODUCTION = { site: 'demo-plant', area: 'production', line: 'line1' };
const UTILITIES = { site: 'demo-plant', area: 'utilities', line: 'services' };

/** One asset per class, with nameplates and ISA-95 paths; the pump's bearing wears out over 20 hours from hour 2. */
export const DEFAULT_ASSETS: readonly SimAssetConfig[] = Object.freeze([
  { id: 'M-101', name: 'Main drive motor', assetClass: 'motor', path: PRODUCTION, nameplate: { ratedPowerKW: 30, ratedCurrentA: 55, ratedSpeedRpm: 1480, ratedVoltageV: 400 } },
  {
    id: 'P-101',
    name: 'Cooling water pump',
    assetClass: 'pump',
    path: UTILITIES,
    nameplate: { ratedPowerKW: 22, ratedCurrentA: 40, ratedSpeedRpm: 2950, ratedVoltageV: 400 },
    faults: [{ type: 'bearing_wear', onsetHours: 2, durationHours: 20 }],
  },
  { id: 'C-101', name: 'Air compressor', assetClass: 'compressor', path: UTILITIES, nameplate: { ratedPowerKW: 37, ratedCurrentA: 68, ratedSpeedRpm: 2960, ratedVoltageV: 400 } },
  { id: 'F-101', name: 'Extraction fan', assetClass: 'fan', path: UTILITIES, nameplate: { ratedPowerKW: 7.5, ratedCurrentA: 14.5, ratedSpeedRpm: 1460, ratedVoltageV: 400 } },
  { id: 'CV-101', name: 'Infeed conveyor', assetClass: 'conveyor', path: PRODUCTION, nameplate: { ratedPowerKW: 11, ratedCurrentA: 21, ratedSpeedRpm: 120, ratedVoltageV: 400 } },
  { id: 'G-101', name: 'Mixer gearbox', assetClass: 'gearbox', path: PRODUCTION, nameplate: { ratedPowerKW: 45, ratedCurrentA: 82, ratedSpeedRpm: 1485, ratedVoltageV: 400 } },
] satisfies SimAssetConfig[]);

/** A simulated asset after validation: resolved against its class, nameplate complete. */
export interface SimAsset {
  config: SimAssetConfig;
  resolved: ResolvedAsset;
  assetClass: AssetClassId;
  nameplate: ReturnType<typeof fullNameplate>;
  /** The signals simulated, in the order readings are emitted. */
  signals: string[];
  faults: FaultConfig[];
  schedule: Schedule;
  load?: number;
}

const SIM_FIELDS = new Set(['faults', 'schedule', 'load']);

/** Validates and resolves the asset list. Throws SimConfigError. */
export function prepareAssets(input: unknown): SimAsset[] {
  if (!Array.isArray(input)) throw new SimConfigError('invalid_assets', 'assets must be a JSON array of {id, assetClass, nameplate?, faults?}');
  if (input.length === 0) throw new SimConfigError('invalid_assets', 'assets is empty: give at least one asset');
  if (input.length > 10_000) throw new SimConfigError('invalid_assets', 'at most 10,000 simulated assets');
  const seen = new Set<string>();
  return input.map((raw: unknown, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SimConfigError('invalid_asset', `asset ${i + 1} is not an object`);
    const entry = raw as Record<string, unknown>;
    const assetConfig: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) if (!SIM_FIELDS.has(k)) assetConfig[k] = v;
    let resolved: ResolvedAsset;
    try {
      resolved = resolveAsset(assetConfig as unknown as AssetConfig);
    } catch (err) {
      const id = typeof entry.id === 'string' ? entry.id : undefined;
      const message = err instanceof AssetConfigError || err instanceof Error ? err.message : String(err);
      throw new SimConfigError('invalid_asset', `asset ${id ?? i + 1}: ${message}`, id);
    }
    const id = resolved.id;
    if (seen.has(id)) throw new SimConfigError('duplicate_asset', `asset id "${id}" appears twice`, id);
    seen.add(id);
    const cls = resolved.assetClass.id;
    const own = new Set(resolved.assetClass.signals.map((s) => s.signal));
    const signals = resolved.sensors.map((s) => s.signal);
    const foreign = signals.find((s) => !own.has(s));
    if (foreign) {
      throw new SimConfigError(
        'unsupported_signal',
        `asset ${id}: the simulator models the signals of a ${cls} (${[...own].join(', ')}), not "${foreign}"`,
        id,
      );
    }
    const schedule = entry.schedule ?? 'auto';
    if (schedule !== 'auto' && schedule !== 'continuous' && schedule !== 'off') {
      throw new SimConfigError('invalid_asset', `asset ${id}: schedule must be auto, continuous or off`, id);
    }
    const load = entry.load;
    if (load !== undefined && !(typeof load === 'number' && Number.isFinite(load) && load >= 0 && load <= 1.5)) {
      throw new SimConfigError('invalid_asset', `asset ${id}: load must be a number from 0 to 1.5`, id);
    }
    const faults = entry.faults ?? [];
    if (!Array.isArray(faults)) throw new SimConfigError('invalid_fault', `asset ${id}: faults must be an array`, id);
    faults.forEach((f: unknown, k) => {
      const problem = faultProblem(f, cls, signals);
      if (problem) throw new SimConfigError('invalid_fault', `asset ${id}, fault ${k + 1}: ${problem.message}`, id);
    });
    const config = { ...(entry as unknown as SimAssetConfig) };
    return {
      config,
      resolved,
      assetClass: cls,
      nameplate: fullNameplate(cls, resolved.nameplate),
      signals,
      faults: (faults as FaultConfig[]).map((f) => ({ ...f })),
      schedule,
      load: load as number | undefined,
    };
  });
}

/** Parses the node's Assets field: '' means DEFAULT_ASSETS. Throws SimConfigError. */
export function parseAssets(text: string | undefined): SimAsset[] {
  if (text === undefined || text.trim() === '') return prepareAssets(DEFAULT_ASSETS.map((a) => structuredClone(a)));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SimConfigError('invalid_json', `assets is not valid JSON: ${(err as Error).message}`);
  }
  return prepareAssets(parsed);
}

/** The asset configurations as pdm-twin's fleet or `import` command takes them, nameplates completed. */
export function fleetOf(assets: readonly SimAsset[]): AssetConfig[] {
  return assets.map((a) => {
    const out: AssetConfig = { id: a.resolved.id, assetClass: a.assetClass, nameplate: { ...a.nameplate } };
    const c = a.config;
    if (c.name !== undefined) out.name = c.name;
    if (c.path !== undefined) out.path = { ...c.path };
    if (c.sensors !== undefined) out.sensors = [...c.sensors];
    if (c.stateThresholds !== undefined) out.stateThresholds = { ...c.stateThresholds };
    if (c.limits !== undefined) out.limits = structuredClone(c.limits);
    if (c.presets !== undefined) out.presets = structuredClone(c.presets);
    return out;
  });
}

