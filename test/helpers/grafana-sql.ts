/**
 * Expands a Grafana PostgreSQL panel query the way Grafana does before it reaches the database:
 * first template variables (the frontend: `$var`, `${var}`, `[[var]]`, built-ins `$__interval`,
 * `$__interval_ms`; multi-value and "All" variables become a quoted, comma-separated list, a
 * single value is inserted as is with quotes doubled), then the SQL macros of the PostgreSQL data
 * source (the backend): `$__time`, `$__timeFilter`, `$__timeFrom`, `$__timeTo`, `$__timeGroup`,
 * `$__timeGroupAlias`, `$__unixEpochFilter`.
 */

export interface VariableValue {
  /** The selected values; `$__all` stands for every option. */
  value: string | string[];
  multi: boolean;
  /** The options (for "All"). */
  options?: string[];
}

export interface ExpandContext {
  from: Date;
  to: Date;
  /** Grafana's $__interval, e.g. "5m". */
  interval: string;
  vars: Record<string, VariableValue>;
}

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function intervalSeconds(text: string): number {
  const m = /^'?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)'?$/.exec(text.trim());
  if (!m) throw new Error(`not a Grafana interval: ${text}`);
  return Number(m[1]) * UNIT_S[m[2]];
}

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

function variableText(name: string, ctx: ExpandContext): string {
  if (name === '__interval') return ctx.interval;
  if (name === '__interval_ms') return String(intervalSeconds(ctx.interval) * 1000);
  const v = ctx.vars[name];
  if (!v) throw new Error(`unknown template variable $${name}`);
  let values = Array.isArray(v.value) ? v.value : [v.value];
  if (values.includes('$__all')) values = v.options ?? [];
  if (v.multi || Array.isArray(v.value)) {
    if (values.length === 0) throw new Error(`variable $${name} has no values`);
    return values.map(quote).join(',');
  }
  return values[0].replace(/'/g, "''");
}

/** Template variables, as the Grafana frontend interpolates them for an SQL data source. */
export function interpolateVariables(sql: string, ctx: ExpandContext): string {
  return sql.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a: string, b: string, c: string) => {
    const name = a ?? b ?? c;
    if (name.startsWith('__') && name !== '__interval' && name !== '__interval_ms') return whole; // a macro
    return variableText(name, ctx);
  });
}

/** Splits macro arguments at top-level commas. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** The PostgreSQL data source's macros. */
export function expandMacros(sql: string, ctx: ExpandContext): string {
  const from = ctx.from.toISOString();
  const to = ctx.to.toISOString();
  let out = '';
  let i = 0;
  const re = /\$__(\w+)\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sql))) {
    // Find the matching close parenthesis.
    let depth = 1;
    let j = m.index + m[0].length;
    for (; j < sql.length && depth > 0; j++) {
      if (sql[j] === '(') depth++;
      else if (sql[j] === ')') depth--;
    }
    if (depth !== 0) throw new Error(`unbalanced macro $__${m[1]}`);
    const args = splitArgs(sql.slice(m.index + m[0].length, j - 1));
    let text: string;
    switch (m[1]) {
      case 'time':
        text = `${args[0]} AS "time"`;
        break;
      case 'timeFilter':
        text = `${args[0]} BETWEEN '${from}' AND '${to}'`;
        break;
      case 'timeFrom':
        text = `'${from}'`;
        break;
      case 'timeTo':
        text = `'${to}'`;
        break;
      case 'unixEpochFilter':
        text = `${args[0]} >= ${Math.floor(ctx.from.getTime() / 1000)} AND ${args[0]} <= ${Math.floor(ctx.to.getTime() / 1000)}`;
        break;
      case 'timeGroup':
      case 'timeGroupAlias': {
        const s = intervalSeconds(args[1] ?? '');
        text = `floor(extract(epoch from ${args[0]})/${s})*${s}`;
        if (m[1] === 'timeGroupAlias') text += ' AS "time"';
        break;
      }
      default:
        throw new Error(`unsupported macro $__${m[1]}`);
    }
    out += sql.slice(i, m.index) + text;
    i = j;
    re.lastIndex = j;
  }
  return out + sql.slice(i);
}

export function expandQuery(sql: string, ctx: ExpandContext): string {
  return expandMacros(interpolateVariables(sql, ctx), ctx);
}
