/**
 * Feedback parsing: generic and CMMS-webhook shapes, closed or not, outcomes from fields or notes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelOf, readFeedback } from '../../nodes/lib/cmms/feedback';

describe('cmms: feedback', () => {
  it('reads the generic shape', () => {
    const r = readFeedback({ externalId: 4711, status: 'Done', outcome: 'no_fault_found', reason: 'sensor_drift', by: 'jo' });
    assert.deepEqual(r, { ok: true, feedback: { externalId: '4711', closed: true, status: 'Done', label: 'false_alarm', reason: 'sensor_drift', by: 'jo' } });
  });

  it('reads nested webhook shapes and outcomes written in the notes', () => {
    const mx = readFeedback({ workOrderId: 12, newWorkOrder: { status: 'DONE', completionNotes: 'Bearing replaced, fault confirmed.' } });
    assert.ok(mx.ok && mx.feedback.closed && mx.feedback.label === 'true_fault' && mx.feedback.externalId === '12');
    const limble = readFeedback({ taskID: 99, status: 'complete', completionNotes: 'Inspected: NFF' });
    assert.ok(limble.ok && limble.feedback.label === 'false_alarm');
    const open = readFeedback({ id: 'x', status: 'IN_PROGRESS', outcome: 'true_fault' });
    assert.ok(open.ok && !open.feedback.closed);
    const byEpisode = readFeedback({ episodeId: 'E-1', closed: true });
    assert.ok(byEpisode.ok && byEpisode.feedback.closed && byEpisode.feedback.label === undefined);
  });

  it('refuses bodies without an id', () => {
    assert.equal(readFeedback(null).ok, false);
    assert.equal(readFeedback([1]).ok, false);
    assert.equal(readFeedback({ status: 'done' }).ok, false);
  });

  it('maps outcome words', () => {
    for (const w of ['true_fault', 'Fault confirmed', 'confirmed', 'TP']) assert.equal(labelOf(w), 'true_fault', w);
    for (const w of ['false_alarm', 'no fault found', 'NFF', 'no-fault', 'false positive']) assert.equal(labelOf(w), 'false_alarm', w);
    for (const w of ['', 'done', 42, undefined]) assert.equal(labelOf(w), undefined, String(w));
  });
});
