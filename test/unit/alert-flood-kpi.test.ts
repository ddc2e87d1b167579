/**
 * Flood control and alarm KPIs (nodes/lib/alert/flood.ts, kpi.ts, through the engine), on a fake clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { checkEnd, floodCount, newFloodState, recordActivation, restoreFloodState } from '../../nodes/lib/alert/flood';
import { newPeriod, recordAnnunciation, report, restorePeriod } from '../../nodes/lib/alert/kpi';
import { engineConfig } from '../../nodes/lib/alert/config';
import type { AnomalyScore } from '../../nodes/lib/alert/inputs';
import { floodEventProblem, kpiReportProblem, type AlertEvent, type FloodEvent, type KpiReport } from '../../nodes/lib/contracts/alert-event';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 27, 6, 0, 0);
const FLOOD = engineConfig().flood;

function score(assetId: string, t: number, value: number): AnomalyScore {
  return {
    assetId,
    window: { start: t - MIN, end: t },
    state: 'running',
    score: value,
    anomalous: value >= 0.5,
    threshold: 0.5,
    contributions: { vibration_velocity: 1 },
    topSignal: 'vibration_velocity',
    model: { id: 'm', version: 1 },
    status: 'ready',
  };
}

describe('flood detection (pure)', () => {
  it('starts above 10 activations in 10 minutes and ends below 5', () => {
    const s = newFloodState();
    for (let i = 0; i < 10; i++) assert.equal(recordActivation(s, 'p1', T0 + i * S, `e${i}`, FLOOD).started, undefined);
    const eleventh = recordActivation(s, 'p1', T0 + 10 * S, 'e10', FLOOD);
    assert.ok(eleventh.started);
    assert.equal(eleventh.started.floodId, `flood:p1:${T0 + 10 * S}`);
    assert.deepEqual(eleventh.started.leaders, Array.from({ length: 10 }, (_, i) => `e${i}`));
    assert.equal(eleventh.started.activations, 11);
    assert.equal(floodEventProblem(eleventh.started), undefined);
    // Still 11 in the window a minute later: no end.
    assert.equal(checkEnd(s, 'p1', T0 + MIN, FLOOD), undefined);
    // The window slides: at T0 + 10 min + 6 s only e7..e10 remain (4 < 5) → the flood ends.
    assert.equal(checkEnd(s, 'p1', T0 + 10 * MIN + 5 * S, FLOOD), undefined);
    const ended = checkEnd(s, 'p1', T0 + 10 * MIN + 6 * S, FLOOD)!;
    assert.ok(ended);
    assert.equal(ended.durationMs, 10 * MIN + 6 * S - 10 * S);
    assert.equal(ended.activations, 1);
    assert.equal(floodEventProblem(ended), undefined);
    assert.equal(floodCount(s, T0 + 10 * MIN + 6 * S, FLOOD), 4);
    assert.deepEqual(restoreFloodState(JSON.parse(JSON.stringify(s))), s);
    assert.deepEqual(restoreFloodState('junk'), newFloodState());
  });
});

describe('flood control in the engine', () => {
  it('groups and suppresses consequential alarms during a flood, keeps every record, shows actions, and unsuppresses when it ends', () => {
    // Long on-delay: thirteen simultaneous escalations to warning would be a flood of their own.
    const engine = new AlertEngine({ tiers: { clear: { offDelayMs: 60 * MIN }, warning: { onDelayMs: 60 * MIN } } });
    const events: AlertEvent[] = [];
    const floods: FloodEvent[] = [];
    const take = (o: { events: AlertEvent[]; floods: FloodEvent[] }) => {
      events.push(...o.events);
      floods.push(...o.floods);
    };
    // A whole line trips: 14 assets raise within 2 minutes.
    for (let i = 0; i < 14; i++) {
      const r = engine.ingestScore(score(`A-${i}`, T0 + i * 10 * S, 0.8), T0 + i * 10 * S);
      assert.ok(r.ok);
      take(r.output);
    }
    assert.equal(floods.length, 1);
    assert.equal(floods[0].transition, 'flood_started');
    const raised = events.filter((e) => e.transition === 'raised');
    assert.equal(raised.length, 14, 'every alarm is recorded');
    assert.deepEqual(raised.slice(0, 10).map((e) => e.annunciated), Array(10).fill(true));
    assert.deepEqual(raised.slice(10).map((e) => [e.state, e.alarm.suppressed, e.flood?.id]), Array(4).fill(['suppressed', 'flood', floods[0].floodId]));
    assert.equal(engine.summary('A-12')!.status, 'suppressed');
    // An action during the flood is always shown (suppressUpTo: warning).
    const zone = engine.ingestSnapshot(
      { assetId: 'A-12', state: 'running', features: { vibration_velocity: { value: 3, limit: 'warning', stale: false, quality: 'good' } }, updatedAt: T0 + 3 * MIN },
      T0 + 3 * MIN,
    );
    assert.ok(zone.ok);
    take(zone.output);
    const esc = events.at(-1)!;
    assert.equal(esc.transition, 'escalated');
    assert.equal(esc.tier, 'action');
    assert.equal(esc.state, 'active_unacknowledged');
    assert.equal(esc.flood?.id, floods[0].floodId, 'still grouped under the flood');
    // KPIs while the flood is on.
    const during = engine.kpis(T0 + 5 * MIN)[0];
    assert.equal(during.floods, 1);
    assert.ok(during.timeInFloodMs > 0);
    assert.equal(during.suppressedByFlood, 4);
    // Ten quiet minutes later the flood ends and the grouped, still active alarms are shown.
    take(engine.tick(T0 + 13 * MIN));
    assert.equal(floods.at(-1)!.transition, 'flood_ended');
    assert.equal(floods.at(-1)!.grouped, 4);
    const unsup = events.filter((e) => e.transition === 'unsuppressed');
    assert.deepEqual(unsup.map((e) => e.assetId).sort(), ['A-10', 'A-11', 'A-13']);
    assert.ok(unsup.every((e) => e.reasonCode === 'flood_ended' && e.state === 'active_unacknowledged'));
  });

  it('with suppressUpTo "none" a flood only groups', () => {
    const engine = new AlertEngine({ flood: { suppressUpTo: 'none' } });
    let last: AlertEvent | undefined;
    for (let i = 0; i < 12; i++) {
      const r = engine.ingestScore(score(`B-${i}`, T0 + i * S, 0.8), T0 + i * S);
      if (r.ok) last = r.output.events.at(-1);
    }
    assert.equal(last!.annunciated, true);
    assert.equal(last!.flood, undefined);
  });
});

describe('alarm KPIs', () => {
  it('report: alarms per hour, peak 10 min, bad actors, priority mix, chattering, stale, feedback — per the schema', () => {
    const p = newPeriod(T0);
    for (let i = 0; i < 8; i++) recordAnnunciation(p, T0 + i * MIN, 'M-1', 'bearing_wear', 'watch', false);
    recordAnnunciation(p, T0 + 20 * MIN, 'M-1', 'bearing_wear', 'warning', false);
    recordAnnunciation(p, T0 + 30 * MIN, 'P-1', 'cavitation', 'action', true);
    p.truePositives = 3;
    p.falseAlarms = 1;
    const r = report(p, 'plant1', T0 + HOUR, { standing: 2, shelved: 1, suppressed: 0, outOfService: 1, stale: [] }, null, { truePositives: 3, falseAlarms: 1 });
    assert.equal(kpiReportProblem(r), undefined);
    assert.equal(r.alarms, 10);
    assert.equal(r.alarmsPerHour, 10);
    assert.equal(r.peak10Min, 8);
    assert.deepEqual(r.badActors, [
      { assetId: 'M-1', failureMode: 'bearing_wear', count: 9, share: 0.9 },
      { assetId: 'P-1', failureMode: 'cavitation', count: 1, share: 0.1 },
    ]);
    assert.equal(r.top10Share, 1);
    assert.deepEqual(r.priorityMix, { low: { count: 8, share: 0.8 }, medium: { count: 1, share: 0.1 }, high: { count: 1, share: 0.1 } });
    assert.equal(r.suppressedByFlood, 1);
    assert.deepEqual(r.feedback, { truePositives: 3, falseAlarms: 1, precision: 0.75 });
    assert.deepEqual(restorePeriod(JSON.parse(JSON.stringify(p)), 0), p);
    // An ongoing flood adds its time in this period.
    const withFlood = report(p, 'plant1', T0 + HOUR, { standing: 0, shelved: 0, suppressed: 0, outOfService: 0, stale: [] }, T0 + 45 * MIN, { truePositives: 0, falseAlarms: 0 });
    assert.equal(withFlood.timeInFloodMs, 15 * MIN);
    assert.equal(withFlood.timeInFloodPct, 25);
  });

  it('published per site every interval by tick; chattering and stale alarms counted', () => {
    const engine = new AlertEngine({
      kpiIntervalMs: HOUR,
      tiers: { clear: { offDelayMs: 0, hysteresis: 0 } },
    });
    const reports: KpiReport[] = [];
    // Site "plant1": one chattering alarm (active → clear 3 times within a minute).
    for (let i = 0; i < 3; i++) {
      engine.ingestSnapshot({ assetId: 'C-1', state: 'running', features: {}, updatedAt: T0, path: { site: 'plant1' } }, T0);
      engine.ingestScore(score('C-1', T0 + i * 20 * S, 0.9), T0 + i * 20 * S);
      engine.ingestScore(score('C-1', T0 + i * 20 * S + 10 * S, 0.1), T0 + i * 20 * S + 10 * S);
    }
    // Site "plant2": an alarm that stays active for more than 24 h.
    engine.ingestSnapshot({ assetId: 'S-1', state: 'running', features: {}, updatedAt: T0, path: { site: 'plant2' } }, T0);
    engine.ingestScore(score('S-1', T0 + MIN, 0.9), T0 + MIN);
    reports.push(...engine.tick(T0 + 30 * MIN).kpis);
    assert.equal(reports.length, 0, 'not before the interval');
    reports.push(...engine.tick(T0 + HOUR).kpis);
    assert.deepEqual(reports.map((r) => r.site).sort(), ['plant1', 'plant2']);
    const p1 = reports.find((r) => r.site === 'plant1')!;
    assert.equal(p1.alarms, 3);
    assert.equal(p1.chattering.alarms, 1);
    assert.deepEqual(p1.chattering.top, [{ assetId: 'C-1', failureMode: 'bearing_wear', count: 1 }]);
    for (const r of reports) assert.equal(kpiReportProblem(r), undefined, kpiReportProblem(r));
    // A day later, S-1 is stale.
    engine.ingestScore(score('S-1', T0 + 25 * HOUR, 0.9), T0 + 25 * HOUR);
    const later = engine.tick(T0 + 25 * HOUR).kpis;
    const p2 = later.find((r) => r.site === 'plant2')!;
    assert.equal(p2.stale.count, 1);
    assert.equal(p2.stale.episodes[0].assetId, 'S-1');
    assert.ok(p2.stale.episodes[0].ageMs > 24 * HOUR);
    assert.equal(p2.standing, 1);
    assert.equal(p2.alarms, 0, 'a new period started');
  });
});
