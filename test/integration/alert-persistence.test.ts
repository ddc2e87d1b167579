/**
 * pdm-alert persistence in a REAL Node-RED 4.1 runtime run as a child process
 * (`node node_modules/node-red/red.js --settings <file> --userDir <tmp>`), with this package linked
 * into <userDir>/node_modules, and the localfilesystem context store.
 *
 * The flow serves the alert node over HTTP (httpNodeRoot /api):
 *   POST /api/feed            scores / twin snapshots → pdm-alert; 200 once it called done(), 422 on done(err)
 *   POST /api/cmd/:command    {assetId?, episodeId?, options?} → msg.command etc.; answered by the
 *                             command's reply on output 1, or 422 when refused
 *
 * What is proven:
 *  (a) graceful stop (SIGTERM), default flushInterval, persistSec far away: the close handler
 *      saves, a new runtime on the same userDir brings back the same latest alerts (open
 *      episodes, acknowledgement, labels and precision, no-data state, asset ids with a dot or a
 *      space), the same KPI counts, and a shelving timer that then expires on time;
 *  (b) kill -9 with flushInterval 2 s and persistSec 1 s: saved within persistSec + one 1 s tick
 *      + flushInterval, so it survives a kill -9 after that; a change just before a kill -9
 *      (inside that window) is lost while the earlier state is intact;
 *  (c) memory store: a redeploy keeps the episodes (handover), a restart loses them.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { removeDir } from '../pack/support';
import { NodeRedChild, linkedUserDir, sleep } from '../helpers/node-red-child';

const TICK_S = 1; // pdm-alert checks "time to save?" once a second
const MIN = 60_000;
type Json = Record<string, any>;

const makeUserDir = (label: string, flows: Json[]): string => linkedUserDir(`alert-persist-${label}`, flows);

/** The runtime and the calls the test flow serves. */
class Runtime extends NodeRedChild {
  static async start(userDir: string, contextStorage?: Json): Promise<Runtime> {
    const rt = await new Runtime(userDir, { contextStorage }).start();
    try {
      // The node restores from its context before it answers; a list tells us it is up.
      await rt.waitFor(async () => (await rt.cmd('list')).status === 200, 15_000, 'pdm-alert');
    } catch (err) {
      await rt.kill9();
      throw err;
    }
    return rt;
  }

  async feed(items: Json[]): Promise<void> {
    const res = await this.http('POST', '/api/feed', items);
    assert.equal(res.status, 200, `feed answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  cmd(command: string, body: Json = {}): Promise<{ status: number; body: any }> {
    return this.http('POST', `/api/cmd/${command}`, body);
  }

  async ok(command: string, body: Json = {}): Promise<any> {
    const res = await this.cmd(command, body);
    assert.equal(res.status, 200, `${command} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

// ---------------------------------------------------------------------------------------------
// The flow

const TAB = 'tab-alert-persist';
const ALERT = 'alert-persist';
const at = (x: number, y: number) => ({ z: TAB, x, y });

function alertFlow(alert: Json = {}): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'alert persistence', disabled: false, info: '' },
    asset('asset-m1', 'M-1', 'motor'),
    asset('asset-p101', 'P.101', 'pump'),
    {
      id: ALERT,
      type: 'pdm-alert',
      ...at(400, 100),
      name: '',
      root: 'pdm',
      defaultClass: 'motor',
      scoreAbove: '',
      onDelaySec: 3600,
      mOfN: '3/5',
      widenBy: 0.15,
      agreeSec: 0,
      severeSec: 300,
      hysteresis: 0.05,
      // Nothing clears or escalates by itself while runtimes come and go.
      offDelaySec: 3600,
      deescalateSec: 3600,
      dataWarnSec: 3600,
      ackFrom: 'warning',
      latching: false,
      suppress: 'off, startup, shutdown',
      maxShelveSec: 28800,
      floodCount: 10,
      floodWindowSec: 600,
      floodEndCount: 5,
      floodSuppress: 'warning',
      kpiSec: 86400,
      overrides: '',
      store: '',
      persistSec: 5,
      wires: [['sw-cmd'], [], [], [], []],
      ...alert,
    },
    { id: 'in-feed', type: 'http in', ...at(100, 60), url: '/feed', method: 'post', upload: false, swaggerDoc: '', wires: [[ALERT]] },
    { id: 'in-cmd', type: 'http in', ...at(100, 140), url: '/cmd/:command', method: 'post', upload: false, swaggerDoc: '', wires: [['set-cmd']] },
    {
      id: 'set-cmd',
      type: 'change',
      ...at(250, 140),
      name: '',
      rules: [
        { t: 'set', p: 'command', pt: 'msg', to: 'req.params.command', tot: 'msg' },
        { t: 'set', p: 'assetId', pt: 'msg', to: 'payload.assetId', tot: 'msg' },
        { t: 'set', p: 'episodeId', pt: 'msg', to: 'payload.episodeId', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.options', tot: 'msg' },
      ],
      wires: [[ALERT]],
    },
    // Output 1 answers commands (it also carries latest alerts from the feed: no msg.command).
    { id: 'sw-cmd', type: 'switch', ...at(600, 100), name: '', property: 'command', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, wires: [['resp']] },
    { id: 'complete', type: 'complete', ...at(400, 300), name: '', scope: [ALERT], uncaught: false, wires: [['sw-feed']] },
    { id: 'sw-feed', type: 'switch', ...at(600, 300), name: '', property: 'command', propertyType: 'msg', rules: [{ t: 'null' }], checkall: 'true', repair: false, outputs: 1, wires: [['resp']] },
    { id: 'catch', type: 'catch', ...at(400, 360), name: '', scope: [ALERT], uncaught: false, wires: [['set-422']] },
    {
      id: 'set-422',
      type: 'change',
      ...at(600, 360),
      name: '',
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '422', tot: 'num' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
      ],
      wires: [['resp']],
    },
    { id: 'resp', type: 'http response', ...at(800, 200), name: '', statusCode: '', headers: {}, wires: [] },
  ];
}

function asset(id: string, assetId: string, assetClass: string): Json {
  return { id, type: 'pdm-asset', name: `asset ${assetId}`, assetId, assetClass, site: 'plant1', area: 'utilities', line: 'l1', ratedCurrentA: '20', ratedPowerKW: '', ratedSpeedRpm: '', ratedVoltageV: '', sensors: '', limits: '', thresholds: '' };
}

const score = (assetId: string, t: number, value: number): Json => ({
  assetId,
  window: { start: t - MIN, end: t },
  state: 'running',
  score: value,
  anomalous: value >= 0.5,
  threshold: 0.5,
  contributions: { vibration_velocity: 0.8, bearing_temperature: 0.2 },
  topSignal: 'vibration_velocity',
  model: { id: 'iforest', version: 4 },
  status: 'ready',
});
const staleSnapshot = (assetId: string, t: number): Json => ({
  thingId: `pdm:${assetId}`,
  assetId,
  attributes: { name: assetId, assetClass: 'fan', path: { site: 'plant2', area: 'hvac', line: 'ahu' } },
  features: { vibration_velocity: { properties: { value: 1, unit: 'mm/s', quality: 'good', ts: t - 10 * MIN, ageMs: 10 * MIN, stale: true, limit: 'normal', baseline: {} } } },
  state: { current: 'running', since: t - 60 * MIN, previous: 'startup' },
  updatedAt: t,
});

function savedOnDisk(userDir: string, key: string): Json | undefined {
  const file = path.join(userDir, 'context', TAB, `${ALERT}.json`);
  if (!fs.existsSync(file)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as Json)[key];
  } catch {
    return undefined; // caught mid-write
  }
}

/** The KPI figures that must survive (the period's end and report time move with the clock). */
const kpiCounts = (reports: Json[]) =>
  reports.map(({ site, alarms, priorityMix, badActors, feedback, suppressedByFlood, floods, standing, shelved, period }) => ({ site, alarms, priorityMix, badActors, feedback, suppressedByFlood, floods, standing, shelved, start: period.start })).sort((a, b) => (a.site < b.site ? -1 : 1));

// ---------------------------------------------------------------------------------------------

describe('pdm-alert persistence in a real Node-RED runtime', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  const runtimes: Runtime[] = [];
  const started = async (userDir: string, contextStorage?: Json) => {
    const rt = await Runtime.start(userDir, contextStorage);
    runtimes.push(rt);
    return rt;
  };
  const newUserDir = (label: string, flows: Json[]) => {
    const dir = makeUserDir(label, flows);
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const rt of runtimes) await rt.kill9();
    for (const dir of dirs) removeDir(dir);
  });

  it('(a) graceful stop, then a new runtime: the same alerts, KPIs and shelving timer come back, and go on', { timeout: 120_000 }, async () => {
    const fileStore = { default: { module: 'localfilesystem' } };
    const userDir = newUserDir('graceful', alertFlow({ persistSec: 3600 }));
    const r1 = await started(userDir, fileStore);
    const t = Date.now();
    await r1.feed([score('M-1', t - 3 * MIN, 0.8), score('M-1', t - 2 * MIN, 0.82), score('M-1', t - MIN, 0.85)]);
    await r1.feed([score('P.101', t - MIN, 0.7), staleSnapshot('unit 7', t)]);
    const m1 = await r1.ok('get', { assetId: 'M-1' });
    assert.equal(m1.tier, 'warning');
    const episodeM1 = m1.episodes[0].episodeId;
    await r1.ok('acknowledge', { episodeId: episodeM1, options: { by: 'op1' } });
    await r1.ok('label', { assetId: 'M-1', options: { label: 'true_fault', by: 'tech1' } });
    const shelveMs = 25_000;
    const shelvedAt = Date.now();
    const p101 = await r1.ok('shelve', { assetId: 'P.101', options: { for: shelveMs, by: 'op2' } });
    assert.equal(p101.status, 'shelved');
    const until = p101.episodes[0].shelved.until;
    assert.ok(until >= shelvedAt + shelveMs);

    const before: Record<string, Json> = {};
    for (const id of ['M-1', 'P.101', 'unit 7']) before[id] = await r1.ok('get', { assetId: id });
    assert.equal(before['unit 7'].status, 'no_data');
    assert.equal(before['M-1'].episodes[0].acknowledged, true);
    assert.deepEqual(before['M-1'].precision, { truePositives: 1, falseAlarms: 0, precision: 1 });
    const list = await r1.ok('list');
    const kpi = await r1.ok('kpi');
    assert.equal(savedOnDisk(userDir, 'alert:M-1'), undefined, 'nothing saved before the stop (persistSec 3600, flushInterval 30 s)');

    await r1.stop();
    assert.equal(r1.exit?.code, 0, `Node-RED exit: ${JSON.stringify(r1.exit)}\n${r1.log.slice(-2000)}`);
    assert.equal(savedOnDisk(userDir, 'alert:M-1')?.points?.bearing_wear?.episode?.id, episodeM1, 'saved on close and flushed to disk');
    assert.ok(savedOnDisk(userDir, 'alert:P%2E101'), 'an asset id with a dot is saved under an escaped key');
    assert.ok(savedOnDisk(userDir, 'alert:unit%207'), 'an asset id with a space is saved under an escaped key');
    assert.ok(savedOnDisk(userDir, 'alert-site:plant1'), 'the site (KPIs, flood) is saved');

    const r2 = await started(userDir, fileStore);
    for (const id of ['M-1', 'P.101', 'unit 7']) assert.deepEqual(await r2.ok('get', { assetId: id }), before[id], `${id} after the restart`);
    assert.deepEqual(await r2.ok('list'), list);
    assert.deepEqual(kpiCounts(await r2.ok('kpi')), kpiCounts(kpi));
    assert.doesNotMatch(r2.log, /Saving alerts failed|was not restored/);

    // The shelving timer runs on: P.101 is unshelved at `until`, not before.
    assert.equal((await r2.ok('get', { assetId: 'P.101' })).status, 'shelved');
    await r2.waitFor(async () => (await r2.ok('get', { assetId: 'P.101' })).episodes[0].shelved === null, shelveMs + 15_000, 'the shelving to expire');
    assert.ok(Date.now() >= until, 'unshelved before its time');
    assert.equal((await r2.ok('get', { assetId: 'P.101' })).status, 'alert');
    // And the restored episodes go on: same ids, a new label moves the precision.
    await r2.ok('label', { episodeId: episodeM1, options: { label: 'false_alarm', reason: 'mode_shift' } });
    const after = await r2.ok('get', { assetId: 'M-1' });
    assert.equal(after.episodes[0].episodeId, episodeM1);
    assert.deepEqual(after.precision, { truePositives: 0, falseAlarms: 1, precision: 0 });
    await r2.stop();
  });

  it('(b) kill -9: saved within persistSec + tick + flushInterval; a change inside that window is lost, the rest is intact', { timeout: 120_000 }, async () => {
    const FLUSH_S = 2;
    const PERSIST_S = 1;
    const fileStore = { default: { module: 'localfilesystem', config: { flushInterval: FLUSH_S } } };
    const userDir = newUserDir('kill', alertFlow({ persistSec: PERSIST_S }));
    const r1 = await started(userDir, fileStore);
    const t = Date.now();
    await r1.feed([score('M-1', t - 2 * MIN, 0.8), score('M-1', t - MIN, 0.81), score('M-1', t, 0.83)]);
    const fedAt = Date.now();
    const s1 = await r1.ok('get', { assetId: 'M-1' });
    const episodeId = s1.episodes[0].episodeId;
    const window = (PERSIST_S + TICK_S + FLUSH_S) * 1000;
    await r1.waitFor(() => savedOnDisk(userDir, 'alert:M-1')?.points?.bearing_wear?.episode?.tier === 'warning', window + 5_000, 'the episode on disk');
    const onDiskAfter = Date.now() - fedAt;
    assert.ok(onDiskAfter <= window + 1_500, `on disk after ${onDiskAfter} ms; documented window ${window} ms`);
    await r1.kill9();
    assert.equal(r1.exit?.signal, 'SIGKILL');

    const r2 = await started(userDir, fileStore);
    assert.deepEqual(await r2.ok('get', { assetId: 'M-1' }), s1, 'everything older than the loss window came back');

    // Shelve, then kill -9 at once — inside the loss window.
    const changedAt = Date.now();
    const shelved = await r2.ok('shelve', { episodeId, options: { for: 3_600_000 } });
    assert.equal(shelved.status, 'shelved');
    await r2.kill9();
    const killedAfter = Date.now() - changedAt;
    assert.ok(killedAfter < FLUSH_S * 1000, `kill -9 came ${killedAfter} ms after the change: not inside the loss window`);

    const r3 = await started(userDir, fileStore);
    const s3 = await r3.ok('get', { assetId: 'M-1' });
    assert.deepEqual(s3, s1, 'the shelving inside the loss window is lost, the episode before it is intact');
    await r3.stop();
  });

  it('(c) memory store: a redeploy keeps the episodes, a restart loses them', { timeout: 120_000 }, async () => {
    const flows = alertFlow({ persistSec: 1 });
    const userDir = newUserDir('memory', flows);
    for (const contextStorage of [{ default: { module: 'memory' } }, undefined]) {
      const what = contextStorage ? 'memory store configured' : 'no contextStorage';
      const rt = await started(userDir, contextStorage);
      assert.deepEqual(await rt.ok('list'), [], `${what}: a restart starts with no alerts`);
      await rt.feed([score('M-1', Date.now(), 0.9)]);
      await rt.ok('shelve', { assetId: 'M-1', options: { once: true } });
      const before = await rt.ok('get', { assetId: 'M-1' });
      assert.equal(before.status, 'shelved');

      await rt.deploy(flows, 'full');
      await rt.waitFor(async () => (await rt.cmd('get', { assetId: 'M-1' })).status === 200, 10_000, 'the redeployed flow');
      assert.deepEqual(await rt.ok('get', { assetId: 'M-1' }), before, `${what}: full redeploy keeps the alert`);
      await rt.deploy(alertFlow({ persistSec: 1, name: `renamed ${what}` }), 'nodes');
      await sleep(200);
      assert.deepEqual(await rt.ok('get', { assetId: 'M-1' }), before, `${what}: redeploying the alert node keeps the alert`);
      await rt.stop();
      assert.equal(rt.exit?.code, 0);
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
    }
  });
});
