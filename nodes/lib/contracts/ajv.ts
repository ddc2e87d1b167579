import Ajv from 'ajv';

/**
 * One ajv instance for every message contract, so each schema is compiled once per process.
 * `allErrors` is off: the first failure is enough for a reject reason and keeps validation fast.
 */
export const ajv = new Ajv({ allErrors: false, strict: true });

/** First validation error as one readable line, e.g. "/value must be number". */
export function describeErrors(errors: { instancePath: string; message?: string }[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'invalid';
  return `${first.instancePath || '(root)'} ${first.message ?? 'is invalid'}`;
}
