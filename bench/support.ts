/**
 * Shared helpers for the benchmarks: a timing loop that interleaves cases round by round, a
 * report printed as JSON then as a plain table, and a real Node-RED runtime embedded in-process
 * (RED.init/start with a temporary userDir, no editor, no HTTP) with a counting sink node.
 *
 * Benchmarks are measurements: a missed bar is reported, not thrown. A benchmark that loses
 * messages or produces wrong output is broken, and throws.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Root of the repository, from dist/bench. */
export const repoRoot = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------
// Statistics and timing

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface RoundStats {
  /** Rate of each timed round, items per second. */
  rates: number[];
  median: number;
  min: number;
  max: number;
  /** Items processed per round. */
  items: number;
}

/** One thing to time. `prepare` runs untimed before each round (build inputs, reset state). */
export interface BenchCase<I = unknown> {
  name: string;
  prepare: (round: number) => I;
  /** Processes the prepared input; returns how many items it processed (readings, messages). */
  run: (input: I) => number | Promise<number>;
}

export interface RoundOptions {
  /** Untimed rounds per case before measuring (lets the JIT settle). */
  warmup: number;
  /** Timed rounds per case; the median is reported. */
  rounds: number;
}

/**
 * Times each case `rounds` times, interleaving the cases and rotating their order every round so
 * drift on a noisy machine (thermal, other tenants, GC) hits all cases alike.
 */
export async function measureInterleaved(cases: BenchCase<any>[], options: RoundOptions): Promise<Record<string, RoundStats>> {
  const rates: Record<string, number[]> = {};
  const items: Record<string, number> = {};
  for (const c of cases) rates[c.name] = [];
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length]);
    for (const c of order) {
      const input = c.prepare(round);
      const start = performance.now();
      const n = await c.run(input);
      const seconds = (performance.now() - start) / 1000;
      if (round >= options.warmup) {
        rates[c.name].push(n / seconds);
        items[c.name] = n;
      }
    }
  }
  const out: Record<string, RoundStats> = {};
  for (const c of cases) {
    const r = rates[c.name];
    out[c.name] = { rates: r, median: median(r), min: Math.min(...r), max: Math.max(...r), items: items[c.name] };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reporting

export interface Bar {
  /** Passes when value >= min. */
  min: number;
  text: string;
}

export interface Figure {
  label: string;
  value: number;
  unit: string;
  bar?: Bar;
  pass?: boolean;
  /** Spread of the timed rounds, when the figure is a median of rounds. */
  min?: number;
  max?: number;
  rounds?: number;
  note?: string;
}

export function figure(label: string, value: number, unit: string, extra: Partial<Figure> = {}): Figure {
  const f: Figure = { label, value, unit, ...extra };
  if (f.bar) f.pass = value >= f.bar.min;
  return f;
}

export function fromRounds(label: string, stats: RoundStats, unit: string, extra: Partial<Figure> = {}): Figure {
  return figure(label, stats.median, unit, { min: stats.min, max: stats.max, rounds: stats.rates.length, ...extra });
}

export function nodeRedVersion(): string {
  try {
    return (require(require.resolve('node-red/package.json', { paths: [repoRoot] })) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    nodeRed: nodeRedVersion(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Rounds a number to 3 significant digits for printing, leaving integers ≥ 1000 whole. */
function tidy(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 1000) return Math.round(value);
  return Number(value.toPrecision(3));
}

function tidyDeep(value: unknown): unknown {
  if (typeof value === 'number') return tidy(value);
  if (Array.isArray(value)) return value.map(tidyDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidyDeep(v)]));
  }
  return value;
}

/** JSON indented down to `depth` levels, compact below: machine-readable and short. */
export function compactJson(value: unknown, depth = 2, indent = ''): string {
  if (depth <= 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, depth - 1, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

export interface Report {
  bench: string;
  machine: Record<string, unknown>;
  config: Record<string, unknown>;
  figures: Record<string, Figure>;
}

/** Prints the report as JSON, then as a table; returns the labels of the bars that failed. */
export function printReport(report: Report): string[] {
  const failed = Object.values(report.figures)
    .filter((f) => f.bar && !f.pass)
    .map((f) => `${f.label} ${formatNumber(f.value)} ${f.unit} (bar ${f.bar!.text})`);
  const json = { ...report, bars: { pass: failed.length === 0, failed } };
  console.log(compactJson(tidyDeep(json), 2));

  const rows = Object.values(report.figures).map((f) => [
    f.label,
    formatNumber(f.value),
    f.unit,
    f.min !== undefined && f.max !== undefined ? `${formatNumber(f.min)}..${formatNumber(f.max)}` : '',
    f.bar ? f.bar.text : '',
    f.bar ? (f.pass ? 'PASS' : 'FAIL') : '',
  ]);
  const header = ['figure', 'median', 'unit', 'rounds min..max', 'bar', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  console.log(failed.length === 0 ? 'All bars met.' : `Bars missed: ${failed.join('; ')}`);
  return failed;
}

// ---------------------------------------------------------------------------------------------
// A real Node-RED runtime, embedded

/** Counts the messages arriving at one `bench-sink` node and lets callers await a count. */
export class Sink {
  count = 0;
  last: Record<string, unknown> | undefined;
  private target = Infinity;
  private wake: (() => void) | undefined;

  constructor(readonly id: string) {}

  /** Called by the sink node for every message it receives. */
  receive(msg: Record<string, unknown>): void {
    this.count++;
    this.last = msg;
    if (this.count >= this.target && this.wake) {
      const wake = this.wake;
      this.wake = undefined;
      this.target = Infinity;
      wake();
    }
  }

  /** Resolves once `count` reaches `target`; rejects after `timeoutMs` naming how many were lost. */
  until(target: number, timeoutMs = 5000): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        this.target = Infinity;
        reject(new Error(`sink ${this.id}: ${target - this.count} message(s) never arrived (${this.count}/${target})`));
      }, timeoutMs);
      this.target = target;
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const SINK_REGISTRY = Symbol.for('pdm-twin.bench.sinks');

function readPackageName(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string }).name;
}

/** The sink node: a minimal real node whose input handler counts into the Sink of its id. */
const SINK_JS = `module.exports = function (RED) {
  'use strict';
  const sinks = globalThis[Symbol.for('pdm-twin.bench.sinks')];
  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    const sink = sinks.get(this.id);
    this.on('input', function (msg, send, done) {
      if (sink) sink.receive(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-sink', BenchSink);
};
`;
const SINK_HTML = `<script type="text/javascript">
  RED.nodes.registerType('bench-sink', { category: 'common', defaults: { name: { value: '' } }, inputs: 1, outputs: 0 });
</script>
`;

/** Minimal typing of what the benches use from the embedded runtime. */
export interface RuntimeNode {
  id: string;
  type: string;
  receive(msg?: Record<string, unknown>): void;
}

export interface Runtime {
  RED: any;
  userDir: string;
  getNode(id: string): RuntimeNode;
  sink(id: string): Sink;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** The flow to deploy (tab + nodes). Every node of type `bench-sink` gets a Sink. */
  flows: Array<Record<string, unknown>>;
  /** Extra node directories or node-red modules to load; the repository itself is always loaded. */
  nodesDir?: string[];
  /**
   * Installed node-red modules to load besides this package (e.g. 'node-red-contrib-modbus').
   * Node-RED otherwise loads every node-red module it finds in node_modules, which slows startup
   * and adds their side effects to the measurement.
   */
  modules?: string[];
  /** Node-RED console log level; 'error' keeps benchmark output clean (a missing node type still fails in getNode). */
  logLevel?: string;
  /** Extra settings merged into the runtime settings. */
  settings?: Record<string, unknown>;
}

/**
 * Starts Node-RED in this process: the real registry loads this package as a node-red module
 * (package.json "node-red" section, dist/nodes/*), the core nodes and the bench sink; the flow is
 * deployed from a flow file in a temporary userDir, exactly as on a gateway. Call once per process.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-'));
  const sinkDir = path.join(userDir, 'bench-nodes');
  fs.mkdirSync(sinkDir);
  fs.writeFileSync(path.join(sinkDir, 'bench-sink.js'), SINK_JS);
  fs.writeFileSync(path.join(sinkDir, 'bench-sink.html'), SINK_HTML);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows));

  const sinks = new Map<string, Sink>();
  for (const n of options.flows) if (n.type === 'bench-sink') sinks.set(String(n.id), new Sink(String(n.id)));
  (globalThis as Record<symbol, unknown>)[SINK_REGISTRY] = sinks;

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require(require.resolve(process.env.NR_PKG || 'node-red', { paths: [repoRoot] }));
  RED.init({
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    nodesDir: [repoRoot, sinkDir, ...(options.nodesDir ?? [])],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    telemetry: { enabled: false },
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowList: [readPackageName(), ...(options.modules ?? [])] },
    },
    functionExternalModules: false,
    logging: { console: { level: options.logLevel ?? 'error', metrics: false, audit: false } },
    ...options.settings,
  });
  const started = new Promise<void>((resolve) => {
    const onStarted = () => {
      RED.events.removeListener('flows:started', onStarted);
      resolve();
    };
    RED.events.on('flows:started', onStarted);
  });
  await RED.start();
  await started;

  const getNode = (id: string): RuntimeNode => {
    const node = RED.nodes.getNode(id) as RuntimeNode | null;
    if (!node) throw new Error(`node ${id} is not running: was its type registered? (check the Node-RED warnings above)`);
    return node;
  };
  for (const n of options.flows) if (n.type !== 'tab') getNode(String(n.id));

  return {
    RED,
    userDir,
    getNode,
    sink(id: string): Sink {
      const s = sinks.get(id);
      if (!s) throw new Error(`no bench-sink with id ${id}`);
      return s;
    },
    async stop(): Promise<void> {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/**
 * Feeds `msgs` to `node` through node.receive() in chunks of `chunk`, awaiting after each chunk
 * until `sink` has seen `perMessage` messages for each one fed (Node-RED delivers on
 * setImmediate, so a chunk is fed synchronously and drains in the next turns of the loop).
 * Returns the number of messages fed. Throws if any message fails to arrive.
 */
export async function pump(
  node: RuntimeNode,
  msgs: Array<Record<string, unknown>>,
  sink: Sink,
  chunk = 500,
  perMessage = 1,
): Promise<number> {
  for (let i = 0; i < msgs.length; i += chunk) {
    const end = Math.min(i + chunk, msgs.length);
    const target = sink.count + (end - i) * perMessage;
    for (let j = i; j < end; j++) node.receive(msgs[j]);
    await sink.until(target);
  }
  return msgs.length;
}
