/**
 * Real parts for the scale-out test and benchmark: Debian's mosquitto as a separate process on a
 * free loopback port, full Node-RED runtimes as child processes (this package linked into each
 * userDir, the instance name in PDM_INSTANCE), the one flow file every instance runs, and a plant
 * publisher. Compiled to dist/test/helpers, so the repository root is three levels up.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { freePort } from '../pack/support';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const RED_JS = require.resolve('node-red/red.js', { paths: [repoRoot] });
const PKG = '@pdm-twin/node-red-pdm';
type Json = Record<string, any>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on Linux unless built otherwise). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// Node-RED as a child process

export interface Stats {
  processed: Record<string, number>;
  total: number;
  rejected: number;
  others: number;
}

export class Runtime {
  readonly base: string;
  private readonly child: ChildProcess;
  text = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly instance: string,
    readonly userDir: string,
    port: number,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    const file = path.join(userDir, 'settings.js');
    const config = {
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      httpNodeRoot: '/api',
      lang: 'en-US',
      diagnostics: { enabled: false, ui: false },
      telemetry: { enabled: false, updateNotification: false },
      runtimeState: { enabled: false, ui: false },
      editorTheme: { projects: { enabled: false }, tours: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false, allowList: [PKG] } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    };
    fs.writeFileSync(file, `module.exports = ${JSON.stringify(config, null, 2)};\n`);
    this.child = spawn(process.execPath, [RED_JS, '--settings', file, '--userDir', userDir], {
      cwd: userDir,
      env: { ...process.env, NODE_OPTIONS: '', PDM_INSTANCE: instance },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        children.delete(this.child);
        resolve();
      }),
    );
  }

  /** A fresh userDir with the package linked in and `flows` as its flow file; resolves once subscribed. */
  static async start(instance: string, flows: Json[]): Promise<Runtime> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `pdm-scaleout-${instance}-`));
    const link = path.join(userDir, 'node_modules', ...PKG.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), repoRoot), link, 'dir');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
    const rt = new Runtime(instance, userDir, await freePort());
    try {
      await rt.waitForLog(/\[info\] Started flows/, 0, 60_000);
      await rt.waitForLog(/Connected to broker/, 0, 30_000);
      await until(async () => (await rt.http('GET', '/api/stats')).status === 200, 15_000, 'GET /api/stats');
    } catch (err) {
      await rt.stop();
      throw new Error(`${(err as Error).message}\n${rt.text}`);
    }
    return rt;
  }

  waitForLog(re: RegExp, from: number, ms: number): Promise<void> {
    return until(() => {
      if (this.exit) throw new Error(`Node-RED ${this.instance} exited:\n${this.text}`);
      return re.test(this.text.slice(from));
    }, ms, `${re} in the log of ${this.instance}`);
  }

  async http(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(this.base + route, {
      method,
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* plain text */
    }
    return { status: res.status, body: parsed };
  }

  /** What the flow counted: readings the twin finished per asset, errors caught, other instances' messages received. */
  /** CPU seconds (user + system) the runtime process used so far, from /proc (Linux). */
  cpuSeconds(): number {
    const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  async stats(): Promise<Stats> {
    const res = await this.http('GET', '/api/stats');
    if (res.status !== 200) throw new Error(`GET /api/stats answered ${res.status}`);
    return { processed: res.body.processed ?? {}, total: res.body.total ?? 0, rejected: res.body.rejected ?? 0, others: res.body.others ?? 0 };
  }

  async resetStats(): Promise<void> {
    const res = await this.http('POST', '/api/reset');
    if (res.status !== 200) throw new Error(`POST /api/reset answered ${res.status}`);
  }

  /** Full deploy (as the Deploy button); resolves once the flows run and the broker connection is back. */
  async deploy(flows: Json[]): Promise<void> {
    const from = this.text.length;
    const res = await this.http('POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' });
    if (res.status !== 200) throw new Error(`deploy on ${this.instance} answered ${res.status}: ${JSON.stringify(res.body)}`);
    await this.waitForLog(/\[info\] Started flows/, from, 30_000);
    await this.waitForLog(/Connected to broker/, from, 30_000);
  }

  async stop(): Promise<void> {
    if (!this.exit) {
      const hard = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      this.child.kill('SIGTERM');
      await this.exited;
      clearTimeout(hard);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The flow every instance runs

const TAB = 'tab-scaleout';
const at = (x: number, y: number) => ({ z: TAB, x, y });

/**
 * mqtt in (dynamic) → pdm-partition → pdm-normalise → pdm-twin → handledBy = $PDM_INSTANCE → mqtt out;
 * partition output 4 → mqtt in. A Complete node on the twin counts finished readings per asset in
 * flow context, a Catch node counts errors; GET /api/stats answers them, POST /api/reset clears them.
 */
export function scaleOutFlow(opts: { brokerPort: number; map: unknown; root?: string; countOthers?: boolean }): Json[] {
  const root = opts.root ?? 'pdm';
  const countOthers = opts.countOthers ?? true;
  const count = [
    "const c = flow.get('processed') || {};",
    'const id = msg.payload.assetId;',
    'c[id] = (c[id] || 0) + 1;',
    "flow.set('processed', c);",
    "flow.set('total', (flow.get('total') || 0) + 1);",
    'return null;',
  ].join('\n');
  return [
    { id: TAB, type: 'tab', label: 'scale-out', disabled: false, info: '' },
    // No client id: each instance gets its own random one.
    { id: 'so-broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(opts.brokerPort), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '15', cleansession: true, autoUnsubscribe: true },
    { id: 'so-in', type: 'mqtt in', ...at(120, 100), name: '', topic: '', qos: '1', datatype: 'json', broker: 'so-broker', nl: false, rap: true, rh: 0, inputs: 1, wires: [['so-part']] },
    { id: 'so-part', type: 'pdm-partition', ...at(320, 100), name: '', instance: '${PDM_INSTANCE}', map: JSON.stringify(opts.map), mapType: 'json', root, kind: 'raw', qos: '1', wires: [['so-norm'], countOthers ? ['so-others'] : [], [], ['so-in']] },
    // Messages this instance received for other instances' assets (output 2), counted when asked.
    { id: 'so-others', type: 'change', ...at(520, 40), name: '', rules: [{ t: 'set', p: 'others', pt: 'flow', to: '$flowContext("others") ? $flowContext("others") + 1 : 1', tot: 'jsonata' }], wires: [] },
    { id: 'so-norm', type: 'pdm-normalise', ...at(520, 100), name: '', property: 'payload', root, site: '', area: '', line: '', ranges: '', stuckCount: '0', dedupe: '10000', maxFuture: '600', wires: [['so-twin'], []] },
    { id: 'so-twin', type: 'pdm-twin', ...at(720, 100), name: '', root, windowSec: '60', staleFactor: '1000', snapshotSec: '1', unknownAssets: 'create', defaultClass: 'motor', fleet: '', store: '', persistSec: '60', clock: 'wall', wires: [['so-who'], [], [], []] },
    { id: 'so-who', type: 'change', ...at(920, 100), name: '', rules: [{ t: 'set', p: 'payload.handledBy', pt: 'msg', to: 'PDM_INSTANCE', tot: 'env' }], wires: [['so-out']] },
    { id: 'so-out', type: 'mqtt out', ...at(1100, 100), name: '', topic: '', qos: '1', retain: 'false', broker: 'so-broker', wires: [] },
    { id: 'so-done', type: 'complete', ...at(720, 200), name: '', scope: ['so-twin'], uncaught: false, wires: [['so-count']] },
    { id: 'so-count', type: 'function', ...at(920, 200), name: 'count per asset', func: count, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[]] },
    { id: 'so-catch', type: 'catch', ...at(720, 260), name: '', scope: null, uncaught: false, wires: [['so-rej']] },
    { id: 'so-rej', type: 'change', ...at(920, 260), name: '', rules: [{ t: 'set', p: 'rejected', pt: 'flow', to: '$flowContext("rejected") ? $flowContext("rejected") + 1 : 1', tot: 'jsonata' }], wires: [] },
    { id: 'so-stats-in', type: 'http in', ...at(120, 340), url: '/stats', method: 'get', upload: false, swaggerDoc: '', wires: [['so-stats']] },
    {
      id: 'so-stats',
      type: 'change',
      ...at(320, 340),
      name: '',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '{}', tot: 'json' },
        { t: 'set', p: 'payload.processed', pt: 'msg', to: 'processed', tot: 'flow' },
        { t: 'set', p: 'payload.total', pt: 'msg', to: 'total', tot: 'flow' },
        { t: 'set', p: 'payload.rejected', pt: 'msg', to: 'rejected', tot: 'flow' },
        { t: 'set', p: 'payload.others', pt: 'msg', to: 'others', tot: 'flow' },
      ],
      wires: [['so-resp']],
    },
    { id: 'so-reset-in', type: 'http in', ...at(120, 400), url: '/reset', method: 'post', upload: false, swaggerDoc: '', wires: [['so-reset']] },
    {
      id: 'so-reset',
      type: 'change',
      ...at(320, 400),
      name: '',
      rules: [
        { t: 'set', p: 'processed', pt: 'flow', to: '{}', tot: 'json' },
        { t: 'set', p: 'total', pt: 'flow', to: '0', tot: 'num' },
        { t: 'set', p: 'rejected', pt: 'flow', to: '0', tot: 'num' },
        { t: 'set', p: 'others', pt: 'flow', to: '0', tot: 'num' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'reset', tot: 'str' },
      ],
      wires: [['so-resp']],
    },
    { id: 'so-resp', type: 'http response', ...at(520, 370), name: '', statusCode: '', headers: {}, wires: [] },
  ];
}

// ---------------------------------------------------------------------------------------------
// The plant

export interface PlantAsset {
  assetId: string;
  path: { site: string; area: string; line: string };
}

export const SIGNALS: Array<[string, string, number]> = [
  ['current', 'A', 20],
  ['vibration_velocity', 'mm/s', 2],
  ['bearing_temperature', '°C', 55],
  ['speed', 'rpm', 1480],
];

/** `count` assets over two sites and four areas, ten to an area. */
export function plant(count: number): PlantAsset[] {
  const areas = [
    ['plant1', 'press'],
    ['plant1', 'paint'],
    ['plant2', 'weld'],
    ['plant2', 'pack'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [site, area] = areas[Math.floor(i / 10) % areas.length];
    return { assetId: `M-${i}`, path: { site, area, line: `line${(i % 2) + 1}` } };
  });
}

export const rawTopic = (a: PlantAsset, signal: string, root = 'pdm') => `${root}/${a.path.site}/${a.path.area}/${a.path.line}/${a.assetId}/raw/${signal}`;

/** A publisher of rounds of readings (every asset × every signal), QoS 1, unique timestamps. */
export class Publisher {
  private client: MqttClient | undefined;
  sent = 0;
  private seq = 0;

  constructor(
    private readonly url: string,
    readonly assets: PlantAsset[],
    readonly root = 'pdm',
  ) {}

  async connect(): Promise<void> {
    this.client = connect(this.url, { clientId: `pdm-scaleout-publisher-${process.pid}-${this.root.replace(/\W/g, '')}`, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      this.client!.once('connect', () => resolve());
      this.client!.once('error', reject);
    });
  }

  /** Publishes `rounds` rounds, `inFlight` publishes awaiting PUBACK at a time; resolves when all are acknowledged. */
  async publish(rounds: number, inFlight = 200): Promise<number> {
    const jobs: Array<() => Promise<unknown>> = [];
    for (let r = 0; r < rounds; r++) {
      const ts = Date.now() - 60_000 + this.seq++; // unique per round, so no reading is a duplicate
      for (const a of this.assets) {
        for (const [signal, unit, base] of SIGNALS) {
          const payload = JSON.stringify({ assetId: a.assetId, signal, value: base + (r % 7) * 0.1, unit, ts });
          jobs.push(() => this.client!.publishAsync(rawTopic(a, signal, this.root), payload, { qos: 1 }));
        }
      }
    }
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) await jobs[next++]();
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, jobs.length) }, worker));
    this.sent += jobs.length;
    return jobs.length;
  }

  async end(): Promise<void> {
    await this.client?.endAsync();
  }
}

/** Records every state message (handledBy per asset, newest reading time in it). */
export class StateWatcher {
  private client: MqttClient | undefined;
  readonly states: Array<{ assetId: string; handledBy: string; newestTs: number }> = [];

  async connect(url: string): Promise<void> {
    this.client = connect(url, { clientId: `pdm-scaleout-watcher-${process.pid}`, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      this.client!.once('connect', () => resolve());
      this.client!.once('error', reject);
    });
    this.client.on('message', (_topic, payload) => {
      const s = JSON.parse(payload.toString()) as Json;
      const newestTs = Math.max(0, ...Object.values((s.features ?? {}) as Record<string, { properties?: { ts?: number } }>).map((f) => f.properties?.ts ?? 0));
      this.states.push({ assetId: s.assetId, handledBy: s.handledBy, newestTs });
    });
    await this.client.subscribeAsync('pdm/+/+/+/+/state', { qos: 1 });
  }

  async end(): Promise<void> {
    await this.client?.endAsync();
  }
}
