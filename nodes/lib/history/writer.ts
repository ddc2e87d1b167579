/**
 * The history writer: a bounded in-memory queue in front of PostgreSQL. Messages are written in
 * batches (size or delay, whichever comes first), in arrival order, one batch at a time. While the
 * database is unreachable the queue holds what arrives and the batch is retried with exponential
 * backoff; what does not fit is refused at once (counted, never dropped silently). A batch the
 * database refuses for its data is split up so only the offending message is refused.
 *
 * Knows nothing about Node-RED; talks to any pool with pg's `connect()` / `query()` shape.
 */
import type { MappedRow } from './kinds';
import { planBatch, type BatchPlan, type QueuedEntry } from './batch';
import { DEFAULT_TIERS, TIMESCALE_AVAILABLE_SQL, ident, schemaStatements, type RetentionTiers, type SchemaVariant } from './schema';
import { createPartitionSql, daysAhead, listPartitionsSql, retentionPlan, rollupRange, rollupSql, rollupStateSql } from './retention';

export interface QueryResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number | null;
}
export interface ClientLike {
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
  release(err?: Error | boolean): void;
  on?(event: 'error', listener: (err: Error) => void): unknown;
  removeListener?(event: 'error', listener: (err: Error) => void): unknown;
}
export interface PoolLike {
  connect(): Promise<ClientLike>;
}

export interface WriterOptions {
  schema: string;
  /** 'auto': TimescaleDB when the server offers it (and the schema is not already plain). */
  variant?: SchemaVariant | 'auto';
  tiers?: RetentionTiers;
  batchRows?: number;
  maxDelayMs?: number;
  /** Queue bound in rows; a message that does not fit is refused. */
  maxQueueRows?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Day partitions created ahead of today. */
  aheadDays?: number;
  now?: () => number;
}

export interface WriterEvents {
  /** Connection state changed, or a batch failed (with the error). */
  onState?: (connected: boolean, err?: Error) => void;
  onWritten?: (rows: number, inserted: number) => void;
}

export interface WriterStats {
  connected: boolean;
  variant: SchemaVariant | undefined;
  queuedRows: number;
  queuedMessages: number;
  /** Rows sent to the database, and how many of them were new (the rest were duplicates). */
  rowsWritten: number;
  rowsInserted: number;
  /** Messages refused because the queue was full, or by the database for their data, or at close. */
  refusedFull: number;
  refusedByDb: number;
  lostAtClose: number;
  failures: number;
  lastError: string | undefined;
}

export class WriterError extends Error {
  constructor(
    readonly code: 'queue_full' | 'db_refused' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

type Callback = (err?: Error) => void;

/** SQLSTATE classes that mean "this data can never be stored" (not a connection or lock problem). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  if (code === '23505' || code === '23514') return false; // concurrent DDL; missing partition (created on retry)
  return code.startsWith('22') || code.startsWith('23');
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class HistoryWriter {
  private readonly queue: Array<QueuedEntry<Callback>> = [];
  private queuedRows = 0;
  private readonly o: Required<Omit<WriterOptions, 'variant'>> & { variant: SchemaVariant | 'auto' };
  private variant: SchemaVariant | undefined;
  private schemaReady = false;
  private readonly partitions = new Set<number>();
  private partitionLock: Promise<void> = Promise.resolve();
  private connected = false;
  private flushing = false;
  private closed = false;
  private attempt = 0;
  private isolate = 0;
  /** Entries at the head of the queue that the batch in flight carries. */
  private inflight = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly counters = { rowsWritten: 0, rowsInserted: 0, refusedFull: 0, refusedByDb: 0, lostAtClose: 0, failures: 0 };
  private lastError: string | undefined;

  constructor(
    private readonly pool: PoolLike,
    options: WriterOptions,
    private readonly events: WriterEvents = {},
  ) {
    this.o = {
      variant: options.variant ?? 'auto',
      schema: options.schema,
      tiers: options.tiers ?? DEFAULT_TIERS,
      batchRows: options.batchRows ?? 5000,
      maxDelayMs: options.maxDelayMs ?? 500,
      maxQueueRows: options.maxQueueRows ?? 100_000,
      retryMinMs: options.retryMinMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      aheadDays: options.aheadDays ?? 2,
      now: options.now ?? Date.now,
    };
  }

  stats(): WriterStats {
    return { connected: this.connected, variant: this.variant, queuedRows: this.queuedRows, queuedMessages: this.queue.length, ...this.counters, lastError: this.lastError };
  }

  /**
   * Queues one message's rows; `done` is called once they are committed (or refused by the
   * database, or lost at close). False, with `done` never called, when the queue is full or closed.
   */
  enqueue(rows: MappedRow[], done: Callback): boolean {
    if (this.closed) return false;
    if (this.queuedRows + rows.length > this.o.maxQueueRows) {
      this.counters.refusedFull++;
      return false;
    }
    this.queue.push({ rows, tag: done });
    this.queuedRows += rows.length;
    if (this.queuedRows >= this.o.batchRows) this.kick(0);
    else this.kick(this.o.maxDelayMs);
    return true;
  }

  /** Resolves when the queue is empty and no batch is in flight. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(delayMs: number): void {
    if (this.closed || this.flushing || this.retryTimer) return;
    if (delayMs === 0) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      setImmediate(() => void this.flush());
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, delayMs);
    }
  }

  private setConnected(connected: boolean, err?: Error): void {
    const changed = connected !== this.connected;
    this.connected = connected;
    if (changed || err) this.events.onState?.(connected, err);
  }

  /** Runs `fn` on a pooled connection; a broken connection is discarded, not reused. */
  private async withClient<T>(fn: (c: ClientLike) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out pg client whose server goes away emits 'error' (and fails its query); without
    // a listener that event would crash the whole Node-RED process.
    const ignore = () => {};
    client.on?.('error', ignore);
    try {
      const result = await fn(client);
      client.removeListener?.('error', ignore);
      client.release();
      return result;
    } catch (err) {
      client.removeListener?.('error', ignore);
      client.release(isDataError(err) ? undefined : toError(err));
      throw err;
    }
  }

  /** Creates (or confirms) the schema; serialised across writers by an advisory lock. */
  async ensureSchema(): Promise<SchemaVariant> {
    if (this.schemaReady && this.variant) return this.variant;
    const variant = await this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`pdm-history:${this.o.schema}`]);
        let chosen: SchemaVariant;
        const existing = await c.query(`SELECT to_regclass($1) AS t`, [`${ident(this.o.schema)}.pdm_schema_version`]);
        const known = existing.rows[0]?.t ? await c.query(`SELECT variant FROM ${ident(this.o.schema)}.pdm_schema_version ORDER BY version DESC LIMIT 1`) : undefined;
        if (known && known.rows.length) chosen = known.rows[0].variant === 'timescale' ? 'timescale' : 'plain';
        else if (this.o.variant !== 'auto') chosen = this.o.variant;
        else chosen = ((await c.query(TIMESCALE_AVAILABLE_SQL)).rows[0]?.n as number) > 0 ? 'timescale' : 'plain';
        for (const sql of schemaStatements(this.o.schema, chosen, this.o.tiers)) await c.query(sql);
        await c.query('COMMIT');
        return chosen;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
    this.variant = variant;
    this.schemaReady = true;
    this.partitions.clear();
    return variant;
  }

  /** Creates the raw partitions of these days (and of today and the days ahead). */
  async ensurePartitions(days: number[] = []): Promise<number> {
    const variant = await this.ensureSchema();
    if (variant !== 'plain') return 0;
    const wanted = [...new Set([...days, ...daysAhead(this.o.now(), this.o.aheadDays)])].filter((d) => !this.partitions.has(d));
    if (wanted.length === 0) return 0;
    // One creator at a time in this writer; another writer racing us shows as a duplicate error.
    const run = this.partitionLock.then(() =>
      this.withClient(async (c) => {
        let created = 0;
        for (const day of wanted) {
          if (this.partitions.has(day)) continue;
          try {
            await c.query(createPartitionSql(this.o.schema, day));
            created++;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code !== '42P07' && code !== '23505') throw err;
          }
          this.partitions.add(day);
        }
        return created;
      }),
    );
    this.partitionLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.closed || this.queue.length === 0) return this.settleIdle();
    this.flushing = true;
    const plan = planBatch(this.o.schema, this.queue, this.o.batchRows, this.isolate > 0 ? 1 : Infinity);
    this.inflight = plan.entries.length;
    try {
      await this.ensureSchema();
      if (plan.days.length) await this.ensurePartitions(plan.days);
      const inserted = await this.writeBatch(plan);
      this.take(plan);
      if (this.isolate > 0) this.isolate--;
      this.attempt = 0;
      this.lastError = undefined;
      this.setConnected(true);
      this.counters.rowsWritten += plan.rowCount;
      this.counters.rowsInserted += inserted;
      this.events.onWritten?.(plan.rowCount, inserted);
      for (const entry of plan.entries) entry.tag();
    } catch (err) {
      const error = toError(err);
      this.lastError = error.message;
      this.counters.failures++;
      if (isDataError(err)) {
        this.setConnected(true, error);
        if (plan.entries.length > 1) this.isolate = plan.entries.length;
        else {
          // This message alone is refused by the database: hand it back as refused.
          this.take(plan);
          this.counters.refusedByDb++;
          if (this.isolate > 0) this.isolate--;
          plan.entries[0].tag(new WriterError('db_refused', error.message));
        }
      } else {
        if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') this.schemaReady = false; // dropped underneath us
        if ((error as { code?: string }).code === '23514') this.partitions.clear();
        this.setConnected(false, error);
        if (this.closed) {
          // close() already gave up on the queue; this batch is lost with it.
          this.take(plan);
          this.counters.lostAtClose += plan.entries.length;
          this.flushing = false;
          this.inflight = 0;
          for (const entry of plan.entries) entry.tag(new WriterError('closed', 'the node closed before these rows were written'));
          return this.settleIdle();
        }
        const delay = Math.min(this.o.retryMaxMs, this.o.retryMinMs * 2 ** Math.min(this.attempt++, 20));
        this.flushing = false;
        this.inflight = 0;
        {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.flush();
          }, delay);
        }
        return;
      }
    }
    this.flushing = false;
    this.inflight = 0;
    if (this.queue.length > 0) this.kick(this.queuedRows >= this.o.batchRows || this.isolate > 0 ? 0 : this.o.maxDelayMs);
    this.settleIdle();
  }

  private take(plan: BatchPlan<Callback>): void {
    this.queue.splice(0, plan.entries.length);
    this.queuedRows -= plan.rowCount;
  }

  private settleIdle(): void {
    if (this.queue.length === 0 && !this.flushing) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** One transaction: every INSERT of the batch, then the roll-up's dirty mark. Returns new rows. */
  private async writeBatch(plan: BatchPlan<Callback>): Promise<number> {
    const st = rollupStateSql(this.o.schema);
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        let inserted = 0;
        for (const s of plan.statements) inserted += (await c.query(s.sql, s.params)).rowCount ?? 0;
        if (plan.oldestReading !== null && this.variant === 'plain') await c.query(st.dirty, [new Date(plan.oldestReading).toISOString()]);
        await c.query('COMMIT');
        return inserted;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /**
   * Aggregates complete minutes into readings_1m: everything since the last roll-up plus the
   * minutes that late or replayed readings touched. Returns the range and the aggregate rows upserted.
   */
  async rollup(): Promise<{ from: number; to: number; rows: number } | undefined> {
    const variant = await this.ensureSchema();
    const now = this.o.now();
    if (variant === 'timescale') {
      const from = now - this.o.tiers.rawDays * 86_400_000;
      await this.withClient((c) => c.query(`CALL refresh_continuous_aggregate('${ident(this.o.schema)}.readings_1m', $1::timestamptz, $2::timestamptz)`, [new Date(from).toISOString(), new Date(now).toISOString()]));
      return { from, to: now, rows: 0 };
    }
    const st = rollupStateSql(this.o.schema);
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        // The row lock orders us after any batch that marked dirt, so its rows are visible here.
        const state = (await c.query(`${st.read} FOR UPDATE`)).rows[0] ?? {};
        const asNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        const range = rollupRange(now, asNumber(state.watermark), asNumber(state.dirty_from), this.o.tiers.rawDays);
        if (!range) {
          await c.query('COMMIT');
          return undefined;
        }
        const from = new Date(range.from).toISOString();
        const to = new Date(range.to).toISOString();
        const res = await c.query(rollupSql(this.o.schema), [from, to]);
        await c.query(st.done, [to, from]);
        await c.query('COMMIT');
        return { ...range, rows: res.rowCount ?? 0 };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /** Applies every tier: drops old day partitions, deletes what is left past each cutoff. */
  async retention(): Promise<{ droppedPartitions: string[]; deleted: Record<string, number> }> {
    const variant = await this.ensureSchema();
    const now = this.o.now();
    return this.withClient(async (c) => {
      const deleted: Record<string, number> = {};
      let partitions: string[] = [];
      if (variant === 'plain') partitions = (await c.query(listPartitionsSql(), [this.o.schema])).rows.map((r) => String(r.name));
      const plan = retentionPlan(this.o.schema, this.o.tiers, now, partitions);
      if (variant === 'timescale') {
        await c.query(`SELECT drop_chunks('${ident(this.o.schema)}.readings', older_than => $1::timestamptz)`, [new Date(plan.rawCutoff).toISOString()]);
      }
      for (const s of plan.statements) {
        if (variant === 'timescale' && (s.what === 'readings' || s.what === 'readings_1m')) continue; // policies and drop_chunks
        const res = await c.query(s.sql, s.params);
        if (!s.sql.startsWith('DROP')) deleted[s.what] = (deleted[s.what] ?? 0) + (res.rowCount ?? 0);
      }
      for (const name of plan.dropPartitions) {
        const m = /(\d{4})(\d{2})(\d{2})$/.exec(name);
        if (m) this.partitions.delete(Math.floor(Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86_400_000));
      }
      return { droppedPartitions: plan.dropPartitions, deleted };
    });
  }

  /**
   * Stops timers and tries to write what is queued for up to `graceMs`; what is still queued then
   * is handed back as lost (each message's callback gets an error) and counted.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.flushTimer = this.retryTimer = undefined;
    if (this.queue.length > 0 && this.connected && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      if (!this.flushing) void this.flush();
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // The batch in flight settles on its own (written, or lost in flush()).
    const lost = this.queue.splice(this.flushing ? this.inflight : 0);
    for (const entry of lost) this.queuedRows -= entry.rows.length;
    this.counters.lostAtClose += lost.length;
    for (const entry of lost) entry.tag(new WriterError('closed', 'the node closed before these rows were written'));
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
