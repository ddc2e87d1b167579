/**
 * pdm-cmms in a REAL Node-RED 4.1 runtime run as a child process, killed with SIGKILL (kill -9)
 * twice, against a local MaintainX contract server:
 *
 *  1. the CMMS is down (503): 10 episodes × 5 alert events are posted to an HTTP-in flow; each
 *     POST is answered only when pdm-cmms has called done() (Complete node), i.e. when the event
 *     is in the outbox journal on disk; then kill -9;
 *  2. a new runtime on the same userDir; the CMMS is back, but the first creates are "committed
 *     then hung" (the work order exists, the answer never comes); kill -9 while deliveries are in
 *     flight;
 *  3. a third runtime; the CMMS is healthy: the outbox drains.
 *
 * Proven: nothing lost (every episode has its work order, its update and its clear comment) and
 * no episode has two work orders (the creates in doubt were looked up by their marker first).
 * Updates and comments are at-least-once across a kill in the middle of their request.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, repoRoot, tempDir } from '../pack/support';
import { dedupeKey } from '../../nodes/lib/cmms/content';
import { episodeEvents } from '../fixtures/cmms/alerts';
import { ContractServer, SECRETS } from '../fixtures/cmms/servers';

const RED_JS = require.resolve('node-red/red.js', { paths: [repoRoot] });
const PKG = '@pdm-twin/node-red-pdm';
const EPISODES = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Json = Record<string, any>;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

class Runtime {
  readonly base: string;
  private readonly child: ChildProcess;
  private text = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(userDir: string, port: number) {
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
    this.child = spawn(process.execPath, [RED_JS, '--settings', file, '--userDir', userDir], { cwd: userDir, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
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

  static async start(userDir: string): Promise<Runtime> {
    const rt = new Runtime(userDir, await freePort());
    try {
      await rt.waitFor(() => /\[info\] Started flows/.test(rt.text), 60_000, '"Started flows"');
    } catch (err) {
      await rt.kill9();
      throw err;
    }
    return rt;
  }

  get log(): string {
    return this.text;
  }

  async waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exit) throw new Error(`Node-RED exited (${this.exit.code ?? this.exit.signal}) waiting for ${what}:\n${this.text}`);
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.text.slice(-3000)}`);
      await sleep(50);
    }
  }

  async post(route: string, body: unknown): Promise<{ status: number; text: string }> {
    const res = await fetch(this.base + route, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    return { status: res.status, text: await res.text() };
  }

  async kill9(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

const TAB = 'tab-cmms-kill';
const CMMS = 'cmms-kill';
const at = (x: number, y: number) => ({ z: TAB, x, y });

function flows(serverUrl: string): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'cmms kill -9', disabled: false, info: '' },
    { id: 'target-kill', type: 'pdm-cmms-target', name: 'MaintainX (local)', kind: 'maintainx', url: serverUrl, region: 'api', method: 'POST', headers: '', bodyTemplate: '', idPath: 'id', priorityMap: '', locationId: '', assetMap: '', closeStatus: '', ratePerSec: '0', burst: '', timeoutSec: '1', caFile: '' },
    { id: 'in', ...at(100, 100), type: 'http in', url: '/alert', method: 'post', upload: false, swaggerDoc: '', wires: [[CMMS]] },
    {
      id: CMMS, ...at(300, 100), type: 'pdm-cmms', name: 'work orders', target: 'target-kill', createTier: 'action', onChange: 'update', onClear: 'comment', lifecycle: false,
      titleTemplate: '', linkTemplate: '', chartUrlTemplate: '', root: 'pdm', concurrency: '4', maxAttempts: '100000', retryBaseSec: '0.05', retryMaxSec: '0.3',
      maxQueue: '100000', retentionDays: '30', feedbackKey: '', unlabelled: 'ignore', wires: [[], [], [], []],
    },
    { id: 'done', ...at(300, 200), type: 'complete', scope: [CMMS], uncaught: false, wires: [['ok']] },
    { id: 'ok', ...at(500, 200), type: 'http response', statusCode: '200', headers: {}, wires: [] },
    { id: 'err', ...at(300, 300), type: 'catch', scope: [CMMS], uncaught: false, wires: [['bad']] },
    { id: 'bad', ...at(500, 300), type: 'http response', statusCode: '422', headers: {}, wires: [] },
  ];
}

describe('pdm-cmms: kill -9 of a real Node-RED during an outage', () => {
  let userDir: string | undefined;
  let server: ContractServer | undefined;
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.close();
    removeDir(userDir);
  });

  it('loses nothing and creates no work order twice across two kills', { timeout: 240_000 }, async () => {
    let phase: 'down' | 'hang' | 'up' = 'down';
    let hung = 0;
    server = await ContractServer.start('maintainx', {
      retryAfterSec: 0,
      fault: (req) => {
        if (phase === 'down') return '503';
        const create = req.method === 'POST' && req.path.endsWith('/workorders');
        if (phase === 'hang' && create && hung < 4) {
          hung++;
          return 'commit-timeout';
        }
        return undefined;
      },
    });
    userDir = tempDir('cmms-kill');
    const link = path.join(userDir, 'node_modules', ...PKG.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), repoRoot), link, 'dir');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(server.url), null, 2));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'target-kill': { apiKey: SECRETS.maintainxKey } }, null, 2));

    // 1. Outage: every event acknowledged (on disk), then kill -9.
    const rt1 = await Runtime.start(userDir);
    for (let e = 0; e < EPISODES; e++) {
      for (const ev of episodeEvents(`K-${e}`, `P-${e}`)) {
        const res = await rt1.post('/api/alert', ev);
        assert.equal(res.status, 200, `event acknowledged (${res.status} ${res.text})`);
      }
    }
    await sleep(300);
    assert.equal(server.workOrders.size, 0, 'nothing got through the outage');
    const outboxDir = path.join(userDir, 'pdm-outbox', CMMS);
    assert.ok(fs.readdirSync(outboxDir).some((f) => f.startsWith('journal-')), 'journal under <userDir>/pdm-outbox/<node id>');
    await rt1.kill9();

    // 2. Back, but the first creates hang after committing; kill -9 in the middle.
    phase = 'hang';
    const rt2 = await Runtime.start(userDir);
    await rt2.waitFor(() => /outbox restored: 30 operations to send/.test(rt2.log), 30_000, 'the restored outbox');
    await rt2.waitFor(() => hung >= 4 && server!.workOrders.size >= 6, 60_000, 'deliveries in flight');
    await rt2.kill9();
    const afterSecondKill = server.workOrders.size;

    // 3. Healthy: everything drains.
    phase = 'up';
    const rt3 = await Runtime.start(userDir);
    const complete = () => {
      const byMarker = server!.byMarker();
      return Array.from({ length: EPISODES }, (_, e) => byMarker.get(dedupeKey(`P-${e}`, `K-${e}`))?.[0]).every((wo) => wo && wo.patches.length >= 1 && wo.comments.length >= 1);
    };
    await rt3.waitFor(complete, 90_000, 'every episode delivered');
    await sleep(500);
    await rt3.kill9();

    const byMarker = server.byMarker();
    for (let e = 0; e < EPISODES; e++) {
      const orders = byMarker.get(dedupeKey(`P-${e}`, `K-${e}`)) ?? [];
      assert.equal(orders.length, 1, `episode K-${e}: exactly one work order (has ${orders.length})`);
      assert.ok(orders[0].patches.length >= 1 && orders[0].comments.length >= 1, `episode K-${e}: update and clear comment arrived`);
    }
    assert.equal(server.workOrders.size, EPISODES, `no stray work orders (had ${afterSecondKill} after the second kill)`);
    assert.deepEqual(server.violations, []);
    const lookups = server.requests.filter((r) => r.method === 'GET').length;
    assert.ok(lookups >= 1, 'creates in doubt were looked up');
  });
});
