import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyScorer, BUNDLE_FORMAT_VERSION } from '../../nodes/lib/anomaly/scorer';
import { ANOMALY_CLASS_DEFAULTS } from '../../nodes/lib/anomaly/defaults';
import { ModelFormatError } from '../../nodes/lib/anomaly/model';
import { observationFromWindow } from '../../nodes/lib/anomaly/observation';
import type { Observation } from '../../nodes/lib/anomaly/types';
import type { OperatingState } from '../../nodes/lib/twin/operating-state';
import { FeatureWindowBuilder } from '../../nodes/lib/twin/feature-window';
import { Prng } from '../../nodes/lib/anomaly/prng';

const MIN = 60_000;
const rng = new Prng(11);

/** A 60 s window's means of current and flow around a level. */
function obs(i: number, state: OperatingState = 'running', shift = 0, extra: Partial<Observation> = {}): Observation {
  const level = state === 'idle' ? 0.3 : 1;
  return {
    assetId: 'P-1',
    start: i * MIN,
    end: (i + 1) * MIN,
    state,
    values: { current: 40 * level + 0.4 * rng.normal() + shift * 0.4, flow: 120 * level + 1.5 * rng.normal(), pressure: 4 * level + 0.05 * rng.normal() },
    ...extra,
  };
}

function scorer(over = {}) {
  return new AnomalyScorer({ warmup: { minSamples: 60, minSpanMs: 90 * MIN }, retrain: { everyMs: 0 }, ...over }, ANOMALY_CLASS_DEFAULTS.pump);
}

test('warm-up gate: learning until both enough samples and enough time; nothing can alert meanwhile', () => {
  const s = scorer();
  for (let i = 0; i <= 90; i++) {
    const r = s.score(obs(i, 'running', i === 30 ? 50 : 0));
    assert.equal(r.status, 'learning', `window ${i}`);
    assert.equal(r.anomalous, false);
    assert.equal(r.score, 0);
    assert.equal(r.model, null);
  }
  // 60 samples were reached at window 59, but 90 minutes of span only at window 90, which
  // trains the model; the next window is the first scored.
  const first = s.score(obs(91));
  assert.equal(first.status, 'ready');
  assert.equal(first.model?.id, 'P-1/running');
  assert.equal(first.model?.version, 1);
});

test('per-state models: an idle-level window is anomalous for running, normal for idle', () => {
  // Without the operating envelope, which would call a uniformly lower load a new operating point.
  const s = scorer({ envelope: { signals: [] } });
  for (let i = 0; i < 200; i++) s.score(obs(i, i % 2 ? 'running' : 'idle'));
  const statuses = s.status('P-1');
  assert.deepEqual(statuses.map((x) => x.state).sort(), ['idle', 'running']);
  let t = 300;
  const idleInRunning = s.score({ ...obs(t++, 'idle'), state: 'running' });
  assert.equal(idleInRunning.anomalous, true);
  const idle = s.score(obs(t++, 'idle'));
  assert.equal(idle.anomalous, false);
  assert.equal(idle.model?.id, 'P-1/idle');
});

test('startup/shutdown windows and the off state are masked: not scored, not learned', () => {
  const s = scorer();
  for (let i = 0; i < 100; i++) s.score(obs(i));
  const transient = s.score(obs(101, 'running', 80, { transient: true }));
  assert.equal(transient.masked, 'transient');
  assert.equal(transient.anomalous, false);
  assert.equal(transient.score, 0);
  assert.equal(s.score(obs(102, 'startup', 80)).masked, 'transient');
  assert.equal(s.score(obs(103, 'off', 80)).masked, 'off');
  const before = s.status('P-1')[0].samples;
  s.score(obs(104, 'running', 0, { transient: true }));
  assert.equal(s.status('P-1')[0].samples, before);
});

test('protected learning: anomalous and fault-labelled windows never enter the baseline, so retraining does not absorb a fault', () => {
  const s = scorer({ retrain: { everyMs: 30 * MIN, minNewSamples: 10 }, bufferSize: 500, guardMs: 3 * MIN });
  let i = 0;
  for (; i < 100; i++) s.score(obs(i));
  const learnedBefore = s.status('P-1')[0].samples;
  // A long fault: a 12 σ rise of current, for 3 hours.
  let anomalous = 0;
  for (let k = 0; k < 180; k++, i++) {
    const r = s.score(obs(i, 'running', 12));
    if (r.anomalous) {
      anomalous++;
      assert.equal(r.learned, false);
      assert.equal(r.topSignal, 'current');
    }
  }
  assert.ok(anomalous >= 175, `fault flagged ${anomalous}/180`);
  assert.ok(s.status('P-1')[0].samples <= learnedBefore, 'fault windows joined the baseline');
  // Normal again for an hour: retraining happens on normal data only, and the fault still alarms.
  for (let k = 0; k < 60; k++, i++) s.score(obs(i));
  const status = s.status('P-1')[0];
  assert.ok(status.model!.version >= 2, 'scheduled retraining ran');
  assert.equal(s.score(obs(i++, 'running', 12)).anomalous, true);
  // A fault label removes samples in its range and keeps later ones out.
  const removed = s.labelFault('P-1', (i - 30) * MIN, (i + 30) * MIN);
  assert.ok(removed > 0);
  assert.equal(s.score(obs(i++)).learned, false);
});

test('rebaseline on command: back to learning, then a new model from new data', () => {
  const s = scorer();
  for (let i = 0; i < 100; i++) s.score(obs(i));
  assert.equal(s.rebaseline('P-1'), 1);
  const r = s.score(obs(101, 'running', 5));
  assert.equal(r.status, 'learning');
});

test('model export/import: a second scorer (another runtime) scores identically; a newer bundle is refused', () => {
  const a = scorer();
  for (let i = 0; i < 100; i++) a.score(obs(i));
  const bundle = JSON.parse(JSON.stringify(a.exportModels('P-1', 0)));
  const b = scorer();
  const installed = b.importModels(bundle);
  assert.deepEqual(installed.map((m) => m.state), ['running']);
  // Both start the stream fresh from here on.
  const c = scorer();
  c.importModels(JSON.stringify(bundle));
  for (let i = 200; i < 260; i++) {
    const o = obs(i, 'running', i > 230 ? 8 : 0);
    assert.deepEqual(c.score({ ...o, values: { ...o.values } }), b.score(o));
  }
  assert.throws(() => b.importModels({ ...bundle, formatVersion: BUNDLE_FORMAT_VERSION + 1 }), (e: unknown) => e instanceof ModelFormatError && /newer than this version/.test(e.message));
  assert.throws(() => b.importModels({ ...bundle, models: [{ ...bundle.models[0], formatVersion: 99 }] }), /newer than this version/);
});

test('persistence: toJSON/restore keeps models, buffers and stream state', () => {
  const a = scorer();
  for (let i = 0; i < 100; i++) a.score(obs(i));
  const b = scorer();
  assert.equal(b.restore(JSON.parse(JSON.stringify(a.toJSON()))), 1);
  for (let i = 100; i < 130; i++) {
    const o = obs(i, 'running', i > 115 ? 10 : 0);
    assert.deepEqual(b.score({ ...o }), a.score(o));
  }
});

test('feature windows from the twin become observations (signal means; transient flag carried)', () => {
  const builder = new FeatureWindowBuilder('P-1', MIN);
  builder.noteState('running', 0);
  for (let t = 0; t < 60_000; t += 1000) {
    builder.add('current', 40 + (t % 3000) / 1000, t, 'running');
    builder.add('flow', 120, t, 'running');
  }
  const [w] = builder.add('current', 40, 60_000, 'running');
  const o = observationFromWindow(w, ['mean', 'std'], 'pump');
  assert.equal(o.assetClass, 'pump');
  assert.equal(o.state, 'running');
  assert.equal(o.transient, false);
  assert.ok(Math.abs(o.values.current - 41) < 1e-9);
  assert.ok('current:std' in o.values && 'flow' in o.values);
});
