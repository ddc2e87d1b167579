import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyScorer } from '../../nodes/lib/anomaly/scorer';
import { ANOMALY_CLASS_DEFAULTS } from '../../nodes/lib/anomaly/defaults';
import type { Observation } from '../../nodes/lib/anomaly/types';
import { Prng } from '../../nodes/lib/anomaly/prng';

const MIN = 60_000;

/**
 * A motor's 60 s windows: current and power follow the load, vibration does not (a healthy
 * machine); `vib` adds to the vibration level (a developing fault).
 */
function motor(rng: Prng, i: number, load: number, vib = 0): Observation {
  return {
    assetId: 'M-1',
    start: i * MIN,
    end: (i + 1) * MIN,
    state: 'running',
    values: {
      current: 50 * load + 0.3 * rng.normal(),
      power: 30 * load + 0.2 * rng.normal(),
      vibration_velocity: 1.2 + vib + 0.03 * rng.normal(),
    },
  };
}

function trained(over = {}): { s: AnomalyScorer; rng: Prng; next: number } {
  const rng = new Prng(5);
  const s = new AnomalyScorer({ warmup: { minSamples: 60, minSpanMs: 60 * MIN }, retrain: { everyMs: 0 }, ...over }, ANOMALY_CLASS_DEFAULTS.motor);
  let i = 0;
  for (; i < 70; i++) s.score(motor(rng, i, 0.6 + 0.02 * Math.sin(i / 5)));
  assert.equal(s.status('M-1')[0]!.status, 'ready');
  return { s, rng, next: i };
}

test('a load step to a level never trained on is a new operating point: masked, then learned', () => {
  const { s, rng, next } = trained();
  let i = next;
  const first = s.score(motor(rng, i++, 0.85));
  assert.equal(first.masked, 'operating_point');
  assert.equal(first.anomalous, false);
  assert.equal(first.score, 0);
  const version = s.status('M-1')[0]!.model!.version;
  let masked = 1;
  for (let k = 0; k < 40; k++) if (s.score(motor(rng, i++, 0.85)).masked === 'operating_point') masked++;
  assert.equal(masked, 30, 'absorbed after 30 windows at the new load');
  assert.equal(s.status('M-1')[0]!.model!.version, version + 1, 'retrained to take the new point in');
  const after = s.score(motor(rng, i++, 0.85));
  assert.equal(after.masked, undefined);
  assert.equal(after.anomalous, false);
});

test('a vibration fault at a known load is still scored and alarms', () => {
  const { s, rng, next } = trained();
  const r = s.score(motor(rng, next, 0.6, 0.8));
  assert.equal(r.masked, undefined);
  assert.equal(r.anomalous, true);
  assert.equal(r.topSignal, 'vibration_velocity');
});

test('a vibration fault together with a load step is not hidden as an operating point', () => {
  const { s, rng, next } = trained();
  const r = s.score(motor(rng, next, 0.7, 3));
  assert.equal(r.masked, undefined, 'most of the anomaly is vibration, not load');
  assert.equal(r.anomalous, true);
});

test('envelope off (no load signals): a load step alarms as before', () => {
  const { s, rng, next } = trained({ envelope: { signals: [] } });
  const r = s.score(motor(rng, next, 0.85));
  assert.equal(r.masked, undefined);
  assert.equal(r.anomalous, true);
});

test('the envelope survives a restore', () => {
  const { s, rng, next } = trained();
  const copy = new AnomalyScorer({ warmup: { minSamples: 60, minSpanMs: 60 * MIN }, retrain: { everyMs: 0 } }, ANOMALY_CLASS_DEFAULTS.motor);
  copy.restore(JSON.parse(JSON.stringify(s.toJSON())));
  assert.equal(copy.score(motor(rng, next, 0.85)).masked, 'operating_point');
});

test('current rising alone, at the same power, is a fault, not an operating point', () => {
  const { s, rng, next } = trained();
  const o = motor(rng, next, 0.6);
  o.values.current = 50 * 0.85;
  const r = s.score(o);
  assert.equal(r.masked, undefined);
  assert.equal(r.anomalous, true);
  assert.equal(r.topSignal, 'current');
});

test('the envelope travels with exported models: an importing scorer masks the same windows', () => {
  const { s, rng, next } = trained();
  const edge = new AnomalyScorer({ warmup: { minSamples: 60, minSpanMs: 60 * MIN }, retrain: { everyMs: 0 } }, ANOMALY_CLASS_DEFAULTS.motor);
  const bundle = JSON.parse(JSON.stringify(s.exportModels('M-1', 0)));
  assert.ok(bundle.envelopes.running.length >= 2);
  edge.importModels(bundle);
  let i = next;
  // One normal window to both first: the edge's smoothing stream starts with it.
  const normal = motor(rng, i++, 0.6);
  s.score(normal);
  edge.score(JSON.parse(JSON.stringify(normal)));
  for (let k = 0; k < 40; k++) {
    const o = motor(rng, i++, 0.85);
    const a = s.score(o);
    const b = edge.score(JSON.parse(JSON.stringify(o)));
    if (k < 29) assert.deepEqual(b, a, `window ${k}`);
    // The edge never retrains on a buffer smaller than the warm-up's: it keeps masking.
    if (k >= 30) assert.equal(b.masked, 'operating_point');
  }
});

test('a pump moved along its curve (flow and current up, discharge pressure down) is a new operating point', () => {
  const rng = new Prng(9);
  const pump = (i: number, q: number, vib = 0): Observation => ({
    assetId: 'P-1',
    start: i * MIN,
    end: (i + 1) * MIN,
    state: 'running',
    values: {
      flow: 100 * q + 0.5 * rng.normal(),
      current: 20 + 15 * q + 0.2 * rng.normal(),
      discharge_pressure: 6 - 2.5 * q * q + 0.02 * rng.normal(),
      vibration_velocity: 1.5 + vib + 0.03 * rng.normal(),
    },
  });
  const s = new AnomalyScorer({ warmup: { minSamples: 60, minSpanMs: 60 * MIN }, retrain: { everyMs: 0 } }, ANOMALY_CLASS_DEFAULTS.pump);
  let i = 0;
  for (; i < 70; i++) s.score(pump(i, 0.6 + 0.01 * Math.sin(i / 4)));
  const moved = s.score(pump(i++, 0.85));
  assert.equal(moved.masked, 'operating_point');
  const worn = s.score(pump(i++, 0.6, 1.5));
  assert.equal(worn.masked, undefined, 'vibration at the trained flow is scored');
  assert.equal(worn.anomalous, true);
});
