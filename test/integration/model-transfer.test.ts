/**
 * Train centrally, score at the edge: pdm-anomaly models moving between TWO real Node-RED 4.1
 * runtimes run as child processes (`node node_modules/node-red/red.js --settings <file>
 * --userDir <tmp>`), each with this package linked into its userDir.
 *
 * Both run the same flow, served over HTTP (httpNodeRoot /api):
 *   POST /api/feed           an array of feature windows → pdm-anomaly; 200 once it called done()
 *                            (Complete node), 422 on done(err) (Catch node)
 *   POST /api/score          one feature window → its Score (output 1 answers the request)
 *   POST /api/cmd/:command   msg.command = :command, msg.assetId = body.assetId, payload = body →
 *                            the answer on output 2 (export: the model bundle), 422 when refused
 *
 * What is proven:
 *  - runtime A learns from replayed windows (warm-up, then a ready model) and publishes the model
 *    on output 2 after training, and exports it on request;
 *  - runtime B, which never sees a training window, is learning (score 0) before the import and,
 *    after importing A's model over HTTP, scores a fresh stretch of windows — normal ones, a 6σ
 *    bearing excursion, a joint shift, a masked startup window — exactly as A does: every field
 *    of every Score equal;
 *  - B refuses a model of a newer format version with the catalogued English reason (422), and
 *    the refusal changes nothing: B still scores identically afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir } from '../pack/support';
import { NodeRedChild, linkedUserDir } from '../helpers/node-red-child';
import { Prng } from '../../nodes/lib/anomaly/prng';
import { scoreProblem } from '../../nodes/lib/contracts/score';

const MIN = 60_000;
type Json = Record<string, any>;

const makeUserDir = (label: string, flows: Json[]): string => linkedUserDir(`model-transfer-${label}`, flows);

/** The runtime and the calls the test flow serves. */
class Runtime extends NodeRedChild {
  static start(userDir: string): Promise<Runtime> {
    return new Runtime(userDir, { httpMs: 20_000 }).start();
  }

  async feed(windows: Json[]): Promise<void> {
    const res = await this.http('POST', '/api/feed', windows);
    assert.equal(res.status, 200, `feed answered ${res.status}: ${JSON.stringify(res.body)}\n${this.text.slice(-2000)}`);
  }

  async score(window: Json): Promise<Json> {
    const res = await this.http('POST', '/api/score', window);
    assert.equal(res.status, 200, `score answered ${res.status}: ${JSON.stringify(res.body)}\n${this.text.slice(-2000)}`);
    return res.body as Json;
  }

  async command(command: string, body: Json = {}): Promise<{ status: number; body: any }> {
    return this.http('POST', `/api/cmd/${command}`, body);
  }
}

// ---------------------------------------------------------------------------------------------
// The flow (the same on both runtimes; only "publish models" differs)

const TAB = 'tab-transfer';
const NODE = 'anomaly-transfer';
const at = (x: number, y: number) => ({ z: TAB, x, y });
const route = (id: string, mode: string, pos: Json, extra: Json[] = []) => ({
  id,
  type: 'change',
  ...pos,
  name: '',
  rules: [{ t: 'set', p: 'mode', pt: 'msg', to: mode, tot: 'str' }, ...extra],
  wires: [[NODE]],
});
const only = (id: string, mode: string, pos: Json) => ({
  id,
  type: 'switch',
  ...pos,
  name: '',
  property: 'mode',
  propertyType: 'msg',
  rules: [{ t: 'eq', v: mode, vt: 'str' }],
  checkall: 'true',
  repair: false,
  outputs: 1,
  wires: [['resp']],
});

function transferFlow(publish: boolean): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'model transfer', disabled: false, info: '' },
    {
      id: NODE,
      type: 'pdm-anomaly',
      ...at(500, 200),
      name: '',
      root: 'pdm',
      method: 'combined',
      scope: 'asset',
      assetClass: 'pump',
      features: 'mean,std',
      warmupWindows: 180,
      warmupHours: 2,
      threshold: 0.5,
      retrainHours: 0,
      seed: 7,
      publish,
      store: '',
      persistSec: 60,
      wires: [['only-score'], ['only-cmd', 'count-models'], []],
    },
    { id: 'in-feed', type: 'http in', ...at(100, 100), url: '/feed', method: 'post', upload: false, swaggerDoc: '', wires: [['set-feed']] },
    { id: 'in-score', type: 'http in', ...at(100, 200), url: '/score', method: 'post', upload: false, swaggerDoc: '', wires: [['set-score']] },
    { id: 'in-cmd', type: 'http in', ...at(100, 300), url: '/cmd/:command', method: 'post', upload: false, swaggerDoc: '', wires: [['set-cmd']] },
    route('set-feed', 'feed', at(300, 100)),
    route('set-score', 'score', at(300, 200)),
    route('set-cmd', 'cmd', at(300, 300), [
      { t: 'set', p: 'command', pt: 'msg', to: 'req.params.command', tot: 'msg' },
      { t: 'set', p: 'assetId', pt: 'msg', to: 'payload.assetId', tot: 'msg' },
    ]),
    // Scores answer /score; command answers (output 2) answer /cmd; published models (no req) go nowhere.
    only('only-score', 'score', at(700, 160)),
    only('only-cmd', 'cmd', at(700, 240)),
    // A batch on /feed is answered when the node calls done() ...
    { id: 'complete', type: 'complete', ...at(500, 360), name: '', scope: [NODE], uncaught: false, wires: [['only-feed']] },
    only('only-feed', 'feed', at(700, 360)),
    // ... or done(err): rejected windows and refused commands.
    { id: 'catch', type: 'catch', ...at(500, 420), name: '', scope: [NODE], uncaught: false, wires: [['set-422']] },
    {
      id: 'set-422',
      type: 'change',
      ...at(700, 420),
      name: '',
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '422', tot: 'num' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
      ],
      wires: [['resp']],
    },
    // Published models, counted so the test can see that training published one.
    { id: 'count-models', type: 'function', ...at(900, 300), name: '', func: "if (msg.payload && msg.payload.format === 'pdm-anomaly-bundle' && !msg.req) flow.set('published', (flow.get('published') || 0) + 1);\nreturn null;", outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[]] },
    { id: 'in-published', type: 'http in', ...at(100, 480), url: '/published', method: 'get', upload: false, swaggerDoc: '', wires: [['get-published']] },
    { id: 'get-published', type: 'change', ...at(300, 480), name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'published', tot: 'flow' }], wires: [['resp']] },
    { id: 'resp', type: 'http response', ...at(900, 200), name: '', statusCode: '', headers: {}, wires: [] },
  ];
}

// ---------------------------------------------------------------------------------------------
// Replayed windows: a pump whose load wanders; current, flow, pressure and vibration follow it.

const T0 = Date.UTC(2025, 4, 5, 6, 0, 0);
function windows(from: number, to: number, seed: number, fault: (i: number) => Record<string, number> = () => ({})): Json[] {
  const rng = new Prng(seed);
  const out: Json[] = [];
  for (let i = from; i < to; i++) {
    const load = 0.85 + 0.05 * Math.sin(i / 40) + 0.01 * rng.normal();
    const f = fault(i);
    const mean: Record<string, number> = {
      current: 40 * load + 0.3 * rng.normal() + (f.current ?? 0) * 0.3,
      flow: 140 * load + 1.2 * rng.normal() + (f.flow ?? 0) * 1.2,
      pressure: 3.8 + 0.6 * load + 0.04 * rng.normal() + (f.pressure ?? 0) * 0.04,
      vibration_velocity: 1.9 + 0.08 * rng.normal() + (f.vibration_velocity ?? 0) * 0.08,
    };
    const features: Json = {};
    for (const [s, m] of Object.entries(mean)) {
      const std = (s === 'vibration_velocity' ? 0.3 : 0.05 * m) * (1 + 0.05 * rng.normal()) * (f.std ?? 1);
      features[s] = { n: 60, mean: m, rms: Math.sqrt(m * m + std * std), min: m - 2 * std, max: m + 2 * std, std, slope: 0.0005 * rng.normal() };
    }
    const transient = f.transient === 1;
    out.push({ assetId: 'P-101', start: T0 + i * MIN, end: T0 + (i + 1) * MIN, state: 'running', stateMs: { running: MIN }, transient, features });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('pdm-anomaly model transfer between two real Node-RED runtimes', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  let a: Runtime;
  let b: Runtime;

  before(async () => {
    const dirA = makeUserDir('central', transferFlow(true));
    const dirB = makeUserDir('edge', transferFlow(false));
    dirs.push(dirA, dirB);
    [a, b] = await Promise.all([Runtime.start(dirA), Runtime.start(dirB)]);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    for (const dir of dirs) removeDir(dir);
  });

  let bundle: Json;

  it('runtime A learns from replayed windows, publishes the model after training and exports it on request', async () => {
    const training = windows(0, 240, 11);
    for (let i = 0; i < training.length; i += 60) await a.feed(training.slice(i, i + 60));
    assert.equal((await a.http('GET', '/api/published')).body, 1, 'one model published after training');
    const exported = await a.command('export', { assetId: 'P-101' });
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    bundle = exported.body;
    assert.equal(bundle.format, 'pdm-anomaly-bundle');
    assert.equal(bundle.formatVersion, 1);
    assert.equal(bundle.key, 'P-101');
    assert.deepEqual(bundle.windowStats, ['mean', 'std']);
    assert.deepEqual(bundle.models.map((m: Json) => [m.id, m.version, m.samples]), [['P-101/running', 1, 180]]);
    const status = await a.command('status', { assetId: 'P-101' });
    assert.equal(status.body.models[0].learners[0].status, 'ready');
  });

  it('runtime B, which never saw a training window, is learning until it imports the model', async () => {
    const probe = windows(300, 301, 99)[0];
    const before = await b.score(probe);
    assert.equal(before.status, 'learning');
    assert.equal(before.score, 0);
    // B refuses a model of a newer format with the catalogued reason, and stays as it was.
    const newer = await b.command('import', { ...bundle, formatVersion: 2 });
    assert.equal(newer.status, 422);
    assert.match(newer.body, /^(Error: )?model refused: model bundle has format version 2, newer than this version of @pdm-twin\/node-red-pdm understands \(1\)/);
    const inner = await b.command('import', { ...bundle, models: [{ ...bundle.models[0], formatVersion: 5 }] });
    assert.equal(inner.status, 422);
    assert.match(inner.body, /^(Error: )?model refused: model P-101\/running has format version 5, newer than/);
    assert.equal((await b.score(windows(301, 302, 98)[0])).status, 'learning');

    const imported = await b.command('import', bundle);
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual(imported.body.imported, [{ key: 'P-101', state: 'running', id: 'P-101/running', version: 1 }]);
    assert.equal(b.log.includes('[error]'), false, b.log);
  });

  it('A and B score the same fresh windows identically: normal, a 6σ bearing excursion, a joint shift, a masked startup', async () => {
    const fault = (i: number): Record<string, number> => {
      if (i >= 420 && i < 426) return { vibration_velocity: 6 + (i - 420), std: 1.8 };
      if (i >= 440 && i < 444) return { current: -3, flow: -3.5, pressure: -3 };
      if (i === 450) return { transient: 1, current: 40 };
      return {};
    };
    const fresh = windows(400, 470, 23, fault);
    const fromA: Json[] = [];
    const fromB: Json[] = [];
    for (const w of fresh) {
      const [sa, sb] = await Promise.all([a.score(w), b.score(w)]);
      fromA.push(sa);
      fromB.push(sb);
    }
    for (const s of [...fromA, ...fromB]) assert.equal(scoreProblem(s), undefined, `${scoreProblem(s)}: ${JSON.stringify(s)}`);
    assert.deepEqual(fromB, fromA, 'B scores differently from A');
    // The comparison compares something: the model scored, flagged the faults and masked the startup.
    assert.ok(fromB.every((s) => s.status === 'ready' && s.model?.id === 'P-101/running' && s.model.version === 1));
    const flagged = fromB.map((s, i) => (s.anomalous ? 400 + i : -1)).filter((i) => i >= 0);
    assert.ok([420, 421, 422, 423, 424, 425].every((i) => flagged.includes(i)), `bearing windows not all flagged: ${flagged}`);
    assert.ok(flagged.filter((i) => i >= 440 && i < 444).length >= 3, `joint shift not flagged: ${flagged}`);
    assert.ok(flagged.filter((i) => i < 420 || (i >= 426 && i < 440) || i >= 444).length <= 3, `false alarms: ${flagged}`);
    assert.equal(fromB[50].masked, 'transient');
    assert.equal(fromB[22].topSignal, 'vibration_velocity');
    assert.ok(a.log.match(/\[error\]/) === null, a.log);
  });
});
