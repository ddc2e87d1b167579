/**
 * pdm-alert's editor fields → the engine configuration (nodes/lib/alert/config.ts). No Node-RED
 * here, so tests can check the mapping directly. Empty fields mean the documented default.
 */
import { isAssetClassId } from '../lib/assets/classes';
import {
  checkResolved,
  checkTierOverride,
  engineConfig,
  parseMofN,
  parseOverrides,
  parseStates,
  type DeepPartial,
  type EngineConfig,
  type TierOverride,
} from '../lib/alert/config';
import { TIERS, type Tier } from '../lib/contracts/alert-event';

export interface AlertFields {
  root?: string;
  defaultClass?: string;
  scoreAbove?: string | number;
  onDelaySec?: string | number;
  mOfN?: string;
  widenBy?: string | number;
  agreeSec?: string | number;
  severeSec?: string | number;
  hysteresis?: string | number;
  offDelaySec?: string | number;
  deescalateSec?: string | number;
  dataWarnSec?: string | number;
  ackFrom?: string;
  latching?: boolean | string;
  suppress?: string;
  maxShelveSec?: string | number;
  floodCount?: string | number;
  floodWindowSec?: string | number;
  floodEndCount?: string | number;
  floodSuppress?: string;
  kpiSec?: string | number;
  overrides?: string;
  clock?: string;
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

export function engineSettings(f: AlertFields): { config: EngineConfig; errors: string[] } {
  const errors: string[] = [];
  const number = (name: keyof AlertFields, min: number, max: number, scale = 1): number | undefined => {
    const raw = f[name];
    if (blank(raw)) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      errors.push(`${name} must be a number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return undefined;
    }
    return n * scale;
  };
  const DAY_S = 365 * 86_400;
  const tiers: TierOverride = { watch: {}, warning: {}, action: {}, clear: {}, dataHealth: {}, lifecycle: {} };
  const scoreAbove = number('scoreAbove', 0, 1);
  if (scoreAbove !== undefined) tiers.watch!.scoreAbove = scoreAbove;
  tiers.warning!.onDelayMs = number('onDelaySec', 0, DAY_S, 1000);
  if (!blank(f.mOfN)) {
    const mn = parseMofN(f.mOfN);
    if (mn.ok) Object.assign(tiers.warning!, mn.value);
    else errors.push(`mOfN: ${mn.error}`);
  }
  tiers.warning!.widenBy = number('widenBy', 0, 1);
  tiers.action!.agreeForMs = number('agreeSec', 0, DAY_S, 1000);
  tiers.action!.severeForMs = number('severeSec', 0, DAY_S, 1000);
  tiers.clear!.hysteresis = number('hysteresis', 0, 1);
  tiers.clear!.offDelayMs = number('offDelaySec', 0, DAY_S, 1000);
  tiers.clear!.deescalateMs = number('deescalateSec', 0, DAY_S, 1000);
  tiers.dataHealth!.warnAfterMs = number('dataWarnSec', 0, DAY_S, 1000);
  if (!blank(f.ackFrom)) {
    if ((TIERS as readonly string[]).includes(String(f.ackFrom))) tiers.lifecycle!.ackFrom = f.ackFrom as Tier;
    else errors.push(`ackFrom must be one of ${TIERS.join(', ')}`);
  }
  if (f.latching !== undefined) tiers.lifecycle!.latching = f.latching === true || f.latching === 'true';
  const problem = checkTierOverride(stripUndefined(tiers));

  const partial: DeepPartial<EngineConfig> = { tiers: stripUndefined(tiers) as TierOverride, flood: {}, chatter: {} };
  if (problem) errors.push(problem);
  if (!blank(f.defaultClass)) {
    if (isAssetClassId(f.defaultClass)) partial.defaultClass = f.defaultClass;
    else errors.push(`defaultClass: unknown asset class "${f.defaultClass}"`);
  }
  if (f.suppress !== undefined) {
    const states = parseStates(f.suppress);
    if (states.ok) partial.suppressStates = states.value;
    else errors.push(`suppress: ${states.error}`);
  }
  partial.maxShelveMs = number('maxShelveSec', 1, DAY_S, 1000);
  partial.flood!.count = number('floodCount', 1, 100_000);
  partial.flood!.windowMs = number('floodWindowSec', 1, DAY_S, 1000);
  partial.flood!.endCount = number('floodEndCount', 0, 100_000);
  if (!blank(f.floodSuppress)) {
    if (['none', 'watch', 'warning'].includes(String(f.floodSuppress))) partial.flood!.suppressUpTo = f.floodSuppress as 'none' | 'watch' | 'warning';
    else errors.push('floodSuppress must be none, watch or warning');
  }
  partial.kpiIntervalMs = number('kpiSec', 1, DAY_S, 1000);
  if (!blank(f.clock)) {
    if (f.clock === 'wall' || f.clock === 'reading') partial.clock = f.clock;
    else errors.push('clock must be wall or reading');
  }
  const overrides = parseOverrides(f.overrides);
  if (overrides.ok) partial.overrides = overrides.value;
  else errors.push(`overrides: ${overrides.error}`);

  const config = engineConfig(stripUndefined(partial) as DeepPartial<EngineConfig>);
  if (config.flood.endCount > config.flood.count) errors.push(`floodEndCount (${config.flood.endCount}) must not exceed floodCount (${config.flood.count})`);
  const resolvedProblem = checkResolved(config);
  if (resolvedProblem) errors.push(resolvedProblem);
  return { config, errors };
}

function stripUndefined<T>(v: T): T {
  if (Array.isArray(v)) return v;
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    const inner = stripUndefined(x);
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 0) continue;
    out[k] = inner;
  }
  return out as T;
}

/** The context key of an asset or site: the id escaped for Node-RED (nodes/lib/persistence). */
export { escapeKey as contextKey } from '../lib/persistence';
