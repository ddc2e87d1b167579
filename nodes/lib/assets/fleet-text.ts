/**
 * A fleet as typed into an editor field or sent in a message: a JSON array of asset
 * configurations (text or already parsed) or CSV with a header row. All or nothing: one bad
 * row rejects the whole text, with every problem listed.
 */
import { AssetRegistry, type ImportResult } from './registry';

export function importFleet(registry: AssetRegistry, input: unknown): ImportResult {
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    return { ok: true, imported: [], issues: [] };
  }
  if (typeof input === 'string' && !input.trim().startsWith('[')) return registry.importCsv(input);
  return registry.importJson(input);
}

/** One line for an error message: the first few problems. */
export function describeImport(result: ImportResult): string {
  const shown = result.issues.slice(0, 3).map((i) => i.message);
  const more = result.issues.length > 3 ? ` (+${result.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}
