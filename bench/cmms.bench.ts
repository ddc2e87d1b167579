/**
 * pdm-cmms benchmark (`npm run bench:cmms`).
 *
 *  1. Core throughput: alert events → durable outbox (journal with fsync) → HTTP to a local
 *     webhook, until every work order is acknowledged. Bar: ≥ 500 events/s.
 *  2. Runtime throughput: the same through a pdm-cmms node in an embedded Node-RED, counted at
 *     its work-order output. Bar: ≥ 500 events/s.
 *  3. A 10-minute outage, time-accelerated (clock ×60): 300 episodes (900 operations) arrive
 *     during the outage while the webhook answers 503 with Retry-After, resets connections or
 *     never answers; the outbox is restarted (closed and reopened) halfway; then the target
 *     recovers. Figures: lost and duplicated operations (must both be 0; the benchmark is broken
 *     otherwise), and how long the backlog takes to drain after recovery.
 *
 * The webhook does not deduplicate: an operation processed twice is counted as a duplicate.
 * Options: `--only=core|runtime|outage`, `--quick` for a smoke run.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readAlert } from '../nodes/lib/cmms/alert';
import { TargetRuntime } from '../nodes/lib/cmms/client';
import { Outbox } from '../nodes/lib/cmms/outbox';
import { parseTarget } from '../nodes/lib/cmms/target-config';
import { realClock, scaledClock, type AlertInput, type Clock } from '../nodes/lib/cmms/types';
import { alertEvent } from '../test/fixtures/cmms/alerts';
import { figure, machineInfo, median, printReport, startRuntime, type Figure } from './support';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const quick = args.includes('--quick');

const BAR = 500;
const CORE = { events: quick ? 500 : 3000, rounds: quick ? 1 : 3, concurrency: 16 };
const RUNTIME = { events: quick ? 500 : 3000, concurrency: 16 };
const OUTAGE = { factor: 60, outageMin: 10, episodes: quick ? 60 : 300, retryAfterSec: 30, restartAtMin: 5 };

// ---------------------------------------------------------------------------------------------
// A local webhook that counts what it processes (no deduplication), with an outage switch

type Mode = (req: http.IncomingMessage) => 'ok' | '503' | 'reset' | 'timeout';

class Webhook {
  readonly processed = new Map<string, number>();
  requests = 0;
  mode: Mode = () => 'ok';
  retryAfterSec = 1;
  url = '';
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly hanging = new Set<http.ServerResponse>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const mode = this.mode(req);
        if (mode === 'reset') return req.socket.destroy();
        if (mode === 'timeout') {
          this.hanging.add(res);
          return;
        }
        if (mode === '503') {
          res.writeHead(503, { 'Retry-After': String(this.retryAfterSec), 'Content-Type': 'application/json' });
          return res.end('{"error":"down"}');
        }
        const key = String(req.headers['idempotency-key'] ?? '');
        this.processed.set(key, (this.processed.get(key) ?? 0) + 1);
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: `T-${this.processed.size}` }));
      });
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/ticket`;
    return this;
  }

  reset(): void {
    this.processed.clear();
    this.requests = 0;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const tmp = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `pdm-bench-cmms-${label}-`));

function runtimeFor(url: string, clock: Clock = realClock, timeoutSec = 10): TargetRuntime {
  const parsed = parseTarget({ kind: 'webhook', url, timeoutSec }, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return new TargetRuntime(parsed.spec, { clock, maxSockets: 32, pause: { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 1 } });
}

function alertOf(raw: Record<string, unknown>): AlertInput {
  const r = readAlert(raw, Date.now());
  if (!r.ok) throw new Error(r.detail);
  return r.alert;
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------------

async function benchCore(hook: Webhook): Promise<Record<string, Figure>> {
  const rates: number[] = [];
  for (let round = 0; round < CORE.rounds + 1; round++) {
    hook.reset();
    const dir = tmp('core');
    const runtime = runtimeFor(hook.url);
    let delivered = 0;
    const outbox = await Outbox.open({ dir, client: runtime.client, gate: runtime.gate, concurrency: CORE.concurrency, events: { delivered: () => delivered++ } });
    const alerts = Array.from({ length: CORE.events }, (_, i) => alertOf(alertEvent({ episodeId: `B${round}-${i}`, assetId: `A-${i % 50}`, seq: 1, transition: 'raised', tier: 'action' })));
    const start = performance.now();
    // One submit per event, as messages arrive at the node; the journal group-commits them.
    await Promise.all(alerts.map((a) => outbox.submit([a])));
    await waitFor(() => delivered === CORE.events, 120_000, 'every work order acknowledged');
    const seconds = (performance.now() - start) / 1000;
    await outbox.close();
    runtime.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    if (hook.processed.size !== CORE.events) throw new Error(`core: ${CORE.events - hook.processed.size} events lost`);
    if (round > 0) rates.push(CORE.events / seconds); // round 0 warms up
  }
  return {
    core: figure(`core: events -> durable outbox -> local webhook (${CORE.events} events, concurrency ${CORE.concurrency})`, median(rates), 'events/s', {
      min: Math.min(...rates),
      max: Math.max(...rates),
      rounds: rates.length,
      bar: { min: BAR, text: `>= ${BAR} events/s` },
    }),
  };
}

async function benchRuntime(hook: Webhook): Promise<Record<string, Figure>> {
  hook.reset();
  const at = { z: 'tab', x: 100, y: 100 };
  const rt = await startRuntime({
    flows: [
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'target', type: 'pdm-cmms-target', kind: 'webhook', url: hook.url, timeoutSec: '10' },
      { id: 'cmms', ...at, type: 'pdm-cmms', target: 'target', createTier: 'action', onChange: 'update', onClear: 'comment', root: 'pdm', concurrency: String(RUNTIME.concurrency), wires: [['sink'], [], [], []] },
      { id: 'sink', ...at, type: 'bench-sink', wires: [] },
    ],
  });
  try {
    const node = rt.getNode('cmms');
    const sink = rt.sink('sink');
    await new Promise((r) => setTimeout(r, 500)); // the outbox opens
    const events = Array.from({ length: RUNTIME.events }, (_, i) => alertEvent({ episodeId: `R-${i}`, assetId: `A-${i % 50}`, seq: 1, transition: 'raised', tier: 'action' }));
    const start = performance.now();
    for (const payload of events) node.receive({ payload });
    await sink.until(RUNTIME.events, 120_000);
    const seconds = (performance.now() - start) / 1000;
    if (hook.processed.size !== RUNTIME.events) throw new Error(`runtime: ${RUNTIME.events - hook.processed.size} events lost`);
    return {
      runtime: figure(`runtime: pdm-cmms node in Node-RED -> local webhook (${RUNTIME.events} events)`, RUNTIME.events / seconds, 'events/s', { bar: { min: BAR, text: `>= ${BAR} events/s` } }),
    };
  } finally {
    await rt.stop();
  }
}

async function benchOutage(hook: Webhook): Promise<{ figures: Record<string, Figure>; detail: Record<string, unknown> }> {
  hook.reset();
  const clock = scaledClock(OUTAGE.factor);
  const t0 = clock.now();
  const outageEnd = t0 + OUTAGE.outageMin * 60_000;
  let r = 1;
  const random = () => ((r = (Math.imul(r ^ (r >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 4294967296);
  // While down: mostly 503 with Retry-After, some resets and hangs (none of them processed).
  hook.mode = () => {
    if (clock.now() >= outageEnd) return 'ok';
    const x = random();
    return x < 0.7 ? '503' : x < 0.85 ? 'reset' : 'timeout';
  };
  hook.retryAfterSec = OUTAGE.retryAfterSec;
  const dir = tmp('outage');
  const open = async (runtime: TargetRuntime) =>
    Outbox.open({ dir, client: runtime.client, gate: runtime.gate, clock, concurrency: 8, maxAttempts: 1000, backoff: { baseMs: 2000, maxMs: 120_000, factor: 2, jitter: 1 } });
  let runtime = runtimeFor(hook.url, clock, 0.5);
  let outbox = await open(runtime);
  // Episodes arrive spread over the outage: raised at action, de-escalated, cleared.
  const perEpisodeMs = (OUTAGE.outageMin * 60_000) / OUTAGE.episodes;
  let restarted = false;
  for (let e = 0; e < OUTAGE.episodes; e++) {
    const due = t0 + e * perEpisodeMs;
    while (clock.now() < due) await new Promise((res) => setTimeout(res, 2));
    if (!restarted && clock.now() >= t0 + OUTAGE.restartAtMin * 60_000) {
      restarted = true;
      await outbox.close(0);
      runtime.destroy();
      runtime = runtimeFor(hook.url, clock, 0.5);
      outbox = await open(runtime);
    }
    const events = [
      alertEvent({ episodeId: `O-${e}`, assetId: `A-${e % 20}`, seq: 1, transition: 'raised', tier: 'action' }),
      alertEvent({ episodeId: `O-${e}`, assetId: `A-${e % 20}`, seq: 2, transition: 'de_escalated', tier: 'warning', previousTier: 'action' }),
      alertEvent({ episodeId: `O-${e}`, assetId: `A-${e % 20}`, seq: 3, transition: 'cleared', tier: null, closed: true }),
    ];
    const results = await outbox.submit(events.map(alertOf));
    for (const res of results) if (res.operations.length !== 1) throw new Error(`outage: unexpected plan ${JSON.stringify(res)}`);
  }
  const queuedAtRecovery = outbox.stats().queued;
  const processedDuringOutage = hook.processed.size;
  while (clock.now() < outageEnd) await new Promise((res) => setTimeout(res, 5));
  const recoveredAt = clock.now();
  const realRecovered = performance.now();
  await waitFor(() => outbox.stats().queued === 0 && outbox.stats().inflight === 0, 120_000, 'the backlog to drain');
  const drainVirtualS = (clock.now() - recoveredAt) / 1000;
  const drainRealS = (performance.now() - realRecovered) / 1000;
  const dead = outbox.stats().dead;
  await outbox.close();
  runtime.destroy();
  fs.rmSync(dir, { recursive: true, force: true });

  const total = OUTAGE.episodes * 3;
  let duplicated = 0;
  for (const n of hook.processed.values()) duplicated += n - 1;
  const lost = total - hook.processed.size;
  if (lost !== 0 || duplicated !== 0 || dead !== 0) throw new Error(`outage: ${lost} lost, ${duplicated} duplicated, ${dead} dead (benchmark broken)`);
  return {
    figures: {
      outageExact: figure(`outage ${OUTAGE.outageMin} min (x${OUTAGE.factor}), restart at ${OUTAGE.restartAtMin} min: operations delivered exactly once`, (100 * (total - lost - duplicated)) / total, '%', {
        bar: { min: 100, text: '100 % (0 lost, 0 duplicated)' },
        note: `${total} operations, ${lost} lost, ${duplicated} duplicated, ${dead} dead`,
      }),
      outageLost: figure('outage: operations lost', lost, 'ops'),
      outageDuplicated: figure('outage: operations duplicated', duplicated, 'ops'),
      outageDrain: figure('outage: backlog drained after recovery (virtual time)', drainVirtualS, 's', { note: `${drainRealS.toFixed(2)} s real` }),
    },
    detail: { operations: total, queuedAtRecovery, processedDuringOutage, requestsDuringAndAfter: hook.requests },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const hook = await new Webhook().start();
  const figures: Record<string, Figure> = {};
  let outage: Record<string, unknown> | undefined;
  try {
    if (!only || only === 'core') Object.assign(figures, await benchCore(hook));
    if (!only || only === 'runtime') Object.assign(figures, await benchRuntime(hook));
    if (!only || only === 'outage') {
      const o = await benchOutage(hook);
      Object.assign(figures, o.figures);
      outage = o.detail;
    }
  } finally {
    await hook.stop();
  }
  printReport({
    bench: 'pdm-cmms',
    machine: machineInfo(),
    config: { core: CORE, runtime: RUNTIME, outage: { ...OUTAGE, ...outage }, target: 'local webhook over HTTP/1.1 keep-alive; journal fsync per group commit', seconds: (Date.now() - started) / 1000 },
    figures,
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`benchmark broken: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
