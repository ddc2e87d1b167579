/**
 * `{{name}}` templates for titles, links, URLs and webhook bodies.
 *
 * A JSON body template is parsed first and rendered value by value: a string that is exactly one
 * placeholder ("{{trend}}") becomes the value itself (number, object, ...), any other string has
 * its placeholders replaced as text. Values are never spliced into JSON text, so no value can
 * break the body or inject keys.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$0-9][\w$]*)*)\s*\}\}/g;
const EXACT = /^\{\{\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$0-9][\w$]*)*)\s*\}\}$/;

export function lookup(vars: unknown, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Replaces each placeholder with its value as text ('' when missing); `encode` maps each value (URL encoding). */
export function interpolate(text: string, vars: unknown, encode?: (s: string) => string): string {
  return text.replace(PLACEHOLDER, (_m, path: string) => {
    const s = asText(lookup(vars, path));
    return encode ? encode(s) : s;
  });
}

export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

export function renderJson(template: unknown, vars: unknown): unknown {
  if (typeof template === 'string') {
    const exact = EXACT.exec(template);
    if (exact) {
      const v = lookup(vars, exact[1]);
      return v === undefined ? null : v;
    }
    return interpolate(template, vars);
  }
  if (Array.isArray(template)) return template.map((t) => renderJson(t, vars));
  if (template && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[interpolate(k, vars)] = renderJson(v, vars);
    return out;
  }
  return template;
}

/** Parses a JSON body template (object or array). */
export function parseJsonTemplate(text: string | undefined): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text === undefined || text.trim() === '') return { ok: true, value: undefined };
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') return { ok: false, error: 'the body template must be a JSON object or array' };
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
