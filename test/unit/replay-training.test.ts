import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../nodes/lib/replay/cli';
import { DEFAULT_TRAIN_FRACTION, defaultTrainingPart } from '../../nodes/lib/replay/pipeline';

// pdm-replay without --train-rows: the default training part works on any file.
const root = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'replay');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-replay-training-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

/** Runs the CLI; returns the output rows (split cells, header dropped) and the summary. */
function replay(input: string, extra: string[] = []) {
  const output = path.join(tmp, `${path.basename(input)}-${Math.random().toString(36).slice(2)}.csv`);
  const summaryFile = `${output}.json`;
  let err = '';
  const stderr = { write: (c: string) => ((err += c), true) } as unknown as NodeJS.WritableStream;
  const code = main(['--input', input, '--output', output, '--summary-json', summaryFile, ...extra], { stdout: quiet, stderr });
  assert.equal(code, 0, err);
  const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'timestamp,score,anomalous,top_signal,tier');
  return { lines, rows: lines.slice(1).map((l) => l.split(',')), summary: JSON.parse(fs.readFileSync(summaryFile, 'utf8')), err };
}

const flaggedRows = (rows: string[][]) => rows.map((r, i) => (r[2] === '1' ? i : -1)).filter((i) => i >= 0);

test('default training part: the class warm-up or 20 % of the rows, whichever is fewer rows', () => {
  const warmup = { minSamples: 120, minSpanMs: 2 * 3_600_000 };
  const every = (n: number, stepMs: number) => Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * stepMs);
  assert.equal(DEFAULT_TRAIN_FRACTION, 0.2);
  // 12 h at one row per minute: 120 samples spanning 2 h are the first 121 rows (< 144 = 20 %).
  assert.deepEqual(defaultTrainingPart(every(720, 60_000), warmup), { rows: 121, rule: 'class-warmup' });
  // Hourly rows: 120 samples already span 119 h.
  assert.deepEqual(defaultTrainingPart(every(1000, 3_600_000), warmup), { rows: 120, rule: 'class-warmup' });
  // 20 minutes at 1 Hz never reach 2 h: the first fifth trains.
  assert.deepEqual(defaultTrainingPart(every(1200, 1000), warmup), { rows: 240, rule: 'fraction' });
  // 10,000 s at 1 Hz reach 2 h only at row 7,201, after the fifth (2,000).
  assert.deepEqual(defaultTrainingPart(every(10_000, 1000), warmup), { rows: 2000, rule: 'fraction' });
  // Tiny files still train on two rows.
  assert.deepEqual(defaultTrainingPart(every(3, 1000), warmup), { rows: 2, rule: 'fraction' });
  assert.deepEqual(defaultTrainingPart([], warmup), { rows: 2, rule: 'fraction' });
});

const SHORT = path.join(fixtures, 'short-epoch-ms.csv');

test('a 90-second export (epoch ms, comma) gets scores without --train-rows: 18 rows train, the flow drop is flagged', () => {
  const { rows, summary, err } = replay(SHORT);
  assert.equal(rows.length, 90);
  assert.deepEqual(summary.training, { rows: 18, rule: 'fraction' });
  assert.match(err, /training part: the first 18 rows in time order \(20 % of the rows/);
  assert.ok(rows.slice(0, 18).every((r) => r[1] === '0.0000' && r[2] === '0'), 'training rows never alert');
  assert.ok(rows.slice(18).every((r) => r[1] !== '' && Number.isFinite(Number(r[1]))), 'every later row has a score');
  assert.equal(summary.scored, 72);
  const flagged = flaggedRows(rows);
  assert.ok(flagged.every((i) => i >= 60), `no alarm before the drop at row 60: ${flagged}`);
  assert.ok(flagged.filter((i) => i >= 70).length === 20, `rows 70..89 all flagged: ${flagged}`);
  assert.equal(rows[80][3], 'flow');
});

test('default training never looks at later values: changing rows after k leaves rows up to k as they were', () => {
  const full = replay(SHORT).lines;
  const text = fs.readFileSync(SHORT, 'utf8').trimEnd().split('\n');
  const altered = path.join(tmp, 'short-altered.csv');
  // Same number of rows (the training part depends on it), other values from row 50 on.
  fs.writeFileSync(altered, `${[...text.slice(0, 51), ...text.slice(51).map((l) => l.replace(/,3\d\.\d+,/, ',12.5,'))].join('\n')}\n`);
  const changed = replay(altered).lines;
  assert.deepEqual(changed.slice(0, 51), full.slice(0, 51));
  assert.notDeepEqual(changed.slice(51), full.slice(51));
});

const MINUTES = path.join(fixtures, 'minutes-tab-dmy.csv');

test('12 h at one row per minute, tab-separated, day.month.year times, decimal commas, no options: the class warm-up trains', () => {
  const { rows, summary, lines } = replay(MINUTES);
  const input = fs.readFileSync(MINUTES, 'utf8').trimEnd().split(/\r?\n/);
  assert.equal(lines.length, input.length);
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i].split(',')[0], input[i].split('\t')[0]);
  assert.equal(summary.timeColumn, 'Zeitstempel');
  assert.deepEqual(
    summary.mapping.map((m: { signal: string; unit: string }) => `${m.signal} ${m.unit}`),
    ['current A', 'bearing_temperature °C', 'vibration_velocity mm/s', 'discharge_pressure bar'],
  );
  assert.deepEqual(summary.training, { rows: 121, rule: 'class-warmup' });
  assert.equal(summary.unreadTimestamps, 0);
  const flagged = flaggedRows(rows);
  assert.ok(flagged.filter((i) => i < 600).length <= 5, `few false alarms before the fault: ${flagged.filter((i) => i < 600)}`);
  assert.ok(rows.slice(610).every((r) => r[2] === '1'), 'the vibration fault from row 600 is flagged throughout');
  assert.equal(rows[650][3], 'vibration_velocity');
  assert.ok(rows.slice(650).every((r) => r[4] !== ''), 'an alert tier is active during the fault');
  // The same run with the separator and time column given explicitly, and with --train-rows 121.
  assert.deepEqual(replay(MINUTES, ['--separator', 'tab', '--time-column', 'Zeitstempel', '--asset-class', 'pump']).lines, lines);
  const explicit = replay(MINUTES, ['--train-rows', '121']);
  assert.deepEqual(explicit.lines, lines);
  assert.deepEqual(explicit.summary.training, { rows: 121, rule: 'option' });
});

test('--help documents the default training part', () => {
  let out = '';
  const stdout = { write: (c: string) => ((out += c), true) } as unknown as NodeJS.WritableStream;
  assert.equal(main(['--help'], { stdout, stderr: quiet }), 0);
  assert.match(out, /Default: whichever comes first of the asset class's warm-up/);
  assert.match(out, /20 % of the file's rows/);
});
