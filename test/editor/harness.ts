/**
 * Editor test harness: a real Node-RED 4.1 runtime in a child process with this package installed
 * in a throw-away userDir, and Debian's headless Chromium driven by playwright-core.
 *
 * Generic over node type and field id, so every node's editor test can reuse it. A suite gets its
 * ready page from one fixture, which starts everything before the first test and cleans up after the last:
 *
 *   describe('pdm-normalise editor', { skip: editorSuiteSkip() }, () => {
 *     const ed = useEditorSuite(['pdm-normalise']);
 *     test('...', async () => { const id = await addNode(ed.page, 'pdm-normalise'); ... });
 *   });
 *
 * The building blocks, for a suite that needs its own runtime:
 *
 *   const editor = await startEditor();
 *   const browser = await launchBrowser();
 *   const { page } = await openEditor(browser, editor.url, ['pdm-normalise']);
 *   const id = await addNode(page, 'pdm-normalise');
 *   await editNode(page, id);
 *   await typeField(page, 'root', 'a/+/b');
 *   assert.equal(await hasInputError(page, 'root'), true);
 *   await closeEditor(page, 'cancel');
 *   ...
 *   await browser.close(); await editor.stop();
 *
 * Compiled to dist/test/editor/harness.js, so the repository root is three levels up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Browser-side globals, used only inside page.evaluate callbacks (the tsconfig has no DOM lib).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
declare const window: any;

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const packageName: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).name;

/** The exact Chromium switches the project uses (the machine's network is closed). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Timeouts sized for a 2-core machine, but bounded. */
export const TIMEOUTS = { runtime: 90_000, page: 60_000, ui: 15_000 };

// ---------------------------------------------------------------------------------------------
// Chromium

export function chromiumPath(): string {
  return process.env.PDM_CHROMIUM || '/usr/bin/chromium';
}

/** A message when Chromium cannot be used here, or undefined when it can. */
export function chromiumProblem(): string | undefined {
  const exe = chromiumPath();
  try {
    fs.accessSync(exe, fs.constants.X_OK);
    return undefined;
  } catch {
    return `Chromium not found at ${exe}: install it with \`apt-get install -y chromium\` (as root) or point PDM_CHROMIUM at a Chromium binary`;
  }
}

/**
 * The skip reason for an editor suite: when Chromium is missing and CI is unset, prints a loud
 * warning and returns the reason; under CI returns false so that the suite runs and fails in
 * launchBrowser() with the same clear message.
 */
export function editorSuiteSkip(): string | false {
  const problem = chromiumProblem();
  if (!problem) return false;
  if (process.env.CI) return false;
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!! EDITOR TESTS SKIPPED: ${problem}\n${bar}\n`);
  return problem;
}

/** Launches headless Chromium with CHROMIUM_FLAGS; playwright itself gives it a fresh, temporary --user-data-dir. */
export async function launchBrowser(): Promise<Browser> {
  const problem = chromiumProblem();
  if (problem) throw new Error(problem);
  // Playwright adds --headless (headless: true) and --no-sandbox (chromiumSandbox: false) itself;
  // passing them again would only duplicate them.
  const own = new Set(['--headless', '--no-sandbox']);
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_FLAGS.filter((f) => !own.has(f)),
    timeout: TIMEOUTS.page,
  });
}

/** The command line Chromium was started with, as chrome://version shows it. */
export async function chromiumCommandLine(browser: Browser): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto('chrome://version', { timeout: TIMEOUTS.ui });
    return (await page.locator('#command_line').innerText({ timeout: TIMEOUTS.ui })).trim();
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Node-RED runtime

export interface EditorServer {
  url: string;
  port: number;
  userDir: string;
  /** Everything the runtime printed so far (for failure messages). */
  output(): string;
  /** Stops the runtime and removes the userDir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra settings.js keys (JSON-serialisable), merged over the defaults. */
  settings?: Record<string, unknown>;
  /** Flows to start with (written to flows.json). */
  flows?: unknown[];
  /** Node-RED package to run (default `node-red`, i.e. 4.1). */
  nodeRedPackage?: string;
  timeoutMs?: number;
}

/** A free TCP port on 127.0.0.1, found by listening on port 0. */
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

/** GET on the runtime; resolves with status and body (never rejects on HTTP errors). */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a real Node-RED runtime (editor enabled) with this package installed in a fresh userDir
 * and waits until the admin API lists the package's node set as loaded.
 */
export async function startEditor(opts: StartOptions = {}): Promise<EditorServer> {
  const timeoutMs = opts.timeoutMs ?? TIMEOUTS.runtime;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-editor-'));
  let child: ChildProcess | undefined;
  let log = '';
  let stopped = false;
  const killOnExit = () => child?.kill('SIGKILL');

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGTERM');
      const hard = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(hard);
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  };

  try {
    // The package, installed the way `npm link` would: <userDir>/node_modules/<name> -> repo root.
    const link = path.join(userDir, 'node_modules', ...packageName.split('/'));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(repoRoot, link, 'dir');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows ?? []));

    const port = await freePort();
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      disableEditor: false,
      diagnostics: { enabled: false, ui: false },
      telemetry: { enabled: false, updateNotification: false },
      // No palette catalogue: the editor would fetch catalogue.nodered.org, which this network cannot reach.
      editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
      ...opts.settings,
    };
    const settingsFile = path.join(userDir, 'settings.js');
    fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);

    const redJs = path.join(repoRoot, 'node_modules', opts.nodeRedPackage ?? 'node-red', 'red.js');
    child = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', userDir], {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    process.on('exit', killOnExit);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (log += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));

    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`Node-RED exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${log}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`Node-RED not ready after ${timeoutMs} ms (${last}):\n${log}`);
      }
      try {
        const res = await httpGet(`${url}nodes`, { Accept: 'application/json' });
        if (res.status === 200) {
          const sets = JSON.parse(res.body) as Array<{ module: string; enabled: boolean; err?: unknown; types: string[] }>;
          const ours = sets.filter((s) => s.module === packageName);
          if (ours.length && ours.every((s) => s.enabled && !s.err && s.types.length > 0)) break;
          const broken = ours.find((s) => s.err);
          if (broken) {
            const why = typeof broken.err === 'string' ? broken.err : JSON.stringify(broken.err);
            throw new Error(`${packageName} failed to load in Node-RED: ${why}\n${log}`);
          }
          last = `GET /nodes: 200 without ${packageName}`;
        } else {
          last = `GET /nodes: ${res.status}`;
        }
      } catch (err) {
        if (String((err as Error).message).includes('failed to load')) throw err;
        last = String((err as Error).message);
      }
      await delay(250);
    }
    return { url, port, userDir, output: () => log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Editor page

export interface EditorPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors seen so far. */
  errors: string[];
}

/** Opens the editor in a fresh browser context and waits until RED knows every type in `types`. */
export async function openEditor(browser: Browser, url: string, types: string[] = []): Promise<EditorPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUTS.ui);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url, { timeout: TIMEOUTS.page });
  await waitForRed(page, types);
  return { context, page, errors };
}

/** Waits for RED.nodes, an active workspace, the palette and the given node types. */
export async function waitForRed(page: Page, types: string[] = []): Promise<void> {
  await page.waitForFunction(
    (want: string[]) =>
      !!(window.RED && RED.nodes && RED.workspaces && RED.workspaces.active && RED.workspaces.active()) &&
      $('.red-ui-palette-node').length > 0 &&
      want.every((t) => !!RED.nodes.getType(t)),
    types,
    { timeout: TIMEOUTS.page },
  );
}

/** Adds a node of `type` to the active workspace (defaults applied, then `props`); returns its id. */
export async function addNode(page: Page, type: string, props: Record<string, unknown> = {}): Promise<string> {
  return page.evaluate(
    ({ type, props }) => {
      const id = RED.nodes.id();
      RED.view.importNodes([{ id, type, x: 240, y: 120, z: RED.workspaces.active(), wires: [], ...props }], {
        generateIds: false,
        addFlow: false,
        touchImport: true,
        notify: false,
        applyNodeDefaults: true,
      });
      if (!RED.nodes.node(id)) throw new Error(`node of type ${type} was not added`);
      RED.view.redraw(true);
      return id as string;
    },
    { type, props },
  );
}

/** A node's current properties as the editor holds them (own enumerable JSON-safe ones), plus `valid`. */
export async function nodeProps(page: Page, id: string): Promise<Record<string, unknown>> {
  return page.evaluate((id: string) => {
    const n = RED.nodes.node(id);
    if (!n) throw new Error(`no node ${id}`);
    const out: Record<string, unknown> = { valid: n.valid };
    for (const k of Object.keys(n._def.defaults || {})) out[k] = n[k];
    return out;
  }, id);
}

/** Runs RED.editor.validateNode on the node and returns node.valid. */
export async function validateNode(page: Page, id: string): Promise<boolean> {
  return page.evaluate((id: string) => {
    const n = RED.nodes.node(id);
    RED.editor.validateNode(n);
    return n.valid as boolean;
  }, id);
}

/** Opens the node's edit tray and waits until its form is shown. */
export async function editNode(page: Page, id: string): Promise<void> {
  await page.evaluate((id: string) => RED.editor.edit(RED.nodes.node(id)), id);
  await page.locator('#dialog-form').waitFor({ state: 'visible' });
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
}

/** Closes the edit tray with Done or Cancel and waits until it is gone. */
export async function closeEditor(page: Page, how: 'done' | 'cancel' = 'cancel'): Promise<void> {
  await page.locator(how === 'done' ? '#node-dialog-ok' : '#node-dialog-cancel').click();
  await page.locator('#dialog-form').waitFor({ state: 'detached' });
}

const field = (prop: string) => `#node-input-${prop}`;

/** The label text of a field (`label[for=node-input-<prop>]`), trimmed. */
export async function fieldLabel(page: Page, prop: string): Promise<string> {
  return (await page.locator(`label[for="node-input-${prop}"]`).innerText()).trim();
}

/** The placeholder of a field's visible input (the typedInput's own input for typedInput fields). */
export async function fieldPlaceholder(page: Page, prop: string): Promise<string | null> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    const ti = input.next('.red-ui-typedInput-container');
    return ((ti.length ? ti.find('input.red-ui-typedInput-input') : input).attr('placeholder') ?? null) as string | null;
  }, field(prop));
}

/** A field's value (typedInput('value') for typedInput fields, val() otherwise; checked for checkboxes). */
export async function readField(page: Page, prop: string): Promise<string | boolean> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    if (!input.length) throw new Error(`no field ${sel}`);
    if (input.attr('type') === 'checkbox') return input.prop('checked') as boolean;
    if (input.next('.red-ui-typedInput-container').length) return input.typedInput('value') as string;
    return input.val() as string;
  }, field(prop));
}

/** The typedInput type of a field (e.g. 'msg', 'json'), or null when it is a plain input. */
export async function fieldType(page: Page, prop: string): Promise<string | null> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    return input.next('.red-ui-typedInput-container').length ? (input.typedInput('type') as string) : null;
  }, field(prop));
}

/** Sets a field programmatically (typedInput-aware) and triggers 'change' so the editor revalidates. */
export async function setField(page: Page, prop: string, value: string | boolean): Promise<void> {
  await page.evaluate(
    ({ sel, value }) => {
      const input = $(sel);
      if (!input.length) throw new Error(`no field ${sel}`);
      if (input.attr('type') === 'checkbox') input.prop('checked', value);
      else if (input.next('.red-ui-typedInput-container').length) input.typedInput('value', value);
      else input.val(value);
      input.trigger('change');
    },
    { sel: field(prop), value },
  );
}

/**
 * Types into a field with the keyboard, as a user would: clears it, types `text` key by key and
 * leaves the field (blur, which fires 'change'). For typedInput fields the visible typedInput input is typed into.
 */
export async function typeField(page: Page, prop: string, text: string): Promise<void> {
  const typed = page.locator(`${field(prop)} + .red-ui-typedInput-container input.red-ui-typedInput-input`);
  const target = (await typed.count()) > 0 ? typed : page.locator(field(prop));
  await target.click();
  await target.press('ControlOrMeta+a');
  await target.press('Backspace');
  if (text) await target.pressSequentially(text);
  // Blur rather than Tab: Tab would accept an open autocomplete (e.g. msg property suggestions).
  await target.blur();
}

/** Whether the field is marked invalid: `input-error` on the input or on its typedInput container. */
export async function hasInputError(page: Page, prop: string): Promise<boolean> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    if (!input.length) throw new Error(`no field ${sel}`);
    return input.hasClass('input-error') || input.next('.red-ui-typedInput-container').hasClass('input-error');
  }, field(prop));
}

// ---------------------------------------------------------------------------------------------
// Palette and help

export interface PaletteEntry {
  /** The category the node was registered with (e.g. 'predictive maintenance'). */
  category: string;
  /** The category header as shown. */
  header: string;
  /** The node's label as shown in the palette. */
  label: string;
  /** The icon's URL as the palette loads it (Node-RED falls back to a core icon when it cannot find the node's). */
  icon: string;
}

/** Where the palette shows a node type, or null when it does not. */
export async function paletteEntry(page: Page, type: string): Promise<PaletteEntry | null> {
  return page.evaluate((type: string) => {
    const node = $('.red-ui-palette-node').filter(function (this: any) {
      return $(this).attr('data-palette-type') === type;
    });
    if (!node.length) return null;
    const cat = node.closest('.red-ui-palette-category');
    return {
      category: cat.data('category') as string,
      header: (cat.find('.red-ui-palette-header span').first().text() as string).trim(),
      label: (node.find('.red-ui-palette-label').text() as string).trim(),
      icon: String(node.find('.red-ui-palette-icon').css('background-image') || ''),
    };
  }, type);
}

export interface HelpPanel {
  title: string;
  /** The help body as rendered text. */
  text: string;
  /** The section headings (h3), e.g. ['Inputs', 'Outputs', 'Details']. */
  sections: string[];
}

/** Shows the Help sidebar tab for a node type and returns what it displays. */
export async function openHelp(page: Page, type: string): Promise<HelpPanel> {
  await page.evaluate((type: string) => RED.sidebar.help.show(type), type);
  const title = page.locator('.red-ui-sidebar-help-stack .red-ui-help-title');
  await title.waitFor({ state: 'visible' });
  const section = title.locator('xpath=..');
  return {
    title: (await title.innerText()).trim(),
    text: (await section.locator(':scope > .red-ui-help').innerText()).trim(),
    sections: (await section.locator('h3').allInnerTexts()).map((s) => s.trim()),
  };
}

// ---------------------------------------------------------------------------------------------
// Suite fixture

/** What a suite's tests use: the editor page (as openEditor gives it), the browser and the runtime. */
export interface EditorSuite extends EditorPage {
  browser: Browser;
  server: EditorServer;
}

/**
 * The fixture every node's editor suite uses: call it inside describe(). Its before() launches
 * headless Chromium (first, so a missing Chromium fails at once), starts a runtime with `options`
 * (or what the function returns, for options known only once an earlier before() ran) and opens
 * the editor until RED knows `types`; its after() closes the browser and stops the runtime.
 * The returned object is filled in by before(), so read its fields only inside tests and hooks.
 */
export function useEditorSuite(types: string[], options: StartOptions | (() => StartOptions) = {}): EditorSuite {
  const suite = {} as EditorSuite;
  let browser: Browser | undefined;
  let server: EditorServer | undefined;
  before(
    async () => {
      browser = await launchBrowser();
      server = await startEditor(typeof options === 'function' ? options() : options);
      Object.assign(suite, { browser, server }, await openEditor(browser, server.url, types));
    },
    { timeout: TIMEOUTS.runtime + TIMEOUTS.page * 2 },
  );
  after(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.stop();
    }
  });
  return suite;
}

/** A node's message catalog (nodes/<type>/locales/en-US/<type>.json), the part under its type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function nodeCatalog(type: string): any {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, 'nodes', type, 'locales', 'en-US', `${type}.json`), 'utf8'))[type];
}

/** Asserts the palette shows `type` under "predictive maintenance" with `label` and the package's own icon. */
export async function assertInPalette(page: Page, type: string, label: string): Promise<PaletteEntry> {
  const entry = await paletteEntry(page, type);
  assert.ok(entry, `${type} is not in the palette`);
  assert.equal(entry.category, 'predictive maintenance');
  assert.equal(entry.label, label);
  const icon = `icons/${packageName}/${type}.svg`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  assert.match(entry.icon, new RegExp(icon), `palette icon is ${entry.icon}`);
  return entry;
}

/** The tooltip the canvas shows when hovering output port `index` of node `id`. */
export async function outputPortTooltip(page: Page, id: string, index: number): Promise<string> {
  await page.mouse.move(5, 5);
  await page.locator('.red-ui-flow-port-tooltip').waitFor({ state: 'detached' });
  await page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).nth(index).hover();
  const tip = page.locator('.red-ui-flow-port-tooltip');
  await tip.waitFor({ state: 'visible' });
  return (await tip.evaluate((el: any) => (el.textContent as string).replace(/\s+/g, ' ').trim())) as string;
}

/**
 * Types each bad value into its field and asserts the field is marked invalid, then the good value
 * and asserts the mark is gone. With `readBack`, also asserts each bad value stays in the field.
 */
export async function assertFieldMarks(page: Page, cases: Array<[string, string[], string]>, readBack = false): Promise<void> {
  for (const [prop, bads, good] of cases) {
    for (const bad of bads) {
      await typeField(page, prop, bad);
      if (readBack) assert.equal(await readField(page, prop), bad);
      assert.equal(await hasInputError(page, prop), true, `${prop} ${JSON.stringify(bad)} accepted`);
    }
    await typeField(page, prop, good);
    assert.equal(await hasInputError(page, prop), false, `${prop} ${JSON.stringify(good)} still marked invalid`);
  }
}
