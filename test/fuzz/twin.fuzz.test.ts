/**
 * Property-based fuzzing of pdm-twin in a real runtime (node-red-node-test-helper): ≥ 10,000
 * generated messages — state-driving current traces for several assets (single readings and
 * batches, late data, bad quality), valid readings of arbitrary legal asset ids with extreme
 * values, malformed readings, mixed and empty arrays, commands with junk, plain junk.
 *
 * Properties:
 *  - nothing crashes: every done(err) carries a catalogued reason, no internal exception;
 *  - done() is called exactly once per message: a Complete node (done()) and a Catch node
 *    (done(err)) scoped to the twin see every message id exactly once between them;
 *  - every reading is accounted for: ingested by the fleet (counted at TwinFleet.ingestAll) or
 *    rejected on output 4 with a code and reason; in = ingested + rejected; a reading that is
 *    valid by construction is never rejected; a message with a reject goes to done(err);
 *  - every command is answered once on output 1 or rejected once on output 4;
 *  - every snapshot is JSON-safe (finite numbers only) and every twin is coherent (known state,
 *    counters ≥ 0, stops ≤ starts + 1);
 *  - every twin survives its persisted form: JSON round trip → restore → the same snapshot.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helper, nodeModule } from '../helpers/node-red';
import { AssetTwin } from '../../nodes/lib/twin/asset-twin';
import { buildSnapshot } from '../../nodes/lib/twin/snapshot';
import { OPERATING_STATES } from '../../nodes/lib/twin/operating-state';
import type { TwinFleet } from '../../nodes/lib/twin/fleet';
import { validateReading } from '../../nodes/lib/contracts/reading';

const twinNode = nodeModule('pdm-twin');
const RUNS = 10_000;
/** PDM_FUZZ_SEED=<n> explores another sample; the default keeps runs reproducible. */
const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261127;
const NOW = Date.now();
const T0 = NOW - 24 * 3_600_000;
type Msg = Record<string, any>;

/** Assets with a rated current (from the node's Fleet field): their current drives the state. */
const RATED: Record<string, number> = { 'M-1': 20, 'P-1': 30, 'F-1': 5, 'C-1': 40 };
const FLEET_CSV = 'id,assetClass,ratedCurrentA\nM-1,motor,20\nP-1,pump,30\nF-1,fan,5\nC-1,compressor,40\n';
const TRACE_ASSETS = Object.keys(RATED);
/** Legal asset ids (ASSET_ID_PATTERN) beyond the traced ones, created with the default class. */
const OTHER_IDS = ['X-9', 'unit 7', 'P.101', 'Ω-3', 'A[1]', '__proto__', 'constructor'];
const OTHER_SIGNALS = ['vibration_velocity', 'bearing_temperature', 'speed', 'discharge_pressure', 'flow', 'power'];
const UNIT: Record<string, string> = { current: 'A', vibration_velocity: 'mm/s', bearing_temperature: '°C', speed: 'rpm', discharge_pressure: 'bar', flow: 'm³/h', power: 'kW' };
const FIELDS = ['assetId', 'signal', 'value', 'unit', 'ts', 'quality'];

// ---------------------------------------------------------------------------------------------
// Generators

const quality = fc.constantFrom('good', 'good', 'good', 'good', 'good', 'good', 'uncertain', 'bad');

/** One step of a current trace: a load level held for a few readings, other signals alongside. */
const traceStep = fc.record({
  kind: fc.constant('trace' as const),
  asset: fc.constantFrom(...TRACE_ASSETS),
  level: fc.oneof(
    fc.constant(0), // off
    fc.double({ min: 0.06, max: 0.29, noNaN: true }), // idle
    fc.double({ min: 0.35, max: 1.1, noNaN: true }), // running
    fc.double({ min: 1.2, max: 2, noNaN: true }), // overload
    fc.double({ min: 4, max: 8, noNaN: true }), // inrush
  ),
  hold: fc.integer({ min: 1, max: 10 }),
  dt: fc.integer({ min: 100, max: 2000 }),
  extras: fc.subarray(OTHER_SIGNALS, { maxLength: 3 }),
  quality,
  late: fc.integer({ min: 0, max: 19 }).map((n) => n === 0), // 1 in 20 steps carries late data
  asArray: fc.boolean(),
});

const legalId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TRACE_ASSETS, ...OTHER_IDS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,15}$/) },
);
const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
  // Wide but physical (|v| ≤ 1e12) and edge values; absurd magnitudes are in `mutated` below.
  { weight: 1, arbitrary: fc.oneof(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.constantFrom(-0, Number.MIN_VALUE, 1e12, -1e12, 0.1 + 0.2)) },
);
const ts = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: T0, max: NOW }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, NOW + 86_400_000, 8.64e15, Number.MAX_SAFE_INTEGER) },
);
/** A reading that is valid by construction (the contract: nothing else, integer ts ≥ 0, finite value). */
const validReading = fc
  .record({ assetId: legalId, signal: fc.constantFrom('current', ...OTHER_SIGNALS), value, ts, quality, reason: fc.option(fc.constantFrom('out_of_range', 'stuck'), { nil: undefined }) })
  .map(({ reason, ...r }) => ({ ...r, unit: UNIT[r.signal], ...(reason && r.quality !== 'good' ? { qualityReason: reason } : {}) }));

/** A valid reading with one thing changed: mostly invalid (but a change may happen to be legal). */
const mutated = fc
  .tuple(
    validReading,
    fc.oneof(
      fc.record({ drop: fc.constantFrom(...FIELDS) }),
      fc.record({
        set: fc.constantFrom(...FIELDS),
        to: fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, -1, 1.5, '', 'a/b', '#', ' lead', 'GOOD', null, '12', true, [], {}), fc.anything()),
      }),
      fc.record({ extra: fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !FIELDS.includes(k) && k !== 'qualityReason' && k !== 'source'), to: fc.anything() }),
    ),
  )
  .map(([r, m]) => {
    const out: Msg = { ...r };
    if ('drop' in m) delete out[m.drop];
    else if ('set' in m) out[m.set] = m.to;
    else out[m.extra] = m.to;
    return out;
  });

const anyItem = fc.oneof({ weight: 3, arbitrary: validReading }, { weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.anything() });

const eventPayload = fc.record(
  {
    kind: fc.oneof(fc.constantFrom('maintenance', 'label'), fc.anything()),
    type: fc.oneof(fc.constantFrom('work_done', 'part_replaced', 'calibration', 'true_fault', 'false_alarm'), fc.anything()),
    reason: fc.oneof(fc.constantFrom('startup_transient', 'sensor_drift'), fc.anything()),
    note: fc.anything(),
    ts: fc.oneof(fc.integer({ min: T0, max: NOW }), fc.double(), fc.anything()),
    assetId: fc.oneof(fc.constantFrom(...TRACE_ASSETS), fc.anything()),
  },
  { requiredKeys: [] },
);
const command = fc.record(
  {
    command: fc.oneof(
      { weight: 60, arbitrary: fc.constantFrom('get', 'get', 'list', 'rebaseline', 'event', 'event', 'import', 'export') },
      { weight: 10, arbitrary: fc.string({ maxLength: 10 }) },
      { weight: 1, arbitrary: fc.constant('reset') }, // rare: it wipes what the traces built
    ),
    assetId: fc.oneof(fc.constantFrom(...TRACE_ASSETS, ...OTHER_IDS), fc.anything()),
    payload: fc.oneof(
      eventPayload,
      fc.constant([{ id: 'G-1', assetClass: 'gearbox', nameplate: { ratedCurrentA: 10 } }]),
      fc.constant('id,assetClass\nG-2,fan\n'),
      fc.anything(),
    ),
    format: fc.oneof(fc.constantFrom('csv', 'json'), fc.anything()),
  },
  { requiredKeys: ['command'] },
);

const message = fc.oneof(
  { weight: 10, arbitrary: traceStep },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('valid' as const), payload: validReading }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('item' as const), payload: anyItem }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('array' as const), payload: fc.array(anyItem, { maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('command' as const), msg: command }) },
  // Junk: anything as payload, and msg.command that is not a string (so the message is a reading).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), payload: fc.anything(), command: fc.oneof(fc.constant(undefined), fc.integer(), fc.object()) }) },
);
type Generated = typeof message extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------

/** Turns a generated step into a message; trace steps advance a per-asset clock. */
function toMessages(samples: Generated[]): { msgs: Msg[]; validItems: Array<Set<number>> } {
  const clock: Record<string, number> = Object.fromEntries(TRACE_ASSETS.map((a) => [a, T0]));
  const msgs: Msg[] = [];
  /** Per message, indexes of items valid by construction (index -1 = the payload itself). */
  const validItems: Array<Set<number>> = [];
  samples.forEach((s, seq) => {
    const valid = new Set<number>();
    if (s.kind === 'trace') {
      const items: Msg[] = [];
      for (let i = 0; i < s.hold; i++) {
        clock[s.asset] += s.dt;
        const at = s.late && i === 0 ? clock[s.asset] - 30_000 : clock[s.asset];
        const jitter = 1 + ((i * 7919) % 11) / 200;
        items.push({ assetId: s.asset, signal: 'current', value: s.level * RATED[s.asset] * jitter, unit: 'A', ts: at, quality: s.quality });
        for (const signal of s.extras) items.push({ assetId: s.asset, signal, value: 1 + s.level + i / 10, unit: UNIT[signal], ts: at, quality: 'good' });
      }
      const single = items.length === 1 && !s.asArray;
      if (single) valid.add(-1);
      else items.forEach((_, i) => valid.add(i));
      msgs.push({ _seq: seq, payload: single ? items[0] : items });
    } else if (s.kind === 'valid') {
      valid.add(-1);
      msgs.push({ _seq: seq, payload: s.payload });
    } else if (s.kind === 'item' || s.kind === 'array') {
      msgs.push({ _seq: seq, payload: s.payload });
    } else if (s.kind === 'command') {
      msgs.push({ ...s.msg, _seq: seq });
    } else {
      const msg: Msg = { _seq: seq, payload: s.payload };
      if (s.command !== undefined) msg.command = s.command;
      msgs.push(msg);
    }
    validItems.push(valid);
  });
  return { msgs, validItems };
}

/** Paths of numbers that are not finite (NaN, ±Infinity), which JSON/MQTT would turn into null. */
function nonFinite(value: unknown, path = '$', out: string[] = []): string[] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${path}=${value}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => nonFinite(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nonFinite(v, `${path}.${k}`, out);
  return out;
}

const withoutChanges = ({ changes: _c, ...rest }: Msg) => rest;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pdm-twin fuzz', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  let fleetAfter: TwinFleet | undefined;
  let twin: any;

  it(`accounts for every input of ${RUNS} generated messages, calls done() once each, never crashes`, { timeout: 240_000 }, async () => {
    const at = { z: 'tab', x: 10, y: 10 };
    await helper.load(twinNode, [
      { id: 'tab', type: 'tab', label: 'fuzz' },
      { id: 't1', ...at, type: 'pdm-twin', root: 'pdm', windowSec: 10, staleFactor: 5, snapshotSec: 1, unknownAssets: 'create', defaultClass: 'motor', fleet: FLEET_CSV, store: '', persistSec: 1, wires: [['out1'], ['out2'], ['out3'], ['rej']] },
      { id: 'out1', ...at, type: 'helper', wires: [] },
      { id: 'out2', ...at, type: 'helper', wires: [] },
      { id: 'out3', ...at, type: 'helper', wires: [] },
      { id: 'rej', ...at, type: 'helper', wires: [] },
      { id: 'complete', ...at, type: 'complete', scope: ['t1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', ...at, type: 'helper', wires: [] },
      { id: 'catch', ...at, type: 'catch', scope: ['t1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', ...at, type: 'helper', wires: [] },
    ]);
    twin = helper.getNode('t1');
    const fleet = twin.fleet as TwinFleet;
    let ingested = 0;
    const ingestAll = fleet.ingestAll.bind(fleet);
    fleet.ingestAll = (readings, now) => {
      const outcome = ingestAll(readings, now);
      ingested += readings.length - outcome.errors.length;
      return outcome;
    };

    const samples = fc.sample(message, { numRuns: RUNS, seed: SEED });
    const { msgs, validItems } = toMessages(samples);
    const isCommand = msgs.map((m) => typeof m.command === 'string');

    const doneCount = new Map<number, number>();
    const answers = new Map<number, number>();
    const rejectMsgs = new Map<number, Msg[]>();
    const caughtSeqs = new Set<number>();
    const badErrors: string[] = [];
    const badSnapshots: string[] = [];
    const badRejects: string[] = [];
    let windows = 0;
    let events = 0;
    let startups = 0;
    let snapshots = 0;
    const bump = (map: Map<number, number>, seq: number) => map.set(seq, (map.get(seq) ?? 0) + 1);

    helper.getNode('completed').on('input', (m: Msg) => bump(doneCount, m._seq));
    helper.getNode('caught').on('input', (m: Msg) => {
      bump(doneCount, m._seq);
      caughtSeqs.add(m._seq);
      const text = String(m.error?.message ?? '');
      // The helper's RED._ returns the catalogue key: anything else is an exception from inside.
      if (!/^(Error: )?pdm-twin\.(errors|reject)\.[a-z_-]+$/.test(text)) badErrors.push(`#${m._seq}: ${text}`);
    });
    helper.getNode('out1').on('input', (m: Msg) => {
      if (typeof m._seq === 'number' && isCommand[m._seq]) bump(answers, m._seq);
      if (typeof m.topic === 'string' && m.topic.endsWith('/state')) {
        snapshots++;
        const bad = nonFinite(m.payload);
        if (bad.length > 0 && badSnapshots.length < 5) badSnapshots.push(`${m.payload.assetId}: ${bad.slice(0, 3).join(', ')}`);
      }
    });
    helper.getNode('out2').on('input', () => windows++);
    helper.getNode('out3').on('input', (m: Msg) => {
      events++;
      if (m.payload?.kind === 'state' && m.payload.to === 'startup') startups++;
    });
    helper.getNode('rej').on('input', (m: Msg) => {
      // (collected, not asserted: a throw inside a node's input handler would only be logged)
      const r = m.reject;
      const shaped = r && typeof r.code === 'string' && typeof r.reason === 'string' && r.reason.length > 0 && Array.isArray(r.items);
      if (!shaped || !(r.count === r.items.length || (r.items.length === 0 && r.count === 1))) badRejects.push(JSON.stringify(r).slice(0, 200));
      const list = rejectMsgs.get(m._seq) ?? [];
      list.push(m);
      rejectMsgs.set(m._seq, list);
    });

    // The first messages go in at once, while the node may still be restoring (queued, not lost).
    let itemsIn = 0;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!isCommand[i]) itemsIn += Array.isArray(m.payload) ? Math.max(1, m.payload.length) : 1;
      twin.receive(m);
      if (i % 250 === 249) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 30_000;
    while (doneCount.size < RUNS && Date.now() < deadline) await settle(20);
    await settle(100);

    // done() exactly once per message.
    assert.equal(doneCount.size, RUNS, `${RUNS - doneCount.size} message(s) never completed`);
    const twice = [...doneCount].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'done() called more than once');
    assert.deepEqual(badErrors.slice(0, 5), [], 'done(err) with an internal error');

    assert.deepEqual(badRejects.slice(0, 3), [], 'rejects without code, reason or matching count');

    // Readings: in = ingested + rejected; valid-by-construction never rejected; rejects ⇔ done(err).
    let rejected = 0;
    let readingMsgs = 0;
    for (let seq = 0; seq < RUNS; seq++) {
      const rejects = rejectMsgs.get(seq) ?? [];
      if (isCommand[seq]) {
        const answered = answers.get(seq) ?? 0;
        assert.equal(answered + rejects.length, 1, `command #${seq} ${JSON.stringify(msgs[seq].command)}: ${answered} answer(s), ${rejects.length} reject(s)`);
        assert.equal(caughtSeqs.has(seq), rejects.length === 1, `command #${seq}: rejected ⇔ done(err)`);
        continue;
      }
      readingMsgs++;
      assert.ok(rejects.length <= 1, `message #${seq}: ${rejects.length} reject messages`);
      assert.equal(caughtSeqs.has(seq), rejects.length === 1, `message #${seq}: rejected ⇔ done(err)`);
      for (const r of rejects) {
        rejected += r.reject.count;
        for (const item of r.reject.items) {
          const index = item.index === undefined ? -1 : item.index;
          assert.ok(!validItems[seq].has(index), `message #${seq} item ${index} is valid by construction but was rejected: ${item.code} ${JSON.stringify(item.item)}`);
        }
      }
    }
    assert.equal(ingested + rejected, itemsIn, `in ${itemsIn} = ingested ${ingested} + rejected ${rejected}`);
    const validCount = validItems.reduce((n, s) => n + s.size, 0);
    assert.ok(ingested >= validCount, `ingested ${ingested} < ${validCount} valid by construction`);
    assert.ok(rejected > RUNS / 20, `too few rejects (${rejected})`);

    // Outputs are JSON-safe; twins are coherent.
    assert.deepEqual(badSnapshots, [], 'snapshots with non-finite numbers');
    for (const id of fleet.ids()) {
      const t = fleet.get(id)!;
      assert.ok(OPERATING_STATES.includes(t.state), `${id}: state ${t.state}`);
      const c = t.counters();
      assert.ok(c.starts >= 0 && c.stops >= 0 && c.stops <= c.starts + 1, `${id}: starts ${c.starts}, stops ${c.stops}`);
      for (const [state, ms] of Object.entries(c.timeInStateMs)) assert.ok((ms as number) >= 0, `${id}: ${state} ${ms} ms`);
    }
    assert.ok(startups > 10, `the traces started machines only ${startups} times: generator broken`);
    fleetAfter = fleet;
    console.log(JSON.stringify({ messages: RUNS, readingMsgs, commands: RUNS - readingMsgs, itemsIn, ingested, rejected, caught: caughtSeqs.size, twins: fleet.size, snapshots, windows, events, startups }));
  });

  it('every twin survives its persisted form (JSON round trip → restore → same snapshot)', async () => {
    assert.ok(fleetAfter, 'needs the fuzz run');
    const now = Date.now();
    const mismatches: string[] = [];
    for (const id of fleetAfter.ids()) {
      const original: AssetTwin = fleetAfter.get(id)!;
      const copy = new AssetTwin(original.definition, { windowMs: 10_000, staleFactor: 5 });
      assert.ok(copy.restore(JSON.parse(JSON.stringify(original.toJSON()))), `${id}: restore refused its own state`);
      // Compared as JSON, the form snapshots travel in (-0 and 0 are the same there).
      const a = JSON.parse(JSON.stringify(withoutChanges(buildSnapshot(original, now))));
      const b = JSON.parse(JSON.stringify(withoutChanges(buildSnapshot(copy, now))));
      try {
        assert.deepEqual(b, a);
        assert.deepEqual(JSON.parse(JSON.stringify(copy.toJSON())), JSON.parse(JSON.stringify(original.toJSON())));
      } catch (err) {
        mismatches.push(`${id}: ${(err as Error).message.split('\n').slice(0, 12).join(' ')}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 3), []);
  });

  // The contract allows any finite value; Welford's m2 (and std) overflow to Infinity for values
  // near ±1e308, the snapshot then carries Infinity (null in JSON) and the persisted baseline is
  // dropped on restore (RunningStats.from refuses non-finite state).
  it('baselines stay finite and persistable for any value the reading contract accepts', () => {
    const asset = {
      id: 'E-1',
      name: 'E-1',
      path: {},
      assetClass: { id: 'motor', name: 'motor', signals: [], failureModes: [], presets: {}, stateThresholds: {} },
      nameplate: { ratedCurrentA: 20 },
      sensors: [],
      stateThresholds: { offBelow: 0.05, idleBelow: 0.3, overloadAbove: 1.15, startupMs: 0, shutdownMs: 0, speedRunningAbove: 0.1 },
      limits: {},
      presets: {},
    } as unknown as ConstructorParameters<typeof AssetTwin>[0];
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 20 }), (values) => {
        const t = new AssetTwin(asset);
        t.ingest({ assetId: 'E-1', signal: 'current', value: 16, unit: 'A', ts: 1000, quality: 'good' });
        const readings = values.map((v, i) => ({ assetId: 'E-1', signal: 'temperature', value: v, unit: '°C', ts: 2000 + i, quality: 'good' as const }));
        const accepted = readings.filter((r) => validateReading(r));
        accepted.forEach((r) => t.ingest(r));
        assert.deepEqual(nonFinite(buildSnapshot(t, 10_000)), []);
        const copy = new AssetTwin(asset);
        copy.restore(JSON.parse(JSON.stringify(t.toJSON())));
        assert.equal(copy.baseline('temperature', 'running')?.n ?? 0, accepted.length);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  // Context keys are Node-RED property expressions: "twin:P.101" is saved as {"twin:P": {"101": …}},
  // "twin:unit 7" and "twin:A[1]" throw. Every legal asset id must reach the context store as-is.
  it('persists every twin under its own context key', async () => {
    assert.ok(fleetAfter && twin, 'needs the fuzz run');
    await settle(2200); // persistSec 1, checked on 1 s ticks
    const context = twin.context();
    const saved = new Set<unknown>();
    for (const key of context.keys() as string[]) {
      if (key.startsWith('twin:')) saved.add((context.get(key) as Msg | undefined)?.id);
    }
    const missing = fleetAfter.ids().filter((id) => !saved.has(id));
    assert.deepEqual(missing, []);
  });
});
