/**
 * The alert state survives its persisted form: per-asset and per-site JSON (what the node writes
 * to its context store) restores to an engine that answers the same and keeps counting — open
 * episodes, shelving timers, trackers, feedback, KPI periods and floods included.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import type { AnomalyScore } from '../../nodes/lib/alert/inputs';
import { restoreAssetState, restoreSiteState } from '../../nodes/lib/alert/state';
import { contextKey } from '../../nodes/pdm-alert/settings';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

function score(assetId: string, t: number, value: number): AnomalyScore {
  return {
    assetId,
    window: { start: t - MIN, end: t },
    state: 'running',
    score: value,
    anomalous: value >= 0.5,
    threshold: 0.5,
    contributions: { vibration_velocity: 0.8, current: 0.2 },
    topSignal: 'vibration_velocity',
    model: { id: 'm', version: 1 },
    status: 'ready',
  };
}

/** Saves an engine the way the node does (one JSON value per asset and per site) and restores it. */
function roundTrip(engine: AlertEngine, now: number): AlertEngine {
  const saved = new Map<string, unknown>();
  for (const id of engine.ids()) saved.set(contextKey('alert:', id), JSON.parse(JSON.stringify(engine.exportAsset(id))));
  for (const id of engine.siteIds()) saved.set(contextKey('alert-site:', id), JSON.parse(JSON.stringify(engine.exportSite(id))));
  const copy = new AlertEngine(engine.config);
  for (const [key, value] of saved) {
    const ok = key.startsWith('alert:') ? copy.importAsset(value) : copy.importSite(value, now);
    assert.ok(ok, `restore of ${key}`);
  }
  return copy;
}

function busyEngine(): AlertEngine {
  const engine = new AlertEngine({ tiers: { warning: { onDelayMs: 5 * MIN }, clear: { offDelayMs: 2 * MIN } } });
  // P.101: warning, acknowledged, shelved for 2 h.
  for (let i = 1; i <= 3; i++) engine.ingestScore(score('P.101', T0 + i * MIN, 0.8), T0 + i * MIN);
  engine.command({ command: 'acknowledge', assetId: 'P.101' }, T0 + 4 * MIN);
  engine.command({ command: 'shelve', assetId: 'P.101', forMs: 2 * HOUR, by: 'op' }, T0 + 4 * MIN);
  // "unit 7": returned unacknowledged, labelled.
  engine.ingestSnapshot({ assetId: 'unit 7', state: 'running', features: { vibration_velocity: { limit: 'warning', value: 3 } }, updatedAt: T0, path: { site: 'north plant' } }, T0);
  engine.tick(T0 + 6 * MIN);
  engine.ingestSnapshot({ assetId: 'unit 7', state: 'running', features: { vibration_velocity: { limit: 'normal', value: 1 } }, updatedAt: T0 + 7 * MIN, path: { site: 'north plant' } }, T0 + 7 * MIN);
  engine.tick(T0 + 10 * MIN);
  engine.command({ command: 'label', assetId: 'unit 7', label: 'true_fault' }, T0 + 10 * MIN);
  // A[1]: out of service; Ω-3: in a maintenance window.
  engine.ingestScore(score('A[1]', T0, 0.9), T0);
  engine.command({ command: 'out_of_service', assetId: 'A[1]', reason: 'rebuild' }, T0 + MIN);
  engine.command({ command: 'maintenance', assetId: 'Ω-3', forMs: HOUR }, T0 + MIN);
  return engine;
}

describe('alert persistence (pure)', () => {
  it('context keys escape everything a property expression would misread', () => {
    assert.equal(contextKey('alert:', 'M-1'), 'alert:M-1');
    assert.equal(contextKey('alert:', 'P.101'), 'alert:P%2E101');
    assert.equal(contextKey('alert:', 'unit 7'), 'alert:unit%207');
    assert.equal(contextKey('alert:', 'A[1]'), 'alert:A%5B1%5D');
    assert.equal(contextKey('alert:', "o'k\"x"), 'alert:o%27k%22x');
    assert.equal(contextKey('alert:', 'Ω'), 'alert:%CE%A9');
    assert.notEqual(contextKey('alert:', 'a.b'), contextKey('alert:', 'a_b'));
  });

  it('every asset and site comes back the same: summaries, open episodes, KPIs', () => {
    const engine = busyEngine();
    const copy = roundTrip(engine, T0 + 11 * MIN);
    for (const id of engine.ids()) assert.deepEqual(copy.summary(id), engine.summary(id), id);
    assert.deepEqual(copy.kpis(T0 + 11 * MIN), engine.kpis(T0 + 11 * MIN));
    assert.deepEqual(copy.toJSON(), engine.toJSON());
    assert.equal(copy.summary('P.101')!.episodes[0].shelved?.until, T0 + 4 * MIN + 2 * HOUR);
  });

  it('a restored engine goes on: shelving expires on time, commands find episodes, episode ids do not repeat', () => {
    const engine = busyEngine();
    const copy = roundTrip(engine, T0 + 11 * MIN);
    const early = copy.tick(T0 + 2 * HOUR);
    assert.ok(!early.events.some((e) => e.transition === 'unshelved'));
    const due = copy.tick(T0 + 4 * MIN + 2 * HOUR);
    assert.deepEqual(due.events.filter((e) => e.transition === 'unshelved').map((e) => e.assetId), ['P.101']);
    const ack = copy.command({ command: 'acknowledge', assetId: 'unit 7' }, T0 + 3 * HOUR);
    assert.ok(ack.ok);
    assert.equal(ack.output.events[0].closed, true);
    const rts = copy.command({ command: 'return_to_service', assetId: 'A[1]' }, T0 + 3 * HOUR);
    assert.ok(rts.ok);
    // Seq numbers continue.
    const before = engine.summary('P.101')!.episodes[0].episodeId;
    const next = copy.command({ command: 'unshelve', assetId: 'P.101' }, T0 + 3 * HOUR);
    assert.equal(!next.ok && next.code, 'not_shelved');
    const label = copy.command({ command: 'label', episodeId: before, label: 'false_alarm' }, T0 + 3 * HOUR);
    assert.ok(label.ok);
    assert.ok(label.output.events[0].seq > 4);
  });

  it('restoring refuses what is not ours and repairs what is damaged', () => {
    assert.equal(restoreAssetState(undefined, 'x'), undefined);
    assert.equal(restoreAssetState({ v: 2, id: 'x' }, 'x'), undefined);
    assert.equal(restoreAssetState({ v: 1, id: 'y' }, 'x'), undefined);
    const damaged = restoreAssetState({ v: 1, id: 'x', points: { bearing_wear: { mode: 'bearing_wear', tracker: 'junk', episode: { id: 1 } }, __proto__: 5 }, evidence: 7 }, 'x')!;
    assert.ok(damaged);
    assert.equal(damaged.points.bearing_wear.episode, null);
    assert.equal(damaged.points.bearing_wear.tracker.tier, null);
    assert.deepEqual(damaged.evidence.limits, {});
    assert.equal(restoreSiteState({ v: 1, site: 's' }, 's', T0)?.period.start, T0);
    const engine = new AlertEngine();
    assert.equal(engine.importAsset({ v: 1 }), false);
    assert.equal(engine.importSite(null, T0), false);
  });
});
