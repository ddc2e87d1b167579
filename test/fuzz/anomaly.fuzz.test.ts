/**
 * Property-based fuzzing of pdm-anomaly in a real runtime (node-red-node-test-helper): ≥ 10,000
 * generated messages — window traces of several assets through learning, retraining and faults
 * (single windows and batches, all operating states, transient windows, missing signals, wild
 * excursions), valid windows of arbitrary legal asset ids with extreme values, malformed windows,
 * mixed and empty arrays, commands with junk, model bundles (valid, newer, damaged), twin events,
 * plain junk.
 *
 * Properties:
 *  - nothing crashes: every done(err) carries a catalogued reason, no internal exception;
 *  - done() is called exactly once per message: a Complete node (done()) and a Catch node
 *    (done(err)) scoped to the node see every message exactly once between them;
 *  - every window is accounted for: scored, masked or rejected — one score message per window
 *    not rejected, and scores + rejected items = windows in; a window valid by construction is
 *    never rejected; a message with a reject goes to done(err) and vice versa;
 *  - every command is answered on output 2 or rejected once;
 *  - every score keeps the Score contract: score ∈ [0, 1], masked and learning scores are 0 and
 *    never anomalous, a ready score names its model;
 *  - the learners survive their persisted form (JSON round trip → restore → same status and the
 *    same scores for the same next window), and each is saved under its own context key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { AnomalyScorer, observationFromWindow } from '../../nodes/lib/anomaly';
import { scoreProblem } from '../../nodes/lib/contracts/score';
import { parseSettings } from '../../nodes/pdm-anomaly/settings';
import type { FeatureWindow } from '../../nodes/lib/twin/feature-window';

const anomalyNode = nodeModule('pdm-anomaly');
const RUNS = 10_000;
/** PDM_FUZZ_SEED=<n> explores another sample; the default keeps runs reproducible. */
const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261203;
const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 3, 0, 0, 0);
type Msg = Record<string, any>;

const CONFIG = { name: '', root: 'pdm', method: 'combined', scope: 'asset', assetClass: 'pump', features: 'mean,std', warmupWindows: 20, warmupHours: 0.2, threshold: 0.5, retrainHours: 1, seed: 1, publish: true, store: '', persistSec: 0.5 };
const TRACE_ASSETS = ['P-1', 'M-1', 'F-1', 'C-1'];
const OTHER_IDS = ['X-9', 'unit 7', 'P.101', 'Ω-3', 'A[1]', '__proto__', 'constructor'];
const SIGNALS: Record<string, [number, number]> = { current: [30, 0.4], flow: [110, 1.5], pressure: [4, 0.05], vibration_velocity: [2, 0.08], bearing_temperature: [55, 0.3] };
const SIGNAL_NAMES = Object.keys(SIGNALS);
const STATES = ['unknown', 'off', 'idle', 'startup', 'running', 'overload', 'shutdown'] as const;
const WINDOW_FIELDS = ['assetId', 'start', 'end', 'state', 'features', 'transient', 'stateMs'];
const STAT_FIELDS = ['n', 'mean', 'rms', 'min', 'max', 'std', 'slope'];

// ---------------------------------------------------------------------------------------------
// A valid model bundle (asset B-1) made by the core with the node's own settings.

function features(means: Record<string, number>): FeatureWindow['features'] {
  const f: FeatureWindow['features'] = {};
  for (const [s, mean] of Object.entries(means)) f[s] = { n: 60, mean, rms: Math.abs(mean), min: mean, max: mean, std: SIGNALS[s] ? SIGNALS[s][1] : 1, slope: 0 };
  return f;
}
function bundleFor(assetId: string): Msg {
  const settings = parseSettings(CONFIG);
  const scorer = new AnomalyScorer({}, settings.options);
  for (let i = 0; i < 40; i++) {
    const means = Object.fromEntries(SIGNAL_NAMES.map((s, j) => [s, SIGNALS[s][0] + SIGNALS[s][1] * Math.sin(i * (j + 1))]));
    scorer.score(observationFromWindow({ assetId, start: T0 + i * MIN, end: T0 + (i + 1) * MIN, state: 'running', stateMs: {}, transient: false, features: features(means) }, settings.stats));
  }
  return { ...scorer.exportModels(assetId)!, windowStats: settings.stats };
}
const BUNDLE = bundleFor('B-1');

// ---------------------------------------------------------------------------------------------
// Generators

/** A stretch of windows of one traced asset: a state held for a few windows, sometimes a fault. */
const traceStep = fc.record({
  kind: fc.constant('trace' as const),
  asset: fc.constantFrom(...TRACE_ASSETS),
  state: fc.constantFrom<(typeof STATES)[number]>('running', 'running', 'running', 'running', 'idle', 'overload', 'off', 'startup', 'shutdown', 'unknown'),
  count: fc.integer({ min: 1, max: 6 }),
  transient: fc.integer({ min: 0, max: 14 }).map((n) => n === 0),
  fault: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ signal: fc.constantFrom(...SIGNAL_NAMES), sigma: fc.double({ min: -12, max: 12, noNaN: true }) }) }),
  drop: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...SIGNAL_NAMES) }),
  asArray: fc.boolean(),
  noise: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 30, maxLength: 30 }),
});

/** Ids of the arbitrary windows: not the traced assets, whose clocks they would push ahead (later trace windows would be late). */
const legalId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...OTHER_IDS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,15}$/) },
);
const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.oneof(fc.double({ min: -1e15, max: 1e15, noNaN: true }), fc.constantFrom(-0, Number.MIN_VALUE, 1e15, -1e15, 0)) },
);
const epoch = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: T0, max: T0 + 30 * 86_400_000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 8.64e15) });
/** A window that is valid by construction: legal id, start ≤ end, known state, legal signal names, finite stats. */
const validWindow = fc
  .record({
    assetId: legalId,
    start: epoch,
    length: fc.integer({ min: 0, max: 3_600_000 }),
    state: fc.constantFrom(...STATES),
    transient: fc.boolean(),
    signals: fc.uniqueArray(fc.oneof(fc.constantFrom(...SIGNAL_NAMES), fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/)), { minLength: 1, maxLength: 6 }),
    values: fc.array(value, { minLength: 6, maxLength: 6 }),
  })
  .map((w) => ({
    assetId: w.assetId,
    start: w.start,
    end: Math.min(w.start + w.length, 8.64e15),
    state: w.state,
    stateMs: { [w.state]: w.length },
    transient: w.transient,
    features: Object.fromEntries(w.signals.map((s, i) => [s, { n: 10, mean: w.values[i], rms: Math.abs(w.values[i]), min: w.values[i], max: w.values[i], std: 0, slope: 0 }])),
  }));

/** A valid window with one thing changed: mostly invalid (but a change may happen to be legal). */
const mutated = fc
  .tuple(
    validWindow,
    fc.oneof(
      fc.record({ drop: fc.constantFrom(...WINDOW_FIELDS) }),
      fc.record({ set: fc.constantFrom(...WINDOW_FIELDS), to: fc.oneof(fc.constantFrom(NaN, Infinity, -1, '', 'a/b', '#', 'RUNNING', null, '12', true, [], {}), fc.anything()) }),
      fc.record({ stat: fc.constantFrom(...STAT_FIELDS), to: fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 1e300, '1', null, undefined), fc.anything()) }),
      fc.record({ signal: fc.constantFrom('', '1abc', 'a:b', 'a/b', ' x', 'x'.repeat(80)) }),
    ),
  )
  .map(([w, m]) => {
    const out: Msg = { ...w, features: { ...w.features } };
    if ('drop' in m) delete out[m.drop];
    else if ('set' in m) out[m.set] = m.to;
    else if ('stat' in m) {
      const first = Object.keys(out.features)[0];
      out.features[first] = { ...out.features[first], [m.stat]: m.to };
    } else out.features[m.signal] = { n: 1, mean: 1, rms: 1, min: 1, max: 1, std: 0, slope: 0 };
    return out;
  });

const anyItem = fc.oneof({ weight: 3, arbitrary: validWindow }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.anything() });

const commandMsg = fc.record(
  {
    command: fc.oneof(
      { weight: 60, arbitrary: fc.constantFrom('status', 'label', 'label', 'export', 'export', 'import', 'retrain', 'rebaseline') },
      { weight: 10, arbitrary: fc.string({ maxLength: 10 }) },
    ),
    assetId: fc.oneof(fc.constantFrom(...TRACE_ASSETS, ...OTHER_IDS, 'all', 'B-1'), fc.anything()),
    payload: fc.oneof(
      fc.record(
        {
          kind: fc.oneof(fc.constantFrom('true_fault', 'false_alarm', 'label'), fc.anything()),
          type: fc.oneof(fc.constantFrom('true_fault', 'false_alarm'), fc.anything()),
          window: fc.oneof(fc.record({ start: epoch, end: epoch }), fc.anything()),
          ts: fc.oneof(epoch, fc.anything()),
          state: fc.oneof(fc.constantFrom('running', 'idle', 'nope'), fc.anything()),
          all: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.constant(BUNDLE),
      fc.constant(JSON.stringify(BUNDLE)),
      fc.constant({ ...BUNDLE, formatVersion: 7 }),
      fc.constant({ ...BUNDLE, models: [{ ...BUNDLE.models[0], formatVersion: 3 }] }),
      fc.constant({ ...BUNDLE, models: [{ ...BUNDLE.models[0], iforest: { junk: 1 } }] }),
      fc.anything(),
    ),
    rare: fc.integer({ min: 0, max: 19 }),
  },
  { requiredKeys: ['command', 'rare'] },
);

const message = fc.oneof(
  { weight: 14, arbitrary: traceStep },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('valid' as const), payload: validWindow, asArray: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('item' as const), payload: anyItem }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('array' as const), payload: fc.array(anyItem, { maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('command' as const), msg: commandMsg }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      payload: fc.record({ assetId: fc.constantFrom(...TRACE_ASSETS, 'X-9'), kind: fc.constantFrom('state', 'maintenance', 'label'), type: fc.constantFrom('part_replaced', 'inspection', 'true_fault'), ts: epoch }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('model' as const), payload: fc.constantFrom(BUNDLE, { ...BUNDLE, formatVersion: 9 }, { ...BUNDLE, key: 'class:pump' }) }) },
  // Junk: anything as payload, and msg.command that is not a string (so the message is a window).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), payload: fc.anything(), command: fc.oneof(fc.constant(undefined), fc.integer(), fc.object()) }) },
);
type Generated = typeof message extends fc.Arbitrary<infer T> ? T : never;
type Kind = 'windows' | 'command' | 'other';

/** Turns generated steps into messages; trace steps advance a per-asset clock of 60 s windows. */
function toMessages(samples: Generated[]) {
  const clock: Record<string, number> = Object.fromEntries(TRACE_ASSETS.map((a) => [a, T0]));
  const msgs: Msg[] = [];
  const kinds: Kind[] = [];
  /** Per message: how many windows it carries (for window messages) and the indexes valid by construction (-1 = the payload itself). */
  const windowsIn: number[] = [];
  const validItems: Array<Set<number>> = [];
  /** Per message and item: the latest end of any earlier window of the same asset (a window not after it may be refused as late). */
  const lateAfter: Array<Map<number, number>> = [];
  const newest = new Map<string, number>();
  samples.forEach((s, seq) => {
    const valid = new Set<number>();
    const id = `fz${seq}`;
    let kind: Kind = 'windows';
    let msg: Msg;
    if (s.kind === 'trace') {
      const items: FeatureWindow[] = [];
      for (let i = 0; i < s.count; i++) {
        const start = clock[s.asset];
        clock[s.asset] += MIN;
        const means: Record<string, number> = {};
        SIGNAL_NAMES.forEach((sig, j) => {
          if (sig === s.drop) return;
          const [level, sigma] = SIGNALS[sig];
          const load = s.state === 'idle' ? 0.4 : s.state === 'overload' ? 1.3 : s.state === 'off' ? 0 : 1;
          const shift = s.fault && s.fault.signal === sig ? s.fault.sigma : 0;
          means[sig] = level * load + sigma * (s.noise[(i * 5 + j) % 30] + shift);
        });
        items.push({ assetId: s.asset, start, end: start + MIN, state: s.state, stateMs: { [s.state]: MIN }, transient: s.transient, features: features(means) });
      }
      const single = items.length === 1 && !s.asArray;
      if (single) valid.add(-1);
      else items.forEach((_, i) => valid.add(i));
      msg = { payload: single ? items[0] : items, topic: single ? `pdm/site/area/line/${s.asset}/features` : 'pdm/batch' };
    } else if (s.kind === 'valid') {
      if (s.asArray) valid.add(0);
      else valid.add(-1);
      msg = { payload: s.asArray ? [s.payload] : s.payload };
    } else if (s.kind === 'item' || s.kind === 'array') {
      msg = { payload: s.payload };
    } else if (s.kind === 'command') {
      kind = 'command';
      const { rare, ...m } = s.msg as Msg;
      // rebaseline and retrain are rare: they would keep the traced assets from ever being ready.
      if ((m.command === 'rebaseline' || m.command === 'retrain') && rare !== 0) m.command = 'status';
      msg = m;
    } else if (s.kind === 'event' || s.kind === 'model') {
      kind = 'other';
      msg = { payload: s.payload };
    } else {
      msg = { payload: s.payload };
      if (s.command !== undefined) msg.command = s.command;
      const p = s.payload as Msg;
      const looksLikeModel = !!p && typeof p === 'object' && !Array.isArray(p) && (p.format === 'pdm-anomaly-bundle' || p.format === 'pdm-anomaly-model');
      const looksLikeEvent = !!p && typeof p === 'object' && !Array.isArray(p) && ['state', 'maintenance', 'label'].includes(p.kind) && typeof p.assetId === 'string' && !('features' in p);
      if (looksLikeModel || looksLikeEvent) kind = 'other';
    }
    const before = new Map<number, number>();
    if (kind === 'windows') {
      const items: unknown[] = Array.isArray(msg.payload) ? msg.payload : [msg.payload];
      items.forEach((item, i) => {
        const w = item as Msg;
        if (!w || typeof w !== 'object' || typeof w.assetId !== 'string' || typeof w.end !== 'number') return;
        const prev = newest.get(w.assetId);
        if (prev !== undefined) before.set(Array.isArray(msg.payload) ? i : -1, prev);
        if (prev === undefined || w.end > prev) newest.set(w.assetId, w.end);
      });
    }
    lateAfter.push(before);
    msg._msgid = id;
    msg._seq = seq;
    msgs.push(msg);
    kinds.push(kind);
    windowsIn.push(kind === 'windows' ? (Array.isArray(msg.payload) ? Math.max(1, msg.payload.length) : 1) : 0);
    validItems.push(valid);
  });
  return { msgs, kinds, windowsIn, validItems, lateAfter };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pdm-anomaly fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  let node: any;

  it(`accounts for every window of ${RUNS} generated messages, calls done() once each, never crashes`, { timeout: 300_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(anomalyNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      { id: 'a1', ...at, type: 'pdm-anomaly', ...CONFIG, wires: [['out1'], ['out2'], ['rej']] },
      { id: 'out1', ...at, type: 'helper', wires: [] },
      { id: 'out2', ...at, type: 'helper', wires: [] },
      { id: 'rej', ...at, type: 'helper', wires: [] },
      { id: 'complete', ...at, type: 'complete', scope: ['a1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catch', ...at, type: 'catch', scope: ['a1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    node = helper.getNode('a1');

    const samples = fc.sample(message, { numRuns: RUNS, seed: SEED });
    const { msgs, kinds, windowsIn, validItems, lateAfter } = toMessages(samples);
    const seqOf = (m: Msg) => (typeof m._msgid === 'string' && m._msgid.startsWith('fz') ? Number(m._msgid.slice(2)) : -1);

    const doneCount = new Map<number, number>();
    const scoresOf = new Map<number, number>();
    const answers = new Map<number, number>();
    const rejectMsgs = new Map<number, Msg[]>();
    const caughtSeqs = new Set<number>();
    const badErrors: string[] = [];
    const badScores: string[] = [];
    const badRejects: string[] = [];
    const tally = { ready: 0, learning: 0, masked: 0, anomalous: 0, models: 0 };
    const bump = (map: Map<number, number>, seq: number) => map.set(seq, (map.get(seq) ?? 0) + 1);

    helper.getNode('completed').on('input', (m: Msg) => bump(doneCount, seqOf(m)));
    helper.getNode('caught').on('input', (m: Msg) => {
      bump(doneCount, seqOf(m));
      caughtSeqs.add(seqOf(m));
      const text = String(m.error?.message ?? '');
      // The helper's RED._ returns the catalogue key: anything else is an exception from inside.
      if (!/^(Error: )?pdm-anomaly\.(errors|reject)\.[a-z_-]+$/.test(text)) badErrors.push(`#${seqOf(m)}: ${text}`);
    });
    helper.getNode('out1').on('input', (m: Msg) => {
      bump(scoresOf, seqOf(m));
      const p = m.payload;
      const problem = scoreProblem(p);
      const why =
        problem ??
        (p.masked && (p.score !== 0 || p.anomalous) ? 'masked but scored' : undefined) ??
        (p.status === 'learning' && (p.score !== 0 || p.anomalous || p.model !== null) ? 'learning but scored' : undefined) ??
        (p.status === 'ready' && !p.model ? 'ready without a model' : undefined) ??
        (typeof m.topic === 'string' && m.topic.endsWith('/score') ? undefined : `topic ${m.topic}`);
      if (why && badScores.length < 5) badScores.push(`#${seqOf(m)} ${why}: ${JSON.stringify(p).slice(0, 300)}`);
      if (p.masked) tally.masked++;
      else if (p.status === 'learning') tally.learning++;
      else tally.ready++;
      if (p.anomalous) tally.anomalous++;
    });
    helper.getNode('out2').on('input', (m: Msg) => {
      if (typeof m.command === 'string') bump(answers, seqOf(m));
      else if (m.payload?.format === 'pdm-anomaly-bundle') tally.models++;
    });
    helper.getNode('rej').on('input', (m: Msg) => {
      const r = m.reject;
      const shaped = r && typeof r.code === 'string' && typeof r.reason === 'string' && r.reason.length > 0 && Array.isArray(r.items);
      if (!shaped || !(r.count === r.items.length || (r.items.length === 0 && r.count === 1))) badRejects.push(JSON.stringify(r).slice(0, 200));
      const list = rejectMsgs.get(seqOf(m)) ?? [];
      list.push(m);
      rejectMsgs.set(seqOf(m), list);
    });

    // The first messages go in at once, while the node may still be restoring (queued, not lost).
    for (let i = 0; i < msgs.length; i++) {
      node.receive(msgs[i]);
      if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 60_000;
    while (doneCount.size < RUNS && Date.now() < deadline) await settle(20);
    await settle(100);

    assert.equal(doneCount.size, RUNS, `${RUNS - doneCount.size} message(s) never completed`);
    assert.deepEqual([...doneCount].filter(([, n]) => n !== 1), [], 'done() called more than once');
    assert.deepEqual(badErrors.slice(0, 5), [], 'done(err) with an internal error');
    assert.deepEqual(badRejects.slice(0, 3), [], 'rejects without code, reason or matching count');
    assert.deepEqual(badScores, [], 'scores that break the contract');

    let windows = 0;
    let rejected = 0;
    let scored = 0;
    let late = 0;
    for (let seq = 0; seq < RUNS; seq++) {
      const rejects = rejectMsgs.get(seq) ?? [];
      assert.ok(rejects.length <= 1, `message #${seq}: ${rejects.length} reject messages`);
      assert.equal(caughtSeqs.has(seq), rejects.length === 1, `message #${seq}: rejected ⇔ done(err)`);
      if (kinds[seq] === 'command') {
        const answered = answers.get(seq) ?? 0;
        assert.ok((answered > 0) !== (rejects.length === 1), `command #${seq} ${JSON.stringify(msgs[seq].command)}: ${answered} answer(s), ${rejects.length} reject(s)`);
        continue;
      }
      if (kinds[seq] === 'other') {
        assert.equal(scoresOf.get(seq) ?? 0, 0, `model/event message #${seq} was scored`);
        continue;
      }
      const n = windowsIn[seq];
      const r = rejects.length ? rejects[0].reject.count : 0;
      const s = scoresOf.get(seq) ?? 0;
      windows += n;
      rejected += r;
      scored += s;
      assert.equal(s + r, n, `message #${seq}: ${n} window(s) in, ${s} scored, ${r} rejected: ${String(JSON.stringify(msgs[seq].payload)).slice(0, 300)}`);
      for (const item of rejects[0]?.reject.items ?? []) {
        const index = item.index === undefined ? -1 : item.index;
        if (item.code === 'late_window') {
          // Late only if an earlier window of the asset ended at or after it.
          const prev = lateAfter[seq].get(index);
          assert.ok(prev !== undefined && item.item.end <= prev, `message #${seq} item ${index} refused as late, but no earlier window ended after it`);
          late++;
          continue;
        }
        assert.ok(!validItems[seq].has(index), `message #${seq} item ${index} is valid by construction but was rejected: ${item.code} ${String(JSON.stringify(item.item)).slice(0, 300)}`);
      }
    }
    // The generator did what it should: assets became ready, faults were flagged, models published.
    assert.ok(tally.ready > 2000, `only ${tally.ready} ready scores`);
    assert.ok(tally.masked > 500, `only ${tally.masked} masked scores`);
    assert.ok(tally.anomalous > 20, `only ${tally.anomalous} anomalous scores`);
    assert.ok(tally.models > 4, `only ${tally.models} models published`);
    assert.ok(rejected > RUNS / 20, `too few rejects (${rejected})`);
    console.log(JSON.stringify({ messages: RUNS, windows, scored, rejected, late, caught: caughtSeqs.size, keys: node.scorer.keys().length, ...tally }));
  });

  it('the learners survive their persisted form: JSON round trip → restore → same status, same next scores', () => {
    assert.ok(node, 'needs the fuzz run');
    const scorer: AnomalyScorer = node.scorer;
    const copy = new AnomalyScorer({}, scorer.config);
    copy.restore(JSON.parse(JSON.stringify(scorer.toJSON())));
    assert.deepEqual(copy.keys().sort(), scorer.keys().sort());
    const settings = parseSettings(CONFIG);
    for (const key of scorer.keys()) {
      assert.deepEqual(copy.status(key), scorer.status(key), key);
      if (!TRACE_ASSETS.includes(key)) continue;
      const next = { assetId: key, start: T0 + 400 * 86_400_000, end: T0 + 400 * 86_400_000 + MIN, state: 'running' as const, stateMs: {}, transient: false, features: features({ current: 30.2, flow: 110.5, pressure: 4.01, vibration_velocity: 2.05, bearing_temperature: 55.1 }) };
      // `learned` may differ: the last value of each feature, carried forward into a window that lacks
      // it (a learner of an asset whose first window had odd signals), is not part of the saved state.
      const { learned: _a, ...a } = scorer.score(observationFromWindow(next, settings.stats));
      const { learned: _b, ...b } = copy.score(observationFromWindow(next, settings.stats));
      assert.deepEqual(JSON.parse(JSON.stringify(b)), JSON.parse(JSON.stringify(a)), key);
    }
  });

  it('persists every model key under its own context key', async () => {
    assert.ok(node, 'needs the fuzz run');
    await settle(1200); // persistSec 0.5
    const context = node.context();
    const saved = new Set<string>();
    for (const key of context.keys() as string[]) {
      if (!key.startsWith('anomaly:')) continue;
      const value = context.get(key) as Msg | undefined;
      for (const l of value?.scorer?.learners ?? []) saved.add(l.key);
    }
    const missing = (node.scorer as AnomalyScorer).keys().filter((k) => !saved.has(k));
    assert.deepEqual(missing, []);
  });
});
