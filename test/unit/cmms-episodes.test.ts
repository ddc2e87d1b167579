/**
 * The episode → work-order state machine: one create per episode at the configured tier, updates
 * or comments on escalation / de-escalation / reactivation, a comment or close on clear, lifecycle
 * comments on request, duplicates ignored.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { DEFAULT_PLAN, plan, type PlanOptions } from '../../nodes/lib/cmms/episodes';
import type { AlertInput, EpisodeRecord, Operation } from '../../nodes/lib/cmms/types';
import { alertEvent, episodeEvents } from '../fixtures/cmms/alerts';

const NOW = Date.UTC(2026, 0, 15);
const read = (raw: Record<string, unknown>): AlertInput => {
  const r = readAlert(raw, NOW);
  assert.ok(r.ok);
  return r.alert;
};

/** Runs events through the planner; returns the operations per event and the final record. */
function run(events: Record<string, unknown>[], options: Partial<PlanOptions> = {}) {
  let record: EpisodeRecord | undefined;
  const ops: Operation[][] = [];
  for (const ev of events) {
    const p = plan(record, read(ev), { ...DEFAULT_PLAN, ...options }, NOW);
    record = p.record;
    ops.push(p.ops.map((o) => o.operation));
  }
  return { ops, record: record! };
}

describe('cmms: episode state machine', () => {
  it('default (create at action): nothing below action, create, update on de-escalation, comment on clear', () => {
    const { ops, record } = run(episodeEvents('E1'));
    assert.deepEqual(ops, [[], [], ['create'], ['update'], ['comment']]);
    assert.equal(record.state, 'closed');
    assert.equal(record.createQueued, true);
    assert.equal(record.peakTier, 'action');
  });

  it('create at watch: create once, updates on every tier change, close on clear', () => {
    const { ops } = run(episodeEvents('E2'), { createTier: 'watch', onClear: 'close' });
    assert.deepEqual(ops, [['create'], ['update'], ['update'], ['update'], ['close']]);
  });

  it('comments instead of updates, or nothing', () => {
    assert.deepEqual(run(episodeEvents('E3'), { createTier: 'warning', onChange: 'comment' }).ops, [[], ['create'], ['comment'], ['comment'], ['comment']]);
    assert.deepEqual(run(episodeEvents('E4'), { createTier: 'warning', onChange: 'none', onClear: 'none' }).ops, [[], ['create'], [], [], []]);
  });

  it('an episode that clears below the create tier ends without a work order', () => {
    const events = [episodeEvents('E5')[0], alertEvent({ episodeId: 'E5', seq: 2, transition: 'cleared', tier: null, closed: true })];
    const { ops, record } = run(events);
    assert.deepEqual(ops, [[], []]);
    assert.equal(record.state, 'closed');
    assert.equal(record.createQueued, false);
  });

  it('never two creates: replays, duplicates and out-of-order events are ignored', () => {
    const events = episodeEvents('E6');
    const { ops } = run([events[2], events[2], events[0], events[1], events[2], events[3], events[3], events[4], events[4]]);
    assert.deepEqual(ops, [['create'], [], [], [], [], ['update'], [], ['comment'], []]);
    const ids = run([{ ...events[2], seq: undefined }, { ...events[2], seq: undefined }]).ops;
    assert.deepEqual(ids, [['create'], []], 'same eventId without seq');
  });

  it('raised straight at action creates; a latched clear then an acknowledgement that closes sends one clear', () => {
    const events = [
      alertEvent({ episodeId: 'E7', seq: 1, transition: 'raised', tier: 'action' }),
      alertEvent({ episodeId: 'E7', seq: 2, transition: 'cleared', tier: null, closed: false }),
      alertEvent({ episodeId: 'E7', seq: 3, transition: 'acknowledged', tier: null, closed: true }),
    ];
    const { ops, record } = run(events);
    assert.deepEqual(ops, [['create'], ['comment'], []]);
    assert.equal(record.state, 'closed');
  });

  it('a closed work order is reopened by an update when the episode reactivates', () => {
    const events = [
      alertEvent({ episodeId: 'E8', seq: 1, transition: 'raised', tier: 'action' }),
      alertEvent({ episodeId: 'E8', seq: 2, transition: 'cleared', tier: null }),
      alertEvent({ episodeId: 'E8', seq: 3, transition: 'reactivated', tier: 'action' }),
    ];
    let record: EpisodeRecord | undefined;
    const out: unknown[] = [];
    for (const ev of events) {
      const p = plan(record, read(ev), { ...DEFAULT_PLAN, onClear: 'close' }, NOW);
      record = p.record;
      out.push(p.ops);
    }
    assert.deepEqual(out, [[{ operation: 'create' }], [{ operation: 'close' }], [{ operation: 'update', reopen: true }]]);
  });

  it('lifecycle comments only when asked for', () => {
    const events = [
      alertEvent({ episodeId: 'E9', seq: 1, transition: 'raised', tier: 'action' }),
      alertEvent({ episodeId: 'E9', seq: 2, transition: 'acknowledged', tier: 'action' }),
      alertEvent({ episodeId: 'E9', seq: 3, transition: 'shelved', tier: 'action' }),
    ];
    assert.deepEqual(run(events).ops, [['create'], [], []]);
    assert.deepEqual(run(events, { lifecycle: true }).ops, [['create'], ['comment'], ['comment']]);
  });

  it('does not mutate the record it was given', () => {
    const first = plan(undefined, read(episodeEvents('E10')[2]), DEFAULT_PLAN, NOW).record;
    const copy = JSON.parse(JSON.stringify(first));
    plan(first, read(episodeEvents('E10')[3]), DEFAULT_PLAN, NOW);
    assert.deepEqual(first, copy);
  });
});
