/**
 * A fleet of assets: many similar machines share one class and differ only where they must.
 * Assets are kept as configured (AssetConfig) and as resolved (ResolvedAsset), keyed by id.
 *
 * Import and export:
 * - JSON: an array of AssetConfig, exactly as the schema describes it.
 * - CSV (RFC 4180: comma-separated, CRLF rows, fields with a comma, quote, line break or outer
 *   spaces are quoted and quotes doubled), one row per asset, a header row naming the columns:
 *     id,name,site,area,line,assetClass,ratedCurrentA,ratedPowerKW,ratedSpeedRpm,ratedVoltageV,
 *     sensors,stateThresholds,limits,presets
 *   `sensors` is semicolon-separated (`current;vibration_velocity`); `stateThresholds`, `limits`
 *   and `presets` are compact JSON objects, e.g. `{"vibration_velocity":{"warning":4}}`, so any
 *   signal can carry limits without changing the columns. An empty cell means "not set" (the
 *   class default). On import the columns may come in any order and only `id` and `assetClass`
 *   are required; unknown columns are refused. Unquoted cells are trimmed, quoted ones are kept
 *   as written; a leading byte-order mark (Excel) is ignored.
 *   Cells are not escaped against spreadsheet formulas: a name beginning with `=` stays as typed.
 *
 * Every import is validated row by row (schema, then class defaults applied) and reports each bad
 * row with its number and a readable reason. By default nothing is imported unless every row is
 * good; `partial: true` imports the good rows anyway. `replace: true` makes the registry hold
 * exactly the imported assets; otherwise imported assets are added or replace those with the
 * same id.
 */
import type { AssetConfig, ClassPresets, Nameplate, ResolvedAsset, SignalLimits, StateThresholds } from './types';
import type { AssetPath } from '../topic';
import { AssetConfigError, assertAssetConfig, assetConfigProblem } from './schema';
import { resolveAsset } from './resolve';

export interface ImportIssue {
  /** CSV: spreadsheet row (the header is row 1). JSON: position in the array, from 1. Absent: the whole file. */
  row?: number;
  id?: string;
  problem: string;
  /** `row 7 (P-107): nameplate.ratedCurrentA must be > 0` */
  message: string;
}

export interface ImportOptions {
  /** Import the good rows even when some are bad (default false: all or nothing). */
  partial?: boolean;
  /** The registry holds exactly the imported assets afterwards (default false: add or update). */
  replace?: boolean;
}

export interface ImportResult {
  /** True when every row was good. */
  ok: boolean;
  /** Ids written to the registry, in file order. */
  imported: string[];
  issues: ImportIssue[];
}

export const CSV_COLUMNS = [
  'id',
  'name',
  'site',
  'area',
  'line',
  'assetClass',
  'ratedCurrentA',
  'ratedPowerKW',
  'ratedSpeedRpm',
  'ratedVoltageV',
  'sensors',
  'stateThresholds',
  'limits',
  'presets',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

const PATH_KEYS = ['site', 'area', 'line'] as const;
const NAMEPLATE_KEYS = ['ratedCurrentA', 'ratedPowerKW', 'ratedSpeedRpm', 'ratedVoltageV'] as const;
const THRESHOLD_KEYS = ['offBelow', 'idleBelow', 'overloadAbove', 'startupMs', 'shutdownMs', 'speedRunningAbove'] as const;

function pick<T extends object, K extends keyof T>(source: T | undefined, keys: readonly K[]): Pick<T, K> | undefined {
  if (!source) return undefined;
  const out = {} as Pick<T, K>;
  let any = false;
  for (const key of keys) {
    if (source[key] !== undefined) {
      out[key] = source[key];
      any = true;
    }
  }
  return any ? out : undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/**
 * A valid AssetConfig in one canonical shape: fixed key order, fresh objects, and "not set"
 * spelled one way only (no undefined fields, empty objects or empty sensor lists).
 */
export function canonicalAssetConfig(config: AssetConfig): AssetConfig {
  const path = pick<AssetPath, (typeof PATH_KEYS)[number]>(config.path, PATH_KEYS);
  const nameplate = pick<Nameplate, (typeof NAMEPLATE_KEYS)[number]>(config.nameplate, NAMEPLATE_KEYS);
  const sensors = config.sensors && config.sensors.length > 0 ? [...config.sensors] : undefined;
  const thresholds = pick<Partial<StateThresholds>, (typeof THRESHOLD_KEYS)[number]>(config.stateThresholds, THRESHOLD_KEYS);
  let limits: Record<string, SignalLimits> | undefined;
  for (const [signal, l] of Object.entries(config.limits ?? {})) {
    const one: SignalLimits = {};
    if (l.range) one.range = [l.range[0], l.range[1]];
    if (l.warning !== undefined) one.warning = l.warning;
    if (l.action !== undefined) one.action = l.action;
    if (l.warningLow !== undefined) one.warningLow = l.warningLow;
    if (l.actionLow !== undefined) one.actionLow = l.actionLow;
    if (Object.keys(one).length > 0) (limits ??= {})[signal] = one;
  }
  let presets: Partial<ClassPresets> | undefined;
  const p = config.presets;
  if (p) {
    const one: Partial<ClassPresets> = {};
    if (p.vibration) {
      one.vibration =
        p.vibration.standard === 'ISO 10816-1'
          ? { standard: p.vibration.standard, machineClass: p.vibration.machineClass }
          : { standard: p.vibration.standard, group: p.vibration.group, foundation: p.vibration.foundation };
    }
    if (p.insulationClass !== undefined) one.insulationClass = p.insulationClass;
    if (p.currentUnbalanceLimitPct !== undefined) one.currentUnbalanceLimitPct = p.currentUnbalanceLimitPct;
    if (Object.keys(one).length > 0) presets = one;
  }
  return {
    id: config.id,
    ...(config.name !== undefined && { name: config.name }),
    ...(path && { path }),
    assetClass: config.assetClass,
    ...(nameplate && { nameplate }),
    ...(sensors && { sensors }),
    ...(thresholds && { stateThresholds: thresholds }),
    ...(limits && { limits }),
    ...(presets && { presets }),
  };
}

interface Entry {
  config: AssetConfig;
  resolved: ResolvedAsset;
}

/** Validates and resolves one candidate; the problem as a line, or the frozen entry. */
function prepare(candidate: unknown): Entry | string {
  const problem = assetConfigProblem(candidate);
  if (problem !== undefined) return problem;
  const config = canonicalAssetConfig(candidate as AssetConfig);
  try {
    return { config: deepFreeze(config), resolved: deepFreeze(resolveAsset(config)) };
  } catch (err) {
    if (err instanceof AssetConfigError) return err.message;
    throw err;
  }
}

interface Candidate {
  row: number;
  value: unknown;
  /** A problem found before schema validation (CSV cell syntax). */
  problem?: string;
}

export class AssetRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Throws AssetConfigError on the first invalid configuration. */
  constructor(configs: Iterable<AssetConfig> = []) {
    for (const config of configs) this.upsert(config);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds or replaces an asset; returns it resolved. Throws AssetConfigError (with `code`) when invalid. */
  upsert(config: AssetConfig): ResolvedAsset {
    assertAssetConfig(config);
    const canonical = deepFreeze(canonicalAssetConfig(config));
    const resolved = deepFreeze(resolveAsset(canonical));
    this.entries.set(canonical.id, { config: canonical, resolved });
    return resolved;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The asset as configured (frozen), or undefined. */
  get(id: string): AssetConfig | undefined {
    return this.entries.get(id)?.config;
  }

  /** The asset with its class defaults applied (frozen), or undefined. */
  resolved(id: string): ResolvedAsset | undefined {
    return this.entries.get(id)?.resolved;
  }

  /** Every asset as configured, in the order they were first added. */
  list(): AssetConfig[] {
    return [...this.entries.values()].map((e) => e.config);
  }

  listResolved(): ResolvedAsset[] {
    return [...this.entries.values()].map((e) => e.resolved);
  }

  remove(id: string): boolean {
    return this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }

  /** A JSON array of AssetConfig, pretty-printed, in list order. */
  exportJson(): string {
    return `${JSON.stringify(this.list(), null, 2)}\n`;
  }

  /** Imports a JSON array of AssetConfig (text, or already parsed). */
  importJson(input: unknown, options: ImportOptions = {}): ImportResult {
    let parsed = input;
    if (typeof input === 'string') {
      try {
        parsed = JSON.parse(input.replace(/^\uFEFF/, ''));
      } catch (err) {
        return fileProblem(`the file is not valid JSON (${(err as Error).message})`);
      }
    }
    if (!Array.isArray(parsed)) return fileProblem('expected a JSON array of asset configurations');
    return this.commit(
      parsed.map((value, index) => ({ row: index + 1, value })),
      'item',
      options,
    );
  }

  /** One header row and one row per asset; see the module comment for the format. */
  exportCsv(): string {
    const rows: string[][] = [[...CSV_COLUMNS]];
    for (const config of this.list()) rows.push(CSV_COLUMNS.map((column) => csvCell(config, column)));
    return toCsv(rows);
  }

  importCsv(text: string, options: ImportOptions = {}): ImportResult {
    const parsed = parseCsv(text);
    const headerError = parsed.errors.find((e) => e.row === 1);
    if (headerError) return { ok: false, imported: [], issues: [{ row: 1, problem: headerError.message, message: `row 1 (header): ${headerError.message}` }] };
    const [header, ...records] = parsed.records;
    if (!header || header.cells.every((c) => c.value.trim() === '')) {
      return fileProblem('the file is empty or starts with a blank line: expected a header row, then one row per asset');
    }
    const columns: CsvColumn[] = [];
    const headerProblems: string[] = [];
    for (const cell of header.cells) {
      const name = cell.value.trim();
      const column = CSV_COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase());
      if (!column) {
        headerProblems.push(
          header.cells.length === 1 && name.includes(';')
            ? 'the header has one column with semicolons in it: save the file as comma-separated CSV'
            : `unknown column "${name}" (columns: ${CSV_COLUMNS.join(', ')})`,
        );
      } else if (columns.includes(column)) {
        headerProblems.push(`column "${column}" appears twice`);
      }
      columns.push(column as CsvColumn);
    }
    for (const required of ['id', 'assetClass'] as const) {
      if (!columns.includes(required)) headerProblems.push(`the header has no "${required}" column`);
    }
    if (headerProblems.length > 0) {
      return { ok: false, imported: [], issues: headerProblems.map((problem) => ({ row: 1, problem, message: `row 1 (header): ${problem}` })) };
    }
    const candidates: Candidate[] = parsed.errors.map((e) => ({ row: e.row, value: undefined, problem: e.message }));
    for (const record of records) {
      if (record.cells.length === 1 && record.cells[0].value.trim() === '' && !record.cells[0].quoted) continue; // blank line
      if (record.cells.length !== columns.length) {
        candidates.push({ row: record.row, value: undefined, problem: `has ${record.cells.length} fields, the header has ${columns.length}` });
        continue;
      }
      candidates.push(rowToCandidate(record, columns));
    }
    candidates.sort((a, b) => a.row - b.row);
    return this.commit(candidates, 'row', options);
  }

  /** Validates every candidate, then writes all of them, the good ones (`partial`) or none. */
  private commit(candidates: Candidate[], noun: 'row' | 'item', options: ImportOptions): ImportResult {
    const issues: ImportIssue[] = [];
    const good: Entry[] = [];
    const firstRow = new Map<string, number>();
    for (const candidate of candidates) {
      const value = candidate.value as { id?: unknown } | undefined;
      const id = value && typeof value === 'object' && typeof value.id === 'string' && value.id !== '' ? value.id : undefined;
      let problem = candidate.problem;
      let entry: Entry | undefined;
      if (problem === undefined) {
        const prepared = prepare(candidate.value);
        if (typeof prepared === 'string') problem = prepared;
        else entry = prepared;
      }
      if (problem === undefined && id !== undefined && firstRow.has(id)) {
        problem = `id "${id}" is already used on ${noun} ${firstRow.get(id)}`;
      }
      if (id !== undefined && !firstRow.has(id)) firstRow.set(id, candidate.row);
      if (problem !== undefined) {
        issues.push({ row: candidate.row, id, problem, message: `${noun} ${candidate.row}${id !== undefined ? ` (${id})` : ''}: ${problem}` });
      } else if (entry) {
        good.push(entry);
      }
    }
    if (issues.length > 0 && !options.partial) return { ok: false, imported: [], issues };
    if (options.replace) this.entries.clear();
    for (const entry of good) this.entries.set(entry.config.id, entry);
    return { ok: issues.length === 0, imported: good.map((e) => e.config.id), issues };
  }
}

function fileProblem(problem: string): ImportResult {
  return { ok: false, imported: [], issues: [{ problem, message: problem }] };
}

// ---- CSV cells ----

function csvCell(config: AssetConfig, column: CsvColumn): string {
  switch (column) {
    case 'id':
      return config.id;
    case 'name':
      return config.name ?? '';
    case 'site':
    case 'area':
    case 'line':
      return config.path?.[column] ?? '';
    case 'assetClass':
      return config.assetClass;
    case 'ratedCurrentA':
    case 'ratedPowerKW':
    case 'ratedSpeedRpm':
    case 'ratedVoltageV': {
      const value = config.nameplate?.[column];
      return value === undefined ? '' : String(value);
    }
    case 'sensors':
      return (config.sensors ?? []).join(';');
    case 'stateThresholds':
    case 'limits':
    case 'presets':
      return config[column] ? JSON.stringify(config[column]) : '';
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function rowToCandidate(record: CsvRecord, columns: CsvColumn[]): Candidate {
  const cells = new Map<CsvColumn, string>();
  columns.forEach((column, i) => {
    const cell = record.cells[i];
    const value = cell.quoted ? cell.value : cell.value.trim();
    if (value !== '') cells.set(column, value);
  });
  const fail = (problem: string): Candidate => ({ row: record.row, value: { id: cells.get('id') }, problem });
  const config: Record<string, unknown> = {};
  const id = cells.get('id');
  if (id !== undefined) config.id = id;
  const name = cells.get('name');
  if (name !== undefined) config.name = name;
  const path: Record<string, string> = {};
  for (const key of PATH_KEYS) {
    const level = cells.get(key);
    if (level !== undefined) path[key] = level;
  }
  if (Object.keys(path).length > 0) config.path = path;
  const assetClass = cells.get('assetClass');
  if (assetClass !== undefined) config.assetClass = assetClass.trim().toLowerCase();
  const nameplate: Record<string, number> = {};
  for (const key of NAMEPLATE_KEYS) {
    const text = cells.get(key);
    if (text === undefined) continue;
    if (!NUMBER.test(text.trim())) {
      return fail(/^[+-]?\d+,\d+$/.test(text.trim())
        ? `${key} "${text}" is not a number: use a dot as the decimal separator`
        : `${key} "${text}" is not a number`);
    }
    nameplate[key] = Number(text);
  }
  if (Object.keys(nameplate).length > 0) config.nameplate = nameplate;
  const sensors = cells.get('sensors');
  if (sensors !== undefined) {
    const list = sensors.split(';').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length > 0) config.sensors = list;
  }
  for (const key of ['stateThresholds', 'limits', 'presets'] as const) {
    const text = cells.get(key);
    if (text === undefined) continue;
    try {
      config[key] = JSON.parse(text);
    } catch (err) {
      return fail(`${key} is not valid JSON (${(err as Error).message}); write it like {"vibration_velocity":{"warning":4}}`);
    }
  }
  return { row: record.row, value: config };
}

// ---- RFC 4180 ----

export interface CsvCell {
  value: string;
  /** Written in quotes: kept exactly, not trimmed. */
  quoted: boolean;
}

export interface CsvRecord {
  /** Record number, the header being 1 (a spreadsheet's row number). */
  row: number;
  /** Line of the file the record starts on (differs from `row` after quoted line breaks). */
  line: number;
  cells: CsvCell[];
}

export interface CsvParse {
  records: CsvRecord[];
  /** Records that could not be read; the parser resumes at the next line. */
  errors: { row: number; line: number; message: string }[];
}

/**
 * Reads RFC 4180 CSV: `,` separators, CRLF, LF or CR line ends, `"` quoting with `""` for a quote,
 * line breaks inside quoted fields. A quote inside an unquoted field is taken literally.
 */
export function parseCsv(input: string): CsvParse {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const n = text.length;
  const records: CsvRecord[] = [];
  const errors: CsvParse['errors'] = [];
  let i = 0;
  let line = 1;
  let row = 1;
  /** Consumes one line end at i if there is one. */
  const lineEnd = (): boolean => {
    if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
    else if (text[i] === '\n') i += 1;
    else return false;
    line++;
    return true;
  };
  while (i < n) {
    const startLine = line;
    const cells: CsvCell[] = [];
    let problem: string | undefined;
    for (;;) {
      if (text[i] === '"') {
        const openLine = line;
        let value = '';
        let closed = false;
        i++;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          value += c;
          i++;
        }
        if (!closed) {
          problem = `a quoted field opened on line ${openLine} is never closed`;
          break;
        }
        cells.push({ value, quoted: true });
        if (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          problem = `unexpected text after a closing quote on line ${line} (a quote inside a quoted field is written "")`;
          while (i < n && text[i] !== '\r' && text[i] !== '\n') i++;
          lineEnd();
          break;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') i++;
        cells.push({ value: text.slice(start, i), quoted: false });
      }
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        if (i >= n) {
          cells.push({ value: '', quoted: false });
          break;
        }
        continue;
      }
      lineEnd();
      break;
    }
    if (problem !== undefined) errors.push({ row, line: startLine, message: problem });
    else records.push({ row, line: startLine, cells });
    row++;
  }
  return { records, errors };
}

/** Quotes a field when it holds a separator, quote or line break, or starts or ends with a space. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Rows to RFC 4180 text, CRLF after every row. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((cells) => `${cells.map(csvField).join(',')}\r\n`).join('');
}
