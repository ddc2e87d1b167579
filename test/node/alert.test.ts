/**
 * pdm-alert in a real Node-RED runtime (node-red-node-test-helper): inputs (scores, twin
 * snapshots and events, zone readings), every command, the five outputs, rejects with Catch,
 * timers driven by the node's own clock, KPIs, redeploys and wiring to pdm-twin.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nodeModule, once, repoRoot } from '../helpers/node-red';
import { alertEventProblem, alertSummaryProblem, floodEventProblem, kpiReportProblem } from '../../nodes/lib/contracts/alert-event';

const alertNode = nodeModule('pdm-alert');
const assetNode = nodeModule('pdm-asset');
const twinNode = nodeModule('pdm-twin');
/** Node-RED's own inject and comment nodes, from the runtime under test (for the example flow). */
const coreNode = (file: string) => require(require.resolve(`@node-red/nodes/core/common/${file}`, { paths: [path.dirname(require.resolve(process.env.NR_PKG || 'node-red'))] }));
const injectNode = coreNode('20-inject.js');
const commentNode = coreNode('90-comment.js');
type Msg = Record<string, any>;

const S = 1000;
const MIN = 60 * S;
const at = { z: 'tab', x: 100, y: 100 };
/** A fresh alert node id per test: a closing node hands its state to a successor with the same id. */
let alertId = 'a0';
let seq = 0;

const DEFAULTS = {
  name: '',
  root: 'pdm',
  defaultClass: 'motor',
  scoreAbove: '',
  onDelaySec: 300,
  mOfN: '3/5',
  widenBy: 0.15,
  agreeSec: 0,
  severeSec: 300,
  hysteresis: 0.05,
  offDelaySec: 0,
  deescalateSec: 300,
  dataWarnSec: 900,
  ackFrom: 'warning',
  latching: false,
  suppress: 'off, startup, shutdown',
  maxShelveSec: 28800,
  floodCount: 10,
  floodWindowSec: 600,
  floodEndCount: 5,
  floodSuppress: 'warning',
  kpiSec: 3600,
  overrides: '',
  store: '',
  persistSec: 1,
};

function flow(config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: alertId, ...at, type: 'pdm-alert', ...DEFAULTS, wires: [['alerts'], ['events'], ['twinout'], ['kpis'], ['rej']], ...config },
    { id: 'alerts', ...at, type: 'helper', wires: [] },
    { id: 'events', ...at, type: 'helper', wires: [] },
    { id: 'twinout', ...at, type: 'helper', wires: [] },
    { id: 'kpis', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: [alertId], uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
    { id: 'completer', ...at, type: 'complete', scope: [alertId], uncaught: false, wires: [['completed']] },
    { id: 'completed', ...at, type: 'helper', wires: [] },
    ...extra,
  ];
}
const motor = { id: 'asset1', type: 'pdm-asset', name: 'Cooling pump motor', assetId: 'M-1', assetClass: 'motor', site: 'plant1', area: 'utilities', line: 'l1', ratedCurrentA: '20', ratedPowerKW: '', ratedSpeedRpm: '', ratedVoltageV: '', sensors: 'current, vibration_velocity', limits: '', thresholds: '' };

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}
const settle = (ms = 40) => new Promise((resolve) => setTimeout(resolve, ms));

function score(t: number, value: number, o: Record<string, unknown> = {}, assetId = 'M-1') {
  return {
    assetId,
    window: { start: t - MIN, end: t },
    state: 'running',
    score: value,
    anomalous: value >= 0.5,
    threshold: 0.5,
    contributions: { vibration_velocity: 0.7, bearing_temperature: 0.3 },
    topSignal: 'vibration_velocity',
    model: { id: 'm-1', version: 1 },
    status: 'ready',
    ...o,
  };
}
function snapshot(t: number, limit: 'normal' | 'warning' | 'action', o: Record<string, unknown> = {}, assetId = 'M-1') {
  return {
    thingId: `pdm:${assetId}`,
    assetId,
    attributes: { name: assetId, assetClass: 'motor', path: { site: 'plant1', area: 'utilities', line: 'l1' } },
    features: { vibration_velocity: { properties: { value: limit === 'normal' ? 1 : 3.2, unit: 'mm/s', quality: 'good', ts: t, ageMs: 0, stale: false, limit, baseline: {} } } },
    state: { current: 'running', since: t - 60 * MIN, previous: 'startup' },
    updatedAt: t,
    ...o,
  };
}

async function loaded(config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = [], types: unknown[] = [alertNode, assetNode]) {
  alertId = `alert${++seq}`;
  await helper.load(types, flow(config, extra));
  await settle(20);
  return helper.getNode(alertId);
}

function checkContracts(alerts: Msg[], events: Msg[]) {
  for (const m of alerts) if (m.payload?.kind === 'alert_summary') assert.equal(alertSummaryProblem(m.payload), undefined, alertSummaryProblem(m.payload));
  for (const m of events) {
    const problem = m.payload.kind === 'flood' ? floodEventProblem(m.payload) : alertEventProblem(m.payload);
    assert.equal(problem, undefined, problem);
  }
}

describe('pdm-alert node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('scores raise watch → warning → action; latest alert retained on …/alert; every transition on output 2', async () => {
    const n = await loaded({}, [motor]);
    const alerts = collect('alerts');
    const events = collect('events');
    const base = Date.now();
    n.receive({ payload: score(base, 0.7) });
    await settle();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].topic, 'pdm/plant1/utilities/l1/M-1/alert');
    assert.equal(alerts[0].retain, true);
    assert.equal(alerts[0].payload.status, 'alert');
    assert.equal(alerts[0].payload.tier, 'watch');
    assert.equal(alerts[0].payload.assetName, 'Cooling pump motor');
    assert.equal(events[0].topic, 'pdm/plant1/utilities/l1/M-1/event');
    assert.equal(events[0].payload.transition, 'raised');
    assert.equal(events[0].retain, undefined, 'events are not retained');
    n.receive({ payload: [score(base + MIN, 0.72), score(base + 2 * MIN, 0.74)] });
    n.receive({ payload: snapshot(base + 2 * MIN + S, 'warning') });
    await settle();
    assert.deepEqual(events.map((e) => [e.payload.transition, e.payload.tier]), [['raised', 'watch'], ['escalated', 'warning'], ['escalated', 'action']]);
    assert.equal(alerts.at(-1)!.payload.tier, 'action');
    assert.equal(alerts.at(-1)!.payload.priority, 'high');
    assert.equal(new Set(events.map((e) => e.payload.episodeId)).size, 1);
    assert.match(events[2].payload.check, /bearing/i);
    checkContracts(alerts, events);
  });

  it('answers every command once on output 1 (a copy of the command message) and reports each transition', async () => {
    const n = await loaded({ offDelaySec: 600 }, [motor]);
    const alerts = collect('alerts');
    const events = collect('events');
    const twin = collect('twinout');
    const caught = collect('caught');
    const base = Date.now();
    n.receive({ payload: score(base, 0.8) });
    await settle();
    const episodeId = events[0].payload.episodeId;
    const commands: Msg[] = [
      { command: 'acknowledge', assetId: 'M-1', payload: { by: 'op1' }, req: { id: 'r1' } },
      { command: 'shelve', episodeId, payload: { for: 60_000, reason: 'known' } },
      { command: 'unshelve', assetId: 'M-1' },
      { command: 'shelve', assetId: 'M-1', payload: { once: true } },
      { command: 'unshelve', assetId: 'M-1' },
      { command: 'out_of_service', assetId: 'M-1', payload: { reason: 'sensor swap' } },
      { command: 'return_to_service', assetId: 'M-1' },
      { command: 'maintenance', assetId: 'M-1', payload: { for: 60_000 } },
      { command: 'maintenance', assetId: 'M-1', payload: { end: true } },
      { command: 'label', episodeId, payload: { label: 'true_fault', by: 'tech' } },
      { command: 'get', assetId: 'M-1' },
      { command: 'list' },
      { command: 'kpi' },
    ];
    for (const c of commands) {
      alerts.length = 0;
      n.receive({ ...c, tag: c.command });
      await settle();
      const replies = alerts.filter((m) => m.tag === c.command);
      assert.equal(replies.length, 1, `${c.command}: ${replies.length} replies`);
      assert.equal(replies[0].command, c.command);
    }
    assert.deepEqual(caught, [], 'no command was refused');
    assert.deepEqual(
      events.map((e) => e.payload.transition),
      ['raised', 'acknowledged', 'shelved', 'unshelved', 'shelved', 'unshelved', 'out_of_service', 'returned_to_service', 'suppressed', 'unsuppressed', 'labelled'],
    );
    assert.equal(twin.length, 1);
    assert.deepEqual({ command: twin[0].command, assetId: twin[0].assetId, kind: twin[0].payload.kind, type: twin[0].payload.type, episodeId: twin[0].payload.episodeId }, { command: 'event', assetId: 'M-1', kind: 'label', type: 'true_fault', episodeId });
    checkContracts([], events);
  });

  it('the acknowledge reply keeps the command message properties (for http response flows)', async () => {
    const n = await loaded({}, [motor]);
    const alerts = collect('alerts');
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle();
    const reply = once<Msg>(helper.getNode('alerts'), 'input');
    n.receive({ command: 'acknowledge', assetId: 'M-1', res: { marker: 1 }, parts: { id: 'p' } });
    const m = await reply;
    assert.deepEqual(m.parts, { id: 'p' });
    assert.equal(m.topic, 'pdm/plant1/utilities/l1/M-1/alert');
    assert.equal(m.payload.episodes[0].acknowledged, true);
    void alerts;
  });

  it('rejects bad input and refused commands on output 5 and through Catch, with catalogued reasons; exactly one done per message', async () => {
    const n = await loaded({}, [motor]);
    const rejects = collect('rej');
    const caught = collect('caught');
    const completed = collect('completed');
    const inputs: Msg[] = [
      { payload: { hello: 'world' } },
      { payload: score(Date.now(), 1.5) },
      { payload: [] },
      { payload: [score(Date.now(), 0.2), 'junk', { kind: 'label', assetId: 'M-1', type: 'maybe', ts: 1 }] },
      { command: 'explode' },
      { command: 'acknowledge', assetId: 'M-1' },
      { command: 'shelve', assetId: 'M-1', payload: { for: -5 } },
      { command: 'label', assetId: 'NOPE', payload: { label: 'true_fault' } },
      { payload: { assetId: 'M-1', signal: 'current', value: 12, unit: 'A', ts: Date.now(), quality: 'good' } },
    ];
    inputs.forEach((m, i) => n.receive({ ...m, _n: i }));
    await settle(80);
    assert.deepEqual(rejects.map((m) => m.reject.code), ['not_an_input', 'invalid_score', 'empty', 'not_an_input', 'unknown_command', 'nothing_to_acknowledge', 'invalid_duration', 'unknown_asset']);
    assert.deepEqual(rejects[3].reject.items.map((i: Msg) => [i.index, i.code]), [[1, 'not_an_input'], [2, 'invalid_event']]);
    assert.equal(rejects[3].reject.count, 2);
    assert.deepEqual(caught.map((m) => m._n), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(completed.map((m) => m._n), [8], 'the plain reading is accepted (ignored, no zone)');
    for (const m of caught) assert.match(String(m.error.message), /^(Error: )?pdm-alert\.(errors|reject)\.[a-z_-]+$/);
    assert.equal(n.counts.ignored, 1);
  });

  it('refuses lifecycle commands on an asset without alerts with the right code', async () => {
    const n = await loaded({}, [motor]);
    const rejects = collect('rej');
    n.receive({ payload: score(Date.now(), 0.2) });
    await settle();
    for (const c of [
      { command: 'acknowledge', assetId: 'M-1' },
      { command: 'shelve', assetId: 'M-1', payload: { for: 1000 } },
      { command: 'unshelve', assetId: 'M-1' },
      { command: 'return_to_service', assetId: 'M-1' },
      { command: 'acknowledge' },
      { command: 'get', episodeId: 'nope' },
    ]) n.receive(c);
    await settle();
    assert.deepEqual(rejects.map((m) => m.reject.code), ['nothing_to_acknowledge', 'no_open_episode', 'not_shelved', 'not_out_of_service', 'no_target', 'unknown_episode']);
  });

  it('suppresses by design from twin state events and snapshots, and ISO zones from retrofit readings raise alerts', async () => {
    const n = await loaded({}, [motor]);
    const events = collect('events');
    const alerts = collect('alerts');
    const t = Date.now();
    const zone = (ts: number, z: string, value: number) => ({ assetId: 'M-1', signal: 'vibration_velocity', value, unit: 'mm/s', ts, quality: 'good', source: { protocol: 'modbus', zone: { preset: 'iso10816-3/group2-rigid', standard: 'ISO 10816-3', zone: z, limits: [1.4, 2.8, 4.5] } } });
    n.receive({ payload: zone(t, 'C', 3.1) });
    await settle();
    assert.equal(events.at(-1)!.payload.transition, 'raised');
    assert.equal(events.at(-1)!.payload.evidence.zone.zone, 'C');
    n.receive({ payload: { kind: 'state', assetId: 'M-1', from: 'running', to: 'shutdown', ts: t + S, load: 0.1 } });
    await settle();
    assert.equal(events.at(-1)!.payload.transition, 'suppressed');
    assert.equal(alerts.at(-1)!.payload.status, 'suppressed');
    n.receive({ payload: zone(t + 2 * S, 'D', 8) });
    await settle();
    assert.equal(events.at(-1)!.payload.transition, 'suppressed', 'nothing new while shutting down');
    n.receive({ payload: { ...snapshot(t + 3 * S, 'normal'), state: { current: 'running', since: t + 3 * S } } });
    await settle();
    assert.equal(events.at(-1)!.payload.transition, 'unsuppressed');
    checkContracts(alerts, events);
  });

  it('no data from the twin is its own alert state', async () => {
    const n = await loaded({}, [motor]);
    const alerts = collect('alerts');
    const snap = snapshot(Date.now(), 'normal');
    snap.features.vibration_velocity.properties.stale = true;
    n.receive({ payload: snap });
    await settle();
    assert.equal(alerts.at(-1)!.payload.status, 'no_data');
    assert.equal(alerts.at(-1)!.payload.episodes[0].category, 'no_data');
  });

  it('a timed shelving expires on the node clock', async () => {
    const n = await loaded({}, [motor]);
    const events = collect('events');
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle();
    n.receive({ command: 'shelve', assetId: 'M-1', payload: { for: 1200 } });
    await settle(2600);
    assert.deepEqual(events.map((e) => e.payload.transition), ['raised', 'shelved', 'unshelved']);
    assert.equal(events[2].payload.reasonCode, 'expired');
  });

  it('with the reading-time clock a shelving of replayed data expires with the asset’s data, not the wall clock', async () => {
    const n = await loaded({ clock: 'reading' }, [motor]);
    const events = collect('events');
    const t0 = Date.UTC(2020, 2, 1, 8);
    n.receive({ payload: score(t0, 0.8) });
    await settle();
    n.receive({ command: 'shelve', assetId: 'M-1', payload: { for: 1200 } });
    await settle(2600);
    assert.deepEqual(events.map((e) => e.payload.transition), ['raised', 'shelved'], 'two wall-clock ticks do not end it');
    assert.equal(events[1].payload.alarm.shelved.until, t0 + 1200);
    n.receive({ payload: score(t0 + 1200, 0.8) });
    await settle(1300);
    assert.deepEqual(events.map((e) => e.payload.transition), ['raised', 'shelved', 'unshelved']);
    assert.equal(events[2].payload.ts, t0 + 1200);
  });

  it('publishes KPIs per site every interval on output 4', async () => {
    const n = await loaded({ kpiSec: 1 }, [motor]);
    const kpis = collect('kpis');
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle(2300);
    assert.ok(kpis.length >= 1, `${kpis.length} KPI messages`);
    const first = kpis.find((k) => k.payload.alarms > 0) ?? kpis[0];
    assert.equal(first.topic, 'pdm/plant1/alerts/kpi');
    assert.equal(kpiReportProblem(first.payload), undefined);
    assert.equal(first.payload.site, 'plant1');
  });

  it('groups a flood: the 11th alarm in 10 minutes is suppressed and a flood event goes out', async () => {
    const n = await loaded({ onDelaySec: 3600 }, [motor]);
    const events = collect('events');
    const t = Date.now();
    n.receive({ payload: Array.from({ length: 12 }, (_, i) => score(t + i, 0.9, {}, `L-${i}`)) });
    await settle();
    const floods = events.filter((e) => e.payload.kind === 'flood');
    assert.equal(floods.length, 1);
    assert.equal(floods[0].topic, 'pdm/_/alerts/flood');
    const raised = events.filter((e) => e.payload.transition === 'raised');
    assert.equal(raised.length, 12);
    assert.deepEqual(raised.map((e) => e.payload.annunciated), [...Array(10).fill(true), false, false]);
  });

  it('labels go to pdm-twin when output 3 is wired to it', async () => {
    alertId = `alert${++seq}`;
    const nodes = flow({}, [motor, { id: 'twin1', ...at, type: 'pdm-twin', name: '', root: 'pdm', windowSec: 60, staleFactor: 5, snapshotSec: 1, unknownAssets: 'create', defaultClass: 'motor', fleet: '', store: '', persistSec: 5, wires: [['twinsnap'], [], ['twinevt'], ['twinrej']] }, { id: 'twinsnap', ...at, type: 'helper', wires: [] }, { id: 'twinevt', ...at, type: 'helper', wires: [] }, { id: 'twinrej', ...at, type: 'helper', wires: [] }]);
    (nodes[1] as Msg).wires[2] = ['twin1'];
    await helper.load([alertNode, assetNode, twinNode], nodes);
    await settle(30);
    const n = helper.getNode(alertId);
    const twinEvents = collect('twinevt');
    const twinRejects = collect('twinrej');
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle();
    n.receive({ command: 'label', assetId: 'M-1', payload: { label: 'false_alarm', reason: 'startup_transient' } });
    await settle(60);
    assert.deepEqual(twinRejects, []);
    const label = twinEvents.find((e) => e.payload.kind === 'label');
    assert.ok(label, 'the twin recorded the label');
    assert.equal(label.payload.type, 'false_alarm');
    assert.equal(label.payload.reason, 'startup_transient');
    assert.match(label.payload.episodeId, /^M-1:bearing_wear:/);
  });

  it('twin → alert: the twin consumes its commands, so its answers reach pdm-alert as snapshots, not as commands', async () => {
    alertId = `alert${++seq}`;
    const twin = { id: 'twin1', ...at, type: 'pdm-twin', name: '', root: 'pdm', windowSec: 60, staleFactor: 5, snapshotSec: 1, unknownAssets: 'create', defaultClass: 'motor', fleet: '', store: '', persistSec: 5, wires: [[alertId, 'twinsnap'], [], [alertId], []] };
    const nodes = flow({}, [motor, twin, { id: 'twinsnap', ...at, type: 'helper', wires: [] }]);
    // The loop of a plant flow: alert labels go to the twin, the twin's snapshots and events come back.
    (nodes[1] as Msg).wires[2] = ['twin1'];
    await helper.load([alertNode, assetNode, twinNode], nodes);
    await settle(30);
    const n = helper.getNode(alertId);
    const t1 = helper.getNode('twin1');
    const rejects = collect('rej');
    const caught = collect('caught');
    const snaps = collect('twinsnap');
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle();
    t1.receive({ payload: { assetId: 'M-1', signal: 'current', value: 16, unit: 'A', ts: Date.now(), quality: 'good' } });
    t1.receive({ command: 'event', assetId: 'M-1', payload: { kind: 'maintenance', type: 'inspection', note: 'walk-down' } });
    t1.receive({ command: 'get', assetId: 'M-1' });
    t1.receive({ command: 'list' });
    n.receive({ command: 'label', assetId: 'M-1', payload: { label: 'false_alarm', reason: 'operator_change' } });
    await settle(80);
    assert.deepEqual(rejects.map((r) => r.reject.reason), [], 'pdm-alert rejected nothing');
    assert.deepEqual(caught, []);
    assert.ok(snaps.length >= 3);
    for (const s of snaps) assert.equal(s.command, undefined, 'no twin output carries the input command');
    assert.equal(snaps.find((s) => Array.isArray(s.payload))?.reply, 'list');
    assert.ok(n.counts.snapshots >= 3, `snapshots counted: ${n.counts.snapshots}`);
    assert.equal(n.counts.commands, 1, 'only the label sent to pdm-alert itself was a command');
    assert.ok(n.engine.asset('M-1').lastMaintenance > 0, 'the maintenance event reached the alert engine');
  });

  it('the example flow (examples/alerts) walks watch → warning → action → acknowledge → shelve → clear → suppress → label', async () => {
    const file = path.join(repoRoot, 'examples', 'alerts', '01 - Alert tiers and lifecycle.json');
    const example: Msg[] = JSON.parse(fs.readFileSync(file, 'utf8'));
    const P = 'alert-ex1-';
    // On a tab, debug nodes replaced by test helpers, and a 1 s off-delay instead of 10 s.
    const nodes = example.map((n) => {
      if (n.type === 'debug') return { id: n.id, type: 'helper', z: 'tab', x: n.x, y: n.y, wires: [] };
      const placed: Msg = { ...n, z: 'tab' };
      if (n.type === 'pdm-alert') placed.offDelaySec = 1;
      return placed;
    });
    await helper.load([alertNode, injectNode, commentNode], [{ id: 'tab', type: 'tab', label: 'example' }, ...nodes]);
    await settle(30);
    const alerts = collect(`${P}d1`);
    const events = collect(`${P}d2`);
    const twin = collect(`${P}d3`);
    const rejects = collect(`${P}d5`);
    const click = async (id: string, ms = 40) => {
      helper.getNode(`${P}${id}`).receive({});
      await settle(ms);
    };
    await click('i1');
    assert.equal(events.length, 0);
    for (let i = 0; i < 3; i++) await click('i2');
    await click('i3');
    await click('i4');
    await click('i5');
    await click('i6');
    await click('i7');
    await click('i8', 2300); // the 1 s off-delay completes on the node's next 1 s tick
    helper.getNode(`${P}al1`).receive({ payload: JSON.parse('{}') }); // nothing: rejected, just to show rejects work
    await settle();
    await click('i2');
    await click('i9');
    await click('i10');
    await click('i11');
    assert.deepEqual(
      events.map((e) => `${e.payload.transition}:${e.payload.tier ?? '-'}`),
      ['raised:watch', 'escalated:warning', 'escalated:action', 'acknowledged:action', 'shelved:action', 'unshelved:action', 'cleared:-', 'raised:watch', 'suppressed:watch', 'labelled:watch'],
    );
    assert.equal(events[6].payload.closed, true, 'acknowledged, so the clear closes it');
    assert.equal(alerts.at(-1)!.command, 'get');
    assert.equal(alerts.at(-1)!.payload.status, 'suppressed');
    assert.equal(alerts.at(-1)!.topic, 'pdm/plant1/utilities/cooling/M-101/alert');
    assert.equal(twin.length, 1);
    assert.equal(twin[0].payload.reason, 'startup_transient');
    assert.equal(rejects.length, 1);
    checkContracts(alerts, events);
  });

  it('keeps episodes and shelving across a redeploy (handover), also with the memory store', async () => {
    const n = await loaded({}, [motor]);
    n.receive({ payload: score(Date.now(), 0.8) });
    await settle();
    n.receive({ command: 'shelve', assetId: 'M-1', payload: { for: 3_600_000 } });
    await settle();
    await helper.setFlows(flow({ name: 'alert v2' }, [motor]));
    await settle(50);
    const alerts = collect('alerts');
    helper.getNode(alertId).receive({ command: 'get', assetId: 'M-1' });
    await settle();
    const summary = alerts[0].payload;
    assert.equal(summary.status, 'shelved');
    assert.equal(summary.episodes[0].shelved.kind, 'timed');
  });

  it('reports an invalid setting (overrides, M of N) instead of silently using it', async () => {
    const n = await loaded({ overrides: '{"toaster": {}}', mOfN: '9/2' }, [motor]);
    assert.ok(n.error.called);
    const messages = n.error.getCalls().map((c: { args: unknown[] }) => String(c.args[0]));
    assert.ok(messages.every((m: string) => /^pdm-alert\.errors\.config/.test(m)), messages.join('\n'));
    assert.equal(messages.length, 2);
  });

  it('redeploying 50 times leaves no timers or directory listeners behind', async () => {
    await loaded({}, [motor]);
    const { assetDirectory } = require('../../nodes/lib/assets/directory');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const listeners = assetDirectory.listenerCount;
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ name: `alert${i}`, onDelaySec: 100 + i }, [{ ...motor, name: `m${i}` }]));
      helper.getNode(alertId).receive({ payload: score(Date.now() + i, 0.8) });
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle(100);
    assert.ok(timers() <= baseline - 1, `timers: baseline ${baseline} (incl. one alert tick), now ${timers()}`);
    assert.equal(assetDirectory.listenerCount, listeners - 1);
  });
});
