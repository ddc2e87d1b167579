/**
 * Property-based fuzzing of pdm-alert in a real runtime (node-red-node-test-helper): ≥ 10,000
 * generated messages — score traces per asset (anomalous runs, learning, masked), twin snapshots
 * (limits, stale, bad quality, operating states), twin events, zone readings, plain readings,
 * mutated scores, arrays, every command with good and bad targets and options, and junk.
 *
 * Properties:
 *  - nothing crashes: every done(err) carries a catalogued reason, no internal exception;
 *  - done() exactly once per message (Complete + Catch scoped to the node);
 *  - every input item is accounted for: recognised (score, snapshot, event, zone, ignored
 *    reading) or rejected on output 5; items valid by construction are never rejected; a message
 *    with a reject goes to done(err) and to output 5 once;
 *  - every command is answered once on output 1 or rejected once on output 5 (⇔ done(err));
 *  - every alert event, flood event, latest alert and KPI report matches its schema and is JSON-safe;
 *  - one open episode per (asset, failure mode), episode ids stable while open, seq increasing;
 *  - the engine survives its persisted form: JSON round trip → restore → the same latest alerts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { alertEventProblem, alertSummaryProblem, floodEventProblem, kpiReportProblem } from '../../nodes/lib/contracts/alert-event';

const alertNode = nodeModule('pdm-alert');
const RUNS = 10_000;
/** PDM_FUZZ_SEED=<n> explores another sample; the default keeps runs reproducible. */
const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261127;
const NOW = Date.now();
const MIN = 60_000;
type Msg = Record<string, any>;

const ASSETS = ['M-1', 'P-1', 'F-1', 'C-1', 'P.101', 'unit 7', 'A[1]', 'constructor', '__proto__'];
const SITES = ['plant1', 'plant2', 'north plant'];
const SIGNALS = ['vibration_velocity', 'bearing_temperature', 'current', 'flow', 'discharge_pressure', 'winding_temperature', 'Accelerometer1RMS'];
const STATES = ['running', 'running', 'running', 'running', 'running', 'running', 'idle', 'overload', 'off', 'startup', 'shutdown', 'unknown'];
const COMMANDS = ['acknowledge', 'acknowledge', 'shelve', 'shelve', 'shelve', 'unshelve', 'unshelve', 'out_of_service', 'return_to_service', 'return_to_service', 'label', 'maintenance', 'get', 'list', 'kpi'];
const MODES = ['bearing_wear', 'overload', 'imbalance', 'cavitation', 'no_data', 'sensor_fault', 'unclassified', 'warp_core'];

// ---------------------------------------------------------------------------------------------
// Generators

const contributions = fc
  .subarray(SIGNALS, { minLength: 1, maxLength: 3 })
  .chain((signals) => fc.tuple(fc.constant(signals), fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: signals.length, maxLength: signals.length })))
  .map(([signals, weights]) => {
    const total = weights.reduce((a, b) => a + b, 0);
    return Object.fromEntries(signals.map((s, i) => [s, weights[i] / total]));
  });

const scoreStep = fc.record({
  kind: fc.constant('score' as const),
  asset: fc.constantFrom(...ASSETS),
  dt: fc.integer({ min: 1000, max: 3 * MIN }),
  value: fc.oneof(fc.double({ min: 0, max: 0.45, noNaN: true }), fc.double({ min: 0.5, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)),
  contributions,
  state: fc.constantFrom(...STATES),
  status: fc.constantFrom('ready', 'ready', 'ready', 'ready', 'learning'),
  masked: fc.option(fc.constantFrom('transient', 'off', 'state'), { nil: undefined, freq: 8 }),
  asArray: fc.boolean(),
});

const snapshotStep = fc.record({
  kind: fc.constant('snapshot' as const),
  asset: fc.constantFrom(...ASSETS),
  dt: fc.integer({ min: 0, max: MIN }),
  state: fc.constantFrom(...STATES),
  site: fc.constantFrom(...SITES),
  assetClass: fc.constantFrom('motor', 'pump', 'fan', 'compressor', 'toaster'),
  features: fc.dictionary(
    fc.constantFrom(...SIGNALS),
    fc.record({ limit: fc.constantFrom('normal', 'normal', 'warning', 'action'), stale: fc.integer({ min: 0, max: 9 }).map((n) => n < 2), quality: fc.constantFrom('good', 'good', 'good', 'uncertain', 'bad'), value: fc.double({ min: 0, max: 20, noNaN: true }) }),
    { maxKeys: 3 },
  ),
});

const zoneStep = fc.record({
  kind: fc.constant('zone' as const),
  asset: fc.constantFrom(...ASSETS),
  dt: fc.integer({ min: 0, max: MIN }),
  zone: fc.constantFrom('A', 'B', 'C', 'C', 'D'),
  withZone: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
});

const twinEventStep = fc.record({
  kind: fc.constant('twinEvent' as const),
  asset: fc.constantFrom(...ASSETS),
  event: fc.oneof(
    fc.record({ kind: fc.constant('state'), from: fc.constantFrom(...STATES), to: fc.constantFrom(...STATES) }),
    fc.record({ kind: fc.constant('maintenance'), type: fc.constantFrom('work_done', 'part_replaced', 'inspection') }),
    fc.record({ kind: fc.constant('label'), type: fc.constantFrom('true_fault', 'false_alarm', 'maybe'), reason: fc.constantFrom('startup_transient', 'mode_shift', 'x') }),
  ),
});

const commandStep = fc.record({
  kind: fc.constant('command' as const),
  msg: fc.record(
    {
      command: fc.oneof({ weight: 60, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.constant('reset') }), // reset is rare: it wipes what the traces built
      assetId: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ASSETS) }, { weight: 1, arbitrary: fc.anything() }),
      mode: fc.option(fc.constantFrom(...MODES), { nil: undefined, freq: 3 }),
      episodeId: fc.option(fc.oneof(fc.constantFrom('nope', 'M-1:bearing_wear:1'), fc.anything()), { nil: undefined, freq: 6 }),
      site: fc.option(fc.constantFrom(...SITES), { nil: undefined, freq: 4 }),
      payload: fc.oneof(
        fc.record(
          {
            for: fc.oneof(fc.integer({ min: -10, max: 10 * 3_600_000 }), fc.constantFrom(1000, 60_000, NaN), fc.anything()),
            once: fc.boolean(),
            label: fc.constantFrom('true_fault', 'false_alarm', 'meh'),
            reason: fc.constantFrom('startup_transient', 'mode_shift', 'sensor_drift', 'odd reason!'),
            by: fc.string({ maxLength: 6 }),
            until: fc.oneof(fc.integer({ min: NOW - MIN, max: NOW + 3_600_000 }), fc.anything()),
            end: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
    },
    { requiredKeys: ['command'] },
  ),
});

const scoreLike = fc.record({
  assetId: fc.constantFrom(...ASSETS),
  window: fc.record({ start: fc.integer({ min: 0, max: NOW }), end: fc.integer({ min: 0, max: NOW }) }),
  state: fc.constantFrom(...STATES),
  score: fc.double({ min: 0, max: 1, noNaN: true }),
  anomalous: fc.boolean(),
  threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  contributions,
  topSignal: fc.option(fc.constantFrom(...SIGNALS), { nil: null }),
  model: fc.constant({ id: 'm', version: 1 }),
  status: fc.constant('ready'),
});
const mutatedScore = fc
  .tuple(scoreLike, fc.constantFrom('score', 'window', 'assetId', 'status', 'contributions', 'threshold'), fc.oneof(fc.constantFrom(NaN, -1, 2, '0.5', null, 'a/b', {}), fc.anything()))
  .map(([s, key, to]) => ({ ...s, [key]: to }));

const junkStep = fc.record({
  kind: fc.constant('junk' as const),
  payload: fc.oneof(fc.anything(), mutatedScore, fc.array(fc.oneof(scoreLike, mutatedScore, fc.anything()), { maxLength: 5 })),
  command: fc.oneof(fc.constant(undefined), fc.integer(), fc.object()),
});

const message = fc.oneof(
  { weight: 12, arbitrary: scoreStep },
  { weight: 4, arbitrary: snapshotStep },
  { weight: 3, arbitrary: zoneStep },
  { weight: 2, arbitrary: twinEventStep },
  { weight: 6, arbitrary: commandStep },
  { weight: 2, arbitrary: junkStep },
);
type Generated = typeof message extends fc.Arbitrary<infer T> ? T : never;

/** Turns samples into messages; scores, snapshots and zones advance a per-asset clock. */
function toMessages(samples: Generated[]): { msgs: Msg[]; validItems: Array<Set<number>> } {
  const clock: Record<string, number> = Object.fromEntries(ASSETS.map((a) => [a, NOW - 6 * 3_600_000]));
  const msgs: Msg[] = [];
  const validItems: Array<Set<number>> = [];
  samples.forEach((s, seq) => {
    const valid = new Set<number>();
    let msg: Msg;
    switch (s.kind) {
      case 'score': {
        const t = (clock[s.asset] += s.dt);
        const item: Msg = {
          assetId: s.asset,
          window: { start: t - MIN, end: t },
          state: s.state,
          score: s.value,
          anomalous: s.value >= 0.5,
          threshold: 0.5,
          contributions: s.contributions,
          topSignal: Object.keys(s.contributions)[0],
          model: { id: 'iforest', version: 2 },
          status: s.status,
        };
        if (s.masked) item.masked = s.masked;
        msg = { payload: s.asArray ? [item] : item };
        valid.add(s.asArray ? 0 : -1);
        break;
      }
      case 'snapshot': {
        const t = (clock[s.asset] += s.dt);
        const features: Msg = {};
        for (const [signal, f] of Object.entries(s.features)) features[signal] = { properties: { ...f, unit: 'x', ts: t, ageMs: 0, baseline: {} } };
        msg = { payload: { thingId: `pdm:${s.asset}`, assetId: s.asset, attributes: { name: s.asset, assetClass: s.assetClass, path: { site: s.site, area: 'a', line: 'l' } }, features, state: { current: s.state, since: t - MIN, previous: 'off' }, updatedAt: t, version: seq } };
        valid.add(-1);
        break;
      }
      case 'zone': {
        const t = (clock[s.asset] += s.dt);
        const source = s.withZone ? { zone: { preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', zone: s.zone, limits: [1.4, 2.8, 4.5] } } : { protocol: 'modbus' };
        msg = { payload: { assetId: s.asset, signal: 'vibration_velocity', value: { A: 1, B: 2, C: 3.5, D: 6 }[s.zone], unit: 'mm/s', ts: t, quality: 'good', source } };
        valid.add(-1);
        break;
      }
      case 'twinEvent': {
        const ev: Msg = { ...s.event, assetId: s.asset, ts: clock[s.asset] };
        msg = { payload: ev };
        if (!(ev.kind === 'label' && ev.type === 'maybe')) valid.add(-1);
        break;
      }
      case 'command':
        msg = { ...s.msg };
        for (const k of ['mode', 'episodeId', 'site'] as const) if (msg[k] === undefined) delete msg[k];
        break;
      default: {
        msg = { payload: s.payload };
        if (s.command !== undefined) msg.command = s.command;
      }
    }
    msg._seq = seq;
    msgs.push(msg);
    validItems.push(valid);
  });
  return { msgs, validItems };
}

function nonFinite(value: unknown, path = '$', out: string[] = []): string[] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${path}=${value}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => nonFinite(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nonFinite(v, `${path}.${k}`, out);
  return out;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pdm-alert fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  let engine: AlertEngine | undefined;

  it(`accounts for every input of ${RUNS} generated messages, calls done() once each, never crashes`, { timeout: 300_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(alertNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      {
        id: 'al1', ...at, type: 'pdm-alert', root: 'pdm', defaultClass: 'motor', scoreAbove: '', onDelaySec: 300, mOfN: '3/5', widenBy: 0.15, agreeSec: 0, severeSec: 300, hysteresis: 0.05, offDelaySec: 120, deescalateSec: 120, dataWarnSec: 600,
        ackFrom: 'warning', latching: false, suppress: 'off, startup, shutdown', maxShelveSec: 28800, floodCount: 10, floodWindowSec: 600, floodEndCount: 5, floodSuppress: 'warning', kpiSec: 1, overrides: '{"pump": {"lifecycle": {"latching": true}}}', store: '', persistSec: 1,
        wires: [['o1'], ['o2'], ['o3'], ['o4'], ['rej']],
      },
      { id: 'o1', ...at, type: 'helper', wires: [] },
      { id: 'o2', ...at, type: 'helper', wires: [] },
      { id: 'o3', ...at, type: 'helper', wires: [] },
      { id: 'o4', ...at, type: 'helper', wires: [] },
      { id: 'rej', ...at, type: 'helper', wires: [] },
      { id: 'complete', ...at, type: 'complete', scope: ['al1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catch', ...at, type: 'catch', scope: ['al1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    const node = helper.getNode('al1');
    engine = node.engine as AlertEngine;

    const samples = fc.sample(message, { numRuns: RUNS, seed: SEED });
    const { msgs, validItems } = toMessages(samples);
    const isCommand = msgs.map((m) => typeof m.command === 'string');

    const doneCount = new Map<number, number>();
    const answers = new Map<number, number>();
    const rejectMsgs = new Map<number, Msg[]>();
    const caughtSeqs = new Set<number>();
    const bad: string[] = [];
    const note = (what: string) => {
      if (bad.length < 10) bad.push(what);
    };
    const bump = (map: Map<number, number>, seq: number) => map.set(seq, (map.get(seq) ?? 0) + 1);
    const tally = { events: 0, floods: 0, summaries: 0, kpis: 0, twin: 0, transitions: {} as Record<string, number> };
    const open = new Map<string, string>();
    const lastSeq = new Map<string, number>();

    helper.getNode('completed').on('input', (m: Msg) => bump(doneCount, m._seq));
    helper.getNode('caught').on('input', (m: Msg) => {
      bump(doneCount, m._seq);
      caughtSeqs.add(m._seq);
      const text = String(m.error?.message ?? '');
      if (!/^(Error: )?pdm-alert\.(errors|reject)\.[a-z_-]+$/.test(text)) note(`internal error #${m._seq}: ${text}`);
    });
    helper.getNode('o1').on('input', (m: Msg) => {
      if (typeof m._seq === 'number' && isCommand[m._seq]) bump(answers, m._seq);
      if (m.payload?.kind === 'alert_summary') {
        tally.summaries++;
        const p = alertSummaryProblem(m.payload);
        if (p) note(`summary: ${p}`);
        if (!m.retain || !/^pdm\/[^/]+\/[^/]+\/[^/]+\/[^/]+\/alert$/.test(m.topic)) note(`summary topic ${m.topic} retain ${m.retain}`);
      }
      if (nonFinite(m.payload).length) note(`non-finite on output 1: ${nonFinite(m.payload).slice(0, 3)}`);
    });
    helper.getNode('o2').on('input', (m: Msg) => {
      const e = m.payload;
      if (e.kind === 'flood') {
        tally.floods++;
        const p = floodEventProblem(e);
        if (p) note(`flood: ${p}`);
        return;
      }
      tally.events++;
      tally.transitions[e.transition] = (tally.transitions[e.transition] ?? 0) + 1;
      const p = alertEventProblem(e);
      if (p) note(`event: ${p} ${JSON.stringify(e).slice(0, 300)}`);
      if (nonFinite(e).length) note(`non-finite event: ${nonFinite(e).slice(0, 3)}`);
      const key = JSON.stringify([e.assetId, e.failureMode.id]);
      const previous = lastSeq.get(e.episodeId) ?? 0;
      if (e.seq !== previous + 1) note(`episode ${e.episodeId}: seq ${e.seq} after ${previous}`);
      lastSeq.set(e.episodeId, e.seq);
      if (e.transition === 'raised') {
        if (open.has(key)) note(`second open episode for ${key}: ${open.get(key)} and ${e.episodeId}`);
        open.set(key, e.episodeId);
      } else if (!(e.transition === 'labelled' && e.closed)) {
        if (open.get(key) !== e.episodeId) note(`${e.transition} of ${e.episodeId} but the open episode of ${key} is ${open.get(key)}`);
      }
      if (e.closed && open.get(key) === e.episodeId) open.delete(key);
    });
    helper.getNode('o3').on('input', (m: Msg) => {
      tally.twin++;
      if (m.command !== 'event' || m.payload?.kind !== 'label' || typeof m.assetId !== 'string') note(`twin message ${JSON.stringify(m).slice(0, 200)}`);
    });
    helper.getNode('o4').on('input', (m: Msg) => {
      tally.kpis++;
      const p = kpiReportProblem(m.payload);
      if (p) note(`kpi: ${p}`);
    });
    helper.getNode('rej').on('input', (m: Msg) => {
      const r = m.reject;
      const shaped = r && typeof r.code === 'string' && typeof r.reason === 'string' && r.reason.length > 0 && Array.isArray(r.items);
      if (!shaped || !(r.count === r.items.length || (r.items.length === 0 && r.count === 1))) note(`reject shape ${JSON.stringify(r).slice(0, 200)}`);
      const list = rejectMsgs.get(m._seq) ?? [];
      list.push(m);
      rejectMsgs.set(m._seq, list);
    });

    const counts = node.counts as Record<string, number>;
    const before = { ...counts };
    let itemsIn = 0;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!isCommand[i]) itemsIn += Array.isArray(m.payload) ? Math.max(1, m.payload.length) : 1;
      node.receive(m);
      if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 30_000;
    while (doneCount.size < RUNS && Date.now() < deadline) await settle(20);
    await settle(1200); // one more tick: KPIs and timers

    assert.equal(doneCount.size, RUNS, `${RUNS - doneCount.size} message(s) never completed`);
    assert.deepEqual([...doneCount].filter(([, n]) => n !== 1), [], 'done() called more than once');
    assert.deepEqual(bad, [], 'property violations');

    let rejectedItems = 0;
    for (let seq = 0; seq < RUNS; seq++) {
      const rejects = rejectMsgs.get(seq) ?? [];
      if (isCommand[seq]) {
        const answered = answers.get(seq) ?? 0;
        assert.equal(answered + rejects.length, 1, `command #${seq} ${JSON.stringify(msgs[seq]).slice(0, 200)}: ${answered} answer(s), ${rejects.length} reject(s)`);
        assert.equal(caughtSeqs.has(seq), rejects.length === 1, `command #${seq}: rejected ⇔ done(err)`);
        continue;
      }
      assert.ok(rejects.length <= 1, `message #${seq}: ${rejects.length} reject messages`);
      assert.equal(caughtSeqs.has(seq), rejects.length === 1, `message #${seq}: rejected ⇔ done(err)`);
      for (const r of rejects) {
        rejectedItems += r.reject.count;
        for (const item of r.reject.items) {
          const index = item.index === undefined ? -1 : item.index;
          assert.ok(!validItems[seq].has(index), `message #${seq} item ${index} is valid by construction but was rejected: ${item.code} ${item.reason}`);
        }
      }
    }
    const accepted = ['scores', 'snapshots', 'events', 'zones', 'ignored'].reduce((n, k) => n + counts[k] - before[k], 0);
    assert.equal(accepted + rejectedItems, itemsIn, `in ${itemsIn} = accepted ${accepted} + rejected ${rejectedItems}`);
    assert.equal(counts.commands - before.commands, isCommand.filter(Boolean).length);

    // The sample exercised the lifecycle, not just the rejects.
    for (const t of ['raised', 'escalated', 'cleared', 'acknowledged', 'shelved', 'unshelved', 'suppressed', 'unsuppressed', 'out_of_service', 'returned_to_service', 'labelled']) {
      assert.ok((tally.transitions[t] ?? 0) > 0, `no ${t} transition in ${JSON.stringify(tally.transitions)}`);
    }
    assert.ok(tally.kpis > 0 && tally.summaries > 0 && tally.twin > 0, JSON.stringify(tally));
    console.log(JSON.stringify({ messages: RUNS, itemsIn, accepted, rejectedItems, caught: caughtSeqs.size, ...tally, assets: engine.size, open: engine.openEpisodes().length }));
  });

  it('the engine survives its persisted form (JSON round trip → restore → the same latest alerts)', () => {
    assert.ok(engine, 'needs the fuzz run');
    const copy = new AlertEngine(engine.config);
    const now = Date.now();
    copy.restore(JSON.parse(JSON.stringify(engine.toJSON())), now);
    const mismatches: string[] = [];
    for (const id of engine.ids()) {
      try {
        assert.deepEqual(copy.summary(id), engine.summary(id));
      } catch (err) {
        mismatches.push(`${id}: ${(err as Error).message.split('\n').slice(0, 8).join(' ')}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 3), []);
    assert.deepEqual(JSON.parse(JSON.stringify(copy.toJSON())), JSON.parse(JSON.stringify(engine.toJSON())));
    assert.deepEqual(copy.kpis(now), engine.kpis(now));
  });
});
