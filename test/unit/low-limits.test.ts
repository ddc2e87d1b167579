/**
 * Low limits (warningLow / actionLow): class defaults and overrides in the asset resolver, the
 * twin's limit level and side while the machine runs, and alert evidence saying "below".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAsset } from '../../nodes/lib/assets/resolve';
import { AssetConfigError } from '../../nodes/lib/assets/schema';
import { TwinFleet } from '../../nodes/lib/twin/fleet';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { classify } from '../../nodes/lib/alert/inputs';
import { alertEventProblem } from '../../nodes/lib/contracts/alert-event';
import type { Reading } from '../../nodes/lib/contracts/reading';

const T0 = Date.UTC(2026, 10, 27, 8);
const pump = () => resolveAsset({ id: 'P-1', assetClass: 'pump', path: { site: 's1' }, nameplate: { ratedCurrentA: 30 } });
const r = (signal: string, value: number, ts: number, assetId = 'P-1'): Reading => ({ assetId, signal, value, unit: signal === 'current' ? 'A' : signal === 'speed' ? 'rpm' : 'bar', ts, quality: 'good' });

test('class defaults: low suction pressure for pumps, low speed (a fraction of rated) for conveyors', () => {
  assert.deepEqual(pump().limits.suction_pressure, { range: [-1, 40], warningLow: 0, actionLow: -0.5 });
  const conveyor = resolveAsset({ id: 'C-1', assetClass: 'conveyor', nameplate: { ratedSpeedRpm: 1450 } });
  assert.equal(conveyor.limits.speed.warningLow, 1305);
  assert.equal(conveyor.limits.speed.actionLow, 1160);
  const unrated = resolveAsset({ id: 'C-2', assetClass: 'conveyor' });
  assert.equal(unrated.limits.speed.warningLow, undefined, 'no rating, no fraction of it');
  assert.equal(resolveAsset({ id: 'M-1', assetClass: 'motor' }).limits.current.warningLow, undefined);
});

test('an asset overrides low limits one by one, e.g. belt speed (slip) on a conveyor; actionLow above warningLow is refused', () => {
  const c = resolveAsset({ id: 'C-1', assetClass: 'conveyor', limits: { belt_speed: { warningLow: 190, actionLow: 180 }, speed: { actionLow: 1000 } }, nameplate: { ratedSpeedRpm: 1450 } });
  assert.deepEqual([c.limits.belt_speed.warningLow, c.limits.belt_speed.actionLow], [190, 180]);
  assert.deepEqual([c.limits.speed.warningLow, c.limits.speed.actionLow], [1305, 1000]);
  assert.throws(
    () => resolveAsset({ id: 'P-2', assetClass: 'pump', limits: { suction_pressure: { warningLow: 0.5, actionLow: 1 } } }),
    (err: unknown) => err instanceof AssetConfigError && err.code === 'inconsistent_limits' && /actionLow/.test(err.message),
  );
  assert.throws(() => resolveAsset({ id: 'P-3', assetClass: 'pump', limits: { suction_pressure: { warningLow: 'low' as never } } }), AssetConfigError);
});

test('the twin: a falling suction pressure crosses warningLow then actionLow while running, side "low", "below" in health; never while off', () => {
  const fleet = new TwinFleet(() => pump());
  const snapAt = (ts: number) => fleet.snapshot('P-1', ts)!;
  fleet.ingestAll([r('current', 0, T0), r('suction_pressure', -0.8, T0)], T0);
  assert.equal(snapAt(T0).features.suction_pressure.properties.limit, 'normal', 'a stopped pump has no suction to judge');
  fleet.ingestAll([r('current', 24, T0 + 1000), r('suction_pressure', 1.2, T0 + 1000)], T0 + 1000);
  fleet.ingestAll([r('current', 24, T0 + 20_000), r('suction_pressure', 1.2, T0 + 20_000)], T0 + 20_000);
  assert.equal(fleet.get('P-1')!.state, 'running');
  assert.equal(snapAt(T0 + 20_000).features.suction_pressure.properties.limit, 'normal');
  const crossing = fleet.ingest(r('suction_pressure', -0.1, T0 + 21_000), T0 + 21_000);
  assert.ok(!('error' in crossing) && crossing.snapshot);
  assert.deepEqual(crossing.snapshot.changes.filter((c) => c.kind === 'limit').map((c) => c.kind === 'limit' && [c.level, c.side]), [['warning', 'low']]);
  let snap = snapAt(T0 + 21_000);
  assert.equal(snap.features.suction_pressure.properties.limit, 'warning');
  assert.equal(snap.features.suction_pressure.properties.limitSide, 'low');
  assert.ok(snap.health.issues.includes('suction_pressure below its warning limit'), snap.health.issues.join('; '));
  assert.equal(snap.recommendation?.reason, 'suction_pressure below the warning limit');
  assert.ok(snap.recommendation?.failureModes.includes('cavitation'));
  fleet.ingest(r('suction_pressure', -0.6, T0 + 22_000), T0 + 22_000);
  snap = snapAt(T0 + 22_000);
  assert.equal(snap.features.suction_pressure.properties.limit, 'action');
  assert.equal(snap.health.status, 'action');
  // A high reading on a signal with both sides reports the high side.
  fleet.ingest(r('suction_pressure', 2, T0 + 23_000), T0 + 23_000);
  assert.equal(snapAt(T0 + 23_000).features.suction_pressure.properties.limit, 'normal');
  assert.equal(snapAt(T0 + 23_000).features.suction_pressure.properties.limitSide, undefined);
  // Saved and restored, the side survives.
  fleet.ingest(r('suction_pressure', -0.2, T0 + 24_000), T0 + 24_000);
  const copy = new TwinFleet(() => pump());
  assert.ok(copy.restore(JSON.parse(JSON.stringify(fleet.get('P-1')!.toJSON()))));
  assert.equal(copy.snapshot('P-1', T0 + 24_000)!.features.suction_pressure.properties.limitSide, 'low');
});

test('pdm-alert: a low limit from the twin raises an alert whose evidence and reason say "below"', () => {
  const fleet = new TwinFleet(() => pump());
  fleet.ingestAll([r('current', 24, T0), r('suction_pressure', 1, T0)], T0);
  fleet.ingestAll([r('current', 24, T0 + 20_000), r('suction_pressure', -0.2, T0 + 20_000)], T0 + 20_000);
  const snapshot = JSON.parse(JSON.stringify(fleet.snapshot('P-1', T0 + 20_000)));
  const c = classify(snapshot);
  assert.ok(c.kind === 'snapshot', c.kind);
  const engine = new AlertEngine();
  const out = engine.ingestSnapshot(c.snapshot, T0 + 20_000);
  assert.ok(out.ok);
  const raised = out.output.events.find((e) => e.transition === 'raised');
  assert.ok(raised, 'raised');
  assert.equal(alertEventProblem(raised), undefined, alertEventProblem(raised));
  assert.match(raised.reason, /suction_pressure below its warning limit \(-0\.2\)/);
  assert.deepEqual(raised.evidence.rules?.map((x) => [x.signal, x.level, x.side]), [['suction_pressure', 'warning', 'low']]);
  assert.ok(['cavitation', 'dry_running'].includes(raised.failureMode.id), raised.failureMode.id);
});
