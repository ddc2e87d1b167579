/**
 * The demo in a browser: scripts/start.js in test mode (free ports, a temporary userDir, a fast
 * simulated clock), the Node-RED editor and — when @flowfuse/node-red-dashboard is installed —
 * the dashboard, in Debian's headless Chromium. Saves the screenshots the README shows:
 *   docs/screenshots/editor-demo.png      the editor on the demo tab
 *   docs/screenshots/dashboard-demo.png   the dashboard with live values
 *
 * PDM_DEMO_SHOT_FACTOR sets the acceleration (default 900, so P-101's bearing alert is on screen
 * within about two minutes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { editorSuiteSkip, freePort, launchBrowser, openEditor, repoRoot, TIMEOUTS } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const document: any;

type Json = Record<string, any>;
const FACTOR = Number(process.env.PDM_DEMO_SHOT_FACTOR || 900);
const SHOTS = path.join(repoRoot, 'docs', 'screenshots');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const demo = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', 'demo.json'), 'utf8')) as Json[];
const demoTab = demo.find((n) => n.type === 'tab')!;
const ourTypes = [...new Set(demo.filter((n) => /^pdm-/.test(n.type)).map((n) => n.type as string))];
const ASSETS = (JSON.parse(demo.find((n) => n.type === 'pdm-twin')!.fleet) as Json[]).map((a) => a.id as string);

function dashboardInstalled(): boolean {
  try {
    require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [repoRoot] });
    return demo.some((n) => n.type === 'ui-base');
  } catch {
    return false;
  }
}

/** `npm start` in test mode, in its own process group. */
async function startDemo(userDir: string): Promise<{ url: string; log: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.js')], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), PDM_MQTT_PORT: String(await freePort()), PDM_USERDIR: userDir, PDM_DEMO_FACTOR: String(FACTOR), PDM_MQTT_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(-child.pid!, 'SIGTERM');
    const hard = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
    await gone;
    clearTimeout(hard);
  };
  const deadline = Date.now() + TIMEOUTS.runtime;
  while (!/\[info\] Started flows/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo did not start:\n${log}`);
    }
    await sleep(200);
  }
  return { url: `http://127.0.0.1:${port}/`, log: () => log, stop };
}

const skip = editorSuiteSkip();

describe('the demo in the browser', { skip, timeout: 10 * 60_000 }, () => {
  let userDir: string | undefined;
  let run: Awaited<ReturnType<typeof startDemo>> | undefined;
  let browser: Browser | undefined;

  before(async () => {
    userDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'pdm-demo-editor-'));
    run = await startDemo(userDir);
    browser = await launchBrowser();
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await run?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('opens the editor on the demo flow, every node known and valid, and saves docs/screenshots/editor-demo.png', async () => {
    const { page, context, errors } = await openEditor(browser!, run!.url, ourTypes);
    try {
      await page.evaluate((tab: string) => RED.workspaces.show(tab), demoTab.id);
      const state = await page.evaluate((tab: string) => {
        const nodes: any[] = [];
        RED.nodes.eachNode((n: any) => {
          if (n.z === tab) nodes.push({ id: n.id, type: n.type, name: n.name, valid: n.valid, known: !!RED.nodes.getType(n.type) });
        });
        return nodes;
      }, demoTab.id);
      assert.ok(state.length >= 20, `only ${state.length} nodes on the demo tab`);
      assert.deepEqual(state.filter((n) => !n.known).map((n) => n.type), [], 'unknown node types');
      assert.deepEqual(state.filter((n) => n.valid === false).map((n) => `${n.type} ${n.name ?? n.id}`), [], 'invalid nodes');
      for (const type of ourTypes) assert.ok(state.some((n) => n.type === type) || demo.some((n) => n.type === type && n.z === undefined), `${type} is not in the demo`);
      // The first thing a newcomer reads: the intro comment at the top of the tab.
      const intro = demo.find((n) => n.type === 'comment' && n.z === demoTab.id && /demo/i.test(n.name))!;
      assert.ok(intro.y <= 60 && /Six simulated machines/.test(intro.info), 'the intro comment is not at the top');
      await showWholeFlow(page);
      await page.screenshot({ path: path.join(SHOTS, 'editor-demo.png') });
      assert.deepEqual(errors.filter((e) => !/favicon|Failed to load resource/.test(e)), [], 'errors in the editor page');
    } finally {
      await context.close();
    }
  });

  it('renders the dashboard with live values and saves docs/screenshots/dashboard-demo.png', { skip: dashboardInstalled() ? false : '@flowfuse/node-red-dashboard is not installed' }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${run!.url}dashboard`, { timeout: TIMEOUTS.page });
      await page.locator('.pdm-card').first().waitFor({ timeout: TIMEOUTS.page });
      const cards = async () => page.locator('.pdm-card .pdm-head b').allInnerTexts();
      const simTime = async () => (await page.locator('.pdm-links').innerText()).match(/simulated time (\S+ \S+)/)?.[1];
      await page.waitForFunction((n: number) => document.querySelectorAll('.pdm-card').length >= n, ASSETS.length, { timeout: TIMEOUTS.page });
      assert.deepEqual((await cards()).map((s) => s.trim()), ASSETS, 'one card per asset, in plant order');
      const t1 = await simTime();
      await sleep(3000);
      const t2 = await simTime();
      assert.ok(t1 && t2 && t2 > t1, `the simulated time does not move on the dashboard (${t1} → ${t2})`);
      // Wait (bounded) for the faulty pump to show its alert, so the screenshot tells the story.
      const deadline = Date.now() + 150_000;
      const faulty = page.locator('.pdm-card', { hasText: 'P-101' });
      while (Date.now() < deadline && !(await faulty.locator('.pdm-alert-action').count())) await sleep(2000);
      await sleep(4000);
      const states = await page.locator('.pdm-card .pdm-chip').first().innerText();
      assert.match(states, /running|idle|off|startup|shutdown|overload/, 'no operating state on the first card');
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-demo.png'), fullPage: true });
      assert.deepEqual(errors, [], 'errors in the dashboard page');
    } finally {
      await context.close();
    }
  });
});

/** Hides the palette and the sidebar and zooms out until every node of the tab is on screen. */
async function showWholeFlow(page: Page): Promise<void> {
  await page.evaluate(() => {
    RED.menu.setSelected('menu-item-palette', false);
    RED.menu.setSelected('menu-item-sidebar', false);
  });
  for (let i = 0; i < 6; i++) {
    const fits = await page.evaluate(() => {
      const chart = document.getElementById('red-ui-workspace-chart');
      const scale = RED.view.scale();
      let maxX = 0;
      let maxY = 0;
      RED.nodes.eachNode((n: any) => {
        if (n.z === RED.workspaces.active()) {
          maxX = Math.max(maxX, n.x + (n.w || 100) / 2);
          maxY = Math.max(maxY, n.y + (n.h || 30) / 2);
        }
      });
      return maxX * scale <= chart.clientWidth && maxY * scale <= chart.clientHeight;
    });
    if (fits) break;
    await page.evaluate(() => RED.actions.invoke('core:zoom-out'));
  }
  await page.evaluate(() => {
    RED.view.clearSelection();
    const chart = document.getElementById('red-ui-workspace-chart');
    chart.scrollLeft = 0;
    chart.scrollTop = 0;
  });
  await sleep(800);
}
