/**
 * pdm-simulate in a real Node-RED runtime, wired to a real pdm-normalise.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nodeModule, once, repoRoot } from '../helpers/node-red';
import { validateReading } from '../../nodes/lib/contracts/reading';
import { compileRegisterMap, decodeRegisters } from '../../nodes/lib/retrofit/registers';
import { detectSource } from '../../nodes/lib/retrofit/detect';

const simulateNode = nodeModule('pdm-simulate');
const normaliseNode = nodeModule('pdm-normalise');
const twinNode = nodeModule('pdm-twin');
type Msg = Record<string, any>;

const at = { z: 'tab', x: 100, y: 100 };
const HOUR = 3_600_000;
/** Fresh node ids per test: Node-RED keeps per-id state across redeploys. */
let seq = 0;
let ids = { sim: '', out: '', truth: '', norm: '', clean: '', rej: '', caught: '' };
function nextIds() {
  seq++;
  ids = { sim: `sim${seq}`, out: `out${seq}`, truth: `truth${seq}`, norm: `norm${seq}`, clean: `clean${seq}`, rej: `rej${seq}`, caught: `caught${seq}` };
}

/** Simulator settings for tests: fast fixed steps, a day in the past so pdm-normalise's future limit never applies. */
const FAST = { interval: 0.03, clock: 'step', stepSec: 600, factor: 1, historyHours: 48, hold: false, shifts: false, sampleSec: '', shape: 'readings', autoStart: true, seed: 7, assets: '' };

function flow(config: Record<string, unknown> = {}, withNormalise = false) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: ids.sim, ...at, type: 'pdm-simulate', name: 'plant', ...FAST, ...config, wires: [withNormalise ? [ids.out, ids.norm] : [ids.out], [ids.truth]] },
    { id: ids.out, ...at, type: 'helper', wires: [] },
    { id: ids.truth, ...at, type: 'helper', wires: [] },
    { id: ids.norm, ...at, type: 'pdm-normalise', name: '', property: 'payload', root: 'pdm', site: '', area: '', line: '', ranges: '', stuckCount: 50, dedupe: 10000, maxFuture: 600, wires: [[ids.clean], [ids.rej]] },
    { id: ids.clean, ...at, type: 'helper', wires: [] },
    { id: ids.rej, ...at, type: 'helper', wires: [] },
    { id: `catch${seq}`, ...at, type: 'catch', scope: null, uncaught: false, wires: [[ids.caught]] },
    { id: ids.caught, ...at, type: 'helper', wires: [] },
  ];
}

async function load(config: Record<string, unknown> = {}, withNormalise = false) {
  nextIds();
  await helper.load([simulateNode, normaliseNode], flow(config, withNormalise));
  return helper.getNode(ids.sim);
}

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
const settle = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await settle(10);
  }
}
/** Status calls of one node as "fill shape text" (the test runtime has no message catalogue: text is the key). */
const statusTexts = (node: Msg): string[] =>
  node.status
    .getCalls()
    .filter((c: any) => c.thisValue === node)
    .map((c: any) => `${c.args[0]?.fill} ${c.args[0]?.shape} ${c.args[0]?.text}`);

describe('pdm-simulate node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('starts on deploy: the fleet on output 2, then per tick one array of readings per asset on output 1, and a status', async () => {
    const sim = await load({ stepSec: 60 });
    const out = collect(ids.out);
    const truth = collect(ids.truth);
    await until(() => out.length >= 18, 5000, 'three ticks');
    const fleet = truth[0].payload;
    assert.equal(fleet.kind, 'fleet');
    assert.deepEqual(fleet.assets.map((a: Msg) => a.id), ['M-101', 'P-101', 'C-101', 'F-101', 'CV-101', 'G-101']);
    assert.equal(fleet.assets[0].nameplate.ratedCurrentA, 55);
    assert.equal(fleet.modbus.length, 6);
    assert.equal(fleet.opcua[0].tags[0].address, 'ns=2;s=M-101.vibration_velocity');
    assert.equal(truth[1].payload.event, 'scheduled');
    assert.equal(truth[1].topic, 'pdm-simulate/truth/P-101');
    const first = out[0];
    assert.deepEqual(out.slice(0, 6).map((m) => m.assetId), ['M-101', 'P-101', 'C-101', 'F-101', 'CV-101', 'G-101']);
    assert.equal(first.topic, 'pdm-simulate/readings/M-101');
    assert.ok(Array.isArray(first.payload) && first.payload.length > 2 * 60);
    for (const m of out) assert.ok(m.payload.every((r: Msg) => validateReading(r) && r.assetId === m.assetId));
    assert.equal(first.payload[0].ts, fleet.start, 'the first tick reports the plant at its start');
    assert.ok(fleet.start <= Date.now() - 47 * HOUR && fleet.start >= Date.now() - 49 * HOUR, 'started 48 h before the deploy');
    assert.equal(first.simTime, fleet.start + 59_000);
    assert.equal(out[6].payload[0].ts, fleet.start + 60_000, 'ticks continue without gaps or overlaps');
    await settle(1100);
    assert.ok(statusTexts(sim).includes('green dot pdm-simulate.status.running'), statusTexts(sim).join(' | '));
  });

  it('produces readings that pass a real pdm-normalise with zero rejects', async () => {
    await load({ stepSec: 20 }, true);
    const out = collect(ids.out);
    const clean = collect(ids.clean);
    const rejects = collect(ids.rej);
    const caught = collect(ids.caught);
    await until(() => out.length >= 6 * 60, 20_000, 'sixty ticks (20 simulated minutes)');
    helper.getNode(ids.sim).receive({ command: 'stop' });
    await settle(500);
    const sent = out.reduce((n, m) => n + m.payload.length, 0);
    const norm = helper.getNode(ids.norm);
    assert.ok(sent > 20 * 60 * 6 * 2, `${sent} readings`);
    assert.deepEqual(norm.counts, { clean: sent, rejected: 0, duplicates: 0 });
    assert.equal(rejects.length, 0);
    assert.equal(caught.length, 0);
    assert.equal(clean.length, sent);
    const notGood = clean.filter((m) => m.payload.quality !== 'good');
    assert.deepEqual(notGood.slice(0, 3).map((m) => m.payload), [], 'healthy readings are all good quality');
    assert.equal(clean[0].topic, 'pdm/demo-plant/production/line1/M-101/clean/vibration_velocity', 'normalise reads the asset path from msg.path');
  });

  it('publishes the ground truth of a fault on output 2: scheduled, onset, progress, failure, and on request', async () => {
    const assets = JSON.stringify([{ id: 'M-7', assetClass: 'motor', schedule: 'continuous', faults: [{ type: 'imbalance', onsetHours: 0.5, durationHours: 1, repairHours: 0.5 }] }]);
    const sim = await load({ assets, stepSec: 900 });
    const truth = collect(ids.truth);
    await until(() => truth.some((m) => m.payload.event === 'repaired'), 5000, 'the repair');
    const start = truth[0].payload.start;
    const events = truth.slice(1).map((m) => m.payload);
    assert.ok(events.every((e) => e.kind === 'fault' && e.assetId === 'M-7' && e.fault === 'imbalance' && e.faultId === 'M-7/imbalance/1'));
    const main = events.filter((e) => e.event !== 'progress').map((e) => [e.event, (e.ts - start) / HOUR]);
    assert.deepEqual(main, [['scheduled', 0], ['onset', 0.5], ['failure', 1.5], ['repaired', 2]]);
    assert.equal(events.filter((e) => e.event === 'progress').length, 9);
    assert.equal(events[0].failureAt, start + 1.5 * HOUR);
    sim.receive({ payload: 'truth' });
    await until(() => truth[truth.length - 1].payload.kind === 'truth', 2000, 'truth');
    const answer = truth[truth.length - 1].payload;
    assert.deepEqual(answer.faults.map((f: Msg) => [f.faultId, f.phase, f.severity]), [['M-7/imbalance/1', 'repaired', 0]]);
  });

  it('obeys start, stop, tick, reset and inject-fault; refuses bad commands through Catch', async () => {
    const sim = await load({ autoStart: false, interval: 0 });
    const out = collect(ids.out);
    const truth = collect(ids.truth);
    const caught = collect(ids.caught);
    await settle(200);
    assert.equal(out.length + truth.length, 0, 'not started');
    assert.deepEqual(statusTexts(sim), ['grey ring pdm-simulate.status.stopped']);

    sim.receive({ command: 'tick' });
    await settle();
    assert.equal(truth[0].payload.kind, 'fleet');
    assert.equal(out.length, 6, 'one message per asset');
    const start = truth[0].payload.start;
    assert.equal(out[0].payload[0].ts, start);

    // reset to a fixed seed and start, twice: identical readings (determinism through the node).
    const runFrom = async () => {
      sim.receive({ command: 'reset', payload: { seed: 99, start: '2025-06-02T00:00:00Z' } });
      await settle();
      const from = out.length;
      for (let i = 0; i < 3; i++) sim.receive({ command: 'tick' });
      await settle();
      return JSON.stringify(out.slice(from).map((m) => m.payload));
    };
    const a = await runFrom();
    assert.equal(truth[truth.length - 2].payload.kind, 'fleet');
    assert.equal(truth[truth.length - 2].payload.start, Date.UTC(2025, 5, 2));
    assert.equal(await runFrom(), a);
    assert.equal(JSON.parse(a)[0][0].ts, Date.UTC(2025, 5, 2));
    sim.receive({ command: 'reset', payload: { seed: 100, start: '2025-06-02T00:00:00Z' } });
    const from = out.length;
    for (let i = 0; i < 3; i++) sim.receive({ command: 'tick' });
    await settle();
    assert.notEqual(JSON.stringify(out.slice(from).map((m) => m.payload)), a, 'another seed, other readings');

    sim.receive({ command: 'inject-fault', payload: { assetId: 'M-101', type: 'overload', onsetHours: 1, durationHours: 2 } });
    await settle();
    const scheduled = truth[truth.length - 1].payload;
    assert.deepEqual([scheduled.event, scheduled.fault, scheduled.assetId], ['scheduled', 'overload', 'M-101']);
    assert.equal(scheduled.onset, Date.UTC(2025, 5, 2) + 3 * 600_000 - 1000 + HOUR);

    sim.receive({ command: 'inject-fault', payload: { assetId: 'M-101', type: 'cavitation', durationHours: 1 } });
    sim.receive({ command: 'inject-fault', payload: { assetId: 'X-1', type: 'overload', durationHours: 1 } });
    sim.receive({ command: 'explode' });
    sim.receive({ payload: 42 });
    await settle();
    // (The test runtime has no message catalogue, so errors read as their keys.)
    assert.deepEqual(caught.map((m) => m.error.message), ['inject', 'inject', 'unknown-command', 'unknown-command'].map((k) => `Error: pdm-simulate.errors.${k}`));
    assert.equal(truth.filter((m) => m.payload.fault === 'cavitation').length, 0, 'a refused fault is not scheduled');
  });

  it('start and stop resume and pause a timed simulation without a gap in simulated time', async () => {
    const timed = await load({ autoStart: false, interval: 0.03, stepSec: 60 });
    const timedOut = collect(ids.out);
    timed.receive({ command: 'start' });
    await until(() => timedOut.length >= 3, 3000, 'ticks after start');
    timed.receive({ command: 'stop' });
    await settle(100);
    const stoppedAt = timedOut.length;
    await settle(200);
    assert.equal(timedOut.length, stoppedAt, 'no ticks after stop');
    timed.receive({ command: 'start' });
    await until(() => timedOut.length > stoppedAt + 1, 3000, 'ticks after restart');
    const gapless = timedOut.filter((m) => m.assetId === 'M-101').map((m) => m.payload[0].ts);
    for (let i = 1; i < gapless.length; i++) assert.equal(gapless[i] - gapless[i - 1], 60_000, 'a stop pauses the simulated clock');
  });

  it('sends Modbus-Read messages that decode through the retrofit register map of the fleet message', async () => {
    await load({ shape: 'modbus', stepSec: 60 });
    const out = collect(ids.out);
    const truth = collect(ids.truth);
    await until(() => out.length >= 12, 5000, 'two ticks of polls');
    const fleet = truth[0].payload;
    for (const msg of out.slice(6, 12)) {
      const detected = detectSource(msg);
      assert.equal(detected.kind, 'modbus-read');
      const layout = fleet.modbus.find((m: Msg) => m.assetId === msg.assetId);
      assert.equal(detected.modbus!.unitId, layout.unitId);
      const map = compileRegisterMap(layout.registers);
      assert.ok(map.ok);
      const decoded = decodeRegisters(map.map, detected.buffer!);
      assert.ok(decoded.every((d) => d.ok));
      const current = decoded.find((d) => d.signal === 'current')!;
      const rated = fleet.assets.find((a: Msg) => a.id === msg.assetId).nameplate.ratedCurrentA;
      assert.ok(current.ok && current.value >= 0 && current.value < 7 * rated, `${msg.assetId} current ${JSON.stringify(current)}`);
    }
  });

  it('sends OPC UA items with NodeId topics and simulated source timestamps', async () => {
    await load({ shape: 'opcua', stepSec: 10, sampleSec: 10 });
    const out = collect(ids.out);
    const truth = collect(ids.truth);
    await until(() => out.length >= 100, 5000, 'items');
    const start = truth[0].payload.start;
    const item = out[0];
    assert.equal(item.topic, 'ns=2;s=M-101.vibration_velocity');
    assert.equal(item.assetId, 'M-101');
    assert.ok(item.sourceTimestamp instanceof Date);
    assert.equal(item.sourceTimestamp.getTime(), start);
    const detected = detectSource(item);
    assert.deepEqual([detected.kind, detected.items[0].quality, detected.items[0].ts], ['opcua', 'good', start]);
  });

  it('reports an invalid configuration instead of running', async () => {
    const sim = await load({ assets: '[{"id":"X","assetClass":"toaster"}]' });
    const out = collect(ids.out);
    const caught = collect(ids.caught);
    await settle(200);
    assert.equal(out.length, 0);
    const errors = sim.error.getCalls().filter((c: any) => c.thisValue === sim);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].args[0], 'pdm-simulate.errors.config');
    sim.receive({ command: 'start' });
    await settle();
    assert.equal(caught.length, 1);
    assert.deepEqual(statusTexts(sim), ['red ring pdm-simulate.status.config-error']);
  });

  it('runs the example flow: every simulated asset gets a twin and nothing is rejected', async () => {
    const file = path.join(repoRoot, 'examples', 'simulator', '01 - Simulated plant.json');
    const example = JSON.parse(fs.readFileSync(file, 'utf8')) as Msg[];
    assert.deepEqual(
      [...new Set(example.map((n) => n.type))].sort(),
      ['comment', 'debug', 'inject', 'pdm-normalise', 'pdm-simulate', 'pdm-twin'],
    );
    assert.ok(example.every((n) => n.z === undefined) && new Set(example.map((n) => n.id)).size === example.length);
    nextIds();
    // Debug nodes become test sinks; comment and inject nodes are left out (the test runtime only has our nodes).
    const nodes = example
      .filter((n) => n.type !== 'comment' && n.type !== 'inject')
      .map((n): Msg => ({ ...n, id: `${n.id}-${seq}`, z: 'tab', type: n.type === 'debug' ? 'helper' : n.type, wires: n.wires.map((w: string[]) => w.map((id) => `${id}-${seq}`)) }));
    await helper.load([simulateNode, normaliseNode, twinNode], [{ id: 'tab', type: 'tab', label: 'example' }, ...nodes]);
    const byName = (name: string) => nodes.find((n) => n.name === name)!.id;
    const snapshots = collect(byName('twin snapshots'));
    const rejects = collect(byName('rejects'));
    const truth = collect(byName('ground truth'));
    await until(() => new Set(snapshots.map((m) => m.payload.assetId)).size === 6, 5000, 'six twins');
    await settle(1200); // a second tick
    assert.equal(rejects.length, 0, JSON.stringify(rejects[0]?.reject));
    const snap = snapshots.find((m) => m.payload.assetId === 'P-101')!.payload;
    assert.equal(snap.attributes.assetClass, 'pump');
    assert.equal(snapshots.find((m) => m.payload.assetId === 'P-101')!.topic, 'pdm/demo-plant/utilities/services/P-101/state');
    assert.equal(truth[0].payload.kind, 'fleet');
  });

  it('redeploying 50 times leaves no timers behind', async () => {
    await load({ interval: 0.05, clock: 'accelerated', factor: 60, historyHours: 1 });
    await settle(150);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ interval: 0.05, clock: 'accelerated', factor: 60 + i, historyHours: 1, name: `plant${i}` }));
      if (i % 10 === 0) await settle(120); // let some redeploys tick and render a status
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle(200);
    assert.ok(timers() <= baseline - 1, `timers: baseline ${baseline} (incl. the simulator's tick), now ${timers()}`);
  });
});

void once;
