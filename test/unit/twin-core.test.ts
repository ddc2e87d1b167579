import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P2Quantile } from '../../nodes/lib/stats/p2-quantile';
import { RunningStats } from '../../nodes/lib/stats/running-stats';
import { FeatureWindowBuilder } from '../../nodes/lib/twin/feature-window';
import { AssetTwin } from '../../nodes/lib/twin/asset-twin';
import { TwinFleet } from '../../nodes/lib/twin/fleet';
import { buildSnapshot } from '../../nodes/lib/twin/snapshot';
import type { Reading } from '../../nodes/lib/contracts/reading';
import { motorAsset } from '../helpers/asset-fixture';

const r = (signal: string, value: number, ts: number, quality: Reading['quality'] = 'good', assetId = 'M-1'): Reading => ({
  assetId,
  signal,
  value,
  unit: signal === 'current' ? 'A' : 'mm/s',
  ts,
  quality,
});

/** Deterministic normal samples (Box-Muller over a seeded LCG). */
function normals(n: number, seed = 7): number[] {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) + 1) / (2 ** 31 + 1);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

test('P² quantiles track the true quantiles of a normal sample within 2 %', () => {
  const xs = normals(20_000);
  const est = [0.05, 0.5, 0.95].map((p) => new P2Quantile(p));
  xs.forEach((x) => est.forEach((q) => q.push(x)));
  const sorted = [...xs].sort((a, b) => a - b);
  for (const q of est) {
    const truth = sorted[Math.floor(q.p * (sorted.length - 1))];
    assert.ok(Math.abs(q.value - truth) < 0.05, `p${q.p}: ${q.value} vs ${truth}`);
  }
  const copy = new P2Quantile(0.5, JSON.parse(JSON.stringify(est[1].toJSON())));
  assert.equal(copy.value, est[1].value);
  assert.ok(Number.isNaN(new P2Quantile(0.5).value));
  const few = new P2Quantile(0.5);
  [3, 1, 2].forEach((x) => few.push(x));
  assert.equal(few.value, 2);
});

test('running stats match the two-pass mean and sample std', () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  const s = new RunningStats();
  xs.forEach((x) => s.push(x));
  assert.equal(s.mean, 5);
  assert.ok(Math.abs(s.std - Math.sqrt(32 / 7)) < 1e-12);
});

test('feature windows align to their length and compute mean, RMS, min, max, std and slope', () => {
  const b = new FeatureWindowBuilder('M-1', 10_000);
  for (let i = 0; i < 10; i++) assert.deepEqual(b.add('x', 1 + 0.5 * i, 20_000 + i * 1000, 'running'), []);
  const [w] = b.add('x', 99, 30_000, 'running');
  assert.equal(w.start, 20_000);
  assert.equal(w.end, 30_000);
  assert.equal(w.state, 'running');
  assert.equal(w.transient, false);
  const f = w.features.x;
  assert.equal(f.n, 10);
  assert.ok(Math.abs(f.mean - 3.25) < 1e-12);
  assert.equal(f.min, 1);
  assert.equal(f.max, 5.5);
  assert.ok(Math.abs(f.slope - 0.5) < 1e-9, `slope ${f.slope}`);
  const values = Array.from({ length: 10 }, (_, i) => 1 + 0.5 * i);
  assert.ok(Math.abs(f.rms - Math.sqrt(values.reduce((a, v) => a + v * v, 0) / 10)) < 1e-12);
  assert.ok(Math.abs(f.std - 1.5138251770487) < 1e-9);
});

test('a window with a startup is transient and tagged with the dominant state', () => {
  const b = new FeatureWindowBuilder('M-1', 10_000);
  b.add('x', 1, 0, 'off');
  b.noteState('startup', 2000);
  b.noteState('running', 3000);
  b.add('x', 1, 5000, 'running');
  const [w] = b.flush(10_000);
  assert.equal(w.transient, true);
  assert.equal(w.state, 'running');
  assert.deepEqual(w.stateMs, { off: 2000, startup: 1000, running: 7000 });
  b.add('x', 1, 12_000, 'running');
  const [next] = b.flush(20_000);
  assert.equal(next.transient, false);
});

test('the twin keeps latest values, per-state baselines, counters and limit changes', () => {
  const twin = new AssetTwin(motorAsset(), { windowMs: 10_000 });
  let t = 0;
  twin.ingest(r('current', 0, (t += 1000)));
  for (let i = 0; i < 15; i++) twin.ingest(r('current', 16, (t += 1000)));
  const vib = normals(50, 3).map((z) => 1.5 + 0.1 * z);
  for (const v of vib) twin.ingest(r('vibration_velocity', v, (t += 200)));
  const base = twin.baseline('vibration_velocity', 'running');
  assert.ok(base);
  assert.equal(base.n, 50);
  assert.ok(Math.abs(base.mean - vib.reduce((a, b) => a + b) / 50) < 1e-9);
  assert.equal(twin.baseline('vibration_velocity', 'idle'), undefined);
  const result = twin.ingest(r('vibration_velocity', 5, (t += 200)));
  assert.ok(result.changed);
  assert.equal(twin.limitLevels().get('vibration_velocity'), 'action');
  twin.ingest(r('current', 0, (t += 1000)));
  twin.tick(t + 6000);
  const c = twin.counters();
  assert.equal(c.starts, 1);
  assert.equal(c.stops, 1);
  assert.ok(c.runtimeHours > 0);
  assert.ok(c.dutyCycle > 0 && c.dutyCycle < 1);
});

test('bad readings never enter baselines or drive the state', () => {
  const twin = new AssetTwin(motorAsset());
  twin.ingest(r('current', 16, 1000));
  twin.ingest(r('current', 0, 2000, 'bad'));
  assert.equal(twin.state, 'running');
  twin.ingest(r('vibration_velocity', 40, 3000, 'bad'));
  assert.equal(twin.baseline('vibration_velocity', 'running'), undefined);
  assert.equal(twin.limitLevels().get('vibration_velocity'), undefined);
});

test('a signal silent for longer than staleFactor × its interval is stale, then fresh again', () => {
  const twin = new AssetTwin(motorAsset(), { staleFactor: 5 });
  twin.ingest(r('vibration_velocity', 1, 1000));
  twin.tick(5999);
  assert.equal(twin.latestValues().get('vibration_velocity')?.stale, false);
  const stale = twin.tick(6001);
  assert.ok(stale.changed);
  assert.equal(twin.latestValues().get('vibration_velocity')?.stale, true);
  const snap = buildSnapshot(twin, 6001);
  assert.equal(snap.features.vibration_velocity.properties.stale, true);
  assert.equal(snap.health.status, 'attention');
  assert.match(snap.recommendation?.action ?? '', /vibration_velocity/);
  twin.ingest(r('vibration_velocity', 1, 7000));
  assert.ok(twin.takeChanges().some((c) => c.kind === 'fresh'));
});

test('the snapshot answers what, which state, what changed and what to do', () => {
  const twin = new AssetTwin(motorAsset());
  twin.ingest(r('current', 16, 1000));
  twin.ingest(r('vibration_velocity', 5, 1100));
  const snap = buildSnapshot(twin, 2000);
  assert.equal(snap.thingId, 'pdm:M-1');
  assert.equal(snap.attributes.assetClass, 'motor');
  assert.equal(snap.state.current, 'running');
  assert.deepEqual(snap.changes.map((c) => c.kind), ['quality', 'state', 'quality', 'limit']);
  assert.equal(snap.health.status, 'action');
  assert.deepEqual(snap.recommendation?.failureModes, ['bearing_wear']);
  assert.equal(buildSnapshot(twin, 2001).changes.length, 0, 'changes are reported once');
});

test('a twin round-trips through JSON with identical behaviour', () => {
  const twin = new AssetTwin(motorAsset(), { windowMs: 10_000 });
  twin.ingest(r('current', 0, 1000));
  twin.ingest(r('current', 16, 2000));
  for (let i = 0; i < 30; i++) twin.ingest(r('vibration_velocity', 1 + (i % 5) / 10, 13_000 + i * 100));
  twin.record({ kind: 'maintenance', ts: 15_000, type: 'inspection', note: 'ok' });
  const copy = new AssetTwin(motorAsset(), { windowMs: 10_000 });
  assert.ok(copy.restore(JSON.parse(JSON.stringify(twin.toJSON()))));
  assert.deepEqual(copy.toJSON(), twin.toJSON());
  const a = twin.ingest(r('vibration_velocity', 2, 21_000));
  const b = copy.ingest(r('vibration_velocity', 2, 21_000));
  assert.deepEqual(b.windows, a.windows);
  assert.equal(copy.restore({ ...twin.toJSON(), id: 'other' }), false);
});

test('a fleet of 1,000 assets routes readings and rate-limits snapshots', () => {
  const fleet = new TwinFleet((id) => (id.startsWith('M-') ? motorAsset(id) : undefined), { snapshotMinIntervalMs: 1000 });
  let snapshots = 0;
  for (let i = 0; i < 1000; i++) {
    const out = fleet.ingest(r('current', 16, 1000, 'good', `M-${i}`), 1000);
    assert.ok(!('error' in out));
    if (out.snapshot) snapshots++;
  }
  assert.equal(fleet.size, 1000);
  assert.equal(snapshots, 1000);
  const quick = fleet.ingest(r('current', 0, 1200, 'good', 'M-1'), 1200);
  assert.ok(!('error' in quick) && !quick.snapshot, 'second change within 1 s waits');
  const later = fleet.tick(2200).filter((u) => u.snapshot);
  assert.ok(later.some((u) => u.twin.id === 'M-1'));
  assert.deepEqual(fleet.ingest(r('current', 1, 1, 'good', 'X-9'), 1), { error: 'unknown_asset', assetId: 'X-9' });
  assert.equal(fleet.takeDirty().length, 1000);
});

test('with eventTime, staleness follows reading time, not the wall clock', () => {
  const fleet = new TwinFleet((id) => motorAsset(id), { eventTime: true, staleFactor: 5 });
  const past = Date.UTC(2020, 0, 1);
  fleet.ingest(r('vibration_velocity', 1, past), Date.now());
  fleet.ingest(r('current', 16, past), Date.now());
  fleet.tick(Date.now());
  assert.equal(fleet.get('M-1')?.latestValues().get('vibration_velocity')?.stale, false, 'old readings are not stale by the wall clock');
  fleet.ingest(r('current', 16, past + 60_000), Date.now());
  fleet.tick(Date.now());
  assert.equal(fleet.get('M-1')?.latestValues().get('vibration_velocity')?.stale, true, 'a minute of reading time without vibration is');
  const snap = fleet.snapshot('M-1', Date.now());
  assert.equal(snap?.features.vibration_velocity.properties.ageMs, 60_000);
});

test('with eventTime, each twin runs on its own reading time: a lagging source is not stale, nor does it make others stale', () => {
  const fleet = new TwinFleet((id) => motorAsset(id), { eventTime: true, staleFactor: 5 });
  const past = Date.UTC(2020, 0, 1);
  const lagMs = 3_600_000;
  // LAG's gateway is an hour behind FAST's; both report every 10 s.
  for (let i = 0; i <= 6; i++) {
    fleet.ingestAll([r('current', 16, past + i * 10_000, 'good', 'LAG'), r('vibration_velocity', 1, past + i * 10_000, 'good', 'LAG')], Date.now());
    const fast = [r('current', 16, past + lagMs + i * 10_000, 'good', 'FAST')];
    // FAST's vibration sensor goes quiet after the first reading.
    if (i === 0) fast.push(r('vibration_velocity', 1, past + lagMs, 'good', 'FAST'));
    fleet.ingestAll(fast, Date.now());
    fleet.tick(Date.now());
  }
  const stale = (id: string, signal: string) => fleet.get(id)?.latestValues().get(signal)?.stale;
  assert.equal(stale('LAG', 'current'), false, 'the lagging asset is judged by its own clock');
  assert.equal(stale('LAG', 'vibration_velocity'), false);
  assert.equal(stale('FAST', 'current'), false);
  assert.equal(stale('FAST', 'vibration_velocity'), true, 'a quiet signal is still stale against its own asset’s clock');
  assert.equal(fleet.snapshot('LAG', Date.now())?.features.current.properties.ageMs, 0);
  assert.equal(fleet.snapshot('FAST', Date.now())?.features.vibration_velocity.properties.ageMs, 60_000);
});
