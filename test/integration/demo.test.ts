/**
 * The demo that `npm start` runs, end to end: scripts/start.js in test mode (free ports, a
 * temporary userDir, the simulators PDM_DEMO_FACTOR times faster than the wall clock) with its
 * embedded aedes broker, observed only from the outside — through MQTT (the mqtt package) and
 * the local work-order inbox's HTTP route.
 *
 * What is proven, in simulated time (event time on the readings, the twin, scores and alerts):
 *  - every asset of the demo publishes a retained `…/state` within 30 s of the flows starting,
 *    and readings on `…/raw/<signal>` and `…/clean/<signal>`;
 *  - the bearing fault injected into P-101 raises a warning, then an action alert at least
 *    30 simulated minutes before the simulated failure (the simulator's ground truth, published
 *    on `pdm-simulate/truth/P-101`);
 *  - over a whole simulated day with starts and stops, the healthy assets raise no action alert;
 *  - with pdm-cmms in the demo: every alert episode that reached the action tier has exactly one
 *    work order in the local inbox, and none is there twice.
 *
 * PDM_DEMO_TEST_FACTOR overrides the acceleration (default 600: a simulated day in 2.4 minutes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { freePort, removeDir, repoRoot, tempDir } from '../pack/support';

type Json = Record<string, any>;
const MIN = 60_000;
const HOUR = 60 * MIN;
const FACTOR = Number(process.env.PDM_DEMO_TEST_FACTOR || 600);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const demo = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', 'demo.json'), 'utf8')) as Json[];
const twinNode = demo.find((n) => n.type === 'pdm-twin')!;
const ASSETS = (JSON.parse(twinNode.fleet) as Json[]).map((a) => a.id as string);
const FAULTY = 'P-101';
const HEALTHY = ASSETS.filter((id) => id !== FAULTY);
const HAS_CMMS = demo.some((n) => n.type === 'pdm-cmms');
const HAS_ANOMALY = demo.some((n) => n.type === 'pdm-anomaly');

/** What the broker showed us, in arrival order. */
interface Seen {
  at: number;
  topic: string;
  payload: Json;
  retain: boolean;
}

class Demo {
  readonly child: ChildProcess;
  log = '';
  exited = false;
  constructor(
    readonly port: number,
    readonly mqttPort: number,
    readonly userDir: string,
  ) {
    this.child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.js')], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), PDM_MQTT_PORT: String(mqttPort), PDM_USERDIR: userDir, PDM_DEMO_FACTOR: String(FACTOR), PDM_MQTT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: start.js, Node-RED and nothing else
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.log += d));
    this.child.on('exit', () => (this.exited = true));
  }

  async waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exited) throw new Error(`the demo exited while waiting for ${what}:\n${this.log.slice(-4000)}`);
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.log.slice(-4000)}`);
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const hard = setTimeout(() => {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    await gone;
    clearTimeout(hard);
  }
}

function subscribe(port: number, topics: string[], seen: Seen[]): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 500, connectTimeout: 5000 });
    client.on('message', (topic, buf, packet) => {
      let payload: Json;
      try {
        payload = JSON.parse(buf.toString('utf8'));
      } catch {
        payload = { text: buf.toString('utf8') };
      }
      seen.push({ at: Date.now(), topic, payload, retain: packet.retain });
    });
    client.once('connect', () => client.subscribe(topics, { qos: 0 }, (err) => (err ? reject(err) : resolve(client))));
    client.once('error', reject);
  });
}

const level = (topic: string, i: number) => topic.split('/')[i];
const iso = (ts: number) => new Date(ts).toISOString().slice(0, 16).replace('T', ' ');

describe(`the demo (npm start) at ${FACTOR}× with its embedded broker`, { timeout: 20 * MIN }, () => {
  let run: Demo | undefined;
  let client: MqttClient | undefined;
  let userDir: string | undefined;
  let flowsStarted = 0;
  const seen: Seen[] = [];

  before(async () => {
    userDir = tempDir('demo');
    run = new Demo(await freePort(), await freePort(), userDir);
    await run.waitFor(() => /embedded MQTT broker on/.test(run!.log), 30_000, 'the embedded broker');
    // Subscribe before the flows start, so nothing published is missed.
    client = await subscribe(
      run.mqttPort,
      ['pdm/+/+/+/+/state', 'pdm/+/+/+/+/alert', 'pdm/+/+/+/+/event', 'pdm/+/+/+/+/model', 'pdm/+/+/+/+/raw/vibration_velocity', 'pdm/+/+/+/+/clean/vibration_velocity', 'pdm-simulate/truth/#'],
      seen,
    );
    await run.waitFor(() => /\[info\] Started flows/.test(run!.log), 120_000, 'Node-RED to start the demo flows');
    flowsStarted = Date.now();
  });

  after(async () => {
    client?.end(true);
    await run?.stop();
    removeDir(userDir);
  });

  /** The simulator's ground truth of P-101's bearing fault (retained, so always there). */
  const truth = () => seen.filter((s) => s.topic === `pdm-simulate/truth/${FAULTY}` && s.payload.kind === 'fault').map((s) => s.payload);
  /** Simulated time reached: the newest clean reading. */
  const simNow = () => seen.reduce((t, s) => (s.topic.includes('/clean/') && typeof s.payload.ts === 'number' ? Math.max(t, s.payload.ts) : t), 0);
  const alertEvents = () => seen.filter((s) => s.topic.endsWith('/event') && typeof s.payload.transition === 'string').map((s) => s.payload);

  it('publishes a retained state for every asset within 30 s of the flows starting', async () => {
    const states = () => new Set(seen.filter((s) => s.topic.endsWith('/state')).map((s) => s.payload.assetId));
    await run!.waitFor(() => ASSETS.every((id) => states().has(id)), Math.max(0, flowsStarted + 30_000 - Date.now()), 'a …/state of every asset').catch((err: Error) => {
      throw new Error(`${err.message.split(':')[0]}: missing ${ASSETS.filter((id) => !states().has(id)).join(', ')}\n${run!.log.slice(-3000)}`);
    });
    // Retained: a client that connects now gets every asset's latest state at once.
    const late: Seen[] = [];
    const other = await subscribe(run!.mqttPort, ['pdm/+/+/+/+/state'], late);
    try {
      await run!.waitFor(() => ASSETS.every((id) => late.some((s) => s.retain && s.payload.assetId === id)), 10_000, 'retained states for a new subscriber');
    } finally {
      other.end(true);
    }
    for (const s of late.filter((l) => l.retain)) {
      assert.equal(level(s.topic, 0), 'pdm');
      assert.equal(level(s.topic, 4), s.payload.assetId, `${s.topic} is not the asset's state topic`);
      assert.ok(['demo-plant'].includes(level(s.topic, 1)), s.topic);
    }
  });

  it('publishes raw and clean readings of every asset on …/raw/<signal> and …/clean/<signal>', async () => {
    const has = (kind: string, id: string) => seen.some((s) => s.topic.endsWith(`/${id}/${kind}/vibration_velocity`));
    await run!.waitFor(() => ASSETS.every((id) => has('raw', id) && has('clean', id)), 30_000, 'raw and clean vibration readings of every asset');
    const clean = seen.find((s) => s.topic.includes('/clean/'))!;
    assert.equal(clean.retain, false, 'readings are never retained');
    assert.equal(clean.payload.unit, 'mm/s');
    assert.equal(clean.payload.quality, 'good');
  });

  it(`raises a warning, then an action alert on ${FAULTY} at least 30 simulated minutes before its bearing fails`, async () => {
    await run!.waitFor(() => truth().length > 0, 30_000, `the ground truth of ${FAULTY}'s fault`);
    const fault = truth()[0]!;
    assert.equal(fault.fault, 'bearing_wear');
    const failureAt = fault.failureAt as number;
    // Up to the failure, with room for a slower machine than the one the factor was chosen on.
    const wallMs = ((failureAt - simNow()) / FACTOR) * 3 + 60_000;
    await run!.waitFor(() => simNow() > failureAt + 10 * MIN, wallMs, `simulated time to pass the failure at ${iso(failureAt)}`);
    await sleep(2000); // alerts of the last windows
    const mine = alertEvents().filter((e) => e.assetId === FAULTY && typeof e.ts === 'number' && e.ts >= fault.onset && e.ts <= failureAt);
    const first = (tier: string) => mine.filter((e) => e.tier === tier && ['raised', 'escalated', 'reactivated'].includes(e.transition)).sort((a, b) => a.ts - b.ts)[0];
    const warning = first('warning');
    const action = first('action');
    const story = mine.map((e) => `${iso(e.ts)} ${e.transition} ${e.tier ?? ''} ${e.failureMode?.id ?? ''}: ${e.reason}`).join('\n');
    assert.ok(warning, `no warning on ${FAULTY} between the onset (${iso(fault.onset)}) and the failure (${iso(failureAt)}):\n${story}`);
    assert.ok(action, `no action alert on ${FAULTY} before the failure (${iso(failureAt)}):\n${story}`);
    assert.ok(warning.ts <= action.ts, `the action alert (${iso(action.ts)}) came before the first warning (${iso(warning.ts)})`);
    const leadMin = (failureAt - action.ts) / MIN;
    assert.ok(leadMin >= 30, `the action alert came only ${leadMin.toFixed(0)} simulated minutes before the failure:\n${story}`);
    console.log(
      `# ${FAULTY}: onset ${iso(fault.onset)}, warning ${iso(warning.ts)} (${warning.failureMode?.id}), action ${iso(action.ts)} (${action.failureMode?.id}), ` +
        `failure ${iso(failureAt)}: action ${(leadMin / 60).toFixed(1)} h ahead`,
    );
  });

  it('raises no action alert on the healthy assets over a simulated day with starts and stops', async () => {
    const start = truth()[0]!.ts as number; // the "scheduled" truth is stamped with the simulation's start
    const wallMs = ((start + 24 * HOUR - simNow()) / FACTOR) * 3 + 60_000;
    await run!.waitFor(() => simNow() >= start + 24 * HOUR, wallMs, 'a whole simulated day');
    await sleep(2000);
    const day = alertEvents().filter((e) => HEALTHY.includes(e.assetId) && e.ts <= start + 24 * HOUR);
    const actions = day.filter((e) => e.tier === 'action');
    assert.deepEqual(
      actions.map((e) => `${e.assetId} ${iso(e.ts)} ${e.transition} ${e.failureMode?.id}: ${e.reason}`),
      [],
      'action alerts on healthy assets',
    );
    const transitions = seen.filter((s) => s.topic.endsWith('/event') && s.payload.kind === 'state' && HEALTHY.includes(s.payload.assetId)).map((s) => s.payload);
    const starts = transitions.filter((t) => t.from === 'off').length;
    const stops = transitions.filter((t) => t.to === 'off').length;
    assert.ok(starts > 0 && stops > 0, `the healthy assets never started or stopped (starts ${starts}, stops ${stops})`);
    const raised = day.filter((e) => e.transition === 'raised' || e.transition === 'reactivated');
    const warnings = day.filter((e) => e.tier === 'warning' && ['raised', 'escalated', 'reactivated'].includes(e.transition));
    console.log(
      `# healthy assets over the day: ${starts} starts, ${stops} stops, ${raised.length} alerts raised or reactivated, ${warnings.length} reached warning ` +
        `(${[...new Set(warnings.map((w) => `${w.assetId} ${w.failureMode?.id}`))].join(', ') || 'none'}), 0 action`,
    );
    if (HAS_ANOMALY) assert.ok(seen.some((s) => s.topic.endsWith('/model') && s.payload.format === 'pdm-anomaly-bundle'), 'no model was published on …/model');
  });

  it('delivers one work order per action episode to the local inbox, never twice', { skip: HAS_CMMS ? false : 'pdm-cmms is not in flows/demo.json' }, async () => {
    const actionEpisodes = new Set(alertEvents().filter((e) => e.tier === 'action').map((e) => e.episodeId as string));
    assert.ok(actionEpisodes.size > 0, 'no action episode to make a work order of');
    const inbox = async () => (await (await fetch(`http://127.0.0.1:${run!.port}/pdm/inbox.json`, { signal: AbortSignal.timeout(5000) })).json()) as Json[];
    await run!.waitFor(async () => {
      const ids = new Set((await inbox()).map((o) => o.episodeId));
      return [...actionEpisodes].every((id) => ids.has(id));
    }, 60_000, `work orders for ${[...actionEpisodes].join(', ')}`);
    const orders = await inbox();
    const perEpisode = new Map<string, number>();
    for (const o of orders) perEpisode.set(o.episodeId, (perEpisode.get(o.episodeId) ?? 0) + 1);
    assert.deepEqual([...perEpisode].filter(([, n]) => n !== 1), [], 'episodes with more than one work order');
    assert.deepEqual(orders.filter((o) => !actionEpisodes.has(o.episodeId)).map((o) => `${o.id} ${o.assetId} ${o.episodeId}`), [], 'work orders without an action episode');
    assert.ok(orders.some((o) => o.assetId === FAULTY), `no work order for ${FAULTY}`);
    // pdm-cmms says the same: one create per episode, answered by the inbox.
    const creates = seen.filter((s) => s.topic.endsWith('/event') && s.payload.kind === 'work_order' && s.payload.operation === 'create').map((s) => s.payload);
    assert.equal(new Set(creates.map((c) => c.episodeId)).size, creates.length, 'pdm-cmms created a work order twice for one episode');
    console.log(`# work orders: ${orders.map((o) => `${o.id} ${o.assetId} (${o.history.length} updates): ${o.title}`).join('; ')}`);
  });
});
