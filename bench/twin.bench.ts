/**
 * pdm-twin benchmark (`npm run bench:twin`).
 *
 *  1. Core: readings/s into twins through TwinFleet.ingest — 100 assets of the six classes, 6
 *     signals each, a gateway-like interleaving, current traces that start, run, idle, overload
 *     and stop the machines. Bar: >= 200,000 readings/s.
 *  2. Runtime: pdm-normalise → pdm-twin in a real, embedded Node-RED beside a bare chain of two
 *     core `change` nodes, fed the same messages in the same run, rounds alternated. pdm-twin
 *     sends nothing for most readings, so both chains are timed to completion the same way: a
 *     Complete node on the chain's last node (the twin; the 2nd change node) into a counting sink.
 *     Bar: median per-round ratio twin chain / change chain >= 0.5.
 *  3. Memory: 10,000 assets (six classes, every class signal) fed over several feature windows
 *     with starts, running, idle and timer ticks, so baselines, windows and counters are populated;
 *     heap delta / assets after GC, in a child process run with --expose-gc. Bar: <= 64 KB per
 *     asset for what the node holds (the twins plus the saved copy its context store keeps).
 *
 * Options: `--only=core|runtime|memory`, `--quick` for a smoke run.
 * Exit code 0 whether or not a bar is met; 1 only if the benchmark itself is broken (a reading
 * rejected, a message lost).
 */
import { spawnSync } from 'node:child_process';
import { resolveAsset } from '../nodes/lib/assets/resolve';
import type { AssetClassId, AssetConfig, ResolvedAsset } from '../nodes/lib/assets/types';
import type { Reading } from '../nodes/lib/contracts/reading';
import { TwinFleet } from '../nodes/lib/twin/fleet';
import { figure, fromRounds, machineInfo, measureInterleaved, median, printReport, pump, startRuntime, type Figure } from './support';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const quick = args.includes('--quick');

const CORE_BAR = 200_000;
const RATIO_BAR = 0.5;
const MEMORY_BAR_BYTES = 64 * 1024;

/** The node's editor defaults (pdm-twin.html). */
const NODE_DEFAULTS = { windowSec: 60, staleFactor: 5, snapshotSec: 1, persistSec: 5 };
const FLEET_OPTIONS = { windowMs: NODE_DEFAULTS.windowSec * 1000, staleFactor: NODE_DEFAULTS.staleFactor, snapshotMinIntervalMs: NODE_DEFAULTS.snapshotSec * 1000 };

const CORE = { warmup: 2, rounds: quick ? 3 : 9, assets: 100, signals: 6, steps: quick ? 100 : 334 };
const RUNTIME = { warmup: 2, rounds: quick ? 3 : 15, assets: 100, signals: 6, steps: quick ? 10 : 34, chunk: 500 };
const MEMORY = { assets: quick ? 1_000 : 10_000, windows: 4, stepMs: 20_000 };

// ---------------------------------------------------------------------------------------------
// A plant: assets of the six classes, their signals and how they behave

const CLASSES: AssetClassId[] = ['motor', 'pump', 'fan', 'compressor', 'conveyor', 'gearbox'];
/** Signals every class reports (the runtime and core benches use these six). */
const COMMON_SIGNALS = ['current', 'vibration_velocity', 'vibration_acceleration', 'bearing_temperature', 'speed', 'power'];

/** Typical value and noise of each signal while running, in its canonical unit. */
const SIGNAL_MODEL: Record<string, { unit: string; base: number; spread: number }> = {
  vibration_velocity: { unit: 'mm/s', base: 2.2, spread: 0.6 },
  vibration_acceleration: { unit: 'm/s²', base: 4, spread: 1.5 },
  bearing_temperature: { unit: '°C', base: 55, spread: 5 },
  winding_temperature: { unit: '°C', base: 80, spread: 6 },
  ambient_temperature: { unit: '°C', base: 24, spread: 3 },
  voltage: { unit: 'V', base: 400, spread: 4 },
  speed: { unit: 'rpm', base: 1480, spread: 5 },
  suction_pressure: { unit: 'bar', base: 1.2, spread: 0.2 },
  discharge_pressure: { unit: 'bar', base: 6, spread: 0.5 },
  flow: { unit: 'm³/h', base: 120, spread: 10 },
  discharge_temperature: { unit: '°C', base: 90, spread: 5 },
  filter_differential_pressure: { unit: 'bar', base: 0.05, spread: 0.01 },
  belt_speed: { unit: 'rpm', base: 700, spread: 10 },
  oil_temperature: { unit: '°C', base: 60, spread: 4 },
};

interface Plant {
  ids: string[];
  configs: AssetConfig[];
  rated: number[];
  power: number[];
  /** Per asset: the signals it reports. */
  signals: string[][];
  /** Per asset: phase offset of its duty cycle, s. */
  offset: number[];
}

function plant(count: number, allSignals: boolean, signalCount = COMMON_SIGNALS.length): Plant {
  const p: Plant = { ids: [], configs: [], rated: [], power: [], signals: [], offset: [] };
  for (let i = 0; i < count; i++) {
    const assetClass = CLASSES[i % CLASSES.length];
    const id = `${assetClass.slice(0, 3).toUpperCase()}-${String(i + 1).padStart(5, '0')}`;
    const rated = 5 + ((i * 37) % 96);
    const power = Math.round(rated * 0.55 * 10) / 10;
    const config: AssetConfig = {
      id,
      assetClass,
      path: { site: 'plant1', area: `area${i % 7}`, line: `line${i % 13}` },
      nameplate: { ratedCurrentA: rated, ratedPowerKW: power, ratedSpeedRpm: 1480 },
    };
    p.ids.push(id);
    p.configs.push(config);
    p.rated.push(rated);
    p.power.push(power);
    p.signals.push(allSignals ? resolveAsset(config).sensors.map((s) => s.signal) : COMMON_SIGNALS.slice(0, signalCount));
    p.offset.push((i * 97) % 600);
  }
  return p;
}

/**
 * Load as a fraction of rated current at second `t` of a 10-minute duty cycle: off, inrush,
 * running (with a short overload), idle, off again.
 */
function loadAt(t: number, jitter: number): number {
  const phase = t % 600;
  if (phase < 20) return 0;
  if (phase < 22) return 6;
  if (phase >= 300 && phase < 310) return 1.3 + jitter * 0.05;
  if (phase < 500) return 0.75 + jitter * 0.05;
  if (phase < 580) return 0.15 + jitter * 0.02;
  return 0;
}

/** Deterministic noise in [-1, 1] (no PRNG state: the same (asset, signal, t) gives the same value). */
function noise(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return ((h >>> 0) / 4294967295) * 2 - 1;
}

function valueOf(p: Plant, asset: number, signal: string, k: number, t: number): number {
  const load = loadAt(t + p.offset[asset], noise(asset, 99, t));
  const n = noise(asset, k, t);
  if (signal === 'current') return Math.round(load * p.rated[asset] * (1 + 0.01 * n) * 100) / 100;
  if (signal === 'power') return Math.round(Math.min(load, 1.4) * p.power[asset] * 100) / 100;
  const m = SIGNAL_MODEL[signal] ?? { base: 10, spread: 1 };
  const running = load > 0.05 ? 1 : 0.1;
  if (signal === 'speed' || signal === 'belt_speed') return load > 0.05 ? Math.round(m.base + m.spread * n) : 0;
  return Math.round((m.base * (signal.endsWith('temperature') ? 1 : running) + m.spread * n) * 1000) / 1000;
}

function unitOf(signal: string): string {
  return signal === 'current' ? 'A' : signal === 'power' ? 'kW' : (SIGNAL_MODEL[signal]?.unit ?? '');
}

/** Readings of steps [from, from + steps) at 1 s per step, interleaved across assets like a gateway. */
function readings(p: Plant, t0: number, from: number, steps: number, withQuality: boolean): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let s = from; s < from + steps; s++) {
    for (let a = 0; a < p.ids.length; a++) {
      const ts = t0 + s * 1000 + (a % 10);
      const signals = p.signals[a];
      for (let k = 0; k < signals.length; k++) {
        const r: Record<string, unknown> = { assetId: p.ids[a], signal: signals[k], value: valueOf(p, a, signals[k], k, s), unit: unitOf(signals[k]), ts };
        if (withQuality) r.quality = 'good';
        out.push(r);
      }
    }
  }
  return out;
}

/** A resolver like the node's: resolved assets cached by id. */
function resolverFor(p: Plant): (id: string) => ResolvedAsset | undefined {
  const configs = new Map(p.configs.map((c) => [c.id, c]));
  const cache = new Map<string, ResolvedAsset>();
  return (id) => {
    let r = cache.get(id);
    if (!r) {
      const c = configs.get(id);
      if (!c) return undefined;
      cache.set(id, (r = resolveAsset(c)));
    }
    return r;
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Core

async function benchCore(): Promise<Record<string, Figure>> {
  const p = plant(CORE.assets, false, CORE.signals);
  const fleet = new TwinFleet(resolverFor(p), FLEET_OPTIONS);
  const t0 = Date.now() - 24 * 3_600_000;
  let transitions = 0;
  let windows = 0;
  const stats = await measureInterleaved(
    [
      {
        name: 'ingest',
        // Each round continues the time series: twins see new data, never late data.
        prepare: (round) => readings(p, t0, round * CORE.steps, CORE.steps, true) as unknown as Reading[],
        run: (batch: Reading[]) => {
          for (let i = 0; i < batch.length; i++) {
            const r = batch[i];
            const out = fleet.ingest(r, r.ts);
            if ('error' in out) throw new Error(`core: ${r.assetId} rejected: ${out.error}`);
            transitions += out.result.transitions.length;
            windows += out.result.windows.length;
          }
          return batch.length;
        },
      },
    ],
    CORE,
  );
  if (fleet.size !== CORE.assets || transitions === 0 || windows === 0) {
    throw new Error(`core: ${fleet.size} twins, ${transitions} transitions, ${windows} windows: the traces do not exercise the twin`);
  }
  const states = new Set(fleet.ids().map((id) => fleet.get(id)!.state));
  return {
    core: fromRounds(`core, TwinFleet.ingest (${CORE.assets} assets x ${CORE.signals} signals)`, stats.ingest, 'readings/s', {
      bar: { min: CORE_BAR, text: `>= ${CORE_BAR.toLocaleString('en-US')}` },
      note: `${stats.ingest.items} readings per round; ${transitions} state transitions, ${windows} feature windows; states now ${[...states].join('/')}`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Runtime: normalise → twin beside change → change

function runtimeFlows(p: Plant): Array<Record<string, unknown>> {
  const csv = ['id,assetClass,site,area,line,ratedCurrentA,ratedPowerKW,ratedSpeedRpm', ...p.configs.map((c) => [c.id, c.assetClass, c.path!.site, c.path!.area, c.path!.line, c.nameplate!.ratedCurrentA, c.nameplate!.ratedPowerKW, c.nameplate!.ratedSpeedRpm].join(','))].join('\n');
  const z = 'bench-tab';
  return [
    { id: z, type: 'tab', label: 'bench' },
    { id: 'norm', type: 'pdm-normalise', z, name: '', property: 'payload', root: 'pdm', site: '', area: '', line: '', ranges: '', stuckCount: 50, dedupe: 10_000, maxFuture: 600, wires: [['twin'], ['norm-reject']] },
    { id: 'twin', type: 'pdm-twin', z, name: '', root: 'pdm', ...NODE_DEFAULTS, unknownAssets: 'reject', defaultClass: 'motor', fleet: csv, store: '', wires: [[], [], [], ['twin-reject']] },
    { id: 'twin-done', type: 'complete', z, name: '', scope: ['twin'], uncaught: false, wires: [['twin-out']] },
    { id: 'twin-out', type: 'bench-sink', z, name: '', wires: [] },
    { id: 'norm-reject', type: 'bench-sink', z, name: '', wires: [] },
    { id: 'twin-reject', type: 'bench-sink', z, name: '', wires: [] },
    { id: 'chg1', type: 'change', z, name: '', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'pdm/plant1/raw', tot: 'str' }], wires: [['chg2']] },
    { id: 'chg2', type: 'change', z, name: '', rules: [{ t: 'set', p: 'stage', pt: 'msg', to: 'twin', tot: 'str' }], wires: [[]] },
    { id: 'chg-done', type: 'complete', z, name: '', scope: ['chg2'], uncaught: false, wires: [['chg-out']] },
    { id: 'chg-out', type: 'bench-sink', z, name: '', wires: [] },
  ];
}

async function benchRuntime(): Promise<{ figures: Record<string, Figure>; delivered: Record<string, number> }> {
  const p = plant(RUNTIME.assets, false, RUNTIME.signals);
  const runtime = await startRuntime({ flows: runtimeFlows(p) });
  try {
    const norm = runtime.getNode('norm');
    const chg1 = runtime.getNode('chg1');
    const twinOut = runtime.sink('twin-out');
    const chgOut = runtime.sink('chg-out');
    const normReject = runtime.sink('norm-reject');
    const twinReject = runtime.sink('twin-reject');
    // Timestamps in the recent past (pdm-normalise refuses the future), unique per round.
    const total = RUNTIME.warmup + RUNTIME.rounds;
    const t0 = Date.now() - (total * RUNTIME.steps + 600) * 1000;
    /** The same messages for both chains: fresh objects per send, as an input node makes. */
    const messages = (round: number) => readings(p, t0, round * RUNTIME.steps, RUNTIME.steps, false).map((payload) => ({ payload }));
    const fed = { twin: 0, change: 0 };
    const stats = await measureInterleaved(
      [
        {
          name: 'twin',
          prepare: messages,
          run: async (msgs: Array<Record<string, unknown>>) => {
            fed.twin += msgs.length;
            return pump(norm, msgs, twinOut, RUNTIME.chunk);
          },
        },
        {
          name: 'change',
          prepare: messages,
          run: async (msgs: Array<Record<string, unknown>>) => {
            fed.change += msgs.length;
            return pump(chg1, msgs, chgOut, RUNTIME.chunk);
          },
        },
      ],
      RUNTIME,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (twinOut.count !== fed.twin || chgOut.count !== fed.change || normReject.count !== 0 || twinReject.count !== 0) {
      const reject = (normReject.last ?? twinReject.last) as { reject?: unknown } | undefined;
      throw new Error(
        `runtime: fed normalise→twin ${fed.twin}, completed ${twinOut.count} (rejects: normalise ${normReject.count}, twin ${twinReject.count}` +
          `${reject ? `: ${JSON.stringify(reject.reject).slice(0, 200)}` : ''}); fed change→change ${fed.change}, completed ${chgOut.count}`,
      );
    }
    const fleet = (runtime.getNode('twin') as unknown as { fleet: TwinFleet }).fleet;
    if (fleet.size !== RUNTIME.assets) throw new Error(`runtime: the twin holds ${fleet.size} twins, expected ${RUNTIME.assets}`);

    const ratios = stats.twin.rates.map((r, i) => r / stats.change.rates[i]);
    return {
      figures: {
        runtimeTwin: fromRounds('runtime, normalise -> twin', stats.twin, 'msg/s'),
        runtimeChange: fromRounds('runtime, change -> change', stats.change, 'msg/s'),
        ratio: figure('ratio twin chain / change chain', median(ratios), 'x', {
          min: Math.min(...ratios),
          max: Math.max(...ratios),
          rounds: ratios.length,
          bar: { min: RATIO_BAR, text: `>= ${RATIO_BAR}` },
          note: 'median of per-round rate ratios (paired rounds); completion counted by a Complete node on each chain',
        }),
      },
      delivered: { twinCompleted: twinOut.count, changeCompleted: chgOut.count, normaliseRejects: normReject.count, twinRejects: twinReject.count },
    };
  } finally {
    await runtime.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Memory (in a child run with --expose-gc)

interface MemoryResult {
  assets: number;
  readings: number;
  seconds: number;
  twinsBytes: number;
  savedBytes: number;
  savedJsonBytes: number;
  baselines: number;
  windows: number;
  states: Record<string, number>;
}

function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory: run with --expose-gc');
  const settle = () => {
    gc();
    gc();
  };
  const started = Date.now();
  const p = plant(MEMORY.assets, true);
  const stepsPerWindow = FLEET_OPTIONS.windowMs / MEMORY.stepMs;
  const steps = MEMORY.windows * stepsPerWindow;
  const t0 = Math.floor((Date.now() - 24 * 3_600_000) / FLEET_OPTIONS.windowMs) * FLEET_OPTIONS.windowMs;

  settle();
  const heap0 = process.memoryUsage().heapUsed;
  const fleet = new TwinFleet(resolverFor(p), FLEET_OPTIONS);
  let count = 0;
  let windows = 0;
  const reading: Reading = { assetId: '', signal: '', value: 0, unit: '', ts: 0, quality: 'good' };
  for (let s = 0; s < steps; s++) {
    const now = t0 + s * MEMORY.stepMs;
    // The 10-minute duty cycle compressed into the run, each asset at its own phase, so assets
    // start, run, overload, idle and stop within it.
    const t = Math.floor((s / steps) * 600);
    for (let a = 0; a < p.ids.length; a++) {
      const signals = p.signals[a];
      for (let k = 0; k < signals.length; k++) {
        reading.assetId = p.ids[a];
        reading.signal = signals[k];
        reading.value = valueOf(p, a, signals[k], k, t - p.offset[a] + (a % 60));
        reading.unit = unitOf(signals[k]);
        reading.ts = now + (a % 1000);
        const out = fleet.ingest(reading, now); // the twin keeps no reference to the reading
        if ('error' in out) throw new Error(`memory: ${reading.assetId} rejected: ${out.error}`);
        windows += out.result.windows.length;
        count++;
      }
    }
    fleet.tick(now + MEMORY.stepMs - 1); // the node's timer: stale flags, pending snapshots
  }
  settle();
  const heap1 = process.memoryUsage().heapUsed;
  // What the node also holds: the saved copy of each twin in its context store's memory/cache.
  const saved = new Map<string, unknown>();
  let jsonBytes = 0;
  for (const id of fleet.ids()) {
    const state = fleet.get(id)!.toJSON();
    saved.set(`twin:${id}`, JSON.parse(JSON.stringify(state)));
    if (saved.size <= 100) jsonBytes += JSON.stringify(state).length;
  }
  settle();
  const heap2 = process.memoryUsage().heapUsed;

  const states: Record<string, number> = {};
  let baselines = 0;
  for (const id of fleet.ids()) {
    const twin = fleet.get(id)!;
    states[twin.state] = (states[twin.state] ?? 0) + 1;
    for (const signal of twin.latestValues().keys()) for (const st of ['idle', 'running', 'overload'] as const) if (twin.baseline(signal, st)) baselines++;
  }
  if (fleet.size !== MEMORY.assets) throw new Error(`memory: ${fleet.size} twins`);
  const result: MemoryResult = {
    assets: fleet.size,
    readings: count,
    seconds: (Date.now() - started) / 1000,
    twinsBytes: (heap1 - heap0) / fleet.size,
    savedBytes: (heap2 - heap1) / fleet.size,
    savedJsonBytes: jsonBytes / Math.min(100, fleet.size),
    baselines: baselines / fleet.size,
    windows,
    states,
  };
  process.stdout.write(`MEMORY ${JSON.stringify(result)}\n`);
  void saved.size;
}

function benchMemory(): Record<string, Figure> {
  const child = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', __filename, '--memory-child', ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('MEMORY '));
  if (child.status !== 0 || !line) throw new Error(`memory child failed (${child.status ?? child.signal}):\n${child.stdout}\n${child.stderr}`);
  const m = JSON.parse(line.slice('MEMORY '.length)) as MemoryResult;
  const perAsset = m.twinsBytes + m.savedBytes;
  const kb = (b: number) => b / 1024;
  return {
    memory: {
      label: `memory per asset, twin + saved copy (${m.assets.toLocaleString('en-US')} assets)`,
      value: kb(perAsset),
      unit: 'KB',
      // Figure bars are "at least"; this one is "at most", so pass is set here.
      bar: { min: 0, text: `<= ${kb(MEMORY_BAR_BYTES)} KB` },
      pass: perAsset <= MEMORY_BAR_BYTES,
      note: `heap delta after GC / assets; ${m.readings.toLocaleString('en-US')} readings over ${MEMORY.windows} windows of ${NODE_DEFAULTS.windowSec} s, ${m.windows} windows closed, ${m.baselines.toFixed(1)} baselines per asset, states ${JSON.stringify(m.states)}, ${m.seconds.toFixed(1)} s`,
    },
    memoryTwin: figure('memory per asset, twin only', kb(m.twinsBytes), 'KB', { note: 'TwinFleet with resolved assets' }),
    memorySaved: figure('memory per asset, saved copy', kb(m.savedBytes), 'KB', { note: `the object the context store keeps; ${Math.round(m.savedJsonBytes)} B as JSON` }),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const figures: Record<string, Figure> = {};
  let delivered: Record<string, number> | undefined;
  if (!only || only === 'core') Object.assign(figures, await benchCore());
  if (!only || only === 'runtime') {
    const r = await benchRuntime();
    Object.assign(figures, r.figures);
    delivered = r.delivered;
  }
  if (!only || only === 'memory') Object.assign(figures, benchMemory());
  printReport({
    bench: 'pdm-twin',
    machine: machineInfo(),
    config: {
      core: CORE,
      runtime: { ...RUNTIME, chains: 'pdm-normalise -> pdm-twin vs change -> change; Complete node on the last node -> bench-sink, awaited per chunk', delivered },
      memory: MEMORY,
      node: NODE_DEFAULTS,
      seconds: (Date.now() - started) / 1000,
    },
    figures,
  });
}

if (args.includes('--memory-child')) {
  memoryChild();
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`benchmark broken: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
