/**
 * Timestamps arrive as epoch seconds, epoch milliseconds, ISO 8601 strings or Dates; the
 * pipeline uses epoch milliseconds everywhere.
 */

/** Below this a number is read as epoch seconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_LIMIT = 1e11;

/** ISO 8601 date-time with an explicit zone, or a plain date. Date.parse alone is too lenient. */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

const NUMERIC = /^[+-]?\d+(?:\.\d+)?$/;

/** Converts a timestamp to epoch ms, or returns undefined when it cannot be read. */
export function toEpochMs(input: unknown): number | undefined {
  if (typeof input === 'number') return fromNumber(input);
  if (input instanceof Date) {
    const ms = input.getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof input === 'string') {
    const text = input.trim();
    if (NUMERIC.test(text)) return fromNumber(Number(text));
    if (!ISO_8601.test(text)) return undefined;
    const ms = Date.parse(text.replace(',', '.'));
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

function fromNumber(value: number): number | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  const ms = value < SECONDS_LIMIT ? value * 1000 : value;
  // Beyond what a Date can hold (±8.64e15 ms) is not a time.
  return ms <= 8.64e15 ? Math.round(ms) : undefined;
}
