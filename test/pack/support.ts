/**
 * Shared helpers for the packaging tests (pack.test.ts, scorecard.test.ts): pack the repository
 * the way `npm publish` would, install the tarball into a scratch userDir the way the Palette
 * Manager would, run a real Node-RED on it as a child process, and read the packed tree.
 *
 * Nothing here rebuilds: the tests check the tree that `npm run build` already produced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/** Root of the repository, from dist/test/pack. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** The Node 22 that Node-RED 5 needs, fetched by npx (never a devDependency). */
export const NODE22 = process.env.PDM_NODE22 || 'node@22.23.3';

export interface PackageJson {
  name: string;
  version: string;
  files?: string[];
  dependencies?: Record<string, string>;
  keywords?: string[];
  'node-red': { version?: string; nodes: Record<string, string> };
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function repoPackage(): PackageJson {
  return readJson<PackageJson>(path.join(repoRoot, 'package.json'));
}

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pdm-${label}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (asynchronously, so test timeouts still fire), killing it after `ms`. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; ms?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`timed out after ${opts.ms} ms: ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}`));
    }, opts.ms ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the group we created with detached: true
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

// ---------------------------------------------------------------------------------------------
// npm pack / install

export interface Packed {
  tarball: string;
  files: string[];
}

/** `npm pack --json` of the repository into `dest`, without lifecycle scripts (no rebuild). */
export async function packRepo(dest: string): Promise<Packed> {
  const res = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { ms: 120_000 });
  if (res.code !== 0) throw new Error(`npm pack failed (${res.code}):\n${res.stderr}`);
  const out = JSON.parse(res.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const entry = out[0];
  if (!entry) throw new Error(`npm pack printed no entry:\n${res.stdout}`);
  return { tarball: path.join(dest, entry.filename), files: entry.files.map((f) => f.path).sort() };
}

/**
 * Installs the tarball (plus `extra` registry specs) into a fresh userDir, as the Palette Manager
 * would, and returns the installed package directory (the published tree).
 */
export async function installTarball(tarball: string, userDir: string, name: string, extra: string[] = []): Promise<string> {
  fs.mkdirSync(userDir, { recursive: true });
  // A package.json of its own keeps npm from walking up into an enclosing project.
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'pdm-pack-userdir', private: true }, null, 2));
  const res = await run('npm', ['install', tarball, ...extra, '--prefix', userDir, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd: userDir, ms: 180_000 });
  if (res.code !== 0) throw new Error(`npm install failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  const dir = path.join(userDir, 'node_modules', ...name.split('/'));
  if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`${name} is not in ${userDir}/node_modules after install`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The packed tree

/** Every .json under `<dir>/examples`, relative to `dir`, sorted. */
export function exampleFiles(dir: string): string[] {
  const root = path.join(dir, 'examples');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

export interface EditorType {
  type: string;
  category?: string;
  icon?: string;
  /** `defaults` as registered, e.g. `{name: {value: ''}, broker: {type: 'pdm-asset', required: true}}`. */
  defaults: Record<string, { value?: unknown; type?: string; required?: boolean }>;
  config: boolean;
}

/** A do-anything stand-in for editor globals (RED.validators.number(), $, ...). */
function anything(): any {
  return new Proxy(function () {}, {
    get: (_t, key) => (key === Symbol.toPrimitive ? () => '' : anything()),
    apply: () => anything(),
    construct: () => anything(),
  });
}

/**
 * The node definitions an editor .html registers, found by running its
 * `<script type="text/javascript">` blocks in a sandbox with a stub RED, as the editor would.
 */
export function editorTypes(html: string): EditorType[] {
  const found: EditorType[] = [];
  const registerType = (type: unknown, def: any): void => {
    if (typeof type !== 'string' || !def || typeof def !== 'object') throw new Error(`registerType(${String(type)}, ...) has no literal type/definition`);
    found.push({
      type,
      category: typeof def.category === 'string' ? def.category : undefined,
      icon: typeof def.icon === 'string' ? def.icon : undefined,
      defaults: def.defaults && typeof def.defaults === 'object' ? def.defaults : {},
      config: def.category === 'config',
    });
  };
  const nodes = new Proxy({}, { get: (_t, key) => (key === 'registerType' ? registerType : anything()) });
  const RED = new Proxy({}, { get: (_t, key) => (key === 'nodes' ? nodes : anything()) });
  const scripts = [...html.matchAll(/<script[^>]*type=['"]text\/javascript['"][^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]!);
  for (const code of scripts) vm.runInNewContext(code, { RED, $: anything(), jQuery: anything(), window: anything(), document: anything(), console }, { timeout: 2000 });
  return found;
}

/** A node of `def`'s type as the editor creates it from its defaults (config references filled from `configIds`). */
export function nodeFromDefaults(def: EditorType, id: string, z: string | undefined, configIds: Map<string, string>): FlowNode {
  const node: FlowNode = { id, type: def.type };
  if (!def.config) node.z = z;
  for (const [key, spec] of Object.entries(def.defaults)) {
    node[key] = spec.type && configIds.has(spec.type) ? configIds.get(spec.type) : spec.value;
  }
  if (!def.config) {
    node.x = 200;
    node.y = 100;
    node.wires = [];
  }
  return node;
}

/** Icons that Node-RED itself provides (font-awesome/*, node-red/*, or a core icon file name). */
export function isCoreIcon(icon: string, coreIcons: string[]): boolean {
  return icon.startsWith('font-awesome/') || icon.startsWith('fa-') || icon.startsWith('node-red/') || coreIcons.includes(icon);
}

/**
 * Copies a flow with every node id replaced by a fresh one (and every reference to it: z, wires,
 * links, scope, g, subflow:<id> types...), like an import with "copy"; reusing ids across full
 * deploys makes Node-RED log spurious errors.
 */
export function withFreshIds(flow: FlowNode[]): FlowNode[] {
  const ids = new Map<string, string>();
  for (const n of flow) ids.set(n.id, randomBytes(8).toString('hex'));
  const remap = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'type' && v.startsWith('subflow:') && ids.has(v.slice(8))) return `subflow:${ids.get(v.slice(8))}`;
      return key !== 'type' && ids.has(v) ? ids.get(v) : v;
    }
    if (Array.isArray(v)) return v.map((x) => remap(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, remap(x, k)]));
    return v;
  };
  return flow.map((n) => remap(n) as FlowNode);
}

/**
 * Places a flow on a tab the way Import does: example files usually hold bare nodes without `z`
 * (the editor puts them on the current tab). Nodes with a position or wires are flow nodes; nodes
 * without either (config nodes, global-config) stay global. A flow that has its own tab is kept.
 */
export function onTab(flow: FlowNode[], label: string): FlowNode[] {
  if (flow.some((n) => n.type === 'tab')) return flow;
  const tab = randomBytes(8).toString('hex');
  const isFlowNode = (n: FlowNode): boolean => n.z === undefined && n.type !== 'subflow' && ('x' in n || 'y' in n || 'wires' in n);
  return [{ id: tab, type: 'tab', label, disabled: false, info: '' }, ...flow.map((n) => (isFlowNode(n) ? { ...n, z: tab } : n))];
}

/** `{module: version}` of other packages an example declares in its global-config node (Node-RED ≥ 4.1 exports). */
export function declaredModules(flow: FlowNode[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of flow) {
    if (n.type === 'global-config' && n.modules && typeof n.modules === 'object') Object.assign(out, n.modules);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A real Node-RED

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Absolute path of the npx-provided Node 22 binary (the first call downloads it from the npm registry). */
export async function node22Binary(): Promise<string> {
  const res = await run('npx', ['-y', NODE22, '-p', 'process.execPath'], { ms: 180_000 });
  const bin = res.stdout.trim().split('\n').pop() ?? '';
  if (res.code !== 0 || !fs.existsSync(bin)) throw new Error(`npx -y ${NODE22} failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  return bin;
}

export function writeSettings(userDir: string, port: number): string {
  const file = path.join(userDir, 'settings.js');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    lang: 'en-US', // the log lines the tests wait for are English
    disableEditor: false, // keep it on: /nodes (html), /icons and /library are editor routes
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    runtimeState: { enabled: false, ui: false },
    editorTheme: { projects: { enabled: false }, tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  fs.writeFileSync(file, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  return file;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});
// The runners are in their own process groups, so an interrupted test run must take them down.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    process.kill(process.pid, sig);
  });
}

export class NodeRed {
  readonly base: string;
  private readonly child: ChildProcess;
  private text = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(nodeBin: string, redJs: string, userDir: string, port: number) {
    this.base = `http://127.0.0.1:${port}`;
    const settings = writeSettings(userDir, port);
    this.child = spawn(nodeBin, [redJs, '--settings', settings, '--userDir', userDir], {
      cwd: userDir,
      // Partner modules (node-opcua) write certificate stores under XDG_CONFIG_HOME: keep them in the temp userDir.
      env: { ...process.env, NODE_OPTIONS: '', XDG_CONFIG_HOME: path.join(userDir, '.config') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      live.delete(this.child);
    });
  }

  /** Starts Node-RED and resolves once the Admin API answers and the first flows have started. */
  static async start(opts: { nodeBin: string; redJs: string; userDir: string; ms?: number }): Promise<NodeRed> {
    const nr = new NodeRed(opts.nodeBin, opts.redJs, opts.userDir, await freePort());
    try {
      await nr.waitForLog(/\[info\] Started flows|Waiting for missing types/, 0, opts.ms ?? 60_000);
      await nr.waitFor(async () => (await nr.api('GET', '/nodes')).status === 200, opts.ms ?? 60_000, 'the Admin API');
    } catch (err) {
      await nr.stop();
      throw err;
    }
    return nr;
  }

  /** Everything the runtime printed so far. */
  get log(): string {
    return this.text;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  async api(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json(): any }> {
    const res = await fetch(this.base + route, {
      method,
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }

  /** Full deploy, as the editor's Deploy button does. */
  async deploy(flows: FlowNode[]): Promise<string> {
    const res = await this.api('POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' });
    if (res.status !== 200) throw new Error(`POST /flows answered ${res.status}: ${res.text}`);
    return res.json().rev as string;
  }

  /** Resolves with the log from offset `from` once `re` matches in it. */
  waitForLog(re: RegExp, from: number, ms: number): Promise<string> {
    return this.waitFor(() => re.test(this.text.slice(from)), ms, `${re} in the Node-RED log`).then(() => this.text.slice(from));
  }

  async waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exited) throw new Error(`Node-RED exited (${this.exited.code ?? this.exited.signal}) while waiting for ${what}:\n${this.text}`);
      try {
        if (await check()) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    killGroup(this.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
