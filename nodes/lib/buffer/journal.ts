/**
 * A durable, append-only journal of outgoing MQTT messages (store-and-forward).
 *
 * On disk, in its own directory:
 *   <first seq, 16 digits>.seg   segment files of CRC-checked frames (frame.ts), one record each
 *   checkpoint.json              the acknowledged offset `head` (every seq below it is done:
 *                                delivered, dropped or expired) and the loss counters
 *   LOCK                         pid of the process that has the journal open
 *
 * Lifecycle of a record:
 *   append()  → queued in memory, written with one write() per event-loop turn (or per MiB),
 *               then made durable by an fsync of the segment that runs at most every `syncMs`
 *               (group commit; `onDurable` and the append's callback fire then);
 *   next()    → handed to the publisher once durable, in journal order (so in order per asset);
 *   ack(seq)  → done (PUBACK); `head` moves over every done prefix, segments entirely below it
 *               are deleted, and the checkpoint is rewritten at most every `checkpointMs`;
 *   rewind()  → the connection dropped: everything handed out but not acknowledged is handed
 *               out again (at-least-once; consumers dedupe on the idempotency key).
 *
 * Bounds: pending bytes ≤ `maxBytes` with an explicit overflow policy — `drop-oldest` (whole
 * oldest segments are discarded, every record counted in `dropped`), `drop-newest` (the new
 * record is not stored, counted in `dropped`), `reject` (not stored, counted in `rejected`, the
 * caller reports it). Records older than `maxAgeMs` are skipped when read and whole segments of
 * them are deleted by maintain(), counted in `expired`.
 *
 * Recovery (open): every segment is scanned and checksummed; a torn tail is truncated; damaged
 * frames are skipped and the sequence gap they leave is counted in `corrupt`; records below the
 * checkpoint are discarded. A kill -9 loses nothing that append() had written (the page cache
 * survives a process); a power cut loses at most the last `syncMs` of appends, whose callbacks
 * had not fired yet.
 *
 * No Node-RED, no native dependency: Node's fs only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeFrame, HEADER_BYTES, readFrame } from './frame';
import { decodeBody, encodeBody, type JournalRecord, type RecordInput } from './record';

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'reject'];

export interface JournalOptions {
  dir: string;
  /** Bound on the bytes of records not yet done (default 100 MiB). */
  maxBytes?: number;
  /** Records older than this are expired (default 7 days; 0 = no age bound). */
  maxAgeMs?: number;
  overflow?: OverflowPolicy;
  /** Segment size (default maxBytes/8, between 64 KiB and 4 MiB; at most maxBytes/4). */
  segmentBytes?: number;
  /** Group commit: at most one fsync per `syncMs` (default 100). */
  syncMs?: number;
  /** false: no fsync at all (records are handed out once written; survives a process kill, not a power cut). */
  fsync?: boolean;
  /** How often the acknowledged offset is saved (default 1000 ms). */
  checkpointMs?: number;
  /** Recently appended records kept in memory so live traffic is never read back from disk (default 50,000). */
  cacheRecords?: number;
  /** Clock for record times and ages (default Date.now). */
  now?: () => number;
  /** Called (synchronously) whenever more records became durable. */
  onDurable?: () => void;
}

export interface JournalCounters {
  appended: number;
  delivered: number;
  /** Lost to the overflow policy (drop-oldest, drop-newest). */
  dropped: number;
  /** Lost to the age bound. */
  expired: number;
  /** Refused at append by the `reject` policy (the caller still has them). */
  rejected: number;
  /** Acknowledged by the broker with an error reason code (MQTT 5), so never delivered. */
  refused: number;
  /** Lost to damaged bytes found on recovery. */
  corrupt: number;
}

export interface JournalStats {
  counters: JournalCounters;
  /** Records not yet done (delivered, dropped, expired or refused). */
  pending: number;
  pendingBytes: number;
  /** Append time of the oldest pending record. */
  oldestTs: number | undefined;
  /** Records handed out and not yet acknowledged. */
  inflight: number;
  segments: number;
  head: number;
  nextSeq: number;
  durableSeq: number;
  maxBytes: number;
  maxAgeMs: number;
  overflow: OverflowPolicy;
}

export type AppendResult =
  | { ok: true; seq: number }
  | { ok: false; code: 'full' | 'dropped' | 'too_large' | 'closed' | 'io'; error?: string };

export interface RecoveryReport {
  /** Pending records found on disk. */
  pending: number;
  segments: number;
  truncatedBytes: number;
  corrupt: number;
  checkpoint: 'ok' | 'missing' | 'unreadable';
}

export class JournalError extends Error {
  constructor(
    readonly code: 'locked' | 'io',
    message: string,
  ) {
    super(message);
  }
}

const MiB = 1024 * 1024;
const INDEX_EVERY = 128;
const READ_CHUNK = MiB;
const WRITE_CHUNK = MiB;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const CHECKPOINT = 'checkpoint.json';
const LOCK = 'LOCK';

interface Segment {
  first: number;
  /** Last seq in it (first - 1 while empty). */
  last: number;
  file: string;
  /** Bytes appended to it, queued ones included. */
  size: number;
  /** Bytes written to the file. */
  written: number;
  count: number;
  firstTs: number;
  lastTs: number;
  /** Flat [seq, offset, seq, offset, ...] every INDEX_EVERY records. */
  index: number[];
  /** Records below head and their bytes. */
  doneCount: number;
  doneBytes: number;
}

interface Outstanding {
  seq: number;
  bytes: number;
  ts: number;
  done: boolean;
}

/** Directories open in this process (a second open of the same journal is refused). */
const openDirs = new Set<string>();

function pad(seq: number): string {
  return String(seq).padStart(16, '0');
}

function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Journal {
  readonly dir: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly overflow: OverflowPolicy;
  readonly segmentBytes: number;
  readonly maxRecordBytes: number;
  readonly recovery: RecoveryReport;
  /** Stamped on appended records: the connection generation that is live (0: not connected). */
  liveGeneration = 0;

  private readonly syncMs: number;
  private readonly useFsync: boolean;
  private readonly checkpointMs: number;
  private readonly cacheCap: number;
  private readonly now: () => number;
  private readonly onDurable?: () => void;

  private readonly counters: JournalCounters = { appended: 0, delivered: 0, dropped: 0, expired: 0, rejected: 0, refused: 0, corrupt: 0 };
  private segs: Segment[] = [];
  private activeFd: number | undefined;
  private head = 0;
  private nextSeq = 0;
  private writtenSeq = 0;
  private durableSeq = 0;
  private pendingCount = 0;
  private pendingBytes = 0;

  private queue: Buffer[] = [];
  private queueBytes = 0;
  private writeScheduled: NodeJS.Immediate | undefined;

  private cache: JournalRecord[] = [];
  private cacheOff = 0;

  private readSeq = 0;
  private outstanding: Outstanding[] = [];
  private outOff = 0;
  /** Acknowledged out of order before a rewind: skipped when handed out again. */
  private ackedAhead = new Set<number>();
  private diskBatch: JournalRecord[] = [];
  private diskPos = 0;
  /** The seq the disk batch was read from: it holds every record from there on, up to its end. */
  private diskFrom = 0;
  private readFd: { first: number; fd: number } | undefined;
  private peeked: { seq: number; ts: number } | undefined;

  private waiters: Array<{ seq: number; cb: (err?: Error) => void }> = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing = false;
  private syncAgain = false;
  private lastSyncAt = 0;
  /** fds of sealed or deleted segments: fsynced (if needed) and closed by the next sync cycle. */
  private retired: Array<{ fd: number; sync: boolean }> = [];
  private dirDirty = false;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointDirty = false;
  private failure: Error | undefined;
  private closed = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(options: JournalOptions) {
    this.dir = path.resolve(options.dir);
    this.maxBytes = Math.max(64 * 1024, Math.floor(options.maxBytes ?? 100 * MiB));
    this.maxAgeMs = options.maxAgeMs === undefined ? 7 * 24 * 3600_000 : Math.max(0, options.maxAgeMs);
    this.overflow = options.overflow ?? 'drop-oldest';
    const seg = options.segmentBytes ?? Math.min(4 * MiB, Math.max(64 * 1024, Math.floor(this.maxBytes / 8)));
    this.segmentBytes = Math.max(4096, Math.min(seg, Math.floor(this.maxBytes / 4)));
    this.maxRecordBytes = Math.min(MiB, this.segmentBytes);
    this.syncMs = Math.max(0, options.syncMs ?? 100);
    this.useFsync = options.fsync !== false;
    this.checkpointMs = Math.max(0, options.checkpointMs ?? 1000);
    this.cacheCap = Math.max(16, options.cacheRecords ?? 50_000);
    this.now = options.now ?? Date.now;
    this.onDurable = options.onDurable;
    this.recovery = { pending: 0, segments: 0, truncatedBytes: 0, corrupt: 0, checkpoint: 'missing' };
  }

  /** Opens (creating or recovering) the journal in `options.dir`. Throws JournalError. */
  static open(options: JournalOptions): Journal {
    const j = new Journal(options);
    if (openDirs.has(j.dir)) throw new JournalError('locked', `journal ${j.dir} is already open in this process`);
    try {
      fs.mkdirSync(j.dir, { recursive: true });
      j.lock();
    } catch (err) {
      if (err instanceof JournalError) throw err;
      throw new JournalError('io', `cannot open journal ${j.dir}: ${(err as Error).message}`);
    }
    openDirs.add(j.dir);
    try {
      j.recover();
    } catch (err) {
      openDirs.delete(j.dir);
      j.unlock();
      throw new JournalError('io', `cannot recover journal ${j.dir}: ${(err as Error).message}`);
    }
    return j;
  }

  // ---------------------------------------------------------------------------------------------
  // Lock

  private lock(): void {
    const file = path.join(this.dir, LOCK);
    try {
      const held = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number; start?: string };
      if (typeof held.pid === 'number' && held.pid !== process.pid && alive(held.pid)) {
        const start = procStart(held.pid);
        if (held.start === undefined || start === undefined || start === held.start) {
          throw new JournalError('locked', `journal ${this.dir} is in use by process ${held.pid}`);
        }
      }
    } catch (err) {
      if (err instanceof JournalError) throw err;
      // no lock, or an unreadable one: stale
    }
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, start: procStart(process.pid) }));
  }

  private unlock(): void {
    try {
      fs.rmSync(path.join(this.dir, LOCK), { force: true });
    } catch {
      /* best effort */
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery

  private recover(): void {
    let head = 0;
    let cpDurable = 0;
    const cpFile = path.join(this.dir, CHECKPOINT);
    if (fs.existsSync(cpFile)) {
      try {
        const cp = JSON.parse(fs.readFileSync(cpFile, 'utf8')) as { head?: unknown; counters?: Partial<JournalCounters> };
        if (!Number.isSafeInteger(cp.head) || (cp.head as number) < 0) throw new Error('no head');
        head = cp.head as number;
        const d = (cp as { durable?: unknown }).durable;
        if (Number.isSafeInteger(d) && (d as number) >= head) cpDurable = d as number;
        for (const k of Object.keys(this.counters) as Array<keyof JournalCounters>) {
          const v = cp.counters?.[k];
          if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) this.counters[k] = v;
        }
        this.recovery.checkpoint = 'ok';
      } catch {
        this.recovery.checkpoint = 'unreadable';
      }
    }
    for (const f of fs.readdirSync(this.dir)) if (f.endsWith('.tmp')) fs.rmSync(path.join(this.dir, f), { force: true });

    const files = fs
      .readdirSync(this.dir)
      .filter((f) => SEGMENT_RE.test(f))
      .sort();
    let lastSeq = -1;
    /** The seq the next segment should start with: frames lost at the end of one segment (or all of it) show up as a gap. */
    let expectNext = -1;
    const segs: Segment[] = [];
    for (const name of files) {
      const first = Number(SEGMENT_RE.exec(name)![1]);
      const seg = this.scanSegment(path.join(this.dir, name), first, head, expectNext < 0 ? first : expectNext);
      if (seg.count > 0) lastSeq = seg.last;
      expectNext = seg.count > 0 ? seg.last + 1 : Math.max(expectNext, first);
      if (seg.count === 0 || seg.last < head) {
        fs.rmSync(seg.file, { force: true });
        continue;
      }
      segs.push(seg);
    }
    // Records that were durable at the last checkpoint but are gone from the end of the journal.
    // Segments are only ever deleted from the front (acknowledged or dropped), so with no segment
    // file left everything was acknowledged (perhaps after that checkpoint): nothing to count.
    const tailFrom = Math.max(expectNext, head);
    if (files.length > 0 && cpDurable > tailFrom) this.recovery.corrupt += cpDurable - tailFrom;
    this.segs = segs;
    this.head = head;
    this.nextSeq = Math.max(head, lastSeq + 1, cpDurable);
    if (segs.length > 0 && segs[0].first > head) this.head = segs[0].first;
    this.writtenSeq = this.durableSeq = this.readSeq = this.nextSeq;
    this.readSeq = this.head;
    for (const s of segs) {
      this.pendingCount += s.count - s.doneCount;
      this.pendingBytes += s.size - s.doneBytes;
    }
    this.recovery.pending = this.pendingCount;
    this.recovery.segments = segs.length;
    this.counters.corrupt += this.recovery.corrupt;
    // Losses found now are saved now: the segments that showed them may be gone by the next crash.
    if (this.recovery.corrupt > 0 || this.recovery.checkpoint !== 'ok') this.writeCheckpoint();
  }

  /**
   * Reads a whole segment: metadata, index, and its valid frames. A torn tail is cut; a segment
   * with damaged frames in the middle is rewritten with only its valid frames (temp file, fsync,
   * rename), so that reads never meet damage.
   */
  private scanSegment(file: string, first: number, head: number, expectFirst: number): Segment {
    const buf = fs.readFileSync(file);
    const seg: Segment = { first, last: first - 1, file, size: 0, written: 0, count: 0, firstTs: 0, lastTs: 0, index: [], doneCount: 0, doneBytes: 0 };
    const frames: Array<[number, number]> = [];
    let off = 0;
    let damaged = false;
    let expect = expectFirst;
    while (off < buf.length) {
      const fr = readFrame(buf, off);
      const rec = fr.kind === 'frame' ? decodeBody(fr.body, fr.next - off) : undefined;
      if (fr.kind !== 'frame' || !rec || rec.seq <= seg.last || rec.seq < expectFirst) {
        // A torn tail, or damaged bytes (a bad length field looks like a torn tail too): a frame
        // that checks out further on means damage, whose records the seq gap counts; none means
        // the tail, which is cut.
        const next = this.resync(buf, off + 1);
        if (next < 0) break;
        damaged = true;
        off = next;
        continue;
      }
      if (rec.seq > expect && rec.seq >= head) this.recovery.corrupt += rec.seq - Math.max(expect, head);
      if (seg.count % INDEX_EVERY === 0) seg.index.push(rec.seq, seg.size);
      if (seg.count === 0) seg.firstTs = rec.ts;
      seg.count++;
      seg.last = rec.seq;
      seg.lastTs = rec.ts;
      seg.size += rec.bytes;
      if (rec.seq < head) {
        seg.doneCount++;
        seg.doneBytes += rec.bytes;
      }
      frames.push([off, fr.next]);
      expect = rec.seq + 1;
      off = fr.next;
    }
    if (damaged && seg.count > 0) {
      const tmp = `${file}.tmp`;
      const fd = fs.openSync(tmp, 'w');
      try {
        for (const [a, b] of frames) fs.writeSync(fd, buf, a, b - a);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      this.recovery.truncatedBytes += buf.length - seg.size;
    } else if (seg.size < buf.length) {
      fs.truncateSync(file, seg.size);
      this.recovery.truncatedBytes += buf.length - seg.size;
    }
    seg.written = seg.size;
    return seg;
  }

  private resync(buf: Buffer, from: number): number {
    for (let i = from; i + HEADER_BYTES <= buf.length; i++) {
      const fr = readFrame(buf, i);
      if (fr.kind === 'frame' && decodeBody(fr.body, fr.next - i)) return i;
    }
    return -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Append

  /**
   * Stores a record. `onDurable` (optional) is called once it is on disk (after the fsync of its
   * group commit), or with an error if writing failed. A record that is not stored never calls it.
   */
  append(input: RecordInput, onDurable?: (err?: Error) => void): AppendResult {
    if (this.closed) return { ok: false, code: 'closed' };
    if (this.failure) return { ok: false, code: 'io', error: this.failure.message };
    const seq = this.nextSeq;
    const ts = this.now();
    const frame = encodeFrame(encodeBody(input, seq, ts));
    const len = frame.length;
    if (len > this.maxRecordBytes) return { ok: false, code: 'too_large' };
    if (this.pendingBytes + len > this.maxBytes) {
      if (this.overflow === 'reject') {
        this.counters.rejected++;
        this.markCheckpoint();
        return { ok: false, code: 'full' };
      }
      if (this.overflow === 'drop-newest') {
        this.counters.dropped++;
        this.markCheckpoint();
        return { ok: false, code: 'dropped' };
      }
      while (this.pendingBytes + len > this.maxBytes && this.dropOldestSegment('dropped')) {
        /* dropping */
      }
      const failed = this.failure as Error | undefined;
      if (failed) return { ok: false, code: 'io', error: failed.message };
    }

    let seg = this.segs[this.segs.length - 1];
    if (this.activeFd !== undefined && seg && seg.size + len > this.segmentBytes && seg.count > 0) {
      this.seal();
      seg = this.segs[this.segs.length - 1];
    }
    if (this.activeFd === undefined) {
      try {
        seg = this.createSegment(seq);
      } catch (err) {
        return { ok: false, code: 'io', error: (err as Error).message };
      }
    }
    if (seg.count % INDEX_EVERY === 0) seg.index.push(seq, seg.size);
    if (seg.count === 0) seg.firstTs = ts;
    seg.count++;
    seg.last = seq;
    seg.lastTs = ts;
    seg.size += len;

    this.nextSeq = seq + 1;
    this.pendingCount++;
    this.pendingBytes += len;
    this.counters.appended++;
    const rec: JournalRecord = { ...input, seq, ts, bytes: len, gen: this.liveGeneration };
    this.cache.push(rec);
    if (this.cache.length - this.cacheOff > this.cacheCap) this.cacheOff++;
    if (this.cacheOff > 4096 && this.cacheOff * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheOff);
      this.cacheOff = 0;
    }
    this.queue.push(frame);
    this.queueBytes += len;
    if (onDurable) this.waiters.push({ seq, cb: onDurable });
    if (this.queueBytes >= WRITE_CHUNK) this.flushWrites();
    else this.writeScheduled ??= setImmediate(() => {
      this.writeScheduled = undefined;
      this.flushWrites();
    });
    return { ok: true, seq };
  }

  /**
   * Calls back once every record up to `seq` is durable (at once if it already is), or with the
   * error that stopped the journal.
   */
  whenDurable(seq: number, cb: (err?: Error) => void): void {
    if (this.failure) return cb(this.failure);
    if (seq < this.durableSeq) return cb();
    if (this.closed) return cb(new Error('journal closed'));
    let i = this.waiters.length;
    while (i > 0 && this.waiters[i - 1].seq > seq) i--;
    this.waiters.splice(i, 0, { seq, cb });
  }

  private createSegment(first: number): Segment {
    const file = path.join(this.dir, `${pad(first)}.seg`);
    const fd = fs.openSync(file, 'a');
    this.activeFd = fd;
    const seg: Segment = { first, last: first - 1, file, size: 0, written: 0, count: 0, firstTs: 0, lastTs: 0, index: [], doneCount: 0, doneBytes: 0 };
    this.segs.push(seg);
    this.dirDirty = true;
    return seg;
  }

  /** Closes the active segment for appends (its fd is fsynced and closed by the next sync cycle). */
  private seal(): void {
    this.flushWrites();
    if (this.activeFd === undefined) return;
    this.retired.push({ fd: this.activeFd, sync: this.useFsync });
    this.activeFd = undefined;
    this.scheduleSync();
  }

  /** Writes the queued frames to the active segment with one write(). */
  private flushWrites(): void {
    if (this.writeScheduled) {
      clearImmediate(this.writeScheduled);
      this.writeScheduled = undefined;
    }
    if (this.queueBytes === 0 || this.activeFd === undefined) return;
    const buf = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queueBytes);
    const seg = this.segs[this.segs.length - 1];
    try {
      let off = 0;
      while (off < buf.length) off += fs.writeSync(this.activeFd, buf, off, buf.length - off);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    seg.written += buf.length;
    this.writtenSeq = this.nextSeq;
    this.queue = [];
    this.queueBytes = 0;
    this.scheduleSync();
  }

  // ---------------------------------------------------------------------------------------------
  // Group commit

  private scheduleSync(): void {
    if (this.closed) return;
    if (!this.useFsync) {
      this.closeRetired();
      this.advanceDurable(this.writtenSeq);
      return;
    }
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.syncTimer) return;
    const wait = Math.max(0, this.lastSyncAt + this.syncMs - Date.now());
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.runSync();
    }, wait);
  }

  private runSync(): void {
    if (this.failure) return;
    this.flushWrites();
    const target = this.writtenSeq;
    const fds: number[] = [];
    if (this.activeFd !== undefined) fds.push(this.activeFd);
    const retired = this.retired;
    this.retired = [];
    for (const r of retired) if (r.sync) fds.push(r.fd);
    const dirSync = this.dirDirty;
    this.dirDirty = false;
    if (fds.length === 0 && !dirSync && target <= this.durableSeq) {
      for (const r of retired) this.closeFd(r.fd);
      return;
    }
    this.syncing = true;
    this.syncAgain = false;
    this.lastSyncAt = Date.now();
    let i = 0;
    const step = (err: NodeJS.ErrnoException | null) => {
      if (err && err.code !== 'EINVAL' && err.code !== 'EISDIR' && err.code !== 'EPERM') return finish(err);
      if (i < fds.length) return fs.fsync(fds[i++], step);
      if (dirSync) {
        // The new segment's directory entry must survive a power cut too (not possible on Windows).
        return fs.open(this.dir, 'r', (openErr, dfd) => {
          if (openErr) return finish(null);
          fs.fsync(dfd, () => fs.close(dfd, () => finish(null)));
        });
      }
      finish(null);
    };
    const finish = (err: NodeJS.ErrnoException | null) => {
      this.syncing = false;
      for (const r of retired) this.closeFd(r.fd);
      if (err) return this.fail(err);
      this.advanceDurable(target);
      const closing = this.closeWaiters.splice(0);
      for (const w of closing) w();
      if (this.closed) return;
      if (this.syncAgain || this.writtenSeq > this.durableSeq || this.retired.length > 0) this.scheduleSync();
    };
    step(null);
  }

  private advanceDurable(target: number): void {
    if (target <= this.durableSeq) return;
    this.durableSeq = target;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n].seq < target) n++;
    const ready = this.waiters.splice(0, n);
    for (const w of ready) {
      try {
        w.cb();
      } catch {
        /* a caller's callback must not break the journal */
      }
    }
    try {
      this.onDurable?.();
    } catch {
      /* idem */
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const waiters = this.waiters.splice(0);
    for (const w of waiters) {
      try {
        w.cb(err);
      } catch {
        /* ignore */
      }
    }
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private closeFd(fd: number): void {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  private closeRetired(): void {
    for (const r of this.retired.splice(0)) this.closeFd(r.fd);
  }

  /** An I/O failure (disk full, fsync error): the journal takes nothing more until reopened. */
  get error(): Error | undefined {
    return this.failure;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading, acknowledging

  /** The next durable record to publish, in journal order, or undefined when there is none now. */
  next(): JournalRecord | undefined {
    const limit = this.useFsync ? this.durableSeq : this.writtenSeq;
    const expireBefore = this.maxAgeMs > 0 ? this.now() - this.maxAgeMs : -Infinity;
    for (;;) {
      if (this.readSeq < this.head) this.readSeq = this.head;
      if (this.readSeq >= limit) return undefined;
      const rec = this.fromCache(this.readSeq) ?? this.fromDisk(this.readSeq, limit);
      if (!rec || rec.seq >= limit) {
        if (!rec) this.readSeq = limit; // nothing readable below the limit (a gap at the end)
        return undefined;
      }
      this.readSeq = rec.seq + 1;
      const entry: Outstanding = { seq: rec.seq, bytes: rec.bytes, ts: rec.ts, done: false };
      this.outstanding.push(entry);
      if (this.ackedAhead.delete(rec.seq)) {
        entry.done = true;
        this.popDone();
        continue;
      }
      if (rec.ts < expireBefore) {
        entry.done = true;
        this.counters.expired++;
        this.popDone();
        continue;
      }
      return rec;
    }
  }

  private fromCache(seq: number): JournalRecord | undefined {
    const n = this.cache.length - this.cacheOff;
    if (n === 0) return undefined;
    const first = this.cache[this.cacheOff].seq;
    if (seq < first || seq >= first + n) return undefined;
    return this.cache[this.cacheOff + seq - first];
  }

  private cacheFirst(): number {
    return this.cache.length > this.cacheOff ? this.cache[this.cacheOff].seq : this.nextSeq;
  }

  /** The first record with seq ≥ `seq` from the segment files (read in chunks, decoded in batches). */
  private fromDisk(seq: number, limit: number): JournalRecord | undefined {
    if (seq >= this.diskFrom) {
      while (this.diskPos < this.diskBatch.length && this.diskBatch[this.diskPos].seq < seq) this.diskPos++;
      if (this.diskPos < this.diskBatch.length) return this.diskBatch[this.diskPos];
    }
    this.diskBatch = [];
    this.diskPos = 0;
    this.diskFrom = seq;
    const stop = Math.min(limit, this.cacheFirst());
    for (const seg of this.segs) {
      if (seg.last < seq || seg.first >= stop) continue;
      const batch = this.readSegment(seg, seq, stop);
      if (batch.length > 0) {
        this.diskBatch = batch;
        return batch[0];
      }
    }
    // Below the cache there is nothing: continue from the cache.
    return this.fromCache(Math.max(seq, this.cacheFirst()));
  }

  private readSegment(seg: Segment, seq: number, stop: number): JournalRecord[] {
    let offset = 0;
    for (let i = 0; i < seg.index.length; i += 2) {
      if (seg.index[i] <= seq) offset = seg.index[i + 1];
      else break;
    }
    if (this.readFd?.first !== seg.first) {
      if (this.readFd) this.closeFd(this.readFd.fd);
      this.readFd = undefined;
      try {
        this.readFd = { first: seg.first, fd: fs.openSync(seg.file, 'r') };
      } catch (err) {
        this.fail(err as Error);
        return [];
      }
    }
    const out: JournalRecord[] = [];
    const end = seg.written;
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, end - offset)));
    while (offset < end && out.length < 4096) {
      const want = Math.min(buf.length, end - offset);
      let got: number;
      try {
        got = fs.readSync(this.readFd.fd, buf, 0, want, offset);
      } catch (err) {
        this.fail(err as Error);
        return out;
      }
      if (got <= 0) break;
      let p = 0;
      let progressed = false;
      while (p < got) {
        const fr = readFrame(buf, p, got);
        if (fr.kind === 'short') break;
        if (fr.kind === 'corrupt') {
          // Checked at recovery, so the disk changed under us: stop; reopening repairs the segment.
          this.fail(new Error(`damaged frame in ${seg.file} at byte ${offset + p}`));
          return out;
        }
        progressed = true;
        const rec = decodeBody(fr.body, fr.next - p);
        p = fr.next;
        if (!rec) continue;
        if (rec.seq >= stop) return out;
        if (rec.seq >= seq) out.push(rec);
      }
      if (!progressed) {
        if (want >= end - offset) break; // a frame cut short at the end of what was written
        buf = Buffer.allocUnsafe(buf.length * 2); // a frame larger than the buffer
        continue;
      }
      offset += p;
    }
    return out;
  }

  /** The broker acknowledged `seq` (`refused`: with an error reason code, so it is dropped). */
  ack(seq: number, outcome: 'delivered' | 'refused' = 'delivered'): void {
    const entry = this.findOutstanding(seq);
    if (!entry) {
      // Answered after a rewind (the connection dropped meanwhile): skip it when handed out again.
      if (seq >= this.head && seq < this.nextSeq && !this.ackedAhead.has(seq)) {
        this.ackedAhead.add(seq);
        this.counters[outcome]++;
      }
      return;
    }
    if (entry.done) return;
    entry.done = true;
    this.counters[outcome]++;
    this.popDone();
  }

  private findOutstanding(seq: number): Outstanding | undefined {
    let lo = this.outOff;
    let hi = this.outstanding.length - 1;
    if (lo > hi) return undefined;
    if (this.outstanding[lo].seq === seq) return this.outstanding[lo];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.outstanding[mid].seq;
      if (s === seq) return this.outstanding[mid];
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Moves head over the done prefix of what was handed out. */
  private popDone(): void {
    let moved = false;
    while (this.outOff < this.outstanding.length && this.outstanding[this.outOff].done) {
      const e = this.outstanding[this.outOff++];
      const seg = this.segmentOf(e.seq);
      if (seg) {
        seg.doneCount++;
        seg.doneBytes += e.bytes;
      }
      this.pendingCount--;
      this.pendingBytes -= e.bytes;
      moved = true;
    }
    if (this.outOff > 1024 && this.outOff * 2 > this.outstanding.length) {
      this.outstanding = this.outstanding.slice(this.outOff);
      this.outOff = 0;
    }
    if (!moved) return;
    const newHead = this.outOff < this.outstanding.length ? this.outstanding[this.outOff].seq : this.readSeq;
    this.setHead(newHead);
  }

  private segmentOf(seq: number): Segment | undefined {
    const first = this.segs[0];
    if (first && seq >= first.first && seq <= first.last) return first;
    for (const s of this.segs) if (seq >= s.first && seq <= s.last) return s;
    return undefined;
  }

  private setHead(head: number): void {
    if (head <= this.head) return;
    this.head = head;
    this.markCheckpoint();
    // Whole segments below head are done: delete them (an acknowledged record is never needed again).
    while (this.segs.length > 0 && this.segs[0].last < head) {
      const last = this.segs.length === 1;
      if (last && this.activeFd !== undefined) {
        if (this.queueBytes > 0 || this.nextSeq > head) break;
        this.retired.push({ fd: this.activeFd, sync: false });
        this.activeFd = undefined;
        this.scheduleSync();
      }
      this.removeSegment(this.segs[0]);
    }
    while (this.cache.length > this.cacheOff && this.cache[this.cacheOff].seq < head) this.cacheOff++;
  }

  private removeSegment(seg: Segment): void {
    if (this.readFd?.first === seg.first) {
      this.closeFd(this.readFd.fd);
      this.readFd = undefined;
    }
    this.segs = this.segs.filter((s) => s !== seg);
    try {
      fs.rmSync(seg.file, { force: true });
    } catch {
      /* a leftover file is deleted at the next open */
    }
  }

  /**
   * Discards the oldest segment that still holds pending records, counting those not yet
   * delivered as `dropped` (or `expired`). Returns false when there is nothing to discard.
   */
  private dropOldestSegment(reason: 'dropped' | 'expired'): boolean {
    const seg = this.segs.find((s) => s.last >= this.head);
    if (!seg) return false;
    if (seg === this.segs[this.segs.length - 1] && this.activeFd !== undefined) this.seal();
    if (this.failure) return false;
    let acked = 0;
    for (let i = this.outOff; i < this.outstanding.length; i++) {
      const e = this.outstanding[i];
      if (e.seq > seg.last) break;
      if (e.done) acked++;
    }
    for (const s of this.ackedAhead) if (s >= this.head && s <= seg.last) acked++;
    const lost = seg.count - seg.doneCount - acked;
    this.counters[reason] += Math.max(0, lost);
    this.pendingCount -= seg.count - seg.doneCount;
    this.pendingBytes -= seg.size - seg.doneBytes;
    // Forget what was handed out from it: late acks for those seqs are ignored.
    while (this.outOff < this.outstanding.length && this.outstanding[this.outOff].seq <= seg.last) this.outOff++;
    for (const s of [...this.ackedAhead]) if (s <= seg.last) this.ackedAhead.delete(s);
    this.diskBatch = [];
    this.diskPos = 0;
    this.peeked = undefined;
    const before = this.segs.indexOf(seg);
    // Segments before it were fully done already.
    for (const s of this.segs.slice(0, before)) this.removeSegment(s);
    this.head = seg.last + 1;
    if (this.readSeq < this.head) this.readSeq = this.head;
    this.removeSegment(seg);
    while (this.cache.length > this.cacheOff && this.cache[this.cacheOff].seq < this.head) this.cacheOff++;
    // The head may now sit on records already done further on.
    if (this.outOff < this.outstanding.length && this.outstanding[this.outOff].done) this.popDone();
    this.writeCheckpoint();
    return true;
  }

  /** The connection dropped: records handed out and not acknowledged will be handed out again. */
  rewind(): void {
    for (let i = this.outOff; i < this.outstanding.length; i++) if (this.outstanding[i].done) this.ackedAhead.add(this.outstanding[i].seq);
    this.outstanding = [];
    this.outOff = 0;
    this.readSeq = this.head;
    this.diskBatch = [];
    this.diskPos = 0;
  }

  /** Applies the age bound to whole segments (frees disk while nothing is read). Call it now and then. */
  maintain(): void {
    if (this.closed || this.maxAgeMs <= 0) return;
    const cutoff = this.now() - this.maxAgeMs;
    while (true) {
      const seg = this.segs.find((s) => s.last >= this.head);
      if (!seg || seg.count === 0 || seg.lastTs >= cutoff) break;
      if (!this.dropOldestSegment('expired')) break;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State

  stats(): JournalStats {
    return {
      counters: { ...this.counters },
      pending: this.pendingCount,
      pendingBytes: this.pendingBytes,
      oldestTs: this.oldestTs(),
      inflight: this.outstanding.length - this.outOff,
      segments: this.segs.length,
      head: this.head,
      nextSeq: this.nextSeq,
      durableSeq: this.durableSeq,
      maxBytes: this.maxBytes,
      maxAgeMs: this.maxAgeMs,
      overflow: this.overflow,
    };
  }

  get pending(): number {
    return this.pendingCount;
  }

  /** Append time of the oldest pending record, or undefined when nothing is pending. */
  oldestTs(): number | undefined {
    if (this.pendingCount <= 0) return undefined;
    for (let i = this.outOff; i < this.outstanding.length; i++) if (!this.outstanding[i].done) return this.outstanding[i].ts;
    const cached = this.fromCache(this.head);
    if (cached) return cached.ts;
    if (this.peeked?.seq === this.head) return this.peeked.ts;
    const seg = this.segs.find((s) => s.last >= this.head);
    if (!seg) return undefined;
    const batch = this.readSegment(seg, this.head, this.head + 1);
    const ts = batch[0]?.ts ?? seg.firstTs;
    this.peeked = { seq: this.head, ts };
    return ts;
  }

  // ---------------------------------------------------------------------------------------------
  // Checkpoint and close

  private markCheckpoint(): void {
    this.checkpointDirty = true;
    if (this.checkpointTimer || this.closed) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.writeCheckpoint();
    }, this.checkpointMs);
  }

  /** Saves head and counters atomically (temp file, fsync, rename). */
  private writeCheckpoint(): void {
    if (this.checkpointTimer) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = undefined;
    }
    this.checkpointDirty = false;
    const file = path.join(this.dir, CHECKPOINT);
    const tmp = `${file}.tmp`;
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, JSON.stringify({ version: 1, head: this.head, durable: this.durableSeq, counters: this.counters }));
        if (this.useFsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch {
      // Not fatal: an older checkpoint only means that more is sent again after a crash.
      this.checkpointDirty = true;
    }
  }

  /**
   * Writes and fsyncs everything, saves the checkpoint and releases the directory. Calls back
   * once done (after any fsync already running has finished).
   */
  close(callback?: () => void): void {
    if (this.closed) {
      callback?.();
      return;
    }
    this.closed = true; // takes no more appends
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    const finish = () => {
      if (!this.failure) {
        try {
          this.flushWrites();
          if (this.useFsync && this.activeFd !== undefined) fs.fsyncSync(this.activeFd);
          for (const r of this.retired) if (r.sync) fs.fsyncSync(r.fd);
        } catch (err) {
          this.fail(err as Error);
        }
      }
      this.advanceDurable(this.failure ? this.durableSeq : this.writtenSeq);
      this.releaseFds();
      this.writeCheckpoint();
      for (const w of this.waiters.splice(0)) w.cb(new Error('journal closed'));
      this.unlock();
      openDirs.delete(this.dir);
      callback?.();
    };
    if (this.syncing) this.closeWaiters.push(finish);
    else finish();
  }

  /**
   * Simulates a crash (tests): the process "dies" without writing what was queued, without an
   * fsync and without a checkpoint; the lock file stays behind as after a kill -9.
   */
  abandon(): void {
    this.closed = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    if (this.writeScheduled) clearImmediate(this.writeScheduled);
    this.syncTimer = this.checkpointTimer = this.writeScheduled = undefined;
    this.queue = [];
    this.waiters = [];
    this.releaseFds();
    openDirs.delete(this.dir);
    // A dead process: its LOCK names a pid that is gone. Here the pid is ours, which open() treats as stale.
  }

  private releaseFds(): void {
    if (this.writeScheduled) clearImmediate(this.writeScheduled);
    this.writeScheduled = undefined;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.activeFd !== undefined) this.closeFd(this.activeFd);
    this.activeFd = undefined;
    if (!this.syncing) this.closeRetired();
    if (this.readFd) this.closeFd(this.readFd.fd);
    this.readFd = undefined;
  }

  /** Whether timers are pending (lets tests check that close() leaves nothing behind). */
  get busy(): boolean {
    return !!(this.syncTimer || this.checkpointTimer || this.writeScheduled || this.syncing);
  }
}
