import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScoringModel, ModelStream, ModelFormatError, MODEL_FORMAT_VERSION, mergeModelConfig } from '../../nodes/lib/anomaly/model';
import { CLASS_MODEL_CONFIG } from '../../nodes/lib/anomaly/defaults';
import { PcaModel } from '../../nodes/lib/anomaly/pca';
import { Prng } from '../../nodes/lib/anomaly/prng';
import { fitRobust } from '../../nodes/lib/anomaly/baseline';

const SIGNALS = ['current', 'flow', 'pressure', 'vibration_acceleration', 'voltage', 'speed', 'power', 'temperature'];
const FEATURES = SIGNALS.map((s) => ({ name: s, signal: s }));
const MEANS = [40, 120, 4, 3, 400, 1480, 22, 60];
const SDS = [0.5, 2, 0.05, 0.2, 3, 4, 0.3, 0.1];

/** 1 Hz samples of 8 independent noisy signals. */
function samples(n: number, seed: number, t0 = 0) {
  const rng = new Prng(seed);
  return Array.from({ length: n }, (_, i) => ({ t: t0 + i * 1000, x: MEANS.map((m, j) => m + SDS[j] * rng.normal()) }));
}

function fit(seed = 1) {
  return ScoringModel.fit(samples(600, seed), FEATURES, CLASS_MODEL_CONFIG, { id: 'P-1/running', version: 1, assetId: 'P-1', state: 'running' });
}

test('determinism: the same data and seed give the same model and the same scores', () => {
  const a = fit();
  const b = fit();
  assert.deepEqual(a.model.toJSON(), b.model.toJSON());
  const test = samples(200, 99, 600_000);
  for (const s of test) assert.deepEqual(a.model.step(a.stream, s.t, s.x), b.model.step(b.stream, s.t, s.x));
});

test('model round trip through JSON text gives identical scores and contributions', () => {
  const { model, stream } = fit();
  const copy = ScoringModel.fromJSON(JSON.stringify(model.toJSON()));
  const streamCopy = ModelStream.from(JSON.parse(JSON.stringify(stream.toJSON())));
  assert.equal(copy.id, 'P-1/running');
  assert.equal(copy.version, 1);
  for (const s of samples(300, 5, 600_000)) {
    s.x[1] -= s.t > 700_000 ? 15 : 0;
    assert.deepEqual(copy.step(streamCopy, s.t, s.x), model.step(stream, s.t, s.x));
  }
});

test('a model of a newer format version is refused with a clear error; malformed ones too', () => {
  const json = fit().model.toJSON();
  assert.throws(
    () => ScoringModel.fromJSON({ ...json, formatVersion: MODEL_FORMAT_VERSION + 1 }),
    (e: unknown) => e instanceof ModelFormatError && e.code === 'model_version' && /newer than this version/.test(e.message) && /update/.test(e.message),
  );
  assert.throws(() => ScoringModel.fromJSON({ ...json, format: 'something-else' }), (e: unknown) => e instanceof ModelFormatError && e.code === 'model_format');
  assert.throws(() => ScoringModel.fromJSON({ ...json, scale: json.scale.slice(1) }), (e: unknown) => e instanceof ModelFormatError && e.code === 'model_invalid');
  assert.throws(() => ScoringModel.fromJSON('{not json'), ModelFormatError);
});

function runWith(change: (x: number[], i: number) => void) {
  const { model, stream } = fit();
  const out = [];
  const rng = new Prng(77);
  for (let i = 0; i < 120; i++) {
    const x = MEANS.map((m, j) => m + SDS[j] * rng.normal());
    if (i >= 60) change(x, i);
    out.push(model.step(stream, 600_000 + i * 1000, x));
  }
  return out;
}

test('normal data stay normal (few false alarms with the pump defaults)', () => {
  const out = runWith(() => {});
  assert.ok(out.filter((r) => r.anomalous).length <= 2, 'false alarms on normal data');
  assert.ok(out.every((r) => r.score >= 0 && r.score <= 1));
});

test('a 6σ excursion of one channel is detected and attributed to that channel', () => {
  const out = runWith((x) => {
    x[3] += 6 * SDS[3];
  });
  const after = out.slice(70);
  assert.ok(after.every((r) => r.anomalous), `missed: ${after.filter((r) => !r.anomalous).length}`);
  assert.equal(after[20].topSignal, 'vibration_acceleration');
  const c = after[20].contributions!;
  assert.ok(Math.abs(Object.values(c).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.ok(c.vibration_acceleration > 0.5, JSON.stringify(c));
});

test('an all-channel shift of 1.5σ (no channel alone far out) is detected', () => {
  const out = runWith((x) => {
    for (let j = 0; j < x.length; j++) x[j] += 1.5 * SDS[j];
  });
  const after = out.slice(75);
  assert.ok(after.filter((r) => r.anomalous).length >= 0.9 * after.length, `detected ${after.filter((r) => r.anomalous).length}/${after.length}`);
  assert.ok((after[10].detectors.t2 ?? 0) > (after[10].detectors.robustZ ?? 0), 'T² should lead on a joint shift');
});

test('variance floor: a flat or quantised signal gets a non-zero scale', () => {
  const base = fitRobust([Float64Array.from({ length: 100 }, () => 32), Float64Array.from({ length: 100 }, (_, i) => (i % 20 === 0 ? 33 : 32))]);
  assert.ok(base.scale.every((s) => s > 0 && Number.isFinite(s)));
  const flat = ScoringModel.fit(Array.from({ length: 50 }, (_, i) => ({ t: i * 1000, x: [32, 1 + (i % 3) * 0.01] })), [{ name: 'flow', signal: 'flow' }, { name: 'current', signal: 'current' }], CLASS_MODEL_CONFIG, { id: 'f', version: 1 });
  const r = flat.model.step(flat.stream, 60_000, [32, 1.01]);
  assert.ok(Number.isFinite(r.score));
});

test('PCA: T² contributions sum to 1 and Q appears with a reduced subspace', () => {
  const rng = new Prng(3);
  const rows = Array.from({ length: 500 }, () => {
    const a = rng.normal();
    return [a, a + 0.1 * rng.normal(), rng.normal()];
  });
  const pca = PcaModel.fit(rows, 3, { varianceKept: 0.6 });
  assert.ok(pca.k < 3);
  const t2 = new Float64Array(3);
  const q = new Float64Array(3);
  const s = pca.explain([2, -2, 0], t2, q);
  assert.ok(s.q > 1, 'breaking the correlation shows in Q');
  assert.ok(Math.abs(t2.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('temperature baselines follow slow drift, while a fast temperature step still alarms', () => {
  const { model, stream } = fit();
  const rng = new Prng(4);
  let driftAlarms = 0;
  let stepAlarms = 0;
  for (let i = 0; i < 1300; i++) {
    const x = MEANS.map((m, j) => m + SDS[j] * rng.normal());
    x[7] += (Math.min(i, 1200) / 1200) * 0.6; // 6 σ of drift over 20 minutes (the baseline lags rate × τ = 0.3 σ)
    if (i >= 1200) x[7] += 20 * SDS[7]; // then a 20 σ step within a second
    const r = model.step(stream, 600_000 + i * 1000, x);
    if (r.anomalous && i < 1200) driftAlarms++;
    if (r.anomalous && i >= 1200 && i < 1230) stepAlarms++;
  }
  assert.ok(driftAlarms < 30, `slow temperature drift raised ${driftAlarms} alarms`);
  assert.ok(stepAlarms >= 10, `a fast temperature step raised only ${stepAlarms} alarms`);
});

test('seasonal profile: a level normal at noon is anomalous at 3 am (hour-of-day baseline)', () => {
  const cfg = mergeModelConfig(CLASS_MODEL_CONFIG, {
    seasonal: 'hour',
    smoothingMs: 0,
    confirmMs: 0,
    adaptive: { signals: [] },
    detectors: { robustZ: { enabled: true }, iforest: { enabled: false }, pca: { enabled: false } },
  });
  const rng = new Prng(21);
  const level = (t: number) => 10 + (new Date(t).getUTCHours() >= 8 && new Date(t).getUTCHours() < 16 ? 5 : 0);
  const train = Array.from({ length: 2 * 24 * 60 }, (_, i) => ({ t: i * 60_000, x: [level(i * 60_000) + 0.2 * rng.normal()] }));
  const { model, stream } = ScoringModel.fit(train, [{ name: 'load', signal: 'load' }], cfg, { id: 's', version: 1 });
  const day3 = 2 * 86_400_000;
  assert.equal(model.step(stream, day3 + 12 * 3_600_000, [15.1]).anomalous, false);
  assert.equal(model.step(stream, day3 + 27 * 3_600_000, [15.1]).anomalous, true);
  assert.equal(ScoringModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON()))).toJSON().seasonal?.mode, 'hour');
});

test('CUSUM (EWMA/CUSUM family) catches a sustained small shift that robust z misses', () => {
  const base = { smoothingMs: 0, confirmMs: 0, adaptive: { signals: [] } };
  const only = (d: 'cusum' | 'robustZ') =>
    mergeModelConfig(CLASS_MODEL_CONFIG, { ...base, detectors: { robustZ: { enabled: d === 'robustZ' }, cusum: { enabled: d === 'cusum', k: 0.5, cap: 50 }, iforest: { enabled: false }, pca: { enabled: false } } });
  const hits = (cfg: ReturnType<typeof only>) => {
    const { model, stream } = ScoringModel.fit(samples(600, 1), FEATURES, cfg, { id: 'c', version: 1 });
    const rng = new Prng(8);
    let n = 0;
    for (let i = 0; i < 300; i++) {
      const x = MEANS.map((m, j) => m + SDS[j] * rng.normal());
      x[0] += 1.2 * SDS[0];
      if (model.step(stream, 600_000 + i * 1000, x).anomalous) n++;
    }
    return n;
  };
  const cusum = hits(only('cusum'));
  const z = hits(only('robustZ'));
  assert.ok(cusum > 200 && cusum > 3 * z, `cusum ${cusum}, robust z ${z}`);
});

test('on- and off-delay count the time each observation stands for: 1 Hz rows wait, 60 s windows do not', () => {
  const cfg = mergeModelConfig(CLASS_MODEL_CONFIG, {
    smoothingMs: 0,
    confirmMs: 5000,
    holdMs: 15_000,
    adaptive: { signals: [] },
    detectors: { robustZ: { enabled: true }, iforest: { enabled: false }, pca: { enabled: false } },
  });
  const train = samples(600, 3).map((s) => ({ t: s.t, x: [s.x[1]] }));
  const flow = [{ name: 'flow', signal: 'flow' }];
  const run = (stepMs: number, fault: boolean[]) => {
    const { model, stream } = ScoringModel.fit(train, flow, cfg, { id: 'd', version: 1 });
    return fault.map((f, i) => (model.step(stream, 600_000 + (i + 1) * stepMs, [f ? 60 : 120]).anomalous ? 1 : 0));
  };
  // 1 Hz: a 30 s fault alarms after 5 s and stays 15 s after it ends.
  const rows = run(1000, Array.from({ length: 80 }, (_, i) => i >= 10 && i < 40));
  assert.equal(rows.indexOf(1), 14, 'on-delay: the 5th row above the threshold alarms');
  assert.equal(rows.lastIndexOf(1), 40 + 13, 'off-delay: the 15th quiet row clears');
  assert.equal(rows.slice(14, 54).every((v) => v === 1), true);
  // 60 s windows: each covers both delays by itself.
  assert.deepEqual(run(60_000, [false, true, true, false, false]), [0, 1, 1, 0, 0]);
});
