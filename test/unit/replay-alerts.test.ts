import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../nodes/lib/replay/cli';
import { readTable } from '../../nodes/lib/replay/table';
import { runReplay, type ReplayOptions } from '../../nodes/lib/replay/pipeline';
import { ReplayAlerts } from '../../nodes/lib/replay/alerts';
import type { Score } from '../../nodes/lib/anomaly/types';
import type { OperatingState } from '../../nodes/lib/twin/operating-state';

const root = path.resolve(__dirname, '..', '..', '..');
const SEMI = path.join(root, 'test', 'fixtures', 'replay', 'pump-semicolon.csv');
const TEXT = fs.readFileSync(SEMI, 'utf8');
const LINES = TEXT.split('\r\n');
// The fixture: 300 rows at 1 Hz, a flow drop (anomaly = 1) from row 219 to about row 270.
const FAULT_ROW = LINES.slice(1).findIndex((l) => l.split(';')[6] === '1.0');
const OPTS: Partial<ReplayOptions> = { trainRows: 150, exclude: ['anomaly', 'changepoint'], assetClass: 'pump' };
const TIERS = new Set(['', 'watch', 'warning', 'action']);
const RANK: Record<string, number> = { '': 0, watch: 1, warning: 2, action: 3 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-replay-alerts-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function tiersOf(text: string, opts: Partial<ReplayOptions> = OPTS): string[] {
  return runReplay(readTable(text, 'fixture.csv', ';'), opts).rows.map((r) => r.tier);
}

test('the tier column: empty before the fault, watch then warning once the obvious fault persists (CLI, unchanged columns)', () => {
  assert.ok(FAULT_ROW > 200 && FAULT_ROW < 240, `fault row ${FAULT_ROW}`);
  const output = path.join(tmp, 'out.csv');
  const stderr = { text: '', write(c: string) { this.text += c; return true; } };
  const stdout = { text: '', write(c: string) { this.text += c; return true; } };
  const code = main(['--input', SEMI, '--output', output, '--train-rows', '150', '--separator', ';', '--exclude-columns', 'anomaly,changepoint', '--asset-class', 'pump'], {
    stdout: stdout as unknown as NodeJS.WritableStream,
    stderr: stderr as unknown as NodeJS.WritableStream,
  });
  assert.equal(code, 0, stderr.text);
  const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'timestamp,score,anomalous,top_signal,tier');
  assert.equal(lines.length, LINES.filter(Boolean).length);
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.ok(rows.every((r) => r.length === 5 && TIERS.has(r[4])), 'tier is watch, warning, action or empty');
  assert.ok(rows.slice(0, FAULT_ROW).every((r) => r[4] === ''), 'no alert before the fault');
  const firstTier = rows.findIndex((r) => r[4] !== '');
  const firstAnomalous = rows.findIndex((r) => r[2] === '1');
  assert.ok(firstTier >= firstAnomalous && firstTier <= firstAnomalous + 2, `first tier at row ${firstTier}, first anomalous row ${firstAnomalous}`);
  assert.equal(rows[firstTier][4], 'watch', 'an episode is raised at watch');
  const firstWarning = rows.findIndex((r) => RANK[r[4]] >= 2);
  assert.ok(firstWarning > firstTier && firstWarning - FAULT_ROW <= 15, `warning at row ${firstWarning} (fault at ${FAULT_ROW})`);
  // No business rule agrees (no limits on these signals), so the model alone never reaches action.
  assert.ok(rows.every((r) => r[4] !== 'action'));
  assert.match(stderr.text, /alert tiers: watch \d+, warning \d+, action 0 rows; 1 alert activation/);
});

test('the tier stays empty on every training row, even when the fault falls inside the training part', () => {
  assert.ok(tiersOf(TEXT).slice(0, 150).every((t) => t === ''));
  // Train on 260 rows: the fault (from row ~219) is learnt, not alerted.
  const tiers = tiersOf(TEXT, { ...OPTS, trainRows: 260 });
  assert.ok(tiers.slice(0, 260).every((t) => t === ''), 'training rows have no tier');
  // Without --train-rows the class warm-up gate decides: learning rows have no tier either.
  const result = runReplay(readTable(TEXT, 'fixture.csv', ';'), { exclude: ['anomaly', 'changepoint'], assetClass: 'pump' });
  for (const r of result.rows) if (r.status === 'learning') assert.equal(r.tier, '');
});

test('no look-ahead: cutting the file after row k or altering later rows leaves the tiers of rows < k unchanged', () => {
  const full = tiersOf(TEXT);
  assert.ok(full.some((t) => t !== ''));
  for (const k of [151, 200, FAULT_ROW + 1, FAULT_ROW + 4, FAULT_ROW + 8, 240, 262, 275, 290]) {
    const cut = LINES.slice(0, k + 1).join('\r\n');
    assert.deepEqual(tiersOf(cut), full.slice(0, k), `cut after ${k} rows`);
  }
  // Later rows made wildly abnormal (and a new fault appended) do not reach back.
  const k = FAULT_ROW + 5;
  const altered = [...LINES.slice(0, k + 1), ...LINES.slice(k + 1).map((l) => (l ? l.replace(/;(\d+\.\d+);([01]\.0);([01]\.0)$/, ';999.0;$2;$3') : l))].join('\r\n');
  assert.notEqual(altered, TEXT);
  assert.deepEqual(tiersOf(altered).slice(0, k), full.slice(0, k));
});

test('label columns never influence the tier: any labels give the same tier column', () => {
  const original = tiersOf(TEXT);
  const variants = [
    (i: number) => [i % 3 === 0 ? '1.0' : '0.0', String(i * 1000)],
    () => ['1.0', '1.0'],
    () => ['0.0', '0.0'],
    (i: number) => [i >= FAULT_ROW ? '0.0' : '1.0', '-5e9'],
  ];
  for (const labels of variants) {
    const text = LINES.map((line, i) => {
      if (i === 0 || !line) return line;
      const cells = line.split(';');
      [cells[6], cells[7]] = labels(i);
      return cells.join(';');
    }).join('\r\n');
    assert.deepEqual(tiersOf(text), original);
  }
  // Dropping the label columns altogether is the same as excluding them.
  const unlabelled = LINES.map((l) => l.split(';').slice(0, 6).join(';')).join('\r\n');
  assert.deepEqual(tiersOf(unlabelled, { ...OPTS, exclude: [] }), original);
});

// ---- the adapter on its own --------------------------------------------------------------

function score(t: number, value: number, extra: Partial<Score> = {}): Score {
  return {
    assetId: 'p1',
    window: { start: t, end: t },
    state: 'running' as OperatingState,
    score: value,
    anomalous: value >= 0.5,
    threshold: 0.5,
    contributions: value > 0 ? { flow: 1 } : {},
    topSignal: value >= 0.5 ? 'flow' : null,
    model: { id: 'm', version: 1 },
    status: 'ready',
    ...extra,
  };
}

test('ReplayAlerts: learning and off rows never alert; watch, warning (3 of 5) and clearing after the off-delay follow the pump defaults', () => {
  const a = new ReplayAlerts({ assetId: 'p1', assetClass: 'pump' });
  const t0 = Date.UTC(2024, 0, 1);
  const s = 1000;
  assert.equal(a.row(score(t0, 0.9, { status: 'learning', anomalous: false }), t0, 'running'), null);
  assert.equal(a.row(score(t0 + s, 0.9, { state: 'off' }), t0 + s, 'off'), null, 'suppressed while off');
  assert.equal(a.row(score(t0 + 2 * s, 0.1), t0 + 2 * s, 'running'), null);
  assert.equal(a.row(score(t0 + 3 * s, 0.9), t0 + 3 * s, 'running'), 'watch');
  assert.equal(a.row(score(t0 + 4 * s, 0.9), t0 + 4 * s, 'running'), 'watch');
  assert.equal(a.row(score(t0 + 5 * s, 0.9), t0 + 5 * s, 'running'), 'warning', '3 anomalous of the last 5 scored rows');
  let t = t0 + 6 * s;
  let tier = a.row(score(t, 0.1), t, 'running');
  assert.equal(tier, 'warning', 'keeps firing through the off-delay');
  while (tier !== null && t < t0 + 10 * 60 * s) {
    t += s;
    tier = a.row(score(t, 0.1), t, 'running');
  }
  assert.equal(tier, null);
  assert.equal((t - (t0 + 6 * s)) / s, 300, 'cleared after the 5 min off-delay');
  assert.equal(a.summary.activations, 1);
  assert.deepEqual(a.summary.peak, { watch: 0, warning: 1, action: 0 });
  assert.equal(a.summary.transitions.cleared, 1);
});

test('ReplayAlerts: the model and an action limit of the twin agreeing give action', () => {
  const a = new ReplayAlerts({ assetId: 'p1', assetClass: 'pump' });
  const t0 = Date.UTC(2024, 0, 1);
  const limits = new Map<string, 'warning' | 'action' | 'normal'>([['vibration_velocity', 'action']]);
  const sc = score(t0, 0.95, { contributions: { vibration_velocity: 1 }, topSignal: 'vibration_velocity' });
  assert.equal(a.row(sc, t0, 'running', limits), 'action');
});
