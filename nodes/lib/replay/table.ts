/**
 * Reading a file of timestamped columns: CSV (any one-character separator, quotes as in
 * RFC 4180, CRLF or LF) or JSON Lines (one object per line). Everything becomes a table of
 * text cells; what is numeric is decided later, column by column.
 */

export interface Table {
  columns: string[];
  rows: string[][];
  /** The separator used (CSV), or 'jsonl'. */
  format: string;
}

const CANDIDATE_SEPARATORS = [',', ';', '\t', '|'];

/** The separator that splits the header line into the most fields (outside quotes). */
export function detectSeparator(text: string): string {
  const end = text.search(/\r?\n/);
  const header = end >= 0 ? text.slice(0, end) : text;
  let best = ',';
  let bestCount = -1;
  for (const sep of CANDIDATE_SEPARATORS) {
    let count = 0;
    let quoted = false;
    for (const ch of header) {
      if (ch === '"') quoted = !quoted;
      else if (ch === sep && !quoted) count++;
    }
    if (count > bestCount) {
      best = sep;
      bestCount = count;
    }
  }
  return best;
}

/** Parses CSV text into rows of cells. Blank lines are skipped. */
export function parseCsv(text: string, separator: string): string[][] {
  if (separator.length !== 1 || separator === '"' || separator === '\n' || separator === '\r') {
    throw new Error(`separator must be one character other than a quote or a line break, got ${JSON.stringify(separator)}`);
  }
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  const sep = separator.charCodeAt(0);
  while (i < n) {
    let cell: string;
    if (text.charCodeAt(i) === 34 /* " */) {
      let out = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('CSV: a quoted field is never closed');
        out += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          out += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the separator is kept (lenient).
      let j = i;
      while (j < n && text.charCodeAt(j) !== sep && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13) j++;
      cell = out + text.slice(i, j);
      i = j;
    } else {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === sep || c === 10 || c === 13) break;
        j++;
      }
      cell = text.slice(i, j);
      i = j;
    }
    row.push(cell);
    const c = i < n ? text.charCodeAt(i) : 10;
    if (c === sep) {
      i++;
      if (i >= n) row.push('');
      continue;
    }
    // End of line (or of text).
    if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2;
    else i++;
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  }
  if (row.length) rows.push(row);
  return rows;
}

export function readCsv(text: string, separator?: string): Table {
  const sep = separator ?? detectSeparator(text);
  const all = parseCsv(text, sep);
  if (all.length === 0) throw new Error('the file is empty: it needs a header row');
  const columns = all[0].map((c) => c.trim());
  return { columns, rows: all.slice(1), format: sep };
}

/** JSON Lines: each non-blank line one object; columns in first-seen order. Nested values are ignored. */
export function readJsonl(text: string): Table {
  const columns: string[] = [];
  const index = new Map<string, number>();
  const objects: Record<string, unknown>[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, n) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`JSONL line ${n + 1}: not JSON (${(e as Error).message})`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`JSONL line ${n + 1}: not an object`);
    for (const key of Object.keys(obj)) {
      if (!index.has(key)) {
        index.set(key, columns.length);
        columns.push(key);
      }
    }
    objects.push(obj as Record<string, unknown>);
  });
  const rows = objects.map((o) =>
    columns.map((c) => {
      const v = o[c];
      if (v === null || v === undefined || typeof v === 'object') return '';
      return typeof v === 'string' ? v : String(v);
    }),
  );
  return { columns, rows, format: 'jsonl' };
}

/** A file's text as a table: JSONL when the name ends in .jsonl/.ndjson or the text starts with "{". */
export function readTable(text: string, fileName: string, separator?: string): Table {
  const lower = fileName.toLowerCase();
  const jsonl = lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || (!separator && text.trimStart().startsWith('{'));
  return jsonl ? readJsonl(text) : readCsv(text, separator);
}

/** One CSV cell, quoted when it must be. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
