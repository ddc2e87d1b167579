/**
 * The durable journal behind pdm-buffer (nodes/lib/buffer/journal.ts), on real files:
 * group commit, in-order hand-out and acknowledgement, rewind after a dropped connection,
 * recovery after a clean close, a crash (kill -9), a torn tail and damaged bytes, the checkpoint,
 * segment roll and deletion, the three overflow policies, the age bound and the lock.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Journal, JournalError, type JournalOptions } from '../../nodes/lib/buffer/journal';
import type { JournalRecord, RecordInput } from '../../nodes/lib/buffer/record';
import { idempotencyKey } from '../../nodes/lib/buffer/record';

const dirs: string[] = [];
const open: Journal[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-journal-'));
  dirs.push(d);
  return d;
}
function openJournal(options: JournalOptions): Journal {
  const j = Journal.open(options);
  open.push(j);
  return j;
}
const closeJ = (j: Journal) => new Promise<void>((resolve) => j.close(resolve));
const durable = (j: Journal, seq: number) => new Promise<void>((resolve, reject) => j.whenDurable(seq, (err) => (err ? reject(err) : resolve())));

afterEach(async () => {
  for (const j of open.splice(0)) await closeJ(j);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function reading(asset: string, i: number, pad = 0): RecordInput {
  const r = { assetId: asset, signal: 'current', value: i, unit: 'A', ts: 1_700_000_000_000 + i, quality: 'good', note: 'x'.repeat(pad) };
  return { topic: `pdm/_/_/_/${asset}/clean/current`, payload: JSON.stringify(r), enc: 'json', key: idempotencyKey(asset, 'current', r.ts), asset };
}
function appendMany(j: Journal, n: number, asset = 'M-1', from = 0, pad = 0): number {
  let last = -1;
  for (let i = from; i < from + n; i++) {
    const res = j.append(reading(asset, i, pad));
    assert.ok(res.ok, `append ${i}: ${JSON.stringify(res)}`);
    last = res.seq;
  }
  return last;
}
/** Hands out everything available and acknowledges it; returns what was handed out. */
function drain(j: Journal, ack = true): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (let r = j.next(); r; r = j.next()) {
    out.push(r);
    if (ack) j.ack(r.seq);
  }
  return out;
}
const values = (recs: JournalRecord[]) => recs.map((r) => JSON.parse(r.payload).value as number);
const segFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

describe('journal: append, hand out, acknowledge', () => {
  test('records are handed out only once durable, in order, and removed after their ack', async () => {
    const dir = tempDir();
    const j = openJournal({ dir, syncMs: 20 });
    const last = appendMany(j, 100);
    assert.equal(j.next(), undefined, 'nothing is handed out before the fsync');
    assert.equal(j.pending, 100);
    await durable(j, last);
    const recs = drain(j);
    assert.deepEqual(values(recs), [...Array(100).keys()]);
    assert.deepEqual(recs.map((r) => r.seq), [...Array(100).keys()]);
    assert.equal(recs[0].key, 'M-1/current/1700000000000');
    const s = j.stats();
    assert.equal(s.pending, 0);
    assert.equal(s.pendingBytes, 0);
    assert.equal(s.counters.delivered, 100);
    assert.equal(s.oldestTs, undefined);
    assert.deepEqual(segFiles(dir), [], 'a fully acknowledged journal keeps no segment');
  });

  test('group commit: one fsync for many appends, callbacks fire once durable', async () => {
    const j = openJournal({ dir: tempDir(), syncMs: 50 });
    const fired: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = j.append(reading('M-1', i));
      assert.ok(res.ok);
      j.whenDurable(res.seq, () => fired.push(i));
    }
    assert.equal(fired.length, 0);
    await durable(j, 999);
    assert.equal(fired.length, 1000);
    assert.deepEqual(fired.slice(0, 3), [0, 1, 2]);
  });

  test('fsync off: records are handed out once written', async () => {
    const j = openJournal({ dir: tempDir(), fsync: false });
    appendMany(j, 5);
    await new Promise((r) => setImmediate(r));
    assert.equal(drain(j).length, 5);
  });

  test('rewind hands out again what was not acknowledged, skipping what was acknowledged out of order', async () => {
    const j = openJournal({ dir: tempDir(), syncMs: 0 });
    await durable(j, appendMany(j, 10));
    const first = drain(j, false);
    assert.equal(first.length, 10);
    for (const s of [0, 1, 2, 3, 4, 7]) j.ack(s);
    assert.equal(j.pending, 5, 'head stops at the first unacknowledged record');
    j.rewind();
    const again = drain(j, false);
    assert.deepEqual(again.map((r) => r.seq), [5, 6, 8, 9]);
    for (const r of again) j.ack(r.seq);
    assert.equal(j.pending, 0);
    assert.equal(j.stats().counters.delivered, 10, 'each record counted delivered once');
  });

  test('an ack that arrives after a rewind (the connection dropped meanwhile) still counts: the record is not handed out again', async () => {
    const j = openJournal({ dir: tempDir(), syncMs: 0 });
    await durable(j, appendMany(j, 5));
    drain(j, false);
    j.rewind();
    j.ack(2);
    j.ack(2);
    j.ack(99); // never appended: ignored
    const again = drain(j, false);
    assert.deepEqual(again.map((r) => r.seq), [0, 1, 3, 4]);
    for (const r of again) j.ack(r.seq);
    assert.equal(j.pending, 0);
    assert.equal(j.stats().counters.delivered, 5);
  });

  test('segments roll at segmentBytes and each is deleted once everything in it is acknowledged', async () => {
    const dir = tempDir();
    const j = openJournal({ dir, maxBytes: 1 << 20, segmentBytes: 8 * 1024, syncMs: 0 });
    await durable(j, appendMany(j, 300, 'M-1', 0, 50));
    const files = segFiles(dir);
    assert.ok(files.length >= 5, `${files.length} segments`);
    const recs: JournalRecord[] = [];
    while (recs.length < 150) recs.push(j.next()!);
    for (const r of recs) j.ack(r.seq);
    const left = segFiles(dir);
    assert.ok(left.length < files.length && left.length > 0, `${left.length} of ${files.length} left`);
    assert.equal(Number(left[0].slice(0, 16)) <= 150, true);
    drain(j);
    assert.deepEqual(segFiles(dir), []);
  });
});

describe('journal: recovery', () => {
  test('a clean close keeps what is pending; reopened, it comes back in order, as historical, with the counters', async () => {
    const dir = tempDir();
    const j1 = openJournal({ dir, syncMs: 0 });
    j1.liveGeneration = 3;
    await durable(j1, appendMany(j1, 50));
    const handed = drain(j1, false);
    assert.equal(handed[0].gen, 3, 'live records carry the live generation');
    for (const r of handed.slice(0, 20)) j1.ack(r.seq);
    await closeJ(j1);
    open.splice(open.indexOf(j1), 1);

    const j2 = openJournal({ dir, syncMs: 0 });
    assert.equal(j2.recovery.pending, 30);
    assert.equal(j2.recovery.checkpoint, 'ok');
    assert.equal(j2.stats().counters.delivered, 20);
    assert.ok(j2.stats().oldestTs! > 0, 'oldest age is known for records only on disk');
    const recs = drain(j2);
    assert.deepEqual(values(recs), [...Array(30).keys()].map((i) => i + 20));
    assert.ok(recs.every((r) => r.gen === 0), 'recovered records are historical (generation 0)');
    assert.equal(j2.append(reading('M-1', 99)).ok && j2.stats().nextSeq, 51, 'sequence numbers continue');
  });

  test('kill -9 (no close, no checkpoint): every record whose append was durable survives; acknowledged ones may come again', async () => {
    const dir = tempDir();
    const j1 = openJournal({ dir, syncMs: 0, checkpointMs: 60_000 });
    await durable(j1, appendMany(j1, 200));
    for (const r of drain(j1, false).slice(0, 150)) j1.ack(r.seq);
    j1.abandon();
    open.splice(open.indexOf(j1), 1);

    const j2 = openJournal({ dir, syncMs: 0 });
    // The checkpoint was never written (checkpointMs 60 s), so the acknowledged ones come again:
    // at-least-once, made harmless by the idempotency key. Nothing is missing.
    const recs = drain(j2);
    assert.deepEqual(values(recs), [...Array(200).keys()]);
  });

  test('a torn tail (power cut in the middle of a write) is cut; every whole frame survives', async () => {
    const dir = tempDir();
    const j1 = openJournal({ dir, syncMs: 0 });
    await durable(j1, appendMany(j1, 40));
    await closeJ(j1);
    open.splice(open.indexOf(j1), 1);
    const file = path.join(dir, segFiles(dir)[0]);
    const size = fs.statSync(file).size;
    // Half of a 41st frame, as a write interrupted by a power cut leaves it.
    fs.appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123, 34, 115]));
    const j2 = openJournal({ dir, syncMs: 0 });
    assert.equal(j2.recovery.truncatedBytes, 11);
    assert.equal(j2.recovery.corrupt, 0);
    assert.equal(fs.statSync(file).size, size, 'the file is cut back to its last whole frame');
    assert.deepEqual(values(drain(j2)), [...Array(40).keys()]);
  });

  test('damaged bytes in the middle lose exactly the damaged record, counted as corrupt', async () => {
    for (const where of ['body', 'length', 'crc'] as const) {
      const dir = tempDir();
      const j1 = openJournal({ dir, syncMs: 0 });
      await durable(j1, appendMany(j1, 40));
      await closeJ(j1);
      open.splice(open.indexOf(j1), 1);
      const file = path.join(dir, segFiles(dir)[0]);
      const buf = fs.readFileSync(file);
      // Find frame 20's offset by walking the length fields.
      let off = 0;
      for (let i = 0; i < 20; i++) off += 8 + buf.readUInt32LE(off);
      const at = where === 'length' ? off + 1 : where === 'crc' ? off + 5 : off + 20;
      buf[at] ^= 0x5a;
      fs.writeFileSync(file, buf);
      const j2 = openJournal({ dir, syncMs: 0 });
      assert.equal(j2.recovery.corrupt, 1, where);
      assert.ok(j2.recovery.truncatedBytes > 0, `${where}: the damaged frame is cut out of the segment`);
      assert.equal(j2.stats().counters.corrupt, 1, where);
      const got = values(drain(j2));
      assert.deepEqual(got, [...Array(40).keys()].filter((i) => i !== 20), where);
      await closeJ(j2);
      open.splice(open.indexOf(j2), 1);
    }
  });

  test('damage that wipes the last frame of a segment, or of the whole journal, is counted too (next segment, checkpoint)', async () => {
    const dir = tempDir();
    const j1 = openJournal({ dir, syncMs: 0, segmentBytes: 4096 });
    await durable(j1, appendMany(j1, 60, 'M-1', 0, 100));
    await closeJ(j1);
    open.splice(open.indexOf(j1), 1);
    const files = segFiles(dir);
    assert.ok(files.length >= 3);
    // The last frame of the first segment and the last frame of the last segment: bad length fields.
    const lastFrameOffset = (buf: Buffer) => {
      let off = 0;
      let last = 0;
      while (off < buf.length) {
        last = off;
        off += 8 + buf.readUInt32LE(off);
      }
      return last;
    };
    for (const f of [files[0], files[files.length - 1]]) {
      const file = path.join(dir, f);
      const buf = fs.readFileSync(file);
      buf[lastFrameOffset(buf) + 3] ^= 0x10;
      fs.writeFileSync(file, buf);
    }
    const j2 = openJournal({ dir, syncMs: 0 });
    assert.equal(j2.recovery.corrupt, 2);
    assert.equal(drain(j2).length, 58);
    assert.equal(j2.stats().nextSeq, 60, 'sequence numbers are not reused');
  });

  test('an unreadable checkpoint falls back to the records on disk (nothing lost, some sent again)', async () => {
    const dir = tempDir();
    const j1 = openJournal({ dir, syncMs: 0 });
    await durable(j1, appendMany(j1, 10));
    for (const r of drain(j1, false).slice(0, 5)) j1.ack(r.seq);
    await closeJ(j1);
    open.splice(open.indexOf(j1), 1);
    fs.writeFileSync(path.join(dir, 'checkpoint.json'), '{"head": nonsense');
    const j2 = openJournal({ dir, syncMs: 0 });
    assert.equal(j2.recovery.checkpoint, 'unreadable');
    assert.deepEqual(values(drain(j2)), [...Array(10).keys()], 'all of them again (at-least-once)');
  });
});

describe('journal: bounds', () => {
  test('drop-oldest: pending bytes stay within maxBytes, the newest are kept, every loss is counted', async () => {
    const dir = tempDir();
    const maxBytes = 64 * 1024;
    const j = openJournal({ dir, maxBytes, overflow: 'drop-oldest', syncMs: 0 });
    const n = 2000;
    await durable(j, appendMany(j, n, 'M-1', 0, 20));
    const s = j.stats();
    assert.ok(s.pendingBytes <= maxBytes, `${s.pendingBytes} > ${maxBytes}`);
    assert.equal(s.counters.dropped + s.pending, n, 'appended = dropped + pending');
    assert.ok(s.counters.dropped > 0);
    const got = values(drain(j));
    assert.equal(got.length, s.pending);
    assert.deepEqual(got, [...Array(got.length).keys()].map((i) => n - got.length + i), 'a contiguous run of the newest');
    const onDisk = segFiles(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(onDisk <= maxBytes, `disk ${onDisk}`);
  });

  test('drop-oldest while records are in flight: late acks of dropped records change nothing', async () => {
    const j = openJournal({ dir: tempDir(), maxBytes: 64 * 1024, overflow: 'drop-oldest', syncMs: 0 });
    await durable(j, appendMany(j, 100, 'M-1', 0, 20));
    const inflight = drain(j, false);
    await durable(j, appendMany(j, 2000, 'M-1', 100, 20));
    for (const r of inflight) j.ack(r.seq);
    const s = j.stats();
    assert.equal(s.counters.delivered + s.counters.dropped + s.pending, 2100);
    const rest = drain(j);
    assert.equal(j.stats().counters.delivered + j.stats().counters.dropped, 2100);
    assert.ok(rest.length > 0);
  });

  test('drop-newest keeps the oldest and counts what it did not store', async () => {
    const j = openJournal({ dir: tempDir(), maxBytes: 64 * 1024, overflow: 'drop-newest', syncMs: 0 });
    let stored = 0;
    let dropped = 0;
    for (let i = 0; i < 2000; i++) {
      const res = j.append(reading('M-1', i, 20));
      if (res.ok) stored++;
      else {
        assert.equal(res.code, 'dropped');
        dropped++;
      }
    }
    assert.equal(j.stats().counters.dropped, dropped);
    await durable(j, stored - 1);
    assert.deepEqual(values(drain(j)), [...Array(stored).keys()]);
    assert.ok(j.append(reading('M-1', 5000)).ok, 'room again once delivered');
  });

  test('reject refuses the new record with code full and counts it as rejected', async () => {
    const j = openJournal({ dir: tempDir(), maxBytes: 64 * 1024, overflow: 'reject', syncMs: 0 });
    let full = 0;
    for (let i = 0; i < 2000; i++) {
      const res = j.append(reading('M-1', i, 20));
      if (!res.ok) {
        assert.equal(res.code, 'full');
        full++;
      }
    }
    assert.ok(full > 0);
    assert.equal(j.stats().counters.rejected, full);
    assert.equal(j.stats().counters.dropped, 0);
  });

  test('a record larger than the record limit is refused as too_large', () => {
    const j = openJournal({ dir: tempDir(), maxBytes: 64 * 1024 });
    const res = j.append({ topic: 't/big', payload: 'x'.repeat(20_000), enc: 'string' });
    assert.deepEqual(res, { ok: false, code: 'too_large' });
  });

  test('age bound: old records are skipped when read and whole old segments are deleted while disconnected', async () => {
    let now = 1_000_000;
    const dir = tempDir();
    const j = openJournal({ dir, maxAgeMs: 60_000, segmentBytes: 4096, syncMs: 0, now: () => now });
    await durable(j, appendMany(j, 100, 'M-1', 0, 20));
    now += 30_000;
    await durable(j, appendMany(j, 100, 'M-1', 100, 20));
    now += 40_000; // the first 100 are 70 s old, the next 100 are 40 s old
    const segsBefore = segFiles(dir).length;
    j.maintain();
    const afterMaintain = j.stats();
    assert.ok(afterMaintain.counters.expired > 0 && afterMaintain.counters.expired <= 100);
    assert.ok(segFiles(dir).length < segsBefore, 'whole expired segments are deleted');
    const got = values(drain(j));
    assert.deepEqual(got, [...Array(100).keys()].map((i) => i + 100), 'only the young ones are handed out');
    assert.equal(j.stats().counters.expired, 100);
  });
});

describe('journal: lock and close', () => {
  test('a journal is opened once: in this process and by another live process', async () => {
    const dir = tempDir();
    openJournal({ dir });
    assert.throws(() => Journal.open({ dir }), (err: unknown) => err instanceof JournalError && err.code === 'locked');

    const other = tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      fs.writeFileSync(path.join(other, 'LOCK'), JSON.stringify({ pid: child.pid, start }));
      assert.throws(() => Journal.open({ dir: other }), /in use by process/);
      // The same pid with another start time is a reused pid: stale.
      fs.writeFileSync(path.join(other, 'LOCK'), JSON.stringify({ pid: child.pid, start: '1' }));
      openJournal({ dir: other });
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a dead process leaves a stale lock that the next open takes over', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid: 4_000_000, start: '1' }));
    openJournal({ dir });
  });

  test('close flushes, fsyncs, saves the checkpoint, releases the lock and leaves no timer', async () => {
    const dir = tempDir();
    const j = openJournal({ dir, syncMs: 5_000 });
    appendMany(j, 10);
    let called = 0;
    j.whenDurable(9, () => called++);
    await closeJ(j);
    open.splice(open.indexOf(j), 1);
    assert.equal(called, 1, 'waiting appends are confirmed by close');
    assert.equal(j.busy, false);
    assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false);
    assert.deepEqual(j.append(reading('M-1', 1)), { ok: false, code: 'closed' });
    const j2 = openJournal({ dir });
    assert.equal(j2.recovery.pending, 10);
  });
});
