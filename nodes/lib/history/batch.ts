/**
 * Batch planning and INSERT generation. One statement per kind and batch: the rows travel as one
 * array per column through `unnest`, so a batch of 5,000 rows is one round trip with a fixed
 * number of parameters, and `ON CONFLICT DO NOTHING` on each table's natural key makes a replay a
 * no-op (duplicates within one batch are fine too).
 */
import { ident } from './schema';
import { HISTORY_KINDS, TABLES, type ColumnType, type HistoryKind, type MappedRow, type Row } from './kinds';
import { dayOf } from './retention';

const ARRAY_TYPE: Record<ColumnType, string> = { text: 'text[]', float8: 'float8[]', int4: 'int4[]', bool: 'bool[]', ts: 'float8[]', jsonb: 'text[]' };

/** The INSERT for `kind`: parameter i is the array of column i. */
export function insertSql(schema: string, kind: HistoryKind): string {
  const spec = TABLES[kind];
  const names = spec.columns.map(([name]) => ident(name)).join(', ');
  const alias = spec.columns.map((_, i) => `c${i}`).join(', ');
  const arrays = spec.columns.map(([, type], i) => `$${i + 1}::${ARRAY_TYPE[type]}`).join(', ');
  const values = spec.columns
    .map(([, type], i) => (type === 'ts' ? `to_timestamp(c${i} / 1000.0)` : type === 'jsonb' ? `c${i}::jsonb` : `c${i}`))
    .join(', ');
  return `INSERT INTO ${ident(schema)}.${ident(spec.table)} (${names}) SELECT ${values} FROM unnest(${arrays}) AS u(${alias}) ON CONFLICT DO NOTHING`;
}

/** Rows of one kind turned into one array per column. */
export function columnsOf(kind: HistoryKind, rows: Row[]): unknown[][] {
  const width = TABLES[kind].columns.length;
  const columns: unknown[][] = Array.from({ length: width }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let c = 0; c < width; c++) columns[c][r] = row[c];
  }
  return columns;
}

export interface QueuedEntry<T> {
  rows: MappedRow[];
  tag: T;
}

export interface BatchPlan<T> {
  /** Entries taken from the head of the queue, whole. */
  entries: Array<QueuedEntry<T>>;
  rowCount: number;
  statements: Array<{ kind: HistoryKind; sql: string; params: unknown[][]; rows: number }>;
  /** UTC days the readings fall on (their partitions must exist). */
  days: number[];
  /** Oldest reading in the batch (epoch ms), for the roll-up's dirty mark. */
  oldestReading: number | null;
}

/**
 * Takes whole entries from the head of `queue` until `maxRows` rows (at least one entry, at most
 * `maxEntries`), and groups their rows by kind into one INSERT each, in a fixed kind order.
 */
export function planBatch<T>(schema: string, queue: ReadonlyArray<QueuedEntry<T>>, maxRows: number, maxEntries = Infinity): BatchPlan<T> {
  const entries: Array<QueuedEntry<T>> = [];
  let rowCount = 0;
  for (const entry of queue) {
    if (entries.length >= maxEntries || (entries.length > 0 && rowCount + entry.rows.length > maxRows)) break;
    entries.push(entry);
    rowCount += entry.rows.length;
  }
  const byKind = new Map<HistoryKind, Row[]>();
  const days = new Set<number>();
  let oldestReading: number | null = null;
  for (const entry of entries) {
    for (const { kind, row } of entry.rows) {
      let list = byKind.get(kind);
      if (!list) byKind.set(kind, (list = []));
      list.push(row);
      if (kind === 'reading') {
        const ts = row[0] as number;
        days.add(dayOf(ts));
        if (oldestReading === null || ts < oldestReading) oldestReading = ts;
      }
    }
  }
  const statements = HISTORY_KINDS.filter((k) => byKind.has(k)).map((kind) => {
    const rows = byKind.get(kind)!;
    return { kind, sql: insertSql(schema, kind), params: columnsOf(kind, rows), rows: rows.length };
  });
  return { entries, rowCount, statements, days: [...days].sort((a, b) => a - b), oldestReading };
}
