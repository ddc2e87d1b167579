/**
 * Tier → priority per target (shared/reference/domain.md §4):
 *   MaintainX, Atlas: NONE / LOW / MEDIUM / HIGH;  UpKeep: 0–3 (0 lowest);
 *   Limble: a priority level number of the account (unverified default 1 = highest);
 *   webhook, Slack, Teams: low / medium / high (text, colour, emoji).
 * A target's priority map (JSON {"watch": …, "warning": …, "action": …}) overrides the default.
 */
import type { TargetKind, Tier } from './types';

export type PriorityValue = string | number;
export type PriorityMap = Record<Tier, PriorityValue>;

export const DEFAULT_PRIORITIES: Readonly<Record<TargetKind, Readonly<PriorityMap>>> = Object.freeze({
  webhook: { watch: 'low', warning: 'medium', action: 'high' },
  slack: { watch: 'low', warning: 'medium', action: 'high' },
  teams: { watch: 'low', warning: 'medium', action: 'high' },
  maintainx: { watch: 'LOW', warning: 'MEDIUM', action: 'HIGH' },
  atlas: { watch: 'LOW', warning: 'MEDIUM', action: 'HIGH' },
  upkeep: { watch: 1, warning: 2, action: 3 },
  limble: { watch: 3, warning: 2, action: 1 },
});

const ENUM = ['NONE', 'LOW', 'MEDIUM', 'HIGH'];

/** Undefined when `value` is a valid priority for `kind`, else why not. */
export function priorityProblem(kind: TargetKind, value: unknown): string | undefined {
  switch (kind) {
    case 'maintainx':
    case 'atlas':
      return typeof value === 'string' && ENUM.includes(value) ? undefined : `must be one of ${ENUM.join(', ')}`;
    case 'upkeep':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 3 ? undefined : 'must be an integer 0–3 (0 lowest)';
    case 'limble':
      return Number.isInteger(value) && (value as number) >= 0 ? undefined : 'must be a priority number of your Limble account';
    default:
      return (typeof value === 'string' && value.length > 0 && value.length <= 64) || typeof value === 'number' ? undefined : 'must be a short text';
  }
}

/** Parses a priority map override: '' → defaults; errors name the tier. */
export function parsePriorityMap(kind: TargetKind, text: string | undefined): { ok: true; map: PriorityMap } | { ok: false; error: string } {
  const map: PriorityMap = { ...DEFAULT_PRIORITIES[kind] };
  if (text === undefined || text.trim() === '') return { ok: true, map };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, error: 'must be a JSON object {"watch": …, "warning": …, "action": …}' };
  for (const [tier, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (tier !== 'watch' && tier !== 'warning' && tier !== 'action') return { ok: false, error: `unknown tier "${tier}"` };
    const problem = priorityProblem(kind, value);
    if (problem) return { ok: false, error: `${tier}: ${problem}` };
    map[tier] = value as PriorityValue;
  }
  return { ok: true, map };
}

export function priorityOf(map: PriorityMap, tier: Tier | null | undefined, fallback: Tier = 'watch'): PriorityValue {
  return map[tier ?? fallback];
}
