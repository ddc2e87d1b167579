/**
 * pdm-twin and pdm-asset in a real Node-RED runtime.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helper, nodeModule, once } from '../helpers/node-red';

const twinNode = nodeModule('pdm-twin');
const assetNode = nodeModule('pdm-asset');
type Msg = Record<string, any>;

const at = { z: 'tab', x: 100, y: 100 };
/**
 * Each test gets a fresh twin node id: a closing twin hands its state to a successor with the
 * same id (redeploy), which would otherwise carry state from one test into the next.
 */
let twinId = 't0';
let seq = 0;
function flow(config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: twinId, ...at, type: 'pdm-twin', name: 'twin', root: 'pdm', windowSec: 10, staleFactor: 5, snapshotSec: 1, unknownAssets: 'create', defaultClass: 'motor', fleet: '', store: '', persistSec: 1, wires: [['snap'], ['win'], ['evt'], ['rej']], ...config },
    { id: 'snap', ...at, type: 'helper', wires: [] },
    { id: 'win', ...at, type: 'helper', wires: [] },
    { id: 'evt', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
    ...extra,
  ];
}
const motor = { id: 'a1', type: 'pdm-asset', name: 'Cooling pump motor', assetId: 'M-1', assetClass: 'motor', site: 'plant1', area: 'utilities', line: 'l1', ratedCurrentA: '20', ratedPowerKW: '', ratedSpeedRpm: '1480', ratedVoltageV: '', sensors: 'current, vibration_velocity', limits: '{"vibration_velocity":{"warning":2.8,"action":4.5}}', thresholds: '' };

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
const reading = (signal: string, value: number, ts: number, assetId = 'M-1') => ({ assetId, signal, value, unit: signal === 'current' ? 'A' : 'mm/s', ts, quality: 'good' });
const settle = (ms = 40) => new Promise((resolve) => setTimeout(resolve, ms));
/** The twin restores saved state before it takes input; wait for that. */
async function loaded(config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) {
  twinId = `twin${++seq}`;
  await helper.load([twinNode, assetNode], flow(config, extra));
  await settle(20);
  return helper.getNode(twinId);
}

describe('pdm-twin node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('turns readings of a declared asset into a retained snapshot with state and keeps msg properties', async () => {
    const t1 = await loaded({}, [motor]);
    const snap = once<Msg>(helper.getNode('snap'), 'input');
    t1.receive({ payload: reading('current', 16, Date.now()), parts: { id: 'p1' } });
    const msg = await snap;
    assert.equal(msg.topic, 'pdm/plant1/utilities/l1/M-1/state');
    assert.equal(msg.retain, true);
    assert.deepEqual(msg.parts, { id: 'p1' });
    assert.equal(msg.payload.attributes.name, 'Cooling pump motor');
    assert.equal(msg.payload.attributes.assetClass, 'motor');
    assert.equal(msg.payload.state.current, 'running');
    assert.equal(msg.payload.features.current.properties.value, 16);
  });

  it('masks inrush as startup and reports transitions on output 3', async () => {
    const t1 = await loaded({}, [motor]);
    const events = collect('evt');
    const t0 = Date.now() - 60_000;
    t1.receive({ payload: reading('current', 0, t0) });
    t1.receive({ payload: reading('current', 120, t0 + 1000) });
    t1.receive({ payload: reading('current', 16, t0 + 5000) });
    t1.receive({ payload: reading('current', 16, t0 + 12_000) });
    await settle();
    assert.deepEqual(events.map((e) => [e.payload.from, e.payload.to]), [['unknown', 'off'], ['off', 'startup'], ['startup', 'running']]);
    assert.equal(events[1].topic, 'pdm/plant1/utilities/l1/M-1/event');
  });

  it('closes feature windows in event time on output 2', async () => {
    const t1 = await loaded({}, [motor]);
    const windows = collect('win');
    const t0 = Math.floor((Date.now() - 60_000) / 10_000) * 10_000;
    for (let i = 0; i < 10; i++) t1.receive({ payload: reading('vibration_velocity', 1 + i * 0.1, t0 + i * 1000) });
    t1.receive({ payload: reading('vibration_velocity', 1, t0 + 10_000) });
    await settle();
    assert.equal(windows.length, 1);
    const w = windows[0].payload;
    assert.equal(w.start, t0);
    assert.equal(w.features.vibration_velocity.n, 10);
    assert.ok(Math.abs(w.features.vibration_velocity.slope - 0.1) < 1e-9);
    assert.equal(windows[0].topic, 'pdm/plant1/utilities/l1/M-1/features');
  });

  it('rejects non-readings and, when configured, unknown assets — to output 4 and Catch', async () => {
    const t1 = await loaded({ unknownAssets: 'reject' }, [motor]);
    const rejects = collect('rej');
    const caught = collect('caught');
    t1.receive({ payload: { assetId: 'M-1', value: 3 } });
    t1.receive({ payload: reading('current', 3, Date.now(), 'X-404') });
    t1.receive({ command: 'explode' });
    await settle();
    assert.deepEqual(rejects.map((m) => m.reject.code), ['not_a_reading', 'unknown_asset', 'unknown_command']);
    assert.equal(caught.length, 3);
    assert.deepEqual(rejects[0].payload, { assetId: 'M-1', value: 3 });
  });

  it('answers get, list, rebaseline, event, import and export commands', async () => {
    const t1 = await loaded({ fleet: 'id,assetClass,ratedCurrentA\nP-1,pump,30\n' }, [motor]);
    const snaps = collect('snap');
    const events = collect('evt');
    t1.receive({ payload: [reading('current', 16, Date.now() - 2000), reading('current', 25, Date.now() - 1000, 'P-1')] });
    await settle();
    t1.receive({ command: 'get', assetId: 'P-1' });
    await settle();
    const pump = snaps[snaps.length - 1].payload;
    assert.equal(pump.attributes.assetClass, 'pump');
    assert.equal(pump.state.current, 'running');
    assert.equal(snaps[snaps.length - 1].command, undefined, 'the snapshot answer does not carry the command on');
    assert.equal(snaps[snaps.length - 1].reply, 'get');
    t1.receive({ command: 'list' });
    await settle();
    assert.equal(snaps[snaps.length - 1].command, undefined);
    assert.equal(snaps[snaps.length - 1].reply, 'list');
    assert.deepEqual(snaps[snaps.length - 1].payload.map((t: Msg) => t.assetId).sort(), ['M-1', 'P-1']);
    t1.receive({ command: 'event', assetId: 'M-1', payload: { kind: 'maintenance', type: 'part_replaced', note: 'DE bearing' } });
    await settle();
    assert.equal(events[events.length - 1].payload.type, 'part_replaced');
    assert.ok(snaps[snaps.length - 1].payload.maintenance.lastMaintenance > 0);
    t1.receive({ command: 'import', payload: [{ id: 'F-9', assetClass: 'fan', nameplate: { ratedCurrentA: 5 } }] });
    await settle();
    t1.receive({ command: 'export', format: 'csv' });
    await settle();
    const csv: string = snaps[snaps.length - 1].payload;
    assert.match(csv, /^id,/);
    assert.match(csv, /F-9/);
    assert.match(csv, /P-1/);
    assert.match(csv, /M-1/);
  });

  it('republishes every asset’s latest snapshot every N s (retained state for late subscribers); 0 turns it off', async () => {
    const t1 = await loaded({ republishSec: 1 }, [motor]);
    const snaps = collect('snap');
    t1.receive({ payload: [reading('current', 16, Date.now()), reading('current', 9, Date.now(), 'X-2')] });
    await settle(2300);
    const byAsset = (id: string) => snaps.filter((m) => m.payload.assetId === id);
    assert.ok(byAsset('M-1').length >= 3, `M-1: ${byAsset('M-1').length} snapshots (1 on change + ≥ 2 republished)`);
    assert.ok(byAsset('X-2').length >= 3, `X-2: ${byAsset('X-2').length}`);
    const again = byAsset('M-1').at(-1)!;
    assert.equal(again.topic, 'pdm/plant1/utilities/l1/M-1/state');
    assert.equal(again.retain, true);
    assert.equal(again.payload.features.current.properties.value, 16);
    assert.equal(again.payload.version, byAsset('M-1')[0].payload.version, 'the same state, sent again');
    await helper.unload();

    const t2 = await loaded({ republishSec: 0 }, [motor]);
    const quiet = collect('snap');
    t2.receive({ payload: reading('current', 16, Date.now()) });
    await settle(1300);
    assert.equal(quiet.length, 1, 'only the snapshot on change');
  });

  it('closing with republishing on leaves no timer behind: nothing republishes after close', async () => {
    const t1 = await loaded({ republishSec: 0.2 }, [motor]);
    t1.receive({ payload: reading('current', 16, Date.now()) });
    // Count the republisher's work on the node's own fleet.
    let built = 0;
    const fleet = t1.fleet;
    const snapshot = fleet.snapshot.bind(fleet);
    fleet.snapshot = (...args: unknown[]) => {
      built++;
      return snapshot(...args);
    };
    await settle(500);
    assert.ok(built >= 2, `republished ${built} times while running`);
    await helper.unload();
    const atClose = built;
    await settle(700);
    assert.equal(built, atClose, 'the republish timer was cleared on close');
  });

  it('an invalid pdm-asset is reported, not silently used', async () => {
    const errors: Msg[] = [];
    twinId = `twin${++seq}`;
    await helper.load([twinNode, assetNode], flow({}, [{ ...motor, assetClass: 'toaster' }]));
    const a1 = helper.getNode('a1');
    assert.ok(a1.error.called, 'the config node reports its problem');
    assert.match(String(a1.error.firstCall.args[0]), /pdm-asset\.errors\.invalid/);
    void errors;
  });

  it('keeps twins across a redeploy through the node context', async () => {
    const t1 = await loaded({}, [motor]);
    t1.receive({ payload: reading('current', 0, Date.now() - 30_000) });
    t1.receive({ payload: reading('current', 16, Date.now() - 20_000) });
    await settle();
    await helper.setFlows(flow({ name: 'twin v2' }, [motor]));
    await settle(50);
    const snaps = collect('snap');
    helper.getNode(twinId).receive({ command: 'get', assetId: 'M-1' });
    await settle();
    const snap = snaps[0].payload;
    assert.equal(snap.counters.starts, 1, 'the start seen before the redeploy is remembered');
    assert.equal(snap.features.current.properties.value, 16);
  });

  it('runs a fleet of 1,000 assets through one node', async () => {
    const t1 = await loaded({ snapshotSec: 3600 });
    const snaps = collect('snap');
    const ts = Date.now() - 1000;
    for (let i = 0; i < 1000; i++) t1.receive({ payload: reading('current', 10, ts, `A-${i}`) });
    await settle(300);
    assert.equal(snaps.length, 1000);
    assert.equal(t1.fleet.size, 1000);
    assert.equal(new Set(snaps.map((m) => m.topic)).size, 1000);
  });

  it('redeploying 50 times leaves no timers or directory listeners behind', async () => {
    await loaded({}, [motor]);
    const { assetDirectory } = require('../../nodes/lib/assets/directory');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const listeners = assetDirectory.listenerCount;
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ name: `twin${i}`, windowSec: 10 + i }, [{ ...motor, name: `m${i}` }]));
      helper.getNode(twinId).receive({ payload: reading('current', 16, Date.now() - 100 + i) });
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle(100);
    assert.ok(timers() <= baseline - 2, `timers: baseline ${baseline} (incl. the twin's tick and republish timers), now ${timers()}`);
    assert.equal(assetDirectory.listenerCount, listeners - 1);
    assert.equal(assetDirectory.list().length, 0, 'pdm-asset withdrew its asset');
  });
});
