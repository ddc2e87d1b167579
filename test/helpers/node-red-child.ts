/**
 * A full Node-RED 4.1 runtime as a child process, with this package linked into its userDir: for
 * integration tests that restart, SIGTERM or kill -9 the runtime. Tests extend NodeRedChild with
 * the calls their flow serves (httpNodeRoot /api).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, repoRoot, tempDir } from '../pack/support';

export const PKG = '@pdm-twin/node-red-pdm';
const RED_JS = require.resolve('node-red/red.js', { paths: [repoRoot] });
type Json = Record<string, any>;

/** Every child still running is killed when the test process exits, however it exits. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Kills every runtime still running (SIGKILL), e.g. in an after() hook. */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A temporary userDir with the package linked into its node_modules and the flows in flows.json. */
export function linkedUserDir(label: string, flows: Json[]): string {
  const userDir = tempDir(label);
  const link = path.join(userDir, 'node_modules', ...PKG.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(link), repoRoot), link, 'dir');
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
  return userDir;
}

export interface ChildOptions {
  /** `contextStorage` for settings.js; undefined = none configured (Node-RED's default memory). */
  contextStorage?: Json;
  /** How long to wait for "Started flows" (ms). */
  startMs?: number;
  /** Also wait for the Admin API to answer (default true). */
  waitForAdmin?: boolean;
  /** Timeout of one HTTP request (ms, default 10 s). */
  httpMs?: number;
}

export class NodeRedChild {
  base = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  protected text = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly userDir: string,
    protected readonly options: ChildOptions = {},
  ) {}

  /** Writes settings.js on a free port, spawns Node-RED and waits until its flows have started. */
  async start(): Promise<this> {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    const file = path.join(this.userDir, 'settings.js');
    const config: Json = {
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir: this.userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      httpNodeRoot: '/api',
      lang: 'en-US',
      diagnostics: { enabled: false, ui: false },
      telemetry: { enabled: false, updateNotification: false },
      runtimeState: { enabled: false, ui: false },
      editorTheme: { projects: { enabled: false }, tours: false },
      // Load only this package (the repository's node_modules also hold modbus/opcua nodes).
      externalModules: { autoInstall: false, palette: { allowInstall: false, allowList: [PKG] } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    };
    if (this.options.contextStorage) config.contextStorage = this.options.contextStorage;
    fs.writeFileSync(file, `module.exports = ${JSON.stringify(config, null, 2)};\n`);
    const child = spawn(process.execPath, [RED_JS, '--settings', file, '--userDir', this.userDir], {
      cwd: this.userDir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    children.add(child);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        children.delete(child);
        resolve();
      }),
    );
    try {
      await this.waitFor(() => /\[info\] Started flows/.test(this.text), this.options.startMs ?? 30_000, '"Started flows"');
      if (this.options.waitForAdmin !== false) {
        await this.waitFor(async () => (await fetch(`${this.base}/settings`, { signal: AbortSignal.timeout(2000) })).ok, 15_000, 'the Admin API');
      }
    } catch (err) {
      await this.kill9();
      throw err;
    }
    return this;
  }

  /** Everything the runtime printed so far. */
  get log(): string {
    return this.text;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exit) throw new Error(`Node-RED exited (${this.exit.code ?? this.exit.signal}) waiting for ${what}:\n${this.text}`);
      try {
        if (await check()) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.text.slice(-3000)}`);
      await sleep(50);
    }
  }

  /** A JSON request; the body is parsed when it is JSON. */
  async http(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(this.base + route, {
      method,
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.httpMs ?? 10_000),
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

  /** A deploy through the Admin API, as the editor's Deploy button does. */
  async deploy(flows: Json[], type: 'full' | 'nodes' | 'flows' = 'full'): Promise<void> {
    const res = await this.http('POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v2' });
    if (res.status !== 200) throw new Error(`deploy answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  /** SIGTERM: Node-RED stops the flows (close handlers), closes the context stores, exits. */
  async stop(): Promise<void> {
    if (this.exit || !this.child) return;
    const timer = setTimeout(() => this.child!.kill('SIGKILL'), 20_000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9: nothing runs on the way out. */
  async kill9(): Promise<void> {
    if (this.exit || !this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
