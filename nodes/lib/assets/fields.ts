/**
 * The pdm-asset editor keeps an asset as flat form fields; this turns them into an AssetConfig.
 * Empty fields mean "use the class default".
 */
import type { AssetClassId, AssetConfig, Nameplate, SignalLimits, StateThresholds } from './types';

export interface AssetFields {
  assetId: string;
  name?: string;
  assetClass: string;
  site?: string;
  area?: string;
  line?: string;
  ratedCurrentA?: string | number;
  ratedPowerKW?: string | number;
  ratedSpeedRpm?: string | number;
  ratedVoltageV?: string | number;
  /** Comma-separated signal names. */
  sensors?: string;
  /** JSON: {"signal": {"warning": n, "action": n, "range": [min, max]}} */
  limits?: string;
  /** JSON: partial state thresholds. */
  thresholds?: string;
}

function optionalNumber(value: string | number | undefined, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${field} must be a positive number`);
  return n;
}

function optionalJson<T>(text: string | undefined, field: string): T | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${field} is not JSON: ${(err as Error).message}`);
  }
}

export function assetConfigFromFields(fields: AssetFields): AssetConfig {
  const config: AssetConfig = { id: String(fields.assetId ?? '').trim(), assetClass: fields.assetClass as AssetClassId };
  if (fields.name) config.name = fields.name;
  const path = { site: fields.site || undefined, area: fields.area || undefined, line: fields.line || undefined };
  if (path.site || path.area || path.line) config.path = Object.fromEntries(Object.entries(path).filter(([, v]) => v !== undefined));
  const nameplate: Nameplate = {};
  const plate = {
    ratedCurrentA: optionalNumber(fields.ratedCurrentA, 'rated current'),
    ratedPowerKW: optionalNumber(fields.ratedPowerKW, 'rated power'),
    ratedSpeedRpm: optionalNumber(fields.ratedSpeedRpm, 'rated speed'),
    ratedVoltageV: optionalNumber(fields.ratedVoltageV, 'rated voltage'),
  };
  for (const [key, value] of Object.entries(plate)) if (value !== undefined) nameplate[key as keyof Nameplate] = value;
  if (Object.keys(nameplate).length > 0) config.nameplate = nameplate;
  const sensors = (fields.sensors ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (sensors.length > 0) config.sensors = sensors;
  const limits = optionalJson<Record<string, SignalLimits>>(fields.limits, 'limits');
  if (limits) config.limits = limits;
  const thresholds = optionalJson<Partial<StateThresholds>>(fields.thresholds, 'thresholds');
  if (thresholds) config.stateThresholds = thresholds;
  return config;
}
