/**
 * pdm-anomaly in a real Node-RED runtime (node-red-node-test-helper).
 *
 * Windows are synthetic 60 s feature windows of a pump (current, flow, pressure, vibration) whose
 * window means carry Gaussian noise of a known σ per signal, so "6σ" and "a 3σ shift of every
 * signal" mean exactly that. Every score sent is checked against the Score contract.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helper, nodeModule } from '../helpers/node-red';
import { Prng } from '../../nodes/lib/anomaly/prng';
import { scoreProblem } from '../../nodes/lib/contracts/score';
import type { FeatureWindow } from '../../nodes/lib/twin/feature-window';
import type { OperatingState } from '../../nodes/lib/twin/operating-state';

const anomalyNode = nodeModule('pdm-anomaly');
type Msg = Record<string, any>;

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 6, 6, 0, 0);
/** Level and σ of each signal's window mean. */
const SIGNALS: Record<string, { level: number; sigma: number }> = {
  current: { level: 32, sigma: 0.4 },
  flow: { level: 120, sigma: 1.5 },
  pressure: { level: 4.2, sigma: 0.05 },
  vibration_velocity: { level: 2.1, sigma: 0.08 },
};
const NAMES = Object.keys(SIGNALS);

interface WindowOpts {
  asset?: string;
  state?: OperatingState;
  transient?: boolean;
  /** Shift of each signal's mean, in its σ. */
  shift?: Record<string, number>;
  /** No noise: the means sit exactly at level + shift σ. */
  exact?: boolean;
}

/** Window i of an asset: [T0 + i min, T0 + (i + 1) min). */
function makeWindows(seed = 7) {
  const rng = new Prng(seed);
  return (i: number, o: WindowOpts = {}): FeatureWindow => {
    const features: FeatureWindow['features'] = {};
    for (const name of NAMES) {
      const { level, sigma } = SIGNALS[name];
      const noise = rng.normal();
      const mean = level + sigma * ((o.exact ? 0 : noise) + (o.shift?.[name] ?? 0));
      features[name] = { n: 60, mean, rms: Math.abs(mean) * 1.0001, min: mean - 3 * sigma, max: mean + 3 * sigma, std: sigma * (1 + 0.05 * rng.normal()), slope: 0.001 * rng.normal() };
    }
    const state = o.state ?? 'running';
    return { assetId: o.asset ?? 'P-1', start: T0 + i * MIN, end: T0 + (i + 1) * MIN, state, stateMs: { [state]: MIN }, transient: o.transient ?? false, features };
  };
}

const at = { z: 'tab', x: 100, y: 100 };
let seq = 0;
let ids = { a: 'an0', b: 'bn0' };
const base = { name: '', root: 'pdm', method: 'combined', scope: 'asset', assetClass: 'pump', features: 'mean', warmupWindows: 120, warmupHours: 1, threshold: 0.5, retrainHours: 0, seed: 1, publish: false, store: '', persistSec: 60 };

function flow(config: Record<string, unknown> = {}, second?: Record<string, unknown>) {
  const nodes: Record<string, unknown>[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: ids.a, ...at, type: 'pdm-anomaly', ...base, ...config, wires: [['scores'], ['models'], ['rej']] },
    { id: 'scores', ...at, type: 'helper', wires: [] },
    { id: 'models', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
  ];
  if (second) {
    nodes.push(
      { id: ids.b, ...at, type: 'pdm-anomaly', ...base, ...second, wires: [['scoresB'], ['modelsB'], ['rejB']] },
      { id: 'scoresB', ...at, type: 'helper', wires: [] },
      { id: 'modelsB', ...at, type: 'helper', wires: [] },
      { id: 'rejB', ...at, type: 'helper', wires: [] },
    );
  }
  return nodes;
}

/** Collects what a helper node receives; every score is checked against the contract on arrival. */
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(5);
  }
}
/** Fresh node ids per test: a closing node hands its learners to a successor with the same id. */
async function loaded(config: Record<string, unknown> = {}, second?: Record<string, unknown>) {
  seq++;
  ids = { a: `an${seq}`, b: `bn${seq}` };
  await helper.load(anomalyNode, flow(config, second));
  await settle(20);
  return helper.getNode(ids.a);
}
function checkScores(msgs: Msg[]) {
  for (const m of msgs) {
    const problem = scoreProblem(m.payload);
    assert.equal(problem, undefined, `score breaks the contract: ${problem}: ${JSON.stringify(m.payload)}`);
  }
}
/** Sends windows from..to (exclusive) and waits for their scores. */
async function feed(node: any, scores: Msg[], win: (i: number, o?: WindowOpts) => FeatureWindow, from: number, to: number, o: WindowOpts = {}) {
  const want = scores.length + (to - from);
  for (let i = from; i < to; i++) {
    const w = win(i, o);
    node.receive({ topic: `pdm/plant1/utilities/cooling/${w.assetId}/features`, payload: w });
  }
  await until(() => scores.length >= want, `${to - from} scores`);
}
const last = (list: Msg[]) => list[list.length - 1];

describe('pdm-anomaly node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('warm-up gate: learning, score 0 and never anomalous until enough windows over enough time; then ready with model v1', async () => {
    const n = await loaded({ warmupWindows: 40, warmupHours: 1 });
    const scores = collect('scores');
    const win = makeWindows();
    // 60 windows span 59 min: enough windows (40), not yet enough time (1 h) — a wild excursion among them changes nothing.
    for (let i = 0; i < 60; i++) n.receive({ payload: win(i, i === 30 ? { shift: { vibration_velocity: 40, current: -30 } } : {}) });
    await until(() => scores.length === 60, '60 scores');
    checkScores(scores);
    for (const m of scores) {
      assert.equal(m.payload.status, 'learning');
      assert.equal(m.payload.score, 0);
      assert.equal(m.payload.anomalous, false);
      assert.equal(m.payload.model, null);
    }
    assert.equal(last(scores).payload.warmup.samples, 60);
    assert.equal(last(scores).payload.warmup.minSamples, 40);
    assert.equal(last(scores).payload.warmup.minSpanMs, 3_600_000);
    await settle(1100);
    assert.match(String(n.status.lastCall.args[0].text), /pdm-anomaly\.status\.learning/);
    // Window 60 completes the hour and trains; window 61 is the first one scored.
    await feed(n, scores, win, 60, 62);
    assert.equal(scores[60].payload.status, 'learning');
    assert.equal(scores[61].payload.status, 'ready');
    assert.deepEqual(scores[61].payload.model, { id: 'P-1/running', version: 1 });
    assert.equal(scores[61].topic, 'pdm/plant1/utilities/cooling/P-1/score');
    await settle(1100);
    assert.match(String(n.status.lastCall.args[0].text), /pdm-anomaly\.status\.ready/);
  });

  it('once ready: normal windows pass, a 6σ excursion of one signal and a 3.5σ shift of all signals are both flagged and explained', async () => {
    const n = await loaded();
    const scores = collect('scores');
    const win = makeWindows();
    await feed(n, scores, win, 0, 121);
    await feed(n, scores, win, 121, 321);
    const normal = scores.slice(121);
    assert.ok(normal.every((m) => m.payload.status === 'ready'));
    const falseAlarms = normal.filter((m) => m.payload.anomalous).length;
    assert.ok(falseAlarms <= 2, `${falseAlarms} of 200 normal windows flagged`);
    checkScores(normal);

    await feed(n, scores, win, 321, 322, { shift: { vibration_velocity: 6 }, exact: true });
    const single = last(scores).payload;
    assert.equal(single.anomalous, true, `6σ vibration: score ${single.score} ${JSON.stringify(single.detectors)}`);
    assert.equal(single.topSignal, 'vibration_velocity');
    assert.ok(single.contributions.vibration_velocity > 0.5, JSON.stringify(single.contributions));
    assert.equal(single.learned, false, 'an anomalous window is not learned');

    await feed(n, scores, win, 322, 330);
    const shift = { current: 3.5, flow: 3.5, pressure: 3.5, vibration_velocity: 3.5 };
    await feed(n, scores, win, 330, 331, { shift, exact: true });
    const joint = last(scores).payload;
    assert.equal(joint.anomalous, true, `3.5σ shift of all signals: score ${joint.score} ${JSON.stringify(joint.detectors)}`);
    // No single signal is far out: it is the multivariate statistic that sees it.
    assert.ok(joint.detectors.robustZ < 0.5, `robust z alone would have flagged it: ${JSON.stringify(joint.detectors)}`);
    assert.ok(joint.detectors.t2 >= 0.5 || joint.detectors.iforest >= 0.5, JSON.stringify(joint.detectors));
    for (const s of NAMES) assert.ok(joint.contributions[s] > 0.1, `contribution of ${s}: ${JSON.stringify(joint.contributions)}`);
    checkScores(scores);
  });

  it('masks startup/shutdown windows and the off state: sent with masked set, score 0, never anomalous, not learned', async () => {
    const n = await loaded({ warmupWindows: 60, warmupHours: 0.5 });
    const scores = collect('scores');
    const win = makeWindows();
    await feed(n, scores, win, 0, 70);
    const samples = () => n.scorer.status('P-1').find((l: Msg) => l.state === 'running').samples;
    const before = samples();
    await feed(n, scores, win, 70, 71, { transient: true, shift: { vibration_velocity: 50 } });
    await feed(n, scores, win, 71, 72, { state: 'startup', shift: { current: 200 } });
    await feed(n, scores, win, 72, 73, { state: 'shutdown', shift: { current: -60 } });
    await feed(n, scores, win, 73, 74, { state: 'off', shift: { current: -80 } });
    const masked = scores.slice(70).map((m) => m.payload);
    checkScores(scores.slice(70));
    assert.deepEqual(masked.map((p) => p.masked), ['transient', 'transient', 'transient', 'off']);
    for (const p of masked) {
      assert.equal(p.anomalous, false);
      assert.equal(p.score, 0);
      assert.equal(p.status, 'ready');
    }
    assert.equal(samples(), before, 'a masked window joined the baseline');
  });

  it('protected learning: labelled-fault windows leave the baseline and later ones inside the label never join it', async () => {
    const n = await loaded({ warmupWindows: 60, warmupHours: 0.5 });
    const scores = collect('scores');
    const answers = collect('models');
    const win = makeWindows();
    await feed(n, scores, win, 0, 80);
    const samples = () => n.scorer.status('P-1').find((l: Msg) => l.state === 'running').samples;
    const before = samples();
    // Label windows 70–79 (already buffered) and 80–89 (still to come) a true fault.
    n.receive({ command: 'label', assetId: 'P-1', payload: { kind: 'true_fault', window: { start: T0 + 70 * MIN, end: T0 + 90 * MIN } } });
    await until(() => answers.length === 1, 'label answer');
    assert.equal(answers[0].payload.removed, 10);
    assert.equal(answers[0].topic, 'pdm/anomaly/label');
    assert.equal(answers[0].command, 'label');
    assert.equal(samples(), before - 10);
    await feed(n, scores, win, 80, 90);
    for (const m of scores.slice(80)) {
      assert.equal(m.payload.learned, false, `window in the fault label was learned: ${JSON.stringify(m.payload)}`);
      assert.equal(m.payload.anomalous, false, 'the windows look normal: the label alone keeps them out');
    }
    assert.equal(samples(), before - 10);
    await feed(n, scores, win, 90, 91);
    assert.equal(last(scores).payload.learned, true, 'a normal window after the label is learned again');
    // A label by timestamp covers the window that contains it; a false alarm is acknowledged.
    n.receive({ command: 'label', assetId: 'P-1', payload: { kind: 'true_fault', ts: T0 + 90 * MIN + 30_000 } });
    n.receive({ command: 'label', assetId: 'P-1', payload: { kind: 'false_alarm', ts: T0 + 85 * MIN } });
    await until(() => answers.length === 3, 'two more label answers');
    assert.equal(answers[1].payload.removed, 1);
    assert.deepEqual(answers[1].payload.window, { start: T0 + 90 * MIN + 30_000, end: T0 + 91 * MIN + 30_000 });
    assert.equal(answers[2].payload.kind, 'false_alarm');
    assert.equal(answers[2].payload.removed, 0);
  });

  it('rebaseline (command, or a part_replaced event from the twin) forgets the models: learning starts again', async () => {
    const n = await loaded({ warmupWindows: 30, warmupHours: 0.25 });
    const scores = collect('scores');
    const answers = collect('models');
    const win = makeWindows();
    await feed(n, scores, win, 0, 35);
    await feed(n, scores, win, 35, 36, { state: 'idle' });
    assert.equal(last(scores).payload.status, 'learning', 'idle has a learner of its own');
    n.receive({ command: 'rebaseline', assetId: 'P-1' });
    await until(() => answers.length === 1, 'rebaseline answer');
    assert.deepEqual(answers[0].payload, { command: 'rebaseline', assetId: 'P-1', key: 'P-1', learners: 2 });
    await feed(n, scores, win, 36, 37);
    assert.equal(last(scores).payload.status, 'learning');
    assert.equal(last(scores).payload.warmup.samples, 1);
    // Learn again, then a part replaced on the twin.
    await feed(n, scores, win, 37, 70);
    assert.equal(last(scores).payload.status, 'ready');
    n.receive({ topic: 'pdm/plant1/utilities/cooling/P-1/event', payload: { assetId: 'P-1', kind: 'maintenance', type: 'part_replaced', ts: T0 + 70 * MIN, note: 'impeller' } });
    n.receive({ payload: { assetId: 'P-1', kind: 'state', from: 'running', to: 'idle', ts: T0 } });
    await feed(n, scores, win, 70, 71);
    assert.equal(last(scores).payload.status, 'learning');
    // Only running learned since; a rebaseline of one state; an unknown asset is refused.
    n.receive({ command: 'rebaseline', assetId: 'P-1', payload: { state: 'running' } });
    await until(() => answers.length === 2, 'second rebaseline answer');
    assert.equal(last(answers).payload.learners, 1);
    const rejects = collect('rej');
    n.receive({ command: 'rebaseline', assetId: 'X-9' });
    await until(() => rejects.length === 1, 'reject');
    assert.equal(rejects[0].reject.code, 'unknown_asset');
  });

  it('export → import into a second node, which never saw training data, gives identical scores for the same windows', async () => {
    const a = await loaded({ publish: true, features: 'mean,std' }, { features: 'mean,std' });
    const b = helper.getNode(ids.b);
    const scoresA = collect('scores');
    const models = collect('models');
    const scoresB = collect('scoresB');
    const answersB = collect('modelsB');
    const win = makeWindows(3);
    await feed(a, scoresA, win, 0, 121);
    await feed(a, scoresA, win, 121, 160, { state: 'idle' });
    await until(() => models.length === 1, 'the model published after training');
    assert.equal(models[0].topic, 'pdm/plant1/utilities/cooling/P-1/model');
    assert.equal(models[0].retain, true);
    assert.equal(models[0].payload.format, 'pdm-anomaly-bundle');

    a.receive({ command: 'export', assetId: 'P-1' });
    await until(() => models.length === 2, 'export');
    const exported = models[1];
    assert.equal(exported.topic, 'pdm/plant1/utilities/cooling/P-1/model');
    assert.equal(exported.retain, true);
    assert.deepEqual(exported.payload.models.map((m: Msg) => m.state).sort(), ['running']);
    // Through JSON, as it would travel over MQTT or HTTP.
    b.receive({ command: 'import', payload: JSON.stringify(exported.payload) });
    await until(() => answersB.length === 1, 'import answer');
    assert.deepEqual(answersB[0].payload.imported, [{ key: 'P-1', state: 'running', id: 'P-1/running', version: 1 }]);

    // The same windows — normal, faulty, masked, and with a missing signal — to both.
    const test: FeatureWindow[] = [];
    for (let i = 200; i < 260; i++) {
      const shift: Record<string, number> = i % 10 === 5 ? { vibration_velocity: 7 } : i % 10 === 8 ? { current: 4, flow: 4, pressure: 4, vibration_velocity: 4 } : {};
      const w = win(i, { shift, transient: i === 230 });
      if (i === 240) delete w.features.flow;
      test.push(w);
    }
    const from = scoresA.length;
    for (const w of test) {
      a.receive({ topic: 'pdm/plant1/utilities/cooling/P-1/features', payload: w });
      b.receive({ topic: 'pdm/plant1/utilities/cooling/P-1/features', payload: JSON.parse(JSON.stringify(w)) });
    }
    await until(() => scoresA.length === from + test.length && scoresB.length === test.length, 'scores of both');
    const got = scoresA.slice(from).map((m) => m.payload);
    const want = scoresB.map((m) => m.payload);
    const strip = ({ learned: _l, ...rest }: Msg) => rest;
    assert.deepEqual(want.map(strip), got.map(strip));
    assert.equal(scoresB[0].topic, 'pdm/plant1/utilities/cooling/P-1/score');
    const flagged = got.filter((p) => p.anomalous).length;
    assert.ok(flagged >= 10 && flagged <= 16, `${flagged} anomalous of 60 (12 faulty windows)`);
    assert.ok(got.every((p) => p.status === 'ready'));
    checkScores(scoresB);
  });

  it('refuses a model of a newer, incompatible format with a catalogued reason — reject output and Catch — and keeps learning', async () => {
    const a = await loaded({ warmupWindows: 30, warmupHours: 0.25 }, { warmupWindows: 30, warmupHours: 0.25 });
    const b = helper.getNode(ids.b);
    const scoresA = collect('scores');
    const models = collect('models');
    const rejectsB = collect('rejB');
    const caught = collect('caught');
    const scoresB = collect('scoresB');
    const win = makeWindows();
    await feed(a, scoresA, win, 0, 32);
    a.receive({ command: 'export' });
    await until(() => models.length === 1, 'export');
    const bundle = models[0].payload;
    b.receive({ command: 'import', payload: { ...bundle, formatVersion: 99 } });
    b.receive({ command: 'import', payload: { ...bundle, models: [{ ...bundle.models[0], formatVersion: 2 }] } });
    b.receive({ payload: { ...bundle, formatVersion: 2 } }); // arriving as a retained model (no command)
    b.receive({ command: 'import', payload: { ...bundle, models: [{ ...bundle.models[0], scale: [0, 1] }] } });
    b.receive({ command: 'import', payload: '{"format": "pdm-anomaly-bundle",' });
    b.receive({ command: 'import', payload: { ...bundle, key: 'class:pump' } });
    b.receive({ command: 'import', payload: { ...bundle, windowStats: ['mean', 'std'] } });
    await until(() => rejectsB.length === 7 && caught.length === 7, 'seven refusals');
    assert.deepEqual(rejectsB.map((m) => m.reject.code), ['model_version', 'model_version', 'model_version', 'model_invalid', 'model_format', 'model_scope', 'model_features']);
    for (const r of rejectsB) {
      assert.equal(r.reject.count, 1);
      assert.match(r.reject.reason, /^pdm-anomaly\.reject\.model_/);
    }
    assert.ok(rejectsB[2].payload.formatVersion === 2, 'the reject carries the original message');
    assert.match(String(caught[0].error.message), /pdm-anomaly\.reject\.model_version/);
    // B still learns by itself.
    b.receive({ payload: win(40) });
    await until(() => scoresB.length === 1, 'a score from B');
    assert.equal(scoresB[0].payload.status, 'learning');
  });

  it('bad input goes to the reject output and to Catch, with the original message; good windows of the same message are scored', async () => {
    const n = await loaded();
    const scores = collect('scores');
    const rejects = collect('rej');
    const caught = collect('caught');
    const win = makeWindows();
    const good = win(0);
    n.receive({ payload: { assetId: 'P-1', value: 3 }, topic: 'x' });
    n.receive({ payload: { ...win(1), end: T0 } });
    n.receive({ payload: { ...win(2), features: { current: { n: 1, mean: NaN, rms: 1, min: 1, max: 1, std: 0, slope: 0 } } } });
    n.receive({ payload: { ...win(3), features: { current: { n: 1, rms: 1 } } } });
    n.receive({ payload: [good, 'junk', { ...win(4), assetId: 'a/b' }, win(5)] });
    n.receive({ payload: [] });
    n.receive({ command: 'explode' });
    n.receive({ command: 'label', assetId: 'P-1', payload: { kind: 'maybe', ts: T0 } });
    n.receive({ command: 'export', assetId: 'P-1' });
    n.receive({ command: 'retrain' });
    await until(() => rejects.length === 10 && caught.length === 10, 'ten rejects');
    assert.deepEqual(rejects.map((m) => m.reject.code), ['not_a_window', 'window_order', 'not_a_window', 'no_features', 'not_a_window', 'empty', 'unknown_command', 'invalid_label', 'no_model', 'no_asset']);
    assert.deepEqual(rejects[0].payload, { assetId: 'P-1', value: 3 });
    assert.equal(rejects[0].topic, 'x');
    const mixed = rejects[4];
    assert.equal(mixed.reject.count, 2);
    assert.deepEqual(mixed.reject.items.map((i: Msg) => i.index), [1, 2]);
    assert.equal(mixed.payload.length, 4, 'the original array comes back');
    assert.equal(scores.length, 2, 'the two good windows of the mixed message are scored');
    assert.deepEqual(scores.map((m) => m.payload.window.start), [good.start, T0 + 5 * MIN]);
    for (const c of caught) assert.match(String(c.error.message), /^(Error: )?pdm-anomaly\.(errors|reject)\./);
  });

  it('answers status and export-all; keeps learners across a redeploy; new features start afresh, a new threshold retrains', async () => {
    const n = await loaded({ warmupWindows: 30, warmupHours: 0.25 });
    const scores = collect('scores');
    const answers = collect('models');
    const win = makeWindows();
    await feed(n, scores, win, 0, 40);
    await feed(n, scores, win, 0, 40, { asset: 'P.101' });
    n.receive({ command: 'status' });
    await until(() => answers.length === 1, 'status');
    const st = answers[0].payload;
    assert.deepEqual(st.models.map((m: Msg) => m.key).sort(), ['P-1', 'P.101']);
    assert.ok(st.models.every((m: Msg) => m.learners[0].status === 'ready'));
    assert.equal(st.counts.scored + st.counts.learning, 80);
    n.receive({ command: 'export', assetId: 'all' });
    await until(() => answers.length === 3, 'two models');
    assert.deepEqual(answers.slice(1).map((m) => m.topic).sort(), ['pdm/plant1/utilities/cooling/P-1/model', 'pdm/plant1/utilities/cooling/P.101/model']);

    // Redeploy with a new name: the same learners and models, no new training.
    await helper.setFlows(flow({ warmupWindows: 30, warmupHours: 0.25, name: 'renamed' }));
    await settle(50);
    let scores2 = collect('scores');
    const n2 = helper.getNode(ids.a);
    await feed(n2, scores2, win, 40, 41, { asset: 'P.101' });
    assert.deepEqual(scores2[0].payload.model, { id: 'P.101/running', version: 1 });

    // A new threshold: the saved models are retrained on their buffers (version 2) with it.
    await helper.setFlows(flow({ warmupWindows: 30, warmupHours: 0.25, threshold: 0.6 }));
    await settle(50);
    scores2 = collect('scores');
    await feed(helper.getNode(ids.a), scores2, win, 41, 42, { asset: 'P.101' });
    assert.deepEqual(scores2[0].payload.model, { id: 'P.101/running', version: 2 });
    assert.equal(scores2[0].payload.threshold, 0.6);

    // Other features: the saved models no longer fit, learning starts afresh.
    await helper.setFlows(flow({ warmupWindows: 30, warmupHours: 0.25, threshold: 0.6, features: 'mean,slope' }));
    await settle(50);
    scores2 = collect('scores');
    await feed(helper.getNode(ids.a), scores2, win, 42, 43, { asset: 'P.101' });
    assert.equal(scores2[0].payload.status, 'learning');
    assert.ok(helper.getNode(ids.a).warn.called, 'dropping saved models is reported');
  });

  it('persists each model key under an escaped context key (ids with dots, spaces, brackets)', async () => {
    const n = await loaded({ warmupWindows: 5, warmupHours: 0, persistSec: 0.2 });
    const scores = collect('scores');
    const win = makeWindows();
    const assets = ['P.101', 'unit 7', 'A[1]', 'M-1'];
    for (const asset of assets) await feed(n, scores, win, 0, 8, { asset });
    await settle(400);
    const context = n.context();
    const keys = (context.keys() as string[]).filter((k) => k.startsWith('anomaly:'));
    assert.equal(keys.length, 4);
    const saved = keys.map((k) => context.get(k)).map((v: Msg) => v.scorer.learners[0].key).sort();
    assert.deepEqual(saved, [...assets].sort());
    for (const k of keys) assert.doesNotMatch(k, /[.[\] ]/);
  });

  it('redeploying 50 times leaves no timers behind', async () => {
    const n = await loaded({ warmupWindows: 5, warmupHours: 0 });
    const scores = collect('scores');
    await feed(n, scores, makeWindows(), 0, 3);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ warmupWindows: 5, warmupHours: 0, name: `anomaly${i}`, persistSec: 1 + i }));
      helper.getNode(ids.a).receive({ payload: makeWindows(i)(10 + i) });
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle(1200);
    assert.ok(timers() <= baseline - 1, `timers: baseline ${baseline} (incl. the save timer), now ${timers()}`);
  });
});
