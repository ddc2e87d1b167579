/**
 * The Alert contracts (nodes/lib/contracts/alert-event.ts), the inputs pdm-alert recognises
 * (nodes/lib/alert/inputs.ts), tier configuration and the node's settings mapping.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  alertEventProblem,
  alertSummaryProblem,
  floodEventProblem,
  kpiReportProblem,
  tierRank,
  type AlertEvent,
} from '../../nodes/lib/contracts/alert-event';
import { classify } from '../../nodes/lib/alert/inputs';
import {
  CLASS_TIER_DEFAULTS,
  DEFAULT_TIER_CONFIG,
  checkResolved,
  engineConfig,
  parseMofN,
  parseOverrides,
  parseStates,
  resolveTierConfig,
} from '../../nodes/lib/alert/config';
import { chooseMode, baseSignal, UNCLASSIFIED } from '../../nodes/lib/alert/failure-modes';
import { ASSET_CLASSES } from '../../nodes/lib/assets/classes';
import { engineSettings } from '../../nodes/pdm-alert/settings';

const event: AlertEvent = {
  kind: 'alert',
  eventId: 'M-1:bearing_wear:1000#1',
  episodeId: 'M-1:bearing_wear:1000',
  seq: 1,
  assetId: 'M-1',
  assetClass: 'motor',
  path: { site: 'plant1' },
  category: 'condition',
  failureMode: { id: 'bearing_wear', name: 'Bearing wear' },
  transition: 'raised',
  tier: 'watch',
  peakTier: 'watch',
  priority: 'low',
  previous: { tier: null, state: 'normal' },
  state: 'active_unacknowledged',
  alarm: { active: true, acknowledged: false, latched: false, shelved: null, suppressed: null, outOfService: false },
  annunciated: true,
  closed: false,
  reasonCode: 'score',
  reason: 'anomaly score 0.70 ≥ 0.50',
  evidence: { score: { value: 0.7, threshold: 0.5, anomalous: true, window: { start: 0, end: 1000 }, state: 'running', model: null, topSignal: 'vibration_velocity' } },
  check: 'Listen to the bearings.',
  operatingState: 'running',
  raisedAt: 1000,
  ts: 1000,
};

describe('alert contracts', () => {
  it('an alert event passes; each broken field fails with a readable reason', () => {
    assert.equal(alertEventProblem(event), undefined);
    const broken: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...event, tier: 'urgent' }, /tier/],
      [{ ...event, state: 'active' }, /state/],
      [{ ...event, transition: 'exploded' }, /transition/],
      [{ ...event, assetId: 'a/b' }, /assetId/],
      [{ ...event, seq: 0 }, /seq/],
      [{ ...event, extra: 1 }, /additional/],
      [{ ...event, alarm: { ...event.alarm, shelved: { kind: 'forever', since: 1 } } }, /kind/],
      [{ ...event, evidence: { score: { value: 'high' } } }, /score/],
    ];
    for (const [candidate, why] of broken) assert.match(alertEventProblem(candidate) ?? 'passed', why);
    const { reason: _r, ...noReason } = event;
    assert.match(alertEventProblem(noReason) ?? 'passed', /reason/);
    assert.equal(alertEventProblem({ ...event, tier: null, priority: null, transition: 'cleared', state: 'normal', closed: true }), undefined);
  });

  it('summary, flood and KPI schemas reject the obvious mistakes', () => {
    assert.match(alertSummaryProblem({ kind: 'alert_summary' }) ?? 'passed', /required/);
    assert.match(floodEventProblem({ kind: 'flood', transition: 'flooding' }) ?? 'passed', /required|transition/);
    assert.match(kpiReportProblem({ kind: 'alert_kpi', site: 'x' }) ?? 'passed', /required/);
    assert.deepEqual([null, 'watch', 'warning', 'action'].map((t) => tierRank(t as never)), [0, 1, 2, 3]);
  });
});

describe('alert inputs', () => {
  const score = { assetId: 'M-1', window: { start: 0, end: 60_000 }, state: 'running', score: 0.7, anomalous: true, threshold: 0.5, contributions: { current: 1 }, topSignal: 'current', model: { id: 'm', version: 1 }, status: 'ready', detectors: { iforest: 0.7 } };
  it('recognises scores (extra fields allowed), snapshots, twin events and zone readings', () => {
    assert.equal(classify(score).kind, 'score');
    const snapshot = classify({ thingId: 'pdm:M-1', assetId: 'M-1', attributes: { assetClass: 'pump', path: { site: 's' } }, features: { flow: { properties: { value: 3, stale: true, quality: 'good', limit: 'normal', baseline: {} } } }, state: { current: 'running', since: 5 }, updatedAt: 9, health: {} });
    assert.equal(snapshot.kind, 'snapshot');
    assert.deepEqual(snapshot.kind === 'snapshot' && snapshot.snapshot, { assetId: 'M-1', state: 'running', since: 5, updatedAt: 9, assetClass: 'pump', path: { site: 's', area: undefined, line: undefined }, features: { flow: { value: 3, stale: true, quality: 'good', limit: 'normal' } } });
    assert.deepEqual(classify({ kind: 'state', assetId: 'M-1', from: 'off', to: 'startup', ts: 5, load: 3 }), { kind: 'twin_event', event: { kind: 'state', assetId: 'M-1', from: 'off', to: 'startup', ts: 5 } });
    assert.equal(classify({ kind: 'label', assetId: 'M-1', type: 'false_alarm', ts: 5, episodeId: 'e' }).kind, 'twin_event');
    const zoned = classify({ assetId: 'M-1', signal: 'vibration_velocity', value: 5, unit: 'mm/s', ts: 7, quality: 'good', source: { zone: { preset: 'p', standard: 'ISO 10816-3', zone: 'D', limits: [1, 2, 3] } } });
    assert.deepEqual(zoned, { kind: 'zone', zone: { assetId: 'M-1', signal: 'vibration_velocity', value: 5, ts: 7, zone: 'D', preset: 'p', standard: 'ISO 10816-3', limits: [1, 2, 3] } });
    assert.deepEqual(classify({ assetId: 'M-1', signal: 'current', value: 5, unit: 'A', ts: 7, quality: 'good' }), { kind: 'ignored', what: 'reading' });
  });

  it('rejects what is broken with the kind it looked like', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...score, score: 1.5 }, 'invalid_score'],
      [{ ...score, window: { start: 10, end: 5 } }, 'invalid_score'],
      [{ ...score, status: 'ok' }, 'invalid_score'],
      [{ thingId: 'x', assetId: 'M-1', features: {}, state: {} }, 'invalid_snapshot'],
      [{ kind: 'label', assetId: 'M-1', type: 'maybe', ts: 1 }, 'invalid_event'],
      [{ kind: 'state', assetId: 'M-1', ts: 1 }, 'invalid_event'],
      [{ kind: 'weird', assetId: 'M-1' }, 'invalid_event'],
      [{ assetId: 'M-1', signal: 'current', value: 'x' }, 'not_an_input'],
      [42, 'not_an_input'],
      [null, 'not_an_input'],
      [{}, 'not_an_input'],
    ];
    for (const [item, code] of cases) {
      const c = classify(item);
      assert.equal(c.kind === 'invalid' && c.code, code, JSON.stringify(item));
    }
  });
});

describe('tier configuration', () => {
  it('resolves defaults ← class defaults ← node ← overrides (default, class, asset)', () => {
    const config = engineConfig({
      tiers: { warning: { onDelayMs: 1000 } },
      overrides: { default: { clear: { offDelayMs: 7 } }, pump: { warning: { onDelayMs: 2000 } }, assets: { 'P-9': { lifecycle: { latching: true } } } },
    });
    const motor = resolveTierConfig(config, 'motor', 'M-1');
    assert.equal(motor.warning.onDelayMs, 1000);
    assert.equal(motor.clear.offDelayMs, 7);
    assert.deepEqual(motor.action.severeSignals, CLASS_TIER_DEFAULTS.motor.action!.severeSignals);
    assert.equal(resolveTierConfig(config, 'pump', 'P-1').warning.onDelayMs, 2000);
    assert.equal(resolveTierConfig(config, 'pump', 'P-9').lifecycle.latching, true);
    assert.equal(resolveTierConfig(config, 'pump', 'P-1').lifecycle.latching, false);
    assert.equal(DEFAULT_TIER_CONFIG.warning.m, 3);
    assert.match(checkResolved(engineConfig({ overrides: { fan: { warning: { m: 4, n: 3 } } } })) ?? '', /fan: warning\.m \(4\) is larger than warning\.n \(3\)/);
  });

  it('parses overrides, M of N and operating states, and says what is wrong', () => {
    assert.deepEqual(parseOverrides(''), { ok: true, value: {} });
    assert.equal(parseOverrides('{"motor": {"warning": {"m": 2}}}').ok, true);
    for (const bad of ['{', '[]', '{"toaster": {}}', '{"motor": {"warning": {"m": 0}}}', '{"default": {"clear": {"offDelayMs": -1}}}', '{"assets": {"X": {"bogus": 1}}}']) {
      assert.equal(parseOverrides(bad).ok, false, bad);
    }
    assert.deepEqual(parseMofN('3/5'), { ok: true, value: { m: 3, n: 5 } });
    assert.deepEqual(parseMofN('2 of 4'), { ok: true, value: { m: 2, n: 4 } });
    for (const bad of ['5/3', '0/2', 'x', '', '3/99']) assert.equal(parseMofN(bad).ok, false, bad);
    assert.deepEqual(parseStates('off, startup ,shutdown'), { ok: true, value: ['off', 'startup', 'shutdown'] });
    assert.deepEqual(parseStates(''), { ok: true, value: [] });
    assert.equal(parseStates('off, sleeping').ok, false);
  });

  it('maps the editor fields (seconds) to the engine (ms) and reports bad fields', () => {
    const { config, errors } = engineSettings({
      onDelaySec: '120',
      mOfN: '2/4',
      agreeSec: 0,
      offDelaySec: '60',
      hysteresis: '0.1',
      scoreAbove: '',
      ackFrom: 'watch',
      latching: true,
      suppress: 'off',
      maxShelveSec: 3600,
      floodCount: '20',
      floodEndCount: '8',
      floodSuppress: 'watch',
      kpiSec: '600',
      overrides: '{"pump": {"warning": {"onDelayMs": 1}}}',
      defaultClass: 'fan',
    });
    assert.deepEqual(errors, []);
    const fan = resolveTierConfig(config, 'fan', 'F-1');
    assert.equal(fan.warning.onDelayMs, 120_000);
    assert.deepEqual([fan.warning.m, fan.warning.n], [2, 4]);
    assert.equal(fan.clear.offDelayMs, 60_000);
    assert.equal(fan.clear.hysteresis, 0.1);
    assert.equal(fan.watch.scoreAbove, null);
    assert.deepEqual(fan.lifecycle, { ackFrom: 'watch', latching: true });
    assert.equal(resolveTierConfig(config, 'pump', 'P-1').warning.onDelayMs, 1);
    assert.deepEqual(config.suppressStates, ['off']);
    assert.equal(config.maxShelveMs, 3_600_000);
    assert.deepEqual(config.flood, { count: 20, windowMs: 600_000, endCount: 8, suppressUpTo: 'watch' });
    assert.equal(config.kpiIntervalMs, 600_000);
    assert.equal(config.defaultClass, 'fan');
    const bad = engineSettings({ onDelaySec: '-1', mOfN: '9/2', hysteresis: '2', suppress: 'nap', overrides: '{', floodCount: '3', floodEndCount: '5', ackFrom: 'soon', defaultClass: 'toaster' });
    assert.equal(bad.errors.length, 8, bad.errors.join('\n'));
    assert.deepEqual(engineSettings({}).errors, []);
  });
});

describe('failure-mode mapping', () => {
  const motor = ASSET_CLASSES.motor.failureModes;
  it('ranks by covered share, keeps the class order on ties, and sticks to a preferred mode', () => {
    assert.equal(chooseMode(motor, { current: 0.9, vibration_velocity: 0.1 }).mode.id, 'overload');
    assert.equal(chooseMode(motor, { vibration_velocity: 1 }).mode.id, 'bearing_wear');
    assert.equal(chooseMode(motor, { vibration_velocity: 1 }, new Set(['looseness'])).mode.id, 'looseness');
    assert.equal(chooseMode(motor, { current: 0.9, vibration_velocity: 0.1 }, new Set(['looseness'])).mode.id, 'overload', 'a weak preferred mode does not win');
    assert.equal(chooseMode(motor, { nothing_known: 1 }).mode, UNCLASSIFIED);
    assert.equal(chooseMode(motor, { current: NaN, x: -1 }).mode, UNCLASSIFIED);
    assert.equal(baseSignal('flow:std'), 'flow');
    assert.equal(baseSignal('vibration_velocity.de'), 'vibration_velocity');
  });
});
