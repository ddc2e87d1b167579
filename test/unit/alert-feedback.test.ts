/**
 * Feedback: labels attach to episodes, go to the twin, feed per-asset precision and tune the
 * masking after startups ("startup_transient") or the per-state threshold ("mode_shift").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, type EngineOutput } from '../../nodes/lib/alert/engine';
import type { AnomalyScore, SnapshotInput } from '../../nodes/lib/alert/inputs';
import { alertEventProblem } from '../../nodes/lib/contracts/alert-event';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

function score(t: number, value: number, o: Partial<AnomalyScore> = {}, assetId = 'M-1'): AnomalyScore {
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
    ...o,
  };
}
const state = (t: number, s: string, since = t): SnapshotInput => ({ assetId: 'M-1', state: s, since, features: {}, updatedAt: t });
const out = (r: { ok: boolean; output?: EngineOutput }) => {
  assert.ok(r.ok);
  return r.output!;
};

describe('alert feedback', () => {
  it('a label attaches to the episode, goes to the twin and counts towards precision; relabelling corrects the counts', () => {
    const engine = new AlertEngine({ tiers: { clear: { offDelayMs: MIN } } });
    const raised = out(engine.ingestScore(score(T0, 0.8), T0)).events[0];
    const r = engine.command({ command: 'label', episodeId: raised.episodeId, label: 'true_fault', by: 'tech1', note: 'outer race spall' }, T0 + MIN);
    assert.ok(r.ok);
    const labelled = r.output.events[0];
    assert.equal(labelled.transition, 'labelled');
    assert.deepEqual(labelled.label, { type: 'true_fault', ts: T0 + MIN, by: 'tech1', note: 'outer race spall' });
    assert.equal(alertEventProblem(labelled), undefined);
    assert.deepEqual(r.output.twin, [
      {
        command: 'event',
        assetId: 'M-1',
        payload: { kind: 'label', type: 'true_fault', ts: T0 + MIN, episodeId: raised.episodeId, signal: 'vibration_velocity', by: 'tech1', note: 'outer race spall' },
      },
    ]);
    assert.deepEqual(engine.summary('M-1')!.precision, { truePositives: 1, falseAlarms: 0, precision: 1 });
    // Relabel as a false alarm: counts move, not add up.
    const again = engine.command({ command: 'label', assetId: 'M-1', label: 'false_alarm', reason: 'sensor_drift' }, T0 + 2 * MIN);
    assert.ok(again.ok);
    assert.deepEqual(engine.summary('M-1')!.precision, { truePositives: 0, falseAlarms: 1, precision: 0 });
    assert.equal(engine.kpis(T0 + 3 * MIN)[0].feedback.falseAlarms, 1);
  });

  it('a closed episode can still be labelled (its record gets a labelled event)', () => {
    const engine = new AlertEngine({ tiers: { clear: { offDelayMs: 0 } } });
    const raised = out(engine.ingestScore(score(T0, 0.8), T0)).events[0];
    const cleared = out(engine.ingestScore(score(T0 + MIN, 0.1), T0 + MIN)).events[0];
    assert.equal(cleared.closed, true);
    const r = engine.command({ command: 'label', episodeId: raised.episodeId, label: 'false_alarm', reason: 'operator_change' }, T0 + 2 * MIN);
    assert.ok(r.ok);
    assert.equal(r.output.events[0].closed, true);
    assert.equal(r.output.events[0].state, 'normal');
    assert.equal(r.output.events[0].seq, 3);
    assert.equal(engine.asset('M-1')!.feedback.reasons.operator_change, 1);
  });

  it('a label recorded by the twin (e.g. a CMMS outcome) attaches without being sent back', () => {
    const engine = new AlertEngine();
    const raised = out(engine.ingestScore(score(T0, 0.8), T0)).events[0];
    const r = out(engine.ingestTwinEvent({ kind: 'label', assetId: 'M-1', type: 'true_fault', ts: T0 + MIN, episodeId: raised.episodeId, by: 'cmms' }, T0 + MIN));
    assert.equal(r.events[0].transition, 'labelled');
    assert.deepEqual(r.twin, [], 'no loop back to the twin');
    const echo = out(engine.ingestTwinEvent({ kind: 'label', assetId: 'M-1', type: 'true_fault', ts: T0 + MIN, episodeId: raised.episodeId }, T0 + MIN));
    assert.equal(echo.events.length, 0, 'the same label again changes nothing');
    // A label for an episode of another asset is ignored.
    const other = out(engine.ingestTwinEvent({ kind: 'label', assetId: 'X-1', type: 'false_alarm', ts: T0, episodeId: raised.episodeId }, T0));
    assert.equal(other.events.length, 0);
  });

  it('"startup transient" false alarms extend the masking after a startup', () => {
    const engine = new AlertEngine({ tiers: { clear: { offDelayMs: 0 } } });
    engine.ingestSnapshot(state(T0, 'off'), T0);
    engine.ingestSnapshot(state(T0 + 10 * S, 'startup'), T0 + 10 * S);
    engine.ingestSnapshot(state(T0 + 20 * S, 'running'), T0 + 20 * S);
    const first = out(engine.ingestScore(score(T0 + 30 * S, 0.8), T0 + 30 * S)).events[0];
    assert.equal(first.transition, 'raised', 'no masking yet');
    engine.command({ command: 'label', episodeId: first.episodeId, label: 'false_alarm', reason: 'startup transient' }, T0 + MIN);
    assert.equal(engine.asset('M-1')!.tuning.startupMaskMs, MIN);
    engine.ingestScore(score(T0 + 2 * MIN, 0.1), T0 + 2 * MIN);
    // Next start: the same transient 10 s after the startup window is now masked.
    engine.ingestSnapshot(state(T0 + 10 * MIN, 'off'), T0 + 10 * MIN);
    engine.ingestSnapshot(state(T0 + 11 * MIN, 'startup'), T0 + 11 * MIN);
    engine.ingestSnapshot(state(T0 + 11 * MIN + 10 * S, 'running'), T0 + 11 * MIN + 10 * S);
    const masked = out(engine.ingestScore(score(T0 + 11 * MIN + 20 * S, 0.8), T0 + 11 * MIN + 20 * S));
    assert.equal(masked.events.length, 0);
    assert.equal(engine.summary('M-1')!.suppression?.reason, 'startup_mask');
    // After the mask, evidence counts again.
    const after = out(engine.ingestScore(score(T0 + 12 * MIN + 20 * S, 0.8), T0 + 12 * MIN + 20 * S));
    assert.equal(after.events.at(-1)!.transition, 'raised');
    // The mask grows with each such label, up to its limit.
    for (let i = 0; i < 30; i++) engine.command({ command: 'label', assetId: 'M-1', label: i % 2 ? 'false_alarm' : 'true_fault', reason: 'startup_transient' }, T0 + 20 * MIN);
    assert.equal(engine.asset('M-1')!.tuning.startupMaskMs, engine.config.feedback.maxStartupMaskMs);
  });

  it('"mode shift" false alarms raise the score threshold of the operating state the episode was raised in', () => {
    const engine = new AlertEngine({ tiers: { clear: { offDelayMs: 0 } } });
    const first = out(engine.ingestScore(score(T0, 0.52, { state: 'idle' }), T0)).events[0];
    assert.equal(first.transition, 'raised');
    engine.command({ command: 'label', episodeId: first.episodeId, label: 'false_alarm', reason: 'mode_shift' }, T0 + MIN);
    assert.deepEqual({ ...engine.asset('M-1')!.tuning.thresholdOffset }, { idle: 0.05 });
    engine.ingestScore(score(T0 + 2 * MIN, 0.1, { state: 'idle' }), T0 + 2 * MIN);
    // 0.52 in idle is now below 0.55; in running the threshold is unchanged.
    assert.equal(out(engine.ingestScore(score(T0 + 3 * MIN, 0.52, { state: 'idle' }), T0 + 3 * MIN)).events.length, 0);
    const inRunning = out(engine.ingestScore(score(T0 + 4 * MIN, 0.52, { state: 'running' }), T0 + 4 * MIN)).events[0];
    assert.equal(inRunning.transition, 'raised');
    assert.equal(out(engine.ingestScore(score(T0 + 5 * MIN, 0.56, { state: 'idle' }), T0 + 5 * MIN)).events.length, 0, 'same episode, still active');
    assert.equal(inRunning.evidence.score?.threshold, 0.5);
  });
});
