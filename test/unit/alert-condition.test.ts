/**
 * Tier evaluation of one condition (nodes/lib/alert/condition.ts), driven by a fake clock: every
 * observation and tick carries its own time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newTracker, observe, resetTiming, slopePerHour, target, tick, widening, type Observation } from '../../nodes/lib/alert/condition';
import { DEFAULT_TIER_CONFIG, merge, type TierConfig, type TierOverride } from '../../nodes/lib/alert/config';

const S = 1000;
const MIN = 60 * S;
const cfg = (over: TierOverride = {}): TierConfig => merge<TierConfig>(DEFAULT_TIER_CONFIG as TierConfig, over);
const scored = (t: number, score: number, rule: Observation['rule'] = 'normal', severe = false): Observation => ({
  t,
  scored: true,
  model: { score, threshold: 0.5, anomalous: score >= 0.5 },
  rule,
  severe,
});
const ruleOnly = (t: number, rule: Observation['rule'], severe = false): Observation => ({ t, scored: false, rule, severe });

describe('alert tiers (condition tracker)', () => {
  it('watch on the first anomalous score, nothing on a normal one', () => {
    const s = newTracker();
    assert.equal(observe(s, scored(0, 0.3), cfg()), null);
    assert.deepEqual(observe(s, scored(MIN, 0.7), cfg()), { from: null, to: 'watch', code: 'score' });
    assert.equal(s.tier, 'watch');
  });

  it('watch on a rule alone (limit warning or zone C)', () => {
    const s = newTracker();
    assert.deepEqual(observe(s, ruleOnly(0, 'warning'), cfg()), { from: null, to: 'watch', code: 'rule' });
  });

  it('warning when anomalous in M of the last N scored windows', () => {
    const s = newTracker();
    const c = cfg({ warning: { m: 3, n: 5, onDelayMs: 60 * MIN } });
    observe(s, scored(1 * MIN, 0.7), c);
    observe(s, scored(2 * MIN, 0.2), c); // drops below threshold − hysteresis: model off
    observe(s, scored(3 * MIN, 0.7), c);
    assert.equal(s.tier, 'watch');
    const d = observe(s, scored(4 * MIN, 0.8), c);
    assert.deepEqual(d, { from: 'watch', to: 'warning', code: 'm_of_n' });
  });

  it('only scored windows count towards M of N, and only the last N', () => {
    const s = newTracker();
    const c = cfg({ warning: { m: 2, n: 3, onDelayMs: 60 * MIN }, clear: { offDelayMs: 60 * MIN } });
    observe(s, scored(MIN, 0.9), c);
    observe(s, { ...scored(MIN + 1, 0.9), scored: false }, c); // the same window seen again via a rule update
    assert.equal(s.tier, 'watch');
    observe(s, scored(2 * MIN, 0.1), c);
    observe(s, scored(3 * MIN, 0.1), c);
    observe(s, scored(4 * MIN, 0.9), c); // hits: [F, F, T] → 1 of 3
    assert.equal(s.hits.length, 3);
    assert.equal(s.tier, 'watch');
  });

  it('warning when the condition persists for the on-delay, also by tick without new data', () => {
    const s = newTracker();
    const c = cfg({ warning: { onDelayMs: 5 * MIN, m: 5, n: 5 } });
    observe(s, ruleOnly(0, 'warning'), c);
    assert.equal(tick(s, 4 * MIN, c), null);
    assert.deepEqual(tick(s, 5 * MIN, c), { from: 'watch', to: 'warning', code: 'persisted' });
  });

  it('warning when the departure widens (rising scores by widenBy)', () => {
    const s = newTracker();
    const c = cfg({ warning: { m: 5, n: 5, onDelayMs: 60 * MIN, widenBy: 0.15, widenWindows: 3 } });
    observe(s, scored(MIN, 0.55), c);
    observe(s, scored(2 * MIN, 0.6), c);
    assert.equal(s.tier, 'watch');
    assert.deepEqual(observe(s, scored(3 * MIN, 0.72), c), { from: 'watch', to: 'warning', code: 'widening' });
    assert.equal(widening(s, c), true);
    const flat = newTracker();
    observe(flat, scored(MIN, 0.6), c);
    observe(flat, scored(2 * MIN, 0.65), c);
    observe(flat, scored(3 * MIN, 0.7), c); // rising but only by 0.1
    assert.equal(flat.tier, 'watch');
  });

  it('action when the model and a rule agree (for agreeForMs)', () => {
    const s = newTracker();
    observe(s, scored(MIN, 0.7), cfg());
    assert.deepEqual(observe(s, scored(2 * MIN, 0.7, 'warning'), cfg()), { from: 'watch', to: 'action', code: 'agreement' });
    const slow = newTracker();
    const c = cfg({ action: { agreeForMs: 2 * MIN }, warning: { m: 9, n: 9, onDelayMs: 60 * MIN } });
    observe(slow, scored(MIN, 0.7, 'warning'), c);
    assert.equal(slow.tier, 'watch');
    assert.equal(tick(slow, 2 * MIN, c), null);
    assert.deepEqual(tick(slow, 3 * MIN, c), { from: 'watch', to: 'action', code: 'agreement' });
  });

  it('a rule alone never reaches action unless it is severe and persists', () => {
    const c = cfg({ warning: { onDelayMs: MIN }, action: { severeForMs: 5 * MIN } });
    const s = newTracker();
    observe(s, ruleOnly(0, 'action', false), c);
    tick(s, 10 * MIN, c);
    assert.equal(s.tier, 'warning');
    const severe = newTracker();
    observe(severe, ruleOnly(0, 'action', true), c);
    assert.equal(tick(severe, MIN, c)?.to, 'warning');
    assert.deepEqual(tick(severe, 5 * MIN, c), { from: 'warning', to: 'action', code: 'severe' });
  });

  it('the model alone never reaches action', () => {
    const s = newTracker();
    const c = cfg();
    for (let i = 1; i <= 30; i++) observe(s, scored(i * MIN, 0.99), c);
    assert.equal(s.tier, 'warning');
  });

  it('clears only after the off-delay (keep firing), with hysteresis on the score', () => {
    const s = newTracker();
    const c = cfg({ clear: { hysteresis: 0.1, offDelayMs: 3 * MIN } });
    observe(s, scored(0, 0.6), c);
    assert.equal(observe(s, scored(MIN, 0.45), c), null, 'inside the hysteresis band the condition holds');
    assert.equal(s.raw, true);
    assert.equal(observe(s, scored(2 * MIN, 0.35), c), null, 'below the band: clearing starts');
    assert.equal(s.raw, false);
    assert.equal(tick(s, 4 * MIN, c), null);
    assert.deepEqual(tick(s, 5 * MIN, c), { from: 'watch', to: null, code: 'cleared' });
    assert.equal(s.tier, null);
  });

  it('a returning condition inside the off-delay keeps the tier (no flapping)', () => {
    const s = newTracker();
    const c = cfg({ clear: { offDelayMs: 3 * MIN }, warning: { onDelayMs: 60 * MIN, m: 9, n: 9 } });
    observe(s, scored(0, 0.7), c);
    observe(s, scored(MIN, 0.1), c);
    assert.equal(observe(s, scored(2 * MIN, 0.7), c), null);
    assert.equal(tick(s, 10 * MIN, c), null);
    assert.equal(s.tier, 'watch');
  });

  it('de-escalates after deescalateMs when the higher tier evidence is gone', () => {
    const s = newTracker();
    const c = cfg({ clear: { deescalateMs: 2 * MIN }, warning: { onDelayMs: 60 * MIN, m: 9, n: 9 } });
    observe(s, scored(0, 0.7, 'warning'), c);
    assert.equal(s.tier, 'action');
    observe(s, scored(MIN, 0.7, 'normal'), c); // rule back to normal: only the model remains
    assert.equal(tick(s, 2 * MIN, c), null);
    assert.deepEqual(tick(s, 3 * MIN, c), { from: 'action', to: 'watch', code: 'de_escalated' });
  });

  it('target explains itself; resetTiming keeps the tier but needs fresh evidence', () => {
    const s = newTracker();
    const c = cfg({ clear: { offDelayMs: MIN } });
    observe(s, scored(0, 0.7, 'warning'), c);
    assert.deepEqual(target(s, 0, c), { tier: 'action', code: 'agreement' });
    resetTiming(s, 10 * MIN);
    assert.equal(s.tier, 'action');
    assert.equal(s.raw, false);
    assert.deepEqual(s.hits, []);
    assert.deepEqual(tick(s, 11 * MIN, c), { from: 'action', to: null, code: 'cleared' });
  });

  it('the trend slope is per hour and finite', () => {
    assert.equal(slopePerHour([]), 0);
    assert.equal(slopePerHour([{ t: 0, score: 0.5 }]), 0);
    assert.ok(Math.abs(slopePerHour([{ t: 0, score: 0.5 }, { t: 30 * MIN, score: 0.6 }, { t: 60 * MIN, score: 0.7 }]) - 0.2) < 1e-9);
    assert.equal(slopePerHour([{ t: 5, score: 0.5 }, { t: 5, score: 0.9 }]), 0);
  });

  it('late observations are evaluated at the tracker time (time never runs backwards)', () => {
    const s = newTracker();
    const c = cfg({ warning: { onDelayMs: 5 * MIN, m: 9, n: 9 } });
    observe(s, ruleOnly(10 * MIN, 'warning'), c);
    observe(s, ruleOnly(2 * MIN, 'warning'), c);
    assert.equal(s.lastAt, 10 * MIN);
    assert.equal(tick(s, 15 * MIN, c)?.to, 'warning');
  });
});
