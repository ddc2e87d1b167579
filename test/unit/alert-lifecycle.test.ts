/**
 * The ISA-18.2 lifecycle of alert episodes in the engine (nodes/lib/alert/engine.ts): every
 * transition and every command, with a fake clock (each call carries its time).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, type EngineOutput, type IngestOutcome } from '../../nodes/lib/alert/engine';
import type { AnomalyScore, SnapshotFeature, SnapshotInput } from '../../nodes/lib/alert/inputs';
import type { DeepPartial, EngineConfig } from '../../nodes/lib/alert/config';
import { alertEventProblem, alertSummaryProblem, type AlertEvent } from '../../nodes/lib/contracts/alert-event';
import { ASSET_CLASSES } from '../../nodes/lib/assets/classes';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);

function score(t: number, value: number, o: Partial<AnomalyScore> = {}, assetId = 'M-1'): AnomalyScore {
  return {
    assetId,
    window: { start: t - MIN, end: t },
    state: 'running',
    score: value,
    anomalous: value >= 0.5,
    threshold: 0.5,
    contributions: { vibration_velocity: 0.7, bearing_temperature: 0.3 },
    topSignal: 'vibration_velocity',
    model: { id: 'm-1', version: 3 },
    status: 'ready',
    ...o,
  };
}

function snap(t: number, o: { state?: string; since?: number; features?: Record<string, SnapshotFeature>; assetClass?: string; site?: string } = {}, assetId = 'M-1'): SnapshotInput {
  return {
    assetId,
    state: o.state ?? 'running',
    since: o.since ?? T0 - HOUR,
    features: o.features ?? { vibration_velocity: { value: 1.2, stale: false, quality: 'good', limit: 'normal' } },
    updatedAt: t,
    assetClass: o.assetClass ?? 'motor',
    path: { site: o.site ?? 'plant1', area: 'utilities', line: 'l1' },
  };
}
const vib = (value: number, limit: SnapshotFeature['limit'], extra: Partial<SnapshotFeature> = {}): Record<string, SnapshotFeature> => ({
  vibration_velocity: { value, stale: false, quality: 'good', limit, ...extra },
});

const FAST: DeepPartial<EngineConfig> = {
  tiers: { warning: { onDelayMs: 5 * MIN, m: 3, n: 5 }, clear: { offDelayMs: 2 * MIN, deescalateMs: 2 * MIN } },
};

/** An engine plus a log of everything it sent. */
function harness(config: DeepPartial<EngineConfig> = FAST) {
  const engine = new AlertEngine(config);
  const events: AlertEvent[] = [];
  const outputs: EngineOutput[] = [];
  const take = (out: EngineOutput) => {
    outputs.push(out);
    events.push(...out.events);
    for (const e of out.events) assert.equal(alertEventProblem(e), undefined, `${e.transition}: ${alertEventProblem(e)}`);
    for (const s of out.summaries) assert.equal(alertSummaryProblem(s), undefined, alertSummaryProblem(s));
    return out;
  };
  const ok = (o: IngestOutcome) => {
    assert.ok(o.ok, JSON.stringify(o));
    return take(o.output);
  };
  return {
    engine,
    events,
    outputs,
    score: (t: number, v: number, o: Partial<AnomalyScore> = {}, id = 'M-1') => ok(engine.ingestScore(score(t, v, o, id), t)),
    snap: (t: number, o: Parameters<typeof snap>[1] = {}, id = 'M-1') => ok(engine.ingestSnapshot(snap(t, o, id), t)),
    tick: (t: number) => take(engine.tick(t)),
    cmd: (t: number, c: Record<string, unknown>) => {
      const r = engine.command({ command: '', ...c } as never, t);
      if (r.ok) take(r.output);
      return r;
    },
    trail: (from = 0) => events.slice(from).map((e) => `${e.transition}:${e.tier ?? '-'}:${e.state}`),
  };
}

describe('alert lifecycle', () => {
  it('raise → escalate → action → acknowledge → clear → close: one stable episode, ISA states, evidence and the recommended check', () => {
    const h = harness();
    h.snap(T0);
    h.score(T0 + MIN, 0.3);
    assert.equal(h.events.length, 0);
    h.score(T0 + 2 * MIN, 0.7);
    h.score(T0 + 3 * MIN, 0.72);
    h.score(T0 + 4 * MIN, 0.75);
    h.snap(T0 + 4 * MIN + S, { features: vib(3.1, 'warning') });
    const ack = h.cmd(T0 + 5 * MIN, { command: 'acknowledge', assetId: 'M-1', by: 'op1' });
    assert.ok(ack.ok);
    h.snap(T0 + 6 * MIN, { features: vib(1.0, 'normal') });
    h.score(T0 + 6 * MIN, 0.2);
    h.tick(T0 + 7 * MIN);
    h.tick(T0 + 8 * MIN);
    assert.deepEqual(h.trail(), [
      'raised:watch:active_unacknowledged',
      'escalated:warning:active_unacknowledged',
      'escalated:action:active_unacknowledged',
      'acknowledged:action:active_acknowledged',
      'cleared:-:normal',
    ]);
    const ids = new Set(h.events.map((e) => e.episodeId));
    assert.equal(ids.size, 1, 'one episode');
    assert.deepEqual(h.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.equal(h.events[0].episodeId, `M-1:bearing_wear:${T0 + 2 * MIN}`);
    const [raised, warning, action, acked, cleared] = h.events;
    assert.equal(raised.failureMode.id, 'bearing_wear');
    assert.equal(raised.check, ASSET_CLASSES.motor.failureModes.find((m) => m.id === 'bearing_wear')!.check);
    assert.equal(raised.priority, 'low');
    assert.equal(raised.annunciated, true);
    assert.equal(raised.reasonCode, 'score');
    assert.match(raised.reason, /anomaly score 0\.70 ≥ 0\.50, driven by vibration_velocity \(70 %\)/);
    assert.deepEqual(raised.path, { site: 'plant1', area: 'utilities', line: 'l1' });
    assert.equal(raised.evidence.score?.model?.id, 'm-1');
    assert.deepEqual(raised.evidence.contributions, { vibration_velocity: 0.7, bearing_temperature: 0.3 });
    assert.ok(raised.alternatives?.some((m) => m.id === 'misalignment'), 'the other modes the signals point at are listed');
    assert.equal(warning.reasonCode, 'm_of_n');
    assert.equal(warning.priority, 'medium');
    assert.deepEqual(warning.evidence.trend?.points.map((p) => p.score), [0.7, 0.72, 0.75]);
    assert.deepEqual(warning.evidence.persistence, { activeForMs: 2 * MIN, hits: 3, of: 3 });
    assert.equal(warning.evidence.trend?.direction, 'rising');
    assert.equal(action.reasonCode, 'agreement');
    assert.equal(action.priority, 'high');
    assert.deepEqual(action.evidence.rules?.map((r) => [r.signal, r.level, r.source]), [['vibration_velocity', 'warning', 'limit']]);
    assert.match(action.reason, /model and rule agree/);
    assert.equal(acked.by, 'op1');
    assert.equal(acked.alarm.acknowledged, true);
    assert.equal(cleared.closed, true);
    assert.equal(cleared.tier, null);
    assert.equal(cleared.peakTier, 'action');
    assert.deepEqual(cleared.previous, { tier: 'action', state: 'active_acknowledged' });
    assert.equal(h.engine.openEpisodes().length, 0);
    const summary = h.engine.summary('M-1')!;
    assert.equal(summary.status, 'normal');
    assert.equal(summary.open, 0);
  });

  it('clears before acknowledgement → returned_unacknowledged; acknowledging closes it', () => {
    const h = harness();
    h.snap(T0);
    h.snap(T0 + MIN, { features: vib(3, 'warning') });
    h.tick(T0 + 6 * MIN); // persisted 5 min → warning
    h.snap(T0 + 7 * MIN, { features: vib(1, 'normal') });
    h.tick(T0 + 9 * MIN);
    assert.deepEqual(h.trail(), ['raised:watch:active_unacknowledged', 'escalated:warning:active_unacknowledged', 'cleared:-:returned_unacknowledged']);
    assert.equal(h.events[2].annunciated, true);
    assert.equal(h.events[2].closed, false);
    assert.equal(h.engine.summary('M-1')!.status, 'alert');
    const r = h.cmd(T0 + 10 * MIN, { command: 'acknowledge', episodeId: h.events[0].episodeId });
    assert.ok(r.ok);
    assert.deepEqual(h.trail(3), ['acknowledged:-:normal']);
    assert.equal(h.events[3].closed, true);
    assert.equal(h.engine.openEpisodes().length, 0);
    const again = h.cmd(T0 + 11 * MIN, { command: 'acknowledge', episodeId: h.events[0].episodeId });
    assert.deepEqual(again, { ok: false, code: 'nothing_to_acknowledge', params: { target: h.events[0].episodeId } });
  });

  it('a returned episode that becomes active again is the same episode (reactivated, unacknowledged again)', () => {
    const h = harness();
    h.snap(T0, { features: vib(3, 'warning') });
    h.tick(T0 + 5 * MIN);
    h.snap(T0 + 6 * MIN, { features: vib(1, 'normal') });
    h.tick(T0 + 8 * MIN);
    h.snap(T0 + 9 * MIN, { features: vib(3.2, 'warning') });
    assert.deepEqual(h.trail(), [
      'raised:watch:active_unacknowledged',
      'escalated:warning:active_unacknowledged',
      'cleared:-:returned_unacknowledged',
      'reactivated:watch:active_unacknowledged',
    ]);
    assert.equal(new Set(h.events.map((e) => e.episodeId)).size, 1);
    assert.equal(h.events[3].peakTier, 'warning');
  });

  it('latching: a cleared, unacknowledged episode stays latched (annunciated) until acknowledged', () => {
    const h = harness({ ...FAST, tiers: { ...FAST.tiers, lifecycle: { latching: true } } });
    h.snap(T0, { features: vib(3, 'warning') });
    h.tick(T0 + 5 * MIN);
    h.snap(T0 + 6 * MIN, { features: vib(1, 'normal') });
    h.tick(T0 + 8 * MIN);
    assert.equal(h.events.at(-1)!.state, 'latched');
    assert.equal(h.events.at(-1)!.alarm.latched, true);
    assert.equal(h.events.at(-1)!.annunciated, true);
    assert.equal(h.engine.summary('M-1')!.state, 'latched');
    h.cmd(T0 + 9 * MIN, { command: 'acknowledge', assetId: 'M-1' });
    assert.equal(h.events.at(-1)!.state, 'normal');
    assert.equal(h.events.at(-1)!.closed, true);
  });

  it('episodes that stayed below "acknowledge from" close when they clear; with ackFrom watch they wait', () => {
    const h = harness();
    h.score(T0 + MIN, 0.6);
    h.score(T0 + 2 * MIN, 0.1);
    h.tick(T0 + 4 * MIN);
    assert.deepEqual(h.trail(), ['raised:watch:active_unacknowledged', 'cleared:-:normal']);
    assert.equal(h.events[1].closed, true);
    const strict = harness({ ...FAST, tiers: { ...FAST.tiers, lifecycle: { ackFrom: 'watch' } } });
    strict.score(T0 + MIN, 0.6);
    strict.score(T0 + 2 * MIN, 0.1);
    strict.tick(T0 + 4 * MIN);
    assert.deepEqual(strict.trail(), ['raised:watch:active_unacknowledged', 'cleared:-:returned_unacknowledged']);
  });

  it('one open episode per (asset, failure mode); a new episode after the close gets a new id', () => {
    const h = harness();
    h.score(T0 + MIN, 0.6);
    h.score(T0 + 2 * MIN, 0.65);
    h.score(T0 + 2 * MIN + 1, 0.7);
    assert.equal(h.engine.openEpisodes().length, 1);
    h.score(T0 + 3 * MIN, 0.1);
    h.tick(T0 + 6 * MIN);
    h.cmd(T0 + 6 * MIN, { command: 'acknowledge', assetId: 'M-1' });
    assert.equal(h.engine.openEpisodes().length, 0);
    h.score(T0 + 10 * MIN, 0.8);
    const ids = [...new Set(h.events.map((e) => e.episodeId))];
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    // A score driven by current points at another failure mode: a second, separate episode.
    h.score(T0 + 11 * MIN, 0.8, { contributions: { current: 0.9, vibration_velocity: 0.1 }, topSignal: 'current' }, 'M-1');
    const modes = h.engine.openEpisodes().map((o) => o.mode).sort();
    assert.ok(modes.includes('bearing_wear'), `open: ${modes}`);
  });

  it('escalation needs a new acknowledgement; de-escalation is its own event', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    h.cmd(T0 + MIN + S, { command: 'acknowledge', assetId: 'M-1' });
    h.snap(T0 + 2 * MIN, { features: vib(3, 'warning') });
    h.snap(T0 + 3 * MIN, { features: vib(1, 'normal') });
    h.tick(T0 + 5 * MIN);
    assert.deepEqual(h.trail(), [
      'raised:watch:active_unacknowledged',
      'acknowledged:watch:active_acknowledged',
      'escalated:action:active_unacknowledged',
      'de_escalated:watch:active_unacknowledged',
    ]);
    assert.equal(h.events[3].reasonCode, 'de_escalated');
  });

  it('shelve for a time: not annunciated, tracked, and unshelved when the timer (fake clock) expires', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    const bad = [undefined, 0, -1, NaN, 8 * HOUR + 1];
    for (const forMs of bad) {
      const r = h.cmd(T0 + MIN, { command: 'shelve', assetId: 'M-1', forMs });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, 'invalid_duration', String(forMs));
    }
    const r = h.cmd(T0 + 2 * MIN, { command: 'shelve', assetId: 'M-1', forMs: 30 * MIN, by: 'op2', reason: 'known, fix planned' });
    assert.ok(r.ok);
    const shelved = h.events.at(-1)!;
    assert.equal(shelved.transition, 'shelved');
    assert.equal(shelved.state, 'shelved');
    assert.equal(shelved.annunciated, false);
    assert.deepEqual(shelved.alarm.shelved, { kind: 'timed', since: T0 + 2 * MIN, until: T0 + 32 * MIN, by: 'op2', reason: 'known, fix planned' });
    assert.equal(h.engine.summary('M-1')!.status, 'shelved');
    // Still evaluated while shelved: it escalates, unannounced.
    h.score(T0 + 3 * MIN, 0.72);
    h.score(T0 + 4 * MIN, 0.74);
    assert.equal(h.events.at(-1)!.transition, 'escalated');
    assert.equal(h.events.at(-1)!.state, 'shelved');
    h.tick(T0 + 31 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'escalated');
    h.tick(T0 + 32 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'unshelved');
    assert.equal(h.events.at(-1)!.reasonCode, 'expired');
    assert.equal(h.events.at(-1)!.state, 'active_unacknowledged');
    const none = h.cmd(T0 + 33 * MIN, { command: 'unshelve', assetId: 'M-1' });
    assert.equal(!none.ok && none.code, 'not_shelved');
  });

  it('shelve once: ends by itself when the alarm returns to normal; unshelve by command', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    assert.ok(h.cmd(T0 + MIN, { command: 'shelve', assetId: 'M-1', once: true }).ok);
    assert.deepEqual(h.events.at(-1)!.alarm.shelved, { kind: 'one_shot', since: T0 + MIN });
    h.score(T0 + 2 * MIN, 0.1);
    h.tick(T0 + 5 * MIN);
    const cleared = h.events.at(-1)!;
    assert.equal(cleared.transition, 'cleared');
    assert.equal(cleared.reasonCode, 'cleared_one_shot');
    assert.equal(cleared.alarm.shelved, null);
    // A one-shot needs an active alarm; unshelve by command.
    h.score(T0 + 10 * MIN, 0.7);
    assert.ok(h.cmd(T0 + 10 * MIN, { command: 'shelve', assetId: 'M-1', forMs: HOUR }).ok);
    assert.ok(h.cmd(T0 + 11 * MIN, { command: 'unshelve', assetId: 'M-1', by: 'op' }).ok);
    assert.equal(h.events.at(-1)!.transition, 'unshelved');
    assert.equal(h.events.at(-1)!.reasonCode, 'command');
    const noEpisode = h.cmd(T0 + 12 * MIN, { command: 'shelve', assetId: 'M-1', mode: 'overload', forMs: MIN });
    assert.equal(!noEpisode.ok && noEpisode.code, 'no_open_episode');
  });

  it('suppressed by design while the machine is off, starting up or shutting down; fresh evidence needed afterwards', () => {
    const h = harness();
    h.snap(T0, { features: vib(3, 'warning') });
    h.snap(T0 + MIN, { state: 'shutdown', since: T0 + MIN, features: vib(3, 'warning') });
    h.snap(T0 + 2 * MIN, { state: 'off', since: T0 + 2 * MIN, features: vib(0.1, 'normal') });
    assert.deepEqual(h.trail(), ['raised:watch:active_unacknowledged', 'suppressed:watch:suppressed']);
    assert.equal(h.events[1].reasonCode, 'shutdown');
    assert.equal(h.events[1].alarm.suppressed, 'shutdown');
    assert.equal(h.engine.summary('M-1')!.suppression?.reason, 'off');
    // Nothing new while off or starting (inrush, masked scores).
    h.snap(T0 + 30 * MIN, { state: 'startup', since: T0 + 30 * MIN, features: vib(6, 'action') });
    h.score(T0 + 30 * MIN, 0, { status: 'ready', masked: 'transient', state: 'startup', anomalous: false });
    h.tick(T0 + 40 * MIN);
    assert.equal(h.events.length, 2);
    // Running again, the condition is gone: it clears after the off-delay.
    h.snap(T0 + 41 * MIN, { state: 'running', since: T0 + 41 * MIN, features: vib(1, 'normal') });
    assert.equal(h.events.at(-1)!.transition, 'unsuppressed');
    assert.equal(h.events.at(-1)!.reasonCode, 'startup_ended');
    h.tick(T0 + 44 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'cleared');
    assert.equal(h.engine.openEpisodes().length, 0);
  });

  it('no alert is raised while suppressed, even for a severe zone', () => {
    const h = harness();
    h.snap(T0, { state: 'off', since: T0 });
    h.engine.ingestZone({ assetId: 'M-1', signal: 'vibration_velocity', value: 9, ts: T0 + MIN, zone: 'D' }, T0 + MIN);
    h.tick(T0 + HOUR);
    assert.equal(h.events.length, 0);
    assert.equal(h.engine.summary('M-1')!.status, 'suppressed');
  });

  it('a planned maintenance window suppresses and ends by itself on the clock', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    const bad = h.cmd(T0 + MIN, { command: 'maintenance', assetId: 'M-1' });
    assert.equal(!bad.ok && bad.code, 'invalid_window');
    assert.ok(h.cmd(T0 + 2 * MIN, { command: 'maintenance', assetId: 'M-1', forMs: 30 * MIN, by: 'planner', note: 'bearing change' }).ok);
    assert.equal(h.events.at(-1)!.transition, 'suppressed');
    assert.equal(h.events.at(-1)!.reasonCode, 'maintenance');
    assert.deepEqual(h.engine.summary('M-1')!.maintenance, { from: T0 + 2 * MIN, until: T0 + 32 * MIN, by: 'planner', note: 'bearing change' });
    h.score(T0 + 10 * MIN, 0.9);
    h.tick(T0 + 31 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'suppressed');
    h.tick(T0 + 32 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'unsuppressed');
    assert.equal(h.events.at(-1)!.reasonCode, 'maintenance_ended');
    assert.equal(h.engine.summary('M-1')!.maintenance, null);
    // Ending a window early.
    assert.ok(h.cmd(T0 + 40 * MIN, { command: 'maintenance', assetId: 'M-1', from: T0 + 40 * MIN, until: T0 + 50 * MIN }).ok);
    assert.ok(h.cmd(T0 + 41 * MIN, { command: 'maintenance', assetId: 'M-1', end: true }).ok);
    assert.equal(h.events.at(-1)!.transition, 'unsuppressed');
    const none = h.cmd(T0 + 42 * MIN, { command: 'maintenance', assetId: 'M-1', end: true });
    assert.equal(!none.ok && none.code, 'no_maintenance');
  });

  it('out of service (asset or one failure mode) freezes evaluation; return to service resumes it', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    assert.ok(h.cmd(T0 + 2 * MIN, { command: 'out_of_service', assetId: 'M-1', by: 'tech', reason: 'sensor replaced' }).ok);
    assert.equal(h.events.at(-1)!.transition, 'out_of_service');
    assert.equal(h.events.at(-1)!.state, 'out_of_service');
    assert.equal(h.engine.summary('M-1')!.status, 'out_of_service');
    assert.deepEqual(h.engine.summary('M-1')!.outOfService, { since: T0 + 2 * MIN, by: 'tech', reason: 'sensor replaced' });
    const n = h.events.length;
    h.score(T0 + 3 * MIN, 0.9);
    h.score(T0 + 4 * MIN, 0.9);
    h.tick(T0 + 20 * MIN);
    assert.equal(h.events.length, n, 'nothing evaluated while out of service');
    assert.ok(h.cmd(T0 + 21 * MIN, { command: 'return_to_service', assetId: 'M-1' }).ok);
    assert.equal(h.events.at(-1)!.transition, 'returned_to_service');
    const again = h.cmd(T0 + 21 * MIN, { command: 'return_to_service', assetId: 'M-1' });
    assert.equal(!again.ok && again.code, 'not_out_of_service');
    // One failure mode only; a mode with no episode yet can be taken out of service in advance.
    assert.ok(h.cmd(T0 + 22 * MIN, { command: 'out_of_service', assetId: 'M-1', mode: 'overload' }).ok);
    h.score(T0 + 23 * MIN, 0.9, { contributions: { current: 1 }, topSignal: 'current' });
    assert.ok(!h.engine.openEpisodes().some((o) => o.mode === 'overload' && o.state !== 'out_of_service'));
    assert.ok(h.cmd(T0 + 24 * MIN, { command: 'return_to_service', assetId: 'M-1', mode: 'overload' }).ok);
    const unknownMode = h.cmd(T0 + 25 * MIN, { command: 'out_of_service', assetId: 'M-1', mode: 'warp_core' });
    assert.equal(!unknownMode.ok && unknownMode.code, 'unknown_mode');
    // An asset the engine has not seen yet can be taken out of service.
    assert.ok(h.cmd(T0 + 26 * MIN, { command: 'out_of_service', assetId: 'NEW-1' }).ok);
  });

  it('command errors are coded: unknown command, no target, unknown asset / episode / mode, invalid label', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    const codes = [
      { command: 'explode' },
      { command: 'acknowledge' },
      { command: 'acknowledge', assetId: 'X-9' },
      { command: 'acknowledge', episodeId: 'nope' },
      { command: 'acknowledge', assetId: 'M-1', mode: 'flux' },
      { command: 'label', assetId: 'M-1', label: 'maybe' },
      { command: 'get', assetId: 'X-9' },
      { command: 'reset', assetId: 'X-9' },
    ].map((c) => {
      const r = h.cmd(T0 + 2 * MIN, c);
      return r.ok ? 'ok' : r.code;
    });
    assert.deepEqual(codes, ['unknown_command', 'no_target', 'unknown_asset', 'unknown_episode', 'unknown_mode', 'invalid_label', 'unknown_asset', 'unknown_asset']);
  });

  it('get, list, kpi and reset answer; reset closes open episodes with a reset event', () => {
    const h = harness();
    h.score(T0 + MIN, 0.7);
    h.score(T0 + MIN, 0.7, {}, 'P-1');
    const get = h.cmd(T0 + 2 * MIN, { command: 'get', assetId: 'M-1' });
    assert.ok(get.ok && get.replyKind === 'alert');
    assert.equal((get as { reply: { assetId: string } }).reply.assetId, 'M-1');
    const list = h.cmd(T0 + 2 * MIN, { command: 'list' });
    assert.ok(list.ok);
    assert.equal((list as { reply: unknown[] }).reply.length, 2);
    const kpi = h.cmd(T0 + 2 * MIN, { command: 'kpi' });
    assert.ok(kpi.ok && kpi.replyKind === 'kpi');
    const reset = h.cmd(T0 + 3 * MIN, { command: 'reset', assetId: 'P-1' });
    assert.ok(reset.ok);
    assert.equal(h.events.at(-1)!.transition, 'reset');
    assert.equal(h.events.at(-1)!.closed, true);
    assert.equal(h.engine.size, 1);
    assert.deepEqual(h.engine.takeDirty().removedAssets, ['P-1']);
    h.cmd(T0 + 4 * MIN, { command: 'reset' });
    assert.equal(h.engine.size, 0);
  });

  it('no data and sensor fault are their own episodes and states, never "normal"', () => {
    const h = harness({ ...FAST, tiers: { ...FAST.tiers, dataHealth: { warnAfterMs: 10 * MIN } } });
    h.snap(T0, { features: { vibration_velocity: { value: 1, stale: true, quality: 'good', limit: 'normal' }, current: { value: 10, stale: false, quality: 'good', limit: 'normal' } } });
    assert.deepEqual(h.trail(), ['raised:watch:active_unacknowledged']);
    assert.equal(h.events[0].category, 'no_data');
    assert.equal(h.events[0].failureMode.id, 'no_data');
    assert.deepEqual(h.events[0].evidence.signals, ['vibration_velocity']);
    assert.match(h.events[0].reason, /no data from vibration_velocity/);
    assert.match(h.events[0].check, /gateway/);
    assert.equal(h.engine.summary('M-1')!.status, 'no_data');
    h.tick(T0 + 10 * MIN);
    assert.equal(h.events.at(-1)!.transition, 'escalated');
    assert.equal(h.events.at(-1)!.tier, 'warning');
    h.snap(T0 + 11 * MIN, { features: { vibration_velocity: { value: 1, stale: false, quality: 'bad', limit: 'normal' } } });
    const after = h.trail(2);
    assert.deepEqual(after, ['cleared:-:returned_unacknowledged', 'raised:watch:active_unacknowledged']);
    assert.equal(h.events.at(-1)!.category, 'sensor_fault');
    assert.equal(h.engine.summary('M-1')!.status, 'sensor_fault');
    // A stale or bad signal's rules are not evidence.
    h.snap(T0 + 12 * MIN, { features: { vibration_velocity: { value: 9, stale: false, quality: 'bad', limit: 'action' } } });
    assert.ok(!h.engine.openEpisodes().some((o) => o.episode.category === 'condition'));
  });

  it('ISO zones from pdm-retrofit: zone C is a watch, zone D that persists is an action (severe)', () => {
    const h = harness({ ...FAST, tiers: { ...FAST.tiers, warning: { onDelayMs: 2 * MIN }, action: { severeForMs: 5 * MIN } } });
    const zone = (t: number, z: 'B' | 'C' | 'D', v: number) =>
      h.engine.ingestZone({ assetId: 'M-1', signal: 'vibration_velocity', value: v, ts: t, zone: z, preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', limits: [1.4, 2.8, 4.5] }, t);
    let out = zone(T0, 'C', 3.2);
    assert.ok(out.ok);
    h.events.push(...(out.ok ? out.output.events : []));
    out = zone(T0 + MIN, 'D', 5.1);
    h.events.push(...(out.ok ? out.output.events : []));
    h.tick(T0 + 3 * MIN);
    h.tick(T0 + 6 * MIN);
    assert.deepEqual(h.trail(), ['raised:watch:active_unacknowledged', 'escalated:warning:active_unacknowledged', 'escalated:action:active_unacknowledged']);
    const action = h.events.at(-1)!;
    assert.equal(action.reasonCode, 'severe');
    assert.deepEqual(action.evidence.zone, { signal: 'vibration_velocity', zone: 'D', preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', limits: [1.4, 2.8, 4.5], value: 5.1 });
    assert.match(action.reason, /vibration_velocity in ISO 10816-3 zone D/);
    for (const e of h.events) assert.equal(alertEventProblem(e), undefined);
    // Zone B ends it.
    zone(T0 + 7 * MIN, 'B', 2);
    const ticked = h.tick(T0 + 10 * MIN);
    assert.equal(ticked.events.at(-1)?.transition, 'cleared');
  });

  it('failure modes: topSignal current → overload; an unknown signal → unclassified with the signals in its check', () => {
    const h = harness();
    h.score(T0 + MIN, 0.8, { contributions: { current: 0.8, power: 0.2 }, topSignal: 'current' });
    assert.equal(h.events.at(-1)!.failureMode.id, 'overload');
    assert.equal(h.events.at(-1)!.check, ASSET_CLASSES.motor.failureModes.find((m) => m.id === 'overload')!.check);
    h.score(T0 + MIN, 0.8, { contributions: { Accelerometer1RMS: 0.9, Thermocouple: 0.1 }, topSignal: 'Accelerometer1RMS' }, 'SKAB-1');
    const e = h.events.at(-1)!;
    assert.equal(e.assetId, 'SKAB-1');
    assert.equal(e.failureMode.id, 'unclassified');
    assert.match(e.check, /Signals: Accelerometer1RMS\.$/);
    // Feature names ("flow:std") and positions ("vibration_velocity.de") map to their signal.
    h.snap(T0, { assetClass: 'pump' }, 'P-1');
    h.score(T0 + MIN, 0.8, { contributions: { 'flow:std': 0.6, 'discharge_pressure:mean': 0.4 }, topSignal: 'flow:std' }, 'P-1');
    assert.equal(h.events.at(-1)!.assetId, 'P-1');
    assert.equal(h.events.at(-1)!.failureMode.id, 'cavitation', 'ties go to the class order');
    h.score(T0 + MIN, 0.8, { contributions: { 'vibration_velocity.de': 1 }, topSignal: 'vibration_velocity.de' }, 'M-2');
    assert.equal(h.events.at(-1)!.failureMode.id, 'bearing_wear');
  });

  it('the latest alert is sent only when it changes, and learning or masked scores are not evidence', () => {
    const h = harness();
    const a = h.score(T0 + MIN, 0.2, { status: 'learning', anomalous: false, score: 0 });
    assert.equal(a.summaries.length + a.events.length, 0);
    h.score(T0 + 2 * MIN, 0.9, { status: 'learning' });
    h.score(T0 + 3 * MIN, 0.9, { masked: 'state' });
    assert.equal(h.events.length, 0);
    const raised = h.score(T0 + 4 * MIN, 0.7);
    assert.equal(raised.summaries.length, 1);
    assert.equal(raised.summaries[0].tier, 'watch');
    assert.equal(raised.summaries[0].status, 'alert');
    const same = h.score(T0 + 4 * MIN + S, 0.71);
    assert.equal(same.summaries.length, 0, 'no change, no message');
  });

  it('identity: class and path learned from twin snapshots; a resolver (pdm-asset) wins', () => {
    const engine = new AlertEngine(FAST, (id) => (id === 'D-1' ? { name: 'Declared pump', path: { site: 's9', line: 'x' }, assetClass: 'pump' } : undefined));
    engine.ingestSnapshot(snap(T0, { assetClass: 'fan', site: 'north' }, 'F-1'), T0);
    assert.deepEqual(engine.asset('F-1')!.info, { path: { site: 'north', area: 'utilities', line: 'l1' }, assetClass: 'fan', source: 'snapshot' });
    engine.ingestSnapshot(snap(T0, { assetClass: 'fan', site: 'north' }, 'D-1'), T0);
    assert.deepEqual(engine.asset('D-1')!.info, { name: 'Declared pump', path: { site: 's9', line: 'x' }, assetClass: 'pump', source: 'directory' });
    engine.ingestScore(score(T0, 0.1, {}, 'U-1'), T0);
    assert.deepEqual(engine.asset('U-1')!.info, { path: {}, assetClass: 'motor', source: 'default' });
    engine.setResolver(() => undefined);
    assert.equal(engine.asset('D-1')!.info.source, 'default');
  });

  it('a full engine refuses new assets beyond maxAssets', () => {
    const engine = new AlertEngine({ ...FAST, maxAssets: 2 });
    assert.ok(engine.ingestScore(score(T0, 0.1, {}, 'A'), T0).ok);
    assert.ok(engine.ingestScore(score(T0, 0.1, {}, 'B'), T0).ok);
    assert.deepEqual(engine.ingestScore(score(T0, 0.1, {}, 'C'), T0), { ok: false, code: 'too_many_assets', assetId: 'C' });
  });
});
