/**
 * The durable journal: what append() acknowledged is there after a reopen, after a torn write and
 * after a real `kill -9` of a process in the middle of appending; compaction keeps the state and
 * survives a crash at any step (leftover temporary files, an old generation next to a new one).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../../nodes/lib/cmms/journal';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-journal-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('cmms: journal', () => {
  it('group-commits appends and replays them in order after a reopen', async () => {
    const dir = tmp();
    const { journal, records } = await Journal.open(dir);
    assert.deepEqual(records, []);
    await Promise.all(Array.from({ length: 500 }, (_, i) => journal.append({ k: 'r', i })));
    await journal.close();
    const again = await Journal.open(dir);
    assert.deepEqual(again.records.map((r) => r.i), Array.from({ length: 500 }, (_, i) => i));
    assert.equal(again.journal.appended, 500);
    await again.journal.close();
  });

  it('cuts a torn last line and counts unreadable lines', async () => {
    const dir = tmp();
    const { journal } = await Journal.open(dir);
    await journal.appendAll([{ k: 'a' }, { k: 'b' }]);
    await journal.close();
    const file = path.join(dir, 'journal-0.jsonl');
    fs.appendFileSync(file, 'garbage\n{"k":"c"}\n{"k":"d","half');
    const again = await Journal.open(dir);
    assert.deepEqual(again.records.map((r) => r.k), ['a', 'b', 'c']);
    assert.equal(again.torn, true);
    assert.equal(again.skipped, 1);
    assert.ok(fs.readFileSync(file, 'utf8').endsWith('{"k":"c"}\n'), 'torn tail truncated');
    await again.journal.append({ k: 'e' });
    await again.journal.close();
    const third = await Journal.open(dir);
    assert.deepEqual(third.records.map((r) => r.k), ['a', 'b', 'c', 'e']);
    await third.journal.close();
  });

  it('compaction replaces the log by a snapshot; records buffered meanwhile are in it exactly once', async () => {
    const dir = tmp();
    const { journal } = await Journal.open(dir);
    const state: number[] = [];
    const add = (i: number) => {
      state.push(i);
      return journal.append({ k: 'r', i });
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => add(i)));
    const buffered = [add(100), add(101)];
    const compaction = journal.compact(() => state.map((i) => ({ k: 'r', i })));
    const during = add(102);
    await Promise.all([compaction, ...buffered, during]);
    assert.equal(journal.generation, 1);
    await journal.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['journal-1.jsonl', 'snapshot-1.jsonl']);
    const again = await Journal.open(dir);
    assert.deepEqual(again.records.map((r) => r.i), Array.from({ length: 103 }, (_, i) => i));
    await again.journal.close();
  });

  it('recovers from a crash in the middle of a compaction', async () => {
    // Crash after the snapshot's temporary file and the new journal were written, before the rename.
    const dir = tmp();
    const { journal } = await Journal.open(dir);
    await journal.appendAll([{ k: 'x', i: 1 }, { k: 'x', i: 2 }]);
    await journal.close();
    fs.writeFileSync(path.join(dir, 'snapshot-1.jsonl.tmp'), '{"k":"x","i":1}\n');
    fs.writeFileSync(path.join(dir, 'journal-1.jsonl'), '');
    const a = await Journal.open(dir);
    assert.deepEqual(a.records.map((r) => r.i), [1, 2]);
    await a.journal.append({ k: 'x', i: 3 });
    await a.journal.close();
    assert.ok(!fs.existsSync(path.join(dir, 'snapshot-1.jsonl.tmp')));
    const b = await Journal.open(dir);
    assert.deepEqual(b.records.map((r) => r.i), [1, 2, 3]);
    // An incomplete snapshot (no end line) is ignored in favour of the logs.
    await b.journal.close();
    fs.writeFileSync(path.join(dir, 'snapshot-5.jsonl'), '{"k":"x","i":99}\n');
    const c = await Journal.open(dir);
    assert.deepEqual(c.records.map((r) => r.i), [1, 2, 3]);
    await c.journal.close();
  });

  it('keeps every acknowledged record across a kill -9 of the writing process', async () => {
    const dir = tmp();
    const journalJs = require.resolve('../../nodes/lib/cmms/journal');
    const script = `
      const { Journal } = require(${JSON.stringify(journalJs)});
      (async () => {
        const { journal } = await Journal.open(${JSON.stringify(dir)});
        let i = 0;
        for (;;) {
          const batch = [];
          for (let j = 0; j < 20; j++) batch.push(journal.append({ k: 'r', i: i++ }).then(() => i));
          const acked = await Promise.all(batch);
          process.stdout.write('ack ' + (i - 1) + '\\n');
          if (i % 400 === 0) await journal.compact(() => Array.from({ length: i }, (_, n) => ({ k: 'r', i: n })));
        }
      })();
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastAck = -1;
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = [...out.matchAll(/ack (\d+)/g)];
        if (m.length) lastAck = Number(m[m.length - 1][1]);
        if (lastAck >= 3000 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const { records, journal } = await Journal.open(dir);
    const seen = new Set(records.map((r) => r.i as number));
    for (let i = 0; i <= lastAck; i++) assert.ok(seen.has(i), `acknowledged record ${i} survived`);
    assert.equal(seen.size, records.length, 'no record twice');
    await journal.close();
  });
});
