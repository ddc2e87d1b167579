/**
 * A durable append-only journal in one directory, with no native dependency:
 *
 *   snapshot-<gen>.jsonl   the state at compaction `gen` (records, then an end line with the count)
 *   journal-<gen>.jsonl    records appended after that snapshot, one JSON object per line
 *
 * Appends are group-committed: every record appended in the same turn of the event loop is
 * written with one write() and one fsync(), and append() resolves only after that fsync — a
 * caller that waits for it knows the record survives a crash or `kill -9` (and a power cut, as
 * far as the disk honours fsync). New files are made durable by an fsync of the directory.
 *
 * Recovery reads the newest complete snapshot, then its journal. A torn last line (a crash in
 * the middle of a write) is cut off; an unreadable line elsewhere is skipped and counted.
 *
 * Compaction writes the caller's current state as a new snapshot (temporary file, fsync,
 * rename, fsync of the directory), starts an empty journal and deletes the older generation.
 * Records buffered but not yet written when compaction starts are part of that state, so they
 * are not written again: their waiters resolve when the snapshot is durable.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export type JournalRecord = Record<string, unknown> & { k: string };

export interface JournalOpen {
  journal: Journal;
  records: JournalRecord[];
  /** Lines that could not be read (corruption other than a torn tail). */
  skipped: number;
  /** A torn last line was cut off. */
  torn: boolean;
}

const SNAP = /^snapshot-(\d+)\.jsonl$/;
const LOG = /^journal-(\d+)\.jsonl$/;

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    /* some platforms cannot fsync a directory; the rename is still atomic */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function parseLines(text: string): { records: JournalRecord[]; skipped: number; tornAt?: number } {
  const records: JournalRecord[] = [];
  let skipped = 0;
  let offset = 0;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return { records, skipped, tornAt: Buffer.byteLength(text.slice(0, offset)) };
    const line = text.slice(offset, nl);
    offset = nl + 1;
    if (line.trim() === '') continue;
    try {
      const rec = JSON.parse(line) as unknown;
      if (rec && typeof rec === 'object' && typeof (rec as JournalRecord).k === 'string') records.push(rec as JournalRecord);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

export class Journal {
  private fh: fsp.FileHandle | undefined;
  private buffer: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private compacting: Promise<void> | undefined;
  /** Bytes in the current journal file. */
  bytes = 0;
  /** Records in the current journal file (since the last compaction). */
  appended = 0;

  private constructor(
    readonly dir: string,
    private gen: number,
  ) {}

  get generation(): number {
    return this.gen;
  }

  static async open(dir: string): Promise<JournalOpen> {
    await fsp.mkdir(dir, { recursive: true });
    const names = await fsp.readdir(dir);
    const gens = (re: RegExp) =>
      names
        .map((n) => re.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => b - a);
    let records: JournalRecord[] = [];
    let skipped = 0;
    let torn = false;
    let snapGen = 0;
    // The newest snapshot that is complete (its end line matches its record count).
    for (const g of gens(SNAP)) {
      const text = await fsp.readFile(path.join(dir, `snapshot-${g}.jsonl`), 'utf8');
      const parsed = parseLines(text);
      const end = parsed.records[parsed.records.length - 1];
      if (end && end.k === 'end' && end.count === parsed.records.length - 1 && parsed.skipped === 0 && parsed.tornAt === undefined) {
        records = parsed.records.slice(0, -1);
        snapGen = g;
        break;
      }
    }
    // Journals of that generation and later (older ones are inside the snapshot).
    let gen = snapGen;
    let logRecords = 0;
    const logs = gens(LOG).filter((g) => g >= snapGen).sort((a, b) => a - b);
    for (const g of logs) {
      const file = path.join(dir, `journal-${g}.jsonl`);
      const text = await fsp.readFile(file, 'utf8');
      const parsed = parseLines(text);
      records.push(...parsed.records);
      logRecords += parsed.records.length;
      skipped += parsed.skipped;
      if (parsed.tornAt !== undefined) {
        torn = true;
        await fsp.truncate(file, parsed.tornAt);
      }
      gen = Math.max(gen, g);
    }
    const journal = new Journal(dir, gen);
    const file = path.join(dir, `journal-${gen}.jsonl`);
    const existed = fs.existsSync(file);
    journal.fh = await fsp.open(file, 'a');
    journal.bytes = (await journal.fh.stat()).size;
    if (!existed) await fsyncDir(dir);
    // Leftovers of an interrupted compaction.
    for (const n of names) {
      const s = SNAP.exec(n);
      const l = LOG.exec(n);
      if ((s && Number(s[1]) < snapGen) || (l && Number(l[1]) < snapGen) || n.endsWith('.tmp')) await fsp.rm(path.join(dir, n), { force: true });
    }
    journal.appended = logRecords;
    return { journal, records, skipped, torn };
  }

  /** Resolves once the record is on disk (fsync). */
  append(record: JournalRecord): Promise<void> {
    return this.appendAll([record]);
  }

  appendAll(records: JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'));
    if (records.length === 0) return Promise.resolve();
    for (const r of records) this.buffer.push(`${JSON.stringify(r)}\n`);
    this.appended += records.length;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || this.compacting) return;
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    const waiters = this.waiters;
    this.buffer = [];
    this.waiters = [];
    const run = (async () => {
      const data = Buffer.from(lines.join(''), 'utf8');
      await this.fh!.write(data, 0, data.length, null);
      await this.fh!.datasync();
      this.bytes += data.length;
    })();
    this.writing = run;
    try {
      await run;
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
    } finally {
      this.writing = undefined;
    }
    if (this.buffer.length) this.schedule();
  }

  /**
   * Replaces everything on disk with `state()` (called once, synchronously, at the moment the
   * buffer is taken over, so it covers every record appended so far).
   */
  async compact(state: () => JournalRecord[]): Promise<void> {
    if (this.closed) return;
    while (this.compacting) await this.compacting;
    const run = (async () => {
      while (this.writing) await this.writing;
      const lines = this.buffer;
      const waiters = this.waiters;
      this.buffer = [];
      this.waiters = [];
      const records = state();
      const next = this.gen + 1;
      const snap = path.join(this.dir, `snapshot-${next}.jsonl`);
      const tmp = `${snap}.tmp`;
      try {
        const fh = await fsp.open(tmp, 'w');
        try {
          const chunk: string[] = [];
          for (const r of records) {
            chunk.push(`${JSON.stringify(r)}\n`);
            if (chunk.length >= 1000) await fh.write(chunk.splice(0).join(''));
          }
          chunk.push(`${JSON.stringify({ k: 'end', count: records.length })}\n`);
          await fh.write(chunk.join(''));
          await fh.sync();
        } finally {
          await fh.close();
        }
        // The new journal exists before the snapshot does, so once the rename has happened
        // nothing can fail that would send records to the old generation's journal.
        const log = await fsp.open(path.join(this.dir, `journal-${next}.jsonl`), 'a');
        try {
          await fsp.rename(tmp, snap);
        } catch (err) {
          await log.close().catch(() => undefined);
          throw err;
        }
        await fsyncDir(this.dir);
        const old = this.fh!;
        const oldGen = this.gen;
        this.fh = log;
        this.gen = next;
        this.bytes = 0;
        this.appended = 0;
        await old.close().catch(() => undefined);
        await fsp.rm(path.join(this.dir, `journal-${oldGen}.jsonl`), { force: true }).catch(() => undefined);
        await fsp.rm(path.join(this.dir, `snapshot-${oldGen}.jsonl`), { force: true }).catch(() => undefined);
        for (const w of waiters) w.resolve();
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
        // Nothing was replaced: the taken records go back to the journal of the current generation.
        this.buffer = lines.concat(this.buffer);
        this.waiters = waiters.concat(this.waiters);
        throw err;
      }
    })();
    this.compacting = run;
    try {
      await run;
    } finally {
      this.compacting = undefined;
      if (this.buffer.length) this.schedule();
    }
  }

  /** Writes what is buffered, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.compacting) await this.compacting.catch(() => undefined);
    while (this.writing) await this.writing.catch(() => undefined);
    if (this.buffer.length) await this.flush();
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('journal is closed'));
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
