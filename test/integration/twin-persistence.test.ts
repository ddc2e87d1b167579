/**
 * pdm-twin persistence in a REAL Node-RED 4.1 runtime run as a child process
 * (`node node_modules/node-red/red.js --settings <file> --userDir <tmp>`), with this package linked
 * into <userDir>/node_modules the way scripts/start.js does it.
 *
 * The flow serves the twin over HTTP (httpNodeRoot /api):
 *   POST /api/feed           readings → pdm-twin; answered when the twin calls done() (Complete
 *                            node) or done(err) (Catch node, 422), so a 200 means "ingested"
 *   GET  /api/twin/:id       command get → the snapshot (output 1), or 422 unknown_twin
 *   POST /api/event/:id      command event (maintenance / label)
 *   GET  /api/list           command list
 *
 * What is proven:
 *  (a) graceful stop (SIGTERM) with the default 30 s flushInterval and persistSec far away: the
 *      close handler saves and Node-RED flushes on close, so a new runtime on the same userDir
 *      brings back the same twin (state, counters, baselines, latest values, history, version);
 *  (b) kill -9 with localfilesystem flushInterval 2 s and persistSec 1 s: an update is on disk
 *      within persistSec + one 1 s tick + flushInterval, so it survives a kill -9 after that; updates
 *      made just before a kill -9 (inside that window) are lost while the earlier state is intact;
 *  (c) memory store: a redeploy (full, and of the twin node alone) keeps the twins, a restart
 *      loses them — with the memory store configured and with no contextStorage at all.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { removeDir } from '../pack/support';
import { NodeRedChild, linkedUserDir, sleep } from '../helpers/node-red-child';

const TICK_S = 1; // pdm-twin checks "time to save?" once a second
type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// A Node-RED child process with our own settings (context store, HTTP root, allow list)

interface RuntimeSettings {
  /** `contextStorage` as written to settings.js; undefined = none configured (Node-RED's default memory). */
  contextStorage?: Json;
}

/** Creates a userDir with the package linked in and a flow file; returns its path. */
const makeUserDir = (label: string, flows: Json[]): string => linkedUserDir(`twin-persist-${label}`, flows);

/** The runtime and the calls the test flow serves. */
class Runtime extends NodeRedChild {
  static start(userDir: string, settings: RuntimeSettings = {}): Promise<Runtime> {
    return new Runtime(userDir, settings).start();
  }

  /** Feeds readings; resolves once pdm-twin has called done() for them. */
  async feed(readings: Json[]): Promise<void> {
    const res = await this.http('POST', '/api/feed', readings);
    assert.equal(res.status, 200, `feed answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  async get(assetId: string): Promise<{ status: number; body: any }> {
    return this.http('GET', `/api/twin/${encodeURIComponent(assetId)}`);
  }

  async snapshot(assetId: string): Promise<Json> {
    const res = await this.get(assetId);
    assert.equal(res.status, 200, `get ${assetId} answered ${res.status}: ${JSON.stringify(res.body)}\n${this.text.slice(-2000)}`);
    return res.body as Json;
  }
}

// ---------------------------------------------------------------------------------------------
// The flow

const TAB = 'tab-persist';
const TWIN = 'twin-persist';
const at = (x: number, y: number) => ({ z: TAB, x, y });

function twinFlow(twin: Json = {}): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'twin persistence', disabled: false, info: '' },
    asset('asset-m1', 'M-1', 'motor', '20'),
    asset('asset-p1', 'P.101', 'pump', '30'),
    {
      id: TWIN,
      type: 'pdm-twin',
      ...at(400, 100),
      name: '',
      root: 'pdm',
      windowSec: 3600,
      // Stale detection would flip flags (and bump the version) while a runtime is down; off here.
      staleFactor: 1e6,
      snapshotSec: 1,
      unknownAssets: 'create',
      defaultClass: 'motor',
      fleet: '',
      store: '',
      persistSec: 5,
      wires: [['sw-cmd'], [], [], []],
      ...twin,
    },
    { id: 'in-feed', type: 'http in', ...at(100, 60), url: '/feed', method: 'post', upload: false, swaggerDoc: '', wires: [[TWIN]] },
    { id: 'in-get', type: 'http in', ...at(100, 120), url: '/twin/:id', method: 'get', upload: false, swaggerDoc: '', wires: [['set-get']] },
    { id: 'in-event', type: 'http in', ...at(100, 180), url: '/event/:id', method: 'post', upload: false, swaggerDoc: '', wires: [['set-event']] },
    { id: 'in-list', type: 'http in', ...at(100, 240), url: '/list', method: 'get', upload: false, swaggerDoc: '', wires: [['set-list']] },
    change('set-get', 'get', at(250, 120)),
    change('set-event', 'event', at(250, 180)),
    change('set-list', 'list', at(250, 240)),
    // Output 1 answers commands with msg.reply (it also carries snapshots of readings and ticks: no msg.reply).
    { id: 'sw-cmd', type: 'switch', ...at(600, 100), name: '', property: 'reply', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, wires: [['resp']] },
    // Readings are answered when the twin calls done() ...
    { id: 'complete', type: 'complete', ...at(400, 300), name: '', scope: [TWIN], uncaught: false, wires: [['sw-reading']] },
    { id: 'sw-reading', type: 'switch', ...at(600, 300), name: '', property: 'command', propertyType: 'msg', rules: [{ t: 'null' }], checkall: 'true', repair: false, outputs: 1, wires: [['resp']] },
    // ... or done(err): rejected readings and refused commands.
    { id: 'catch', type: 'catch', ...at(400, 360), name: '', scope: [TWIN], uncaught: false, wires: [['set-422']] },
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

function asset(id: string, assetId: string, assetClass: string, ratedCurrentA: string): Json {
  return {
    id,
    type: 'pdm-asset',
    name: `asset ${assetId}`,
    assetId,
    assetClass,
    site: 'plant1',
    area: 'utilities',
    line: 'l1',
    ratedCurrentA,
    ratedPowerKW: '',
    ratedSpeedRpm: '',
    ratedVoltageV: '',
    sensors: 'current, vibration_velocity',
    limits: '',
    thresholds: '',
  };
}

function change(id: string, command: string, pos: Json): Json {
  return {
    id,
    type: 'change',
    ...pos,
    name: '',
    rules: [
      { t: 'set', p: 'command', pt: 'msg', to: command, tot: 'str' },
      { t: 'set', p: 'assetId', pt: 'msg', to: 'req.params.id', tot: 'msg' },
    ],
    wires: [[TWIN]],
  };
}

// ---------------------------------------------------------------------------------------------
// Readings: current traces that drive the operating state, plus vibration

const reading = (assetId: string, signal: string, value: number, ts: number): Json => ({
  assetId,
  signal,
  value,
  unit: signal === 'current' ? 'A' : 'mm/s',
  ts,
  quality: 'good',
});

/**
 * off → inrush (startup, 10 s window) → running → overload → running → stop (shutdown, 5 s) → off
 * → start → running; rated current `rated`. Ends running, so no timed window is pending.
 */
function cycle(assetId: string, rated: number, t0: number, level = 0.8): Json[] {
  const out: Json[] = [];
  let t = t0;
  const push = (current: number, seconds: number, vib: number) => {
    for (let i = 0; i < seconds; i++, t += 1000) {
      out.push(reading(assetId, 'current', current + (i % 3) * 0.1, t));
      out.push(reading(assetId, 'vibration_velocity', vib + (i % 5) * 0.05, t));
    }
  };
  push(0, 5, 0.1); // off
  push(rated * 6, 2, 3.5); // inrush
  push(rated * level, 30, 1.2); // startup window, then running
  push(rated * 1.3, 10, 2.0); // overload
  push(rated * level, 10, 1.3); // running
  push(0, 10, 0.2); // stop: shutdown, then off
  push(rated * 5, 2, 3.2); // start again
  push(rated * level, 20, 1.1); // running
  return out;
}

/** Everything a snapshot carries that must come back identical (ages and pending changes excluded). */
function persistent(snapshot: Json): Json {
  const { changes: _changes, ...rest } = snapshot;
  const features: Json = {};
  for (const [signal, f] of Object.entries<Json>(snapshot.features)) {
    const { ageMs: _age, ...props } = f.properties;
    features[signal] = props;
  }
  return { ...rest, features };
}

/** The twin as saved on disk by the localfilesystem store, if any. */
function savedOnDisk(userDir: string, assetId: string): Json | undefined {
  const file = path.join(userDir, 'context', TAB, `${TWIN}.json`);
  if (!fs.existsSync(file)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as Json)[`twin:${assetId}`];
  } catch {
    return undefined; // caught mid-write
  }
}

// ---------------------------------------------------------------------------------------------

describe('pdm-twin persistence in a real Node-RED runtime', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  const runtimes: Runtime[] = [];
  const started = async (userDir: string, settings?: RuntimeSettings) => {
    const rt = await Runtime.start(userDir, settings);
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

  // State shared by (a) and the dotted-id case that follows it.
  let graceful: { rt: Runtime; dotted: Json } | undefined;

  it('(a) graceful stop, then a new runtime on the same userDir: the same twin comes back', { timeout: 90_000 }, async () => {
    // Default flushInterval (30 s) and a save period far away: only the close path can save.
    const fileStore = { default: { module: 'localfilesystem' } };
    const userDir = newUserDir('graceful', twinFlow({ persistSec: 3600 }));
    const r1 = await started(userDir, { contextStorage: fileStore });
    const t0 = Date.now() - 10 * 60_000;
    await r1.feed(cycle('M-1', 20, t0));
    await r1.feed(cycle('P.101', 30, t0, 0.9));
    const ev = await r1.http('POST', '/api/event/M-1', { kind: 'maintenance', type: 'inspection', note: 'DE bearing greased', by: 'tech1' });
    assert.equal(ev.status, 200, JSON.stringify(ev.body));

    const before = await r1.snapshot('M-1');
    // The trace did what it should, so the comparison below compares something.
    assert.equal(before.state.current, 'running');
    assert.equal(before.counters.starts, 2);
    assert.equal(before.counters.stops, 1);
    assert.ok(before.counters.timeInStateMs.overload > 0 && before.counters.timeInStateMs.off > 0);
    assert.ok(before.features.current.properties.baseline.running.n > 20);
    assert.ok(before.features.current.properties.baseline.overload.n >= 9);
    assert.ok(before.features.vibration_velocity.properties.baseline.running.n > 20);
    assert.equal(before.maintenance.events.length, 1);
    assert.ok(before.version > 5);
    const dotted = await r1.snapshot('P.101');
    assert.equal(savedOnDisk(userDir, 'M-1'), undefined, 'nothing saved before the stop (persistSec 3600, flushInterval 30 s)');

    await r1.stop();
    assert.equal(r1.exit?.code, 0, `Node-RED exit: ${JSON.stringify(r1.exit)}\n${r1.log.slice(-2000)}`);
    assert.equal(savedOnDisk(userDir, 'M-1')?.version, before.version, 'saved on close and flushed to disk');

    const r2 = await started(userDir, { contextStorage: fileStore });
    const restored = await r2.snapshot('M-1');
    assert.deepEqual(persistent(restored), persistent(before));
    // A living twin, not a copy: it goes on counting from where it was.
    const last = cycle('M-1', 20, t0).at(-1)!.ts as number;
    await r2.feed([reading('M-1', 'current', 0, last + 1000)]);
    const next = await r2.snapshot('M-1');
    assert.equal(next.state.current, 'shutdown');
    assert.equal(next.version, before.version + 1);
    assert.equal(next.features.current.properties.baseline.running.n, before.features.current.properties.baseline.running.n);
    assert.doesNotMatch(r2.log, /Saved twin of M-1 was not restored|Saving twins failed/);
    graceful = { rt: r2, dotted };
  });

  // Context keys are Node-RED property expressions: "twin:P.101" is saved as {"twin:P": {"101": …}}
  // and an id with a space throws. Legal asset ids (ASSET_ID_PATTERN) must survive a restart too.
  it('(a) … an asset id with a dot survives the restart as well', async () => {
    assert.ok(graceful, 'needs (a)');
    const res = await graceful.rt.get('P.101');
    assert.equal(res.status, 200, `get P.101 answered ${res.status}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(persistent(res.body), persistent(graceful.dotted));
  });

  it('(b) kill -9: saved within persistSec + flushInterval, later updates lost, earlier state intact', { timeout: 90_000 }, async () => {
    const FLUSH_S = 2;
    const PERSIST_S = 1;
    const fileStore = { default: { module: 'localfilesystem', config: { flushInterval: FLUSH_S } } };
    const userDir = newUserDir('kill', twinFlow({ persistSec: PERSIST_S }));
    const r1 = await started(userDir, { contextStorage: fileStore });
    const t0 = Date.now() - 10 * 60_000;
    const phase1 = cycle('M-1', 20, t0);
    await r1.feed(phase1);
    const fedAt = Date.now();
    const s1 = await r1.snapshot('M-1');

    // On disk no later than persistSec (checked on 1 s ticks) + flushInterval.
    const window = (PERSIST_S + TICK_S + FLUSH_S) * 1000;
    await r1.waitFor(() => savedOnDisk(userDir, 'M-1')?.version === s1.version, window + 5_000, 'the twin on disk');
    const onDiskAfter = Date.now() - fedAt;
    assert.ok(onDiskAfter <= window + 1_500, `on disk after ${onDiskAfter} ms; documented window ${window} ms`);
    await r1.kill9();
    assert.equal(r1.exit?.signal, 'SIGKILL');

    const r2 = await started(userDir, { contextStorage: fileStore });
    const s2 = await r2.snapshot('M-1');
    assert.deepEqual(persistent(s2), persistent(s1), 'everything older than the loss window came back');

    // Phase 2: overload and a stop, then kill -9 at once — inside the loss window.
    const t1 = (phase1.at(-1)!.ts as number) + 1000;
    const phase2: Json[] = [];
    for (let i = 0; i < 8; i++) phase2.push(reading('M-1', 'current', 27 + i * 0.1, t1 + i * 1000), reading('M-1', 'vibration_velocity', 2.5, t1 + i * 1000));
    phase2.push(reading('M-1', 'current', 0, t1 + 9000));
    const phase2At = Date.now();
    await r2.feed(phase2);
    const s3 = await r2.snapshot('M-1');
    assert.equal(s3.state.current, 'shutdown');
    assert.ok(s3.version > s1.version);
    await r2.kill9();
    const killedAfter = Date.now() - phase2At;
    assert.ok(killedAfter < FLUSH_S * 1000, `kill -9 came ${killedAfter} ms after the updates: not inside the loss window`);

    const r3 = await started(userDir, { contextStorage: fileStore });
    const s4 = await r3.snapshot('M-1');
    assert.deepEqual(persistent(s4), persistent(s1), 'the updates inside the loss window are lost, the earlier twin is intact');
    assert.equal(s4.state.current, 'running');
    assert.equal(s4.features.current.properties.value, s1.features.current.properties.value);
    assert.equal(s4.features.current.properties.baseline.overload.n, s1.features.current.properties.baseline.overload.n);
    await r3.stop();
  });

  it('(c) memory store: a redeploy keeps the twins, a restart loses them', { timeout: 90_000 }, async () => {
    const flows = twinFlow({ persistSec: 1 });
    const userDir = newUserDir('memory', flows);
    const t0 = Date.now() - 10 * 60_000;

    for (const contextStorage of [{ default: { module: 'memory' } }, undefined]) {
      const what = contextStorage ? 'memory store configured' : 'no contextStorage';
      const rt = await started(userDir, { contextStorage });
      assert.equal((await rt.get('M-1')).status, 422, `${what}: a restart starts with no twins`);
      assert.deepEqual((await rt.http('GET', '/api/list')).body, [], `${what}: list is empty after the restart`);
      await rt.feed(cycle('M-1', 20, t0));
      const before = await rt.snapshot('M-1');

      await rt.deploy(flows, 'full');
      await rt.waitFor(async () => (await rt.get('M-1')).status !== 404, 10_000, 'the redeployed flow');
      assert.deepEqual(persistent(await rt.snapshot('M-1')), persistent(before), `${what}: full redeploy keeps the twin`);

      await rt.deploy(twinFlow({ persistSec: 1, name: `renamed ${what}` }), 'nodes');
      await sleep(200);
      assert.deepEqual(persistent(await rt.snapshot('M-1')), persistent(before), `${what}: redeploying the twin node keeps the twin`);
      await rt.stop();
      assert.equal(rt.exit?.code, 0);
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
    }
  });
});
