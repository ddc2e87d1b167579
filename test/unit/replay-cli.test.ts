import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../nodes/lib/replay/cli';

const root = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'replay');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-replay-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function replay(args: string[]): { code: number; out: string; err: string } {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = main(args, { stdout: stdout as unknown as NodeJS.WritableStream, stderr: stderr as unknown as NodeJS.WritableStream });
  return { code, out: stdout.text, err: stderr.text };
}

function runFile(input: string, extra: string[]): string[] {
  const output = path.join(tmp, `${path.basename(input)}-${Math.random().toString(36).slice(2)}.csv`);
  const r = replay(['--input', input, '--output', output, ...extra]);
  assert.equal(r.code, 0, r.err);
  return fs.readFileSync(output, 'utf8').trimEnd().split('\n');
}

const SEMI = path.join(fixtures, 'pump-semicolon.csv');
const SEMI_ARGS = ['--train-rows', '150', '--separator', ';', '--exclude-columns', 'anomaly,changepoint', '--asset-class', 'pump'];

test("';'-separated CSV: one output row per input row, in order, with the fixed header; the injected fault is found", () => {
  const lines = runFile(SEMI, SEMI_ARGS);
  const input = fs.readFileSync(SEMI, 'utf8').trimEnd().split(/\r?\n/);
  assert.equal(lines[0], 'timestamp,score,anomalous,top_signal,tier');
  assert.equal(lines.length, input.length);
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i].split(',')[0], input[i].split(';')[0]);
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.ok(rows.slice(0, 150).every((r) => r[1] === '0.0000' && r[2] === '0'), 'training rows never alert');
  const flagged = rows.map((r, i) => (r[2] === '1' ? i : -1)).filter((i) => i >= 0);
  assert.ok(flagged.filter((i) => i >= 220 && i < 260).length >= 30, `fault rows flagged: ${flagged.length}`);
  assert.ok(flagged.filter((i) => i < 215).length === 0, 'no false alarm before the fault');
  assert.equal(rows[240][3], 'flow');
  assert.ok(rows.slice(0, 215).every((r) => r[4] === '') && rows.slice(220, 260).some((r) => r[4] === 'warning'), 'tier: empty before the fault, warning during it');
});

test('excluded label columns never influence scores: changed labels give byte-identical output', () => {
  const original = runFile(SEMI, SEMI_ARGS);
  const text = fs.readFileSync(SEMI, 'utf8');
  const flipped = text
    .split('\r\n')
    .map((line, i) => {
      if (i === 0 || !line) return line;
      const cells = line.split(';');
      cells[6] = i % 3 === 0 ? '1.0' : '0.0';
      cells[7] = String(i * 1000);
      return cells.join(';');
    })
    .join('\r\n');
  const changed = path.join(tmp, 'labels-changed.csv');
  fs.writeFileSync(changed, flipped);
  assert.deepEqual(runFile(changed, SEMI_ARGS), original);
});

test('no look-ahead: scores of the first k rows do not change when later rows are cut off or altered', () => {
  const full = runFile(SEMI, SEMI_ARGS);
  const lines = fs.readFileSync(SEMI, 'utf8').split('\r\n');
  const cut = path.join(tmp, 'cut.csv');
  fs.writeFileSync(cut, lines.slice(0, 231).join('\r\n'));
  const part = runFile(cut, SEMI_ARGS);
  assert.deepEqual(part, full.slice(0, 231));
  const altered = path.join(tmp, 'altered.csv');
  fs.writeFileSync(altered, [...lines.slice(0, 231), ...lines.slice(231).map((l) => l.replace(/;3\d\.\d+;/, ';99.0;'))].join('\r\n'));
  assert.deepEqual(runFile(altered, SEMI_ARGS).slice(0, 231), full.slice(0, 231));
});

test('JSONL input with epoch-second times; the label field excluded', () => {
  const lines = runFile(path.join(fixtures, 'pump.jsonl'), ['--train-rows', '100', '--exclude-columns', 'label']);
  assert.equal(lines.length, 201);
  assert.ok(lines[150].startsWith('1705305749,'));
});

test('comma CSV with a unit in a column name, a custom column, a text column and an unreadable time', () => {
  const summaryFile = path.join(tmp, 'summary.json');
  const lines = runFile(path.join(fixtures, 'mixed-comma.csv'), ['--train-rows', '50', '--summary-json', summaryFile]);
  assert.equal(lines.length, 122);
  const bad = lines.find((l) => l.startsWith('not-a-time'));
  assert.equal(bad, 'not-a-time,,0,,');
  const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8'));
  assert.equal(summary.unreadTimestamps, 1);
  assert.deepEqual(summary.ignored, ['status']);
  assert.deepEqual(summary.mapping.map((m: { signal: string }) => m.signal), ['pressure', 'current', 'valve_position']);
});

test('rows out of time order are replayed in time order and written back in input order', () => {
  const lines = fs.readFileSync(SEMI, 'utf8').split('\r\n').filter(Boolean);
  const body = lines.slice(1);
  const swapped = [lines[0], ...body.slice(0, 200), body[201], body[200], ...body.slice(202)];
  const file = path.join(tmp, 'swapped.csv');
  fs.writeFileSync(file, swapped.join('\n'));
  const out = runFile(file, SEMI_ARGS);
  const ref = runFile(SEMI, SEMI_ARGS);
  assert.equal(out[201], ref[202]);
  assert.equal(out[202], ref[201]);
});

test('usage errors exit 2 with the usage; unreadable input exits 1', () => {
  const r = replay(['--input', SEMI]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--input and --output are required/);
  assert.match(r.err, /usage: pdm-replay/);
  assert.equal(replay(['--input', SEMI, '--output', path.join(tmp, 'x.csv'), '--asset-class', 'toaster']).code, 2);
  assert.equal(replay(['--input', SEMI, '--output', path.join(tmp, 'x.csv'), '--bogus', '1']).code, 2);
  assert.equal(replay(['--input', path.join(tmp, 'missing.csv'), '--output', path.join(tmp, 'x.csv')]).code, 1);
  assert.equal(replay(['--input', SEMI, '--output', path.join(tmp, 'x.csv'), '--separator', ';', '--exclude-columns', 'nope']).code, 1);
  assert.equal(replay(['--help']).code, 0);
});

test('the bin launcher runs the built CLI as a separate process', () => {
  const output = path.join(tmp, 'bin-out.csv');
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'pdm-replay.js'), '--input', SEMI, '--output', output, ...SEMI_ARGS], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /pdm-replay: 300 rows/);
  assert.deepEqual(fs.readFileSync(output, 'utf8').trimEnd().split('\n'), runFile(SEMI, SEMI_ARGS));
});
