/**
 * Plausible-range overrides as typed in the editor: JSON `{"signal": [min, max], ...}`.
 */
export type Ranges = Record<string, [number, number]>;

export type ParsedRanges = { ok: true; ranges: Ranges } | { ok: false; error: string };

export function parseRanges(text: unknown): ParsedRanges {
  if (text === undefined || text === null || (typeof text === 'string' && text.trim() === '')) {
    return { ok: true, ranges: {} };
  }
  let parsed: unknown = text;
  if (typeof text === 'string') {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `not JSON (${(err as Error).message})` };
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: 'expected an object {"signal": [min, max]}' };
  }
  const ranges: Ranges = {};
  for (const [signal, range] of Object.entries(parsed as Record<string, unknown>)) {
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !range.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
      range[0] > range[1]
    ) {
      return { ok: false, error: `range for "${signal}" must be [min, max] with min <= max` };
    }
    ranges[signal] = [range[0], range[1]];
  }
  return { ok: true, ranges };
}
