/**
 * Episode → work-order state machine (pure).
 *
 *   - the first event at or above the create tier (default action) queues the one `create` of
 *     the episode; `createQueued` is durable and never reset, so an episode never gets two;
 *   - after that: escalation, de-escalation and reactivation → `update` (or `comment`, per
 *     option); a clear → `close` or `comment` (per option), once per activation; lifecycle events
 *     (acknowledged, shelved, ...) → `comment` when asked for;
 *   - below the create tier nothing is sent; an episode that clears there ends without a work order;
 *   - an event seen before (same eventId, or a seq not above the last one) is ignored, so replays
 *     and redeliveries of pdm-alert output are harmless.
 */
import { dedupeKey } from './content';
import { tierRank, type AlertInput, type EpisodeRecord, type Operation, type Tier } from './types';

export interface PlanOptions {
  createTier: Tier;
  onChange: 'update' | 'comment' | 'none';
  onClear: 'close' | 'comment' | 'none';
  /** Comment on acknowledged, shelved, unshelved, suppressed, out of service, ... */
  lifecycle: boolean;
}

export const DEFAULT_PLAN: PlanOptions = { createTier: 'action', onChange: 'update', onClear: 'comment', lifecycle: false };

export type PlanIgnored = 'duplicate' | 'below_tier' | 'not_relevant' | 'closed';
export interface PlannedOp {
  operation: Operation;
  reopen?: boolean;
}
export interface Plan {
  record: EpisodeRecord;
  ops: PlannedOp[];
  ignored?: PlanIgnored;
}

const SEEN_KEPT = 16;
const CHANGE = new Set(['escalated', 'de_escalated', 'reactivated']);
const CLEAR = new Set(['cleared']);
const LIFECYCLE = new Set(['acknowledged', 'shelved', 'unshelved', 'suppressed', 'unsuppressed', 'out_of_service', 'returned_to_service']);

export function newRecord(alert: AlertInput, now: number): EpisodeRecord {
  return {
    key: dedupeKey(alert.assetId, alert.episodeId),
    episodeId: alert.episodeId,
    assetId: alert.assetId,
    ...(alert.assetName ? { assetName: alert.assetName } : {}),
    state: 'watching',
    createQueued: false,
    tier: null,
    seen: [],
    ops: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** The next record and the operations one alert event asks for. Does not mutate `current`. */
export function plan(current: EpisodeRecord | undefined, alert: AlertInput, options: PlanOptions, now: number): Plan {
  const before = current ?? newRecord(alert, now);
  if (alert.eventId && before.seen.includes(alert.eventId)) return { record: before, ops: [], ignored: 'duplicate' };
  if (alert.seq !== undefined && before.lastSeq !== undefined && alert.seq <= before.lastSeq) return { record: before, ops: [], ignored: 'duplicate' };

  const record: EpisodeRecord = { ...before, seen: [...before.seen], updatedAt: now };
  if (alert.eventId) {
    record.seen.push(alert.eventId);
    if (record.seen.length > SEEN_KEPT) record.seen.splice(0, record.seen.length - SEEN_KEPT);
  }
  if (alert.seq !== undefined) record.lastSeq = alert.seq;
  if (alert.assetName) record.assetName = alert.assetName;
  const previousTier = record.tier;
  record.tier = alert.tier;
  if (alert.tier && tierRank(alert.tier) > tierRank(record.peakTier)) record.peakTier = alert.tier;
  const ops: PlannedOp[] = [];
  const ending = CLEAR.has(alert.transition) || alert.closed || alert.transition === 'reset';

  if (!record.createQueued) {
    if (!ending && alert.tier && tierRank(alert.tier) >= tierRank(options.createTier)) {
      ops.push({ operation: 'create' });
      record.createQueued = true;
      record.state = 'open';
      record.clearSent = false;
    } else if (ending) {
      record.state = 'closed';
      record.closedAt = now;
      return { record, ops, ignored: 'below_tier' };
    } else {
      return { record, ops, ignored: 'below_tier' };
    }
  } else if (ending) {
    if (!record.clearSent && options.onClear !== 'none' && (CLEAR.has(alert.transition) || alert.transition === 'reset' || record.state !== 'closed')) {
      ops.push({ operation: options.onClear === 'close' ? 'close' : 'comment' });
      record.clearSent = true;
    }
    if (alert.closed || alert.transition === 'reset') {
      record.state = 'closed';
      record.closedAt = now;
    }
  } else if (CHANGE.has(alert.transition) || (alert.tier !== null && previousTier !== null && alert.tier !== previousTier)) {
    const reopen = record.clearSent === true && options.onClear === 'close';
    if (options.onChange !== 'none' || reopen) ops.push({ operation: options.onChange === 'comment' && !reopen ? 'comment' : 'update', ...(reopen ? { reopen } : {}) });
    record.clearSent = false;
    record.state = 'open';
    delete record.closedAt;
  } else if (LIFECYCLE.has(alert.transition)) {
    if (options.lifecycle) ops.push({ operation: 'comment' });
  } else if (alert.transition !== 'raised') {
    return { record, ops, ignored: 'not_relevant' };
  }
  return ops.length ? { record, ops } : { record, ops, ignored: 'not_relevant' };
}
