/**
 * The durable outbox of one pdm-cmms node: the episode book (which episode has a work order,
 * its external id, its label) and the queue of operations, both kept in a Journal.
 *
 * Guarantees:
 *  - submit() resolves only when the episode records and operations it produced are on disk;
 *    nothing is sent before that, so a crash never leaves a sent operation that the restarted
 *    node does not know about;
 *  - operations of one episode run strictly one after the other, in the order queued; episodes
 *    run concurrently (up to `concurrency`), through the target's gate (rate limit, circuit pause);
 *  - a failed attempt is retried with exponential backoff and jitter, never before Retry-After;
 *    a fatal error or `maxAttempts` failures move the operation to the dead letters (kept, and
 *    retryable on command);
 *  - a create that may have reached the target (ambiguous failure, or queued before a restart)
 *    is sent `inDoubt`, and the client looks the work order up before creating it again.
 */
import { buildContent, dedupeKey, type ContentOptions } from './content';
import { DEFAULT_PLAN, plan, type PlanOptions } from './episodes';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions, type TargetGate } from './backoff';
import { MinHeap } from './heap';
import { Journal, type JournalRecord } from './journal';
import { realClock, type AlertInput, type Clock, type DeliveryClient, type DeliveryOutcome, type EpisodeRecord, type LabelType, type OpRecord } from './types';

export interface OutboxEvents {
  /** An operation was delivered (after its outcome is on disk). */
  delivered?(op: OpRecord, outcome: Extract<DeliveryOutcome, { ok: true }>, episode: EpisodeRecord | undefined): void;
  /** An operation moved to the dead letters (after that is on disk). */
  dead?(op: OpRecord, episode: EpisodeRecord | undefined): void;
  /** One attempt failed and will be retried. */
  failed?(op: OpRecord, outcome: Extract<DeliveryOutcome, { ok: false }>): void;
  /** Queue depth or health changed. */
  changed?(): void;
  /** The journal could not be written (the outbox keeps running in memory). */
  error?(err: Error): void;
}

export interface OutboxOptions {
  dir: string;
  client: DeliveryClient;
  gate: TargetGate;
  clock?: Clock;
  plan?: Partial<PlanOptions>;
  content?: ContentOptions;
  /** Episodes delivered at the same time. */
  concurrency?: number;
  /** Attempts before an operation goes to the dead letters. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Pending operations at most; submit() refuses events beyond (outbox_full). */
  maxQueue?: number;
  /** Closed episodes and dead letters are forgotten after this long. */
  retentionMs?: number;
  /** Journal records between compactions (at least the size of the live state). */
  compactAfter?: number;
  random?: () => number;
  events?: OutboxEvents;
}

export interface SubmitResult {
  alert: AlertInput;
  operations: OpRecord['operation'][];
  ignored?: string;
  refused?: 'outbox_full';
}

export interface OutboxStats {
  queued: number;
  inflight: number;
  dead: number;
  episodes: number;
  open: number;
  delivered: number;
  failedAttempts: number;
  failing: boolean;
  lastError?: string;
  /** Replay found a torn tail or unreadable lines (reported once at open). */
  recovered: { records: number; torn: boolean; skipped: number };
}

interface OpState extends OpRecord {
  durable: boolean;
  inHeap: boolean;
}

const opRecord = (op: OpState): OpRecord => {
  const { durable: _d, inHeap: _h, ...rest } = op;
  return rest;
};

const DAY = 86_400_000;

export class Outbox {
  private readonly clock: Clock;
  private readonly planOptions: PlanOptions;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly maxQueue: number;
  private readonly retentionMs: number;
  private readonly compactAfter: number;
  private readonly random: () => number;
  private readonly events: OutboxEvents;

  private readonly episodes = new Map<string, EpisodeRecord>();
  private readonly byExternal = new Map<string, string>();
  private readonly byEpisodeId = new Map<string, string>();
  private readonly queues = new Map<string, OpState[]>();
  private readonly deadOps = new Map<string, OpState>();
  private readonly heap = new MinHeap<OpState>((a, b) => a.nextAt < b.nextAt || (a.nextAt === b.nextAt && a.seq < b.seq));
  private readonly busy = new Set<string>();
  private readonly inflight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private pendingCount = 0;
  private seq = 0;
  private timer: unknown;
  private timerAt = Infinity;
  private closing = false;
  private compacting: Promise<void> | undefined;
  private delivered = 0;
  private failedAttempts = 0;
  private recovered = { records: 0, torn: false, skipped: 0 };

  private constructor(
    private readonly journal: Journal,
    private readonly options: OutboxOptions,
  ) {
    this.clock = options.clock ?? realClock;
    this.planOptions = { ...DEFAULT_PLAN, ...options.plan };
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 50));
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxQueue = Math.max(1, Math.floor(options.maxQueue ?? 100_000));
    this.retentionMs = options.retentionMs ?? 30 * DAY;
    this.compactAfter = Math.max(100, Math.floor(options.compactAfter ?? 20_000));
    this.random = options.random ?? Math.random;
    this.events = options.events ?? {};
  }

  /** Opens (or recovers) the outbox in `options.dir` and starts delivering what is pending. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const opened = await Journal.open(options.dir);
    const outbox = new Outbox(opened.journal, options);
    outbox.replay(opened.records);
    outbox.recovered = { records: opened.records.length, torn: opened.torn, skipped: opened.skipped };
    if (opened.journal.appended > 0 || opened.torn || opened.skipped > 0) await outbox.compact();
    outbox.pump();
    return outbox;
  }

  // ---- recovery ---------------------------------------------------------------------------

  private replay(records: JournalRecord[]): void {
    const ops = new Map<string, OpState>();
    for (const rec of records) {
      switch (rec.k) {
        case 'meta':
          this.seq = Math.max(this.seq, Number(rec.seq) || 0);
          break;
        case 'ep': {
          const ep = rec.ep as EpisodeRecord;
          if (ep && typeof ep.key === 'string') this.setEpisode(ep);
          break;
        }
        case 'op': {
          const op = rec.op as OpRecord;
          if (op && typeof op.id === 'string') ops.set(op.id, { ...op, durable: true, inHeap: false });
          break;
        }
        case 'ok': {
          ops.delete(String(rec.id));
          const ep = this.episodes.get(String(rec.key));
          if (ep && typeof rec.externalId === 'string') {
            ep.externalId = rec.externalId;
            if (typeof rec.url === 'string') ep.externalUrl = rec.url;
            this.byExternal.set(rec.externalId, ep.key);
          }
          break;
        }
        case 'try': {
          const op = ops.get(String(rec.id));
          if (op) {
            op.attempts = Number(rec.attempts) || op.attempts;
            op.nextAt = Number(rec.nextAt) || op.nextAt;
            op.inDoubt = op.inDoubt || rec.inDoubt === true;
            if (typeof rec.error === 'string') op.lastError = rec.error;
          }
          break;
        }
        case 'dead': {
          const op = ops.get(String(rec.id));
          if (op) {
            op.status = 'dead';
            op.deadAt = Number(rec.at) || this.clock.now();
            if (typeof rec.error === 'string') op.lastError = rec.error;
            if (typeof rec.attempts === 'number') op.attempts = rec.attempts;
          }
          break;
        }
        case 'retry': {
          const op = ops.get(String(rec.id));
          if (op) {
            op.status = 'pending';
            op.attempts = 0;
            op.nextAt = Number(rec.nextAt) || 0;
            delete op.deadAt;
          }
          break;
        }
        case 'label': {
          const ep = this.episodes.get(String(rec.key));
          if (ep && rec.label && typeof rec.label === 'object') ep.label = rec.label as EpisodeRecord['label'];
          break;
        }
        default:
          break;
      }
    }
    const sorted = [...ops.values()].sort((a, b) => a.seq - b.seq);
    for (const op of sorted) {
      this.seq = Math.max(this.seq, op.seq);
      if (op.status === 'dead') {
        this.deadOps.set(op.id, op);
        continue;
      }
      // Whatever was pending may have been in flight when the process stopped.
      if (op.operation === 'create') op.inDoubt = true;
      this.enqueue(op);
    }
    for (const key of this.queues.keys()) this.activate(key);
  }

  private setEpisode(ep: EpisodeRecord): void {
    this.episodes.set(ep.key, ep);
    this.byEpisodeId.set(ep.episodeId, ep.key);
    if (ep.externalId) this.byExternal.set(ep.externalId, ep.key);
  }

  private snapshotRecords(): JournalRecord[] {
    const now = this.clock.now();
    const records: JournalRecord[] = [{ k: 'meta', seq: this.seq }];
    const keep = new Set<string>();
    for (const q of this.queues.values()) for (const op of q) keep.add(op.key);
    for (const [id, op] of this.deadOps) {
      if (op.deadAt !== undefined && now - op.deadAt > this.retentionMs) this.deadOps.delete(id);
      else keep.add(op.key);
    }
    for (const [key, ep] of this.episodes) {
      const idle = ep.state !== 'open' || now - ep.updatedAt > 4 * this.retentionMs;
      if (!keep.has(key) && idle && now - ep.updatedAt > this.retentionMs) {
        this.episodes.delete(key);
        if (this.byEpisodeId.get(ep.episodeId) === key) this.byEpisodeId.delete(ep.episodeId);
        if (ep.externalId && this.byExternal.get(ep.externalId) === key) this.byExternal.delete(ep.externalId);
        continue;
      }
      records.push({ k: 'ep', ep });
    }
    const ops: OpState[] = [...this.deadOps.values()];
    for (const q of this.queues.values()) ops.push(...q);
    ops.sort((a, b) => a.seq - b.seq);
    for (const op of ops) records.push({ k: 'op', op: opRecord(op) });
    return records;
  }

  private compact(): Promise<void> {
    if (this.compacting) return this.compacting;
    this.compacting = this.journal
      .compact(() => this.snapshotRecords())
      .catch((err: Error) => this.events.error?.(err))
      .finally(() => {
        this.compacting = undefined;
      });
    return this.compacting;
  }

  private maybeCompact(): void {
    const live = this.episodes.size + this.pendingCount + this.deadOps.size;
    if (!this.closing && this.journal.appended > Math.max(this.compactAfter, live)) void this.compact();
  }

  private async write(records: JournalRecord[]): Promise<void> {
    await this.journal.appendAll(records);
    this.maybeCompact();
  }

  // ---- input ------------------------------------------------------------------------------

  /**
   * Plans and journals alert events; resolves when their records are durable (then their
   * operations may be sent). Events that would overflow the queue are refused, not dropped.
   */
  async submit(alerts: AlertInput[]): Promise<SubmitResult[]> {
    if (this.closing) throw new Error('outbox is closing');
    const now = this.clock.now();
    const results: SubmitResult[] = [];
    const records: JournalRecord[] = [];
    const created: OpState[] = [];
    for (const alert of alerts) {
      const current = this.episodes.get(this.keyOf(alert));
      const p = plan(current, alert, this.planOptions, now);
      if (p.ignored === 'duplicate') {
        results.push({ alert, operations: [], ignored: 'duplicate' });
        continue;
      }
      if (this.pendingCount + p.ops.length > this.maxQueue) {
        results.push({ alert, operations: [], refused: 'outbox_full' });
        continue;
      }
      const ep = p.record;
      const ops: OpState[] = p.ops.map((o) => ({
        id: `${ep.key}:${++ep.ops}`,
        key: ep.key,
        seq: ++this.seq,
        operation: o.operation,
        ...(o.reopen ? { reopen: true } : {}),
        content: buildContent(alert, o.operation, this.options.content),
        createdAt: now,
        attempts: 0,
        nextAt: now,
        inDoubt: false,
        status: 'pending',
        durable: false,
        inHeap: false,
      }));
      // The record in memory is shared with later deliveries (external id), so keep the object.
      if (current) Object.assign(current, ep);
      else this.setEpisode(ep);
      records.push({ k: 'ep', ep: { ...(current ?? ep) } });
      for (const op of ops) {
        records.push({ k: 'op', op: opRecord(op) });
        this.enqueue(op);
        created.push(op);
      }
      results.push({ alert, operations: ops.map((o) => o.operation), ...(p.ignored ? { ignored: p.ignored } : {}) });
    }
    if (records.length) await this.write(records);
    for (const op of created) {
      op.durable = true;
      this.activate(op.key);
    }
    if (created.length) {
      this.events.changed?.();
      this.pump();
    }
    return results;
  }

  private keyOf(alert: AlertInput): string {
    return dedupeKey(alert.assetId, alert.episodeId);
  }

  private enqueue(op: OpState): void {
    let q = this.queues.get(op.key);
    if (!q) this.queues.set(op.key, (q = []));
    // Keep seq order (a retried dead letter may be older than what is queued).
    let i = q.length;
    while (i > 0 && q[i - 1].seq > op.seq) i--;
    q.splice(i, 0, op);
    this.pendingCount++;
  }

  private dequeue(op: OpState): void {
    const q = this.queues.get(op.key);
    if (!q) return;
    const i = q.indexOf(op);
    if (i >= 0) {
      q.splice(i, 1);
      this.pendingCount--;
    }
    if (q.length === 0) this.queues.delete(op.key);
  }

  /** Puts the episode's head into the ready heap when the episode is idle. */
  private activate(key: string): void {
    if (this.busy.has(key)) return;
    const head = this.queues.get(key)?.[0];
    if (!head || !head.durable || head.inHeap) return;
    head.inHeap = true;
    this.heap.push(head);
  }

  // ---- delivery ---------------------------------------------------------------------------

  private schedule(ms: number): void {
    const at = this.clock.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, ms);
  }

  /** Starts every operation that may start now; schedules a wake-up for the next one. */
  pump(): void {
    if (this.closing) return;
    while (this.busy.size < this.concurrency) {
      const head = this.heap.peek();
      if (!head) return;
      if (head.status !== 'pending' || this.queues.get(head.key)?.[0] !== head) {
        // Stale entry (moved to dead letters or re-ordered): drop it and look again.
        this.heap.pop();
        head.inHeap = false;
        this.activate(head.key);
        continue;
      }
      const wait = Math.max(head.nextAt - this.clock.now(), this.options.gate.wait());
      if (wait > 0) {
        this.schedule(wait);
        return;
      }
      this.heap.pop();
      head.inHeap = false;
      this.options.gate.take();
      this.busy.add(head.key);
      const abort = new AbortController();
      const done = this.attempt(head, abort).catch((err: Error) => this.events.error?.(err));
      this.inflight.set(head.id, { abort, done });
    }
  }

  private async attempt(op: OpState, abort: AbortController): Promise<void> {
    const ep = this.episodes.get(op.key);
    try {
      if (this.options.client.needsExternalId && op.operation !== 'create' && !ep?.externalId) {
        this.options.gate.release();
        await this.kill(op, ep, 'no_work_order: the work order of this episode was never created (see the dead letters)');
        return;
      }
      let outcome: DeliveryOutcome;
      try {
        outcome = await this.options.client.deliver(
          { id: op.id, operation: op.operation, ...(op.reopen ? { reopen: true } : {}), content: op.content, externalId: ep?.externalId, attempt: op.attempts + 1, inDoubt: op.inDoubt },
          abort.signal,
        );
      } catch (err) {
        outcome = { ok: false, kind: 'retry', ambiguous: true, code: 'client_error', message: (err as Error).message };
      }
      if (abort.signal.aborted && this.closing) {
        // Closing: leave it pending (and in doubt) for the next start.
        this.options.gate.release();
        return;
      }
      op.attempts += 1;
      if (outcome.ok) {
        this.options.gate.succeed();
        const rec: JournalRecord = { k: 'ok', id: op.id, key: op.key, at: this.clock.now(), attempts: op.attempts };
        if (op.operation === 'create' && outcome.externalId && ep) {
          ep.externalId = outcome.externalId;
          if (outcome.url) ep.externalUrl = outcome.url;
          this.byExternal.set(outcome.externalId, ep.key);
          rec.externalId = outcome.externalId;
          if (outcome.url) rec.url = outcome.url;
        }
        this.dequeue(op);
        this.delivered++;
        await this.write([rec]).catch((err: Error) => this.events.error?.(err));
        this.events.delivered?.(opRecord(op), outcome, ep);
        return;
      }
      this.failedAttempts++;
      op.lastError = `${outcome.code}: ${outcome.message}`.slice(0, 500);
      if (outcome.kind === 'retry') this.options.gate.fail(outcome.code, outcome.retryAfterMs, this.random);
      else this.options.gate.release();
      if (outcome.kind === 'fatal' || op.attempts >= this.maxAttempts) {
        await this.kill(op, ep, op.lastError);
        return;
      }
      const delay = Math.max(backoffDelay(op.attempts, this.backoff, this.random), outcome.retryAfterMs ?? 0);
      op.nextAt = this.clock.now() + delay;
      if (outcome.ambiguous) op.inDoubt = true;
      await this.write([{ k: 'try', id: op.id, attempts: op.attempts, nextAt: op.nextAt, inDoubt: op.inDoubt, error: op.lastError }]).catch((err: Error) =>
        this.events.error?.(err),
      );
      this.events.failed?.(opRecord(op), outcome);
    } finally {
      this.inflight.delete(op.id);
      this.busy.delete(op.key);
      this.activate(op.key);
      this.events.changed?.();
      this.pump();
    }
  }

  private async kill(op: OpState, ep: EpisodeRecord | undefined, error: string): Promise<void> {
    op.status = 'dead';
    op.deadAt = this.clock.now();
    op.lastError = error.slice(0, 500);
    this.dequeue(op);
    this.deadOps.set(op.id, op);
    await this.write([{ k: 'dead', id: op.id, at: op.deadAt, attempts: op.attempts, error: op.lastError }]).catch((err: Error) => this.events.error?.(err));
    this.events.dead?.(opRecord(op), ep);
  }

  // ---- commands and queries ---------------------------------------------------------------

  /** Moves dead letters (all, or of one episode) back into the queue; returns how many. */
  async retryDead(filter: { episodeId?: string; assetId?: string } = {}): Promise<number> {
    const now = this.clock.now();
    const picked = [...this.deadOps.values()]
      .filter((op) => {
        const ep = this.episodes.get(op.key);
        return (!filter.episodeId || ep?.episodeId === filter.episodeId) && (!filter.assetId || ep?.assetId === filter.assetId);
      })
      .sort((a, b) => a.seq - b.seq);
    if (picked.length === 0) return 0;
    for (const op of picked) {
      this.deadOps.delete(op.id);
      op.status = 'pending';
      op.attempts = 0;
      op.nextAt = now;
      op.durable = false;
      delete op.deadAt;
      this.enqueue(op);
    }
    await this.write(picked.map((op) => ({ k: 'retry', id: op.id, nextAt: now })));
    for (const op of picked) {
      op.durable = true;
      this.activate(op.key);
    }
    this.events.changed?.();
    this.pump();
    return picked.length;
  }

  /** Records the label that came back for an episode; 'duplicate' when it already has that label. */
  async label(key: string, type: LabelType, reason: string | undefined): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const ep = this.episodes.get(key);
    if (!ep) return 'unknown';
    if (ep.label && ep.label.type === type && ep.label.reason === reason) return 'duplicate';
    ep.label = { type, ...(reason ? { reason } : {}), at: this.clock.now() };
    await this.write([{ k: 'label', key, label: ep.label }]);
    return 'recorded';
  }

  episodeByExternalId(id: string): EpisodeRecord | undefined {
    const key = this.byExternal.get(id);
    return key ? this.episodes.get(key) : undefined;
  }

  episodeById(episodeId: string): EpisodeRecord | undefined {
    const key = this.byEpisodeId.get(episodeId);
    return key ? this.episodes.get(key) : undefined;
  }

  episode(key: string): EpisodeRecord | undefined {
    return this.episodes.get(key);
  }

  deadLetters(): OpRecord[] {
    return [...this.deadOps.values()].map(opRecord);
  }

  pending(): OpRecord[] {
    const out: OpRecord[] = [];
    for (const q of this.queues.values()) for (const op of q) out.push(opRecord(op));
    return out.sort((a, b) => a.seq - b.seq);
  }

  stats(): OutboxStats {
    let open = 0;
    for (const ep of this.episodes.values()) if (ep.state === 'open') open++;
    const gate = this.options.gate;
    return {
      queued: this.pendingCount,
      inflight: this.busy.size,
      dead: this.deadOps.size,
      episodes: this.episodes.size,
      open,
      delivered: this.delivered,
      failedAttempts: this.failedAttempts,
      failing: gate.failing,
      ...(gate.lastError ? { lastError: gate.lastError } : {}),
      recovered: this.recovered,
    };
  }

  /**
   * Stops sending: waits up to `graceMs` for requests in flight, aborts the rest (they stay
   * pending, in doubt), compacts and closes the journal.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const running = [...this.inflight.values()];
    if (running.length) {
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(running.map((r) => r.done)), new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
      clearTimeout(grace);
      for (const r of this.inflight.values()) r.abort.abort();
      await Promise.all([...this.inflight.values()].map((r) => r.done));
    }
    this.heap.clear();
    if (this.compacting) await this.compacting;
    await this.journal.close();
  }
}
