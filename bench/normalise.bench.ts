/**
 * pdm-normalise benchmark (`npm run bench:normalise`).
 *
 *  1. Readings/s through the pure core (Normaliser), single readings and batch messages.
 *     Bar: >= 300,000 readings/s for single readings.
 *  2. The pdm-normalise node in a real, embedded Node-RED runtime beside a core `change` node
 *     fed the same messages in the same run, measured alternately. Bar: node >= 0.7 x change.
 *
 * Options: `--only=core` or `--only=runtime` (e.g. to profile one part with
 * `node --cpu-prof dist/bench/normalise.bench.js --only=runtime`), `--quick` for a smoke run.
 * Exit code 0 whether or not a bar is met; 1 only if the benchmark itself is broken
 * (messages lost, readings rejected).
 */
import { Normaliser } from '../nodes/lib/normalise';
import { figure, fromRounds, machineInfo, measureInterleaved, median, printReport, pump, startRuntime, type Figure } from './support';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const quick = args.includes('--quick');

const CORE_BAR = 300_000;
const RATIO_BAR = 0.7;

/** The node's editor defaults (pdm-normalise.html), so both benches see the configuration users get. */
const NODE_DEFAULTS = { stuckCount: 50, dedupe: 10_000, maxFuture: 600 };

const CORE = { warmup: 2, rounds: quick ? 3 : 7, readings: quick ? 20_000 : 100_000, batchSize: 8 };
const RUNTIME = { warmup: 2, rounds: quick ? 3 : 15, messages: quick ? 5_000 : 20_000, chunk: 500 };

// ---------------------------------------------------------------------------------------------
// Realistic input: a plant of pumps, fans and compressors, retrofit sensors in mixed units.

interface Channel {
  signal: string;
  unit: string;
  base: number;
  spread: number;
}

const CHANNELS: Channel[] = [
  { signal: 'vibration_velocity', unit: 'mm/s', base: 2.8, spread: 1.2 },
  { signal: 'vibration_velocity', unit: 'in/s', base: 0.11, spread: 0.05 },
  { signal: 'vibration_acceleration', unit: 'g', base: 0.9, spread: 0.4 },
  { signal: 'bearing_temperature', unit: '°F', base: 150, spread: 15 },
  { signal: 'winding_temperature', unit: '°C', base: 78, spread: 8 },
  { signal: 'ambient_temperature', unit: 'degC', base: 24, spread: 4 },
  { signal: 'current', unit: 'A', base: 42, spread: 6 },
  { signal: 'current', unit: 'mA', base: 12, spread: 4 },
  { signal: 'voltage', unit: 'V', base: 400, spread: 6 },
  { signal: 'discharge_pressure', unit: 'psi', base: 87, spread: 9 },
  { signal: 'suction_pressure', unit: 'bar', base: 1.3, spread: 0.3 },
  { signal: 'pressure', unit: 'kPa', base: 450, spread: 30 },
  { signal: 'flow', unit: 'l/min', base: 480, spread: 40 },
  { signal: 'speed', unit: 'rpm', base: 1480, spread: 15 },
  { signal: 'power', unit: 'kW', base: 22, spread: 3 },
  { signal: 'power', unit: 'hp', base: 30, spread: 4 },
];

/** One channel per signal, for batch messages (a batch shares one ts, so signals must differ). */
const BATCH_CHANNELS = CHANNELS.filter((c, i) => CHANNELS.findIndex((d) => d.signal === c.signal) === i);

const ASSETS = [
  ...Array.from({ length: 24 }, (_, i) => `pump-${String(i + 1).padStart(3, '0')}`),
  ...Array.from({ length: 10 }, (_, i) => `fan-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 6 }, (_, i) => `compressor-${i + 1}`),
];

/** Deterministic PRNG (mulberry32) so every run sees the same mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(0x5eed);

/** Every generated timestamp is unique (1 ms apart), so the dedupe never drops a reading. */
let clock = Date.now() - 24 * 3600 * 1000;

function valueOf(c: Channel): number {
  return Math.round((c.base + (random() * 2 - 1) * c.spread) * 1000) / 1000;
}

/** A single reading as a retrofit input would send it: mostly epoch ms, some ISO / epoch s. */
function singleReading(i: number): Record<string, unknown> {
  const c = CHANNELS[i % CHANNELS.length];
  const ts = clock++;
  const r: Record<string, unknown> = { assetId: ASSETS[(i * 7) % ASSETS.length], signal: c.signal, value: valueOf(c), unit: c.unit };
  const kind = i % 20;
  if (kind === 0) r.ts = new Date(ts).toISOString();
  else if (kind === 1) r.ts = ts / 1000; // epoch seconds with ms fraction
  else r.ts = ts;
  if (kind === 2) r.value = String(r.value); // text values from gateways
  if (kind % 4 === 3) r.source = { protocol: 'modbus', address: `HR${40001 + (i % 64)}`, node: 'modbus-read-1' };
  if (kind === 5) r.quality = 'GOOD';
  return r;
}

function batchMessage(i: number, size: number): Record<string, unknown> {
  const readings = [];
  for (let k = 0; k < size; k++) {
    const c = BATCH_CHANNELS[(i + k) % BATCH_CHANNELS.length];
    readings.push({ signal: c.signal, value: valueOf(c), unit: c.unit });
  }
  return { assetId: ASSETS[i % ASSETS.length], ts: clock++, readings };
}

// ---------------------------------------------------------------------------------------------
// 1. The pure core

function newNormaliser(): Normaliser {
  return new Normaliser({
    stuckCount: NODE_DEFAULTS.stuckCount,
    dedupeCapacity: NODE_DEFAULTS.dedupe,
    maxFutureMs: NODE_DEFAULTS.maxFuture * 1000,
  });
}

function checkResult(what: string, clean: number, expected: number, rejects: number, duplicates: number, firstReject?: string): void {
  if (clean !== expected || rejects !== 0 || duplicates !== 0) {
    throw new Error(
      `${what}: expected ${expected} clean readings, got ${clean} clean, ${rejects} rejected, ${duplicates} duplicates` +
        (firstReject ? ` (first reject: ${firstReject})` : ''),
    );
  }
}

async function benchCore(): Promise<Record<string, Figure>> {
  const single = newNormaliser();
  const batched = newNormaliser();
  const messages = CORE.readings / CORE.batchSize;
  const stats = await measureInterleaved(
    [
      {
        name: 'single',
        prepare: () => Array.from({ length: CORE.readings }, (_, i) => singleReading(i)),
        run: (inputs: unknown[]) => {
          let clean = 0;
          let rejects = 0;
          let duplicates = 0;
          let firstReject: string | undefined;
          for (let i = 0; i < inputs.length; i++) {
            const r = single.normalise(inputs[i]);
            clean += r.clean.length;
            rejects += r.rejects.length;
            duplicates += r.duplicates;
            if (r.rejects.length && !firstReject) firstReject = r.rejects[0].reason;
          }
          checkResult('core single', clean, inputs.length, rejects, duplicates, firstReject);
          return clean;
        },
      },
      {
        name: 'batch',
        prepare: () => Array.from({ length: messages }, (_, i) => batchMessage(i, CORE.batchSize)),
        run: (inputs: unknown[]) => {
          let clean = 0;
          let rejects = 0;
          let duplicates = 0;
          for (let i = 0; i < inputs.length; i++) {
            const r = batched.normalise(inputs[i]);
            clean += r.clean.length;
            rejects += r.rejects.length;
            duplicates += r.duplicates;
          }
          checkResult('core batch', clean, inputs.length * CORE.batchSize, rejects, duplicates);
          return clean;
        },
      },
    ],
    CORE,
  );
  return {
    coreSingle: fromRounds('core, single readings', stats.single, 'readings/s', {
      bar: { min: CORE_BAR, text: `>= ${CORE_BAR.toLocaleString('en-US')}` },
    }),
    coreBatch: fromRounds(`core, batches of ${CORE.batchSize}`, stats.batch, 'readings/s'),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. The node in a real runtime, beside a core change node

const FLOWS = [
  { id: 'bench-tab', type: 'tab', label: 'bench' },
  {
    id: 'norm',
    type: 'pdm-normalise',
    z: 'bench-tab',
    name: '',
    property: 'payload',
    root: 'pdm',
    site: 'plant1',
    area: 'pumphouse',
    line: 'line1',
    ranges: '',
    stuckCount: NODE_DEFAULTS.stuckCount,
    dedupe: NODE_DEFAULTS.dedupe,
    maxFuture: NODE_DEFAULTS.maxFuture,
    wires: [['norm-clean'], ['norm-reject']],
  },
  { id: 'norm-clean', type: 'bench-sink', z: 'bench-tab', name: '', wires: [] },
  { id: 'norm-reject', type: 'bench-sink', z: 'bench-tab', name: '', wires: [] },
  {
    id: 'chg',
    type: 'change',
    z: 'bench-tab',
    name: '',
    rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'pdm/plant1/pumphouse/line1/raw', tot: 'str' }],
    wires: [['chg-out']],
  },
  { id: 'chg-out', type: 'bench-sink', z: 'bench-tab', name: '', wires: [] },
  // Reference only: a change node with no rules is the runtime's own per-message cost (the floor).
  { id: 'floor', type: 'change', z: 'bench-tab', name: '', rules: [], wires: [['floor-out']] },
  { id: 'floor-out', type: 'bench-sink', z: 'bench-tab', name: '', wires: [] },
];

async function benchRuntime(): Promise<{ figures: Record<string, Figure>; delivered: Record<string, number> }> {
  const runtime = await startRuntime({ flows: FLOWS });
  try {
    const norm = runtime.getNode('norm');
    const chg = runtime.getNode('chg');
    const clean = runtime.sink('norm-clean');
    const rejected = runtime.sink('norm-reject');
    const changed = runtime.sink('chg-out');
    const floorNode = runtime.getNode('floor');
    const floorOut = runtime.sink('floor-out');
    /** The same kind of message for both flows: a fresh msg per send, as an input node makes. */
    const messages = () => Array.from({ length: RUNTIME.messages }, (_, i) => ({ payload: singleReading(i) }));
    const fed = { norm: 0, chg: 0, floor: 0 };

    const stats = await measureInterleaved(
      [
        {
          name: 'node',
          prepare: messages,
          run: async (msgs: Array<Record<string, unknown>>) => {
            fed.norm += msgs.length;
            return pump(norm, msgs, clean, RUNTIME.chunk);
          },
        },
        {
          name: 'change',
          prepare: messages,
          run: async (msgs: Array<Record<string, unknown>>) => {
            fed.chg += msgs.length;
            return pump(chg, msgs, changed, RUNTIME.chunk);
          },
        },
        {
          name: 'floor',
          prepare: messages,
          run: async (msgs: Array<Record<string, unknown>>) => {
            fed.floor += msgs.length;
            return pump(floorNode, msgs, floorOut, RUNTIME.chunk);
          },
        },
      ],
      RUNTIME,
    );
    // Let anything stray arrive, then check every message went exactly where it should.
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (clean.count !== fed.norm || rejected.count !== 0 || changed.count !== fed.chg || floorOut.count !== fed.floor) {
      throw new Error(
        `runtime: fed pdm-normalise ${fed.norm}, its sinks got ${clean.count} clean + ${rejected.count} rejected` +
          `${rejected.last ? ` (${JSON.stringify((rejected.last as { reject?: unknown }).reject).slice(0, 200)})` : ''}; ` +
          `fed change ${fed.chg}, its sink got ${changed.count}; fed floor ${fed.floor}, its sink got ${floorOut.count}`,
      );
    }
    const last = clean.last as { topic?: string; payload?: { unit?: string } } | undefined;
    if (!last?.topic?.startsWith('pdm/plant1/pumphouse/line1/') || !last.payload?.unit) {
      throw new Error(`runtime: unexpected clean message ${JSON.stringify(last).slice(0, 200)}`);
    }

    // Paired: each round's node and change runs are adjacent in time, so they share the machine's
    // state; the median of per-round ratios is steadier on a noisy host than a ratio of medians.
    const ratios = stats.node.rates.map((r, i) => r / stats.change.rates[i]);
    const ratio = median(ratios);
    return {
      figures: {
        runtimeNode: fromRounds('runtime, pdm-normalise', stats.node, 'msg/s'),
        runtimeChange: fromRounds('runtime, core change', stats.change, 'msg/s'),
        runtimeFloor: fromRounds('runtime, change no rules', stats.floor, 'msg/s', {
          note: 'reference: the runtime per-message cost alone (receive, send, wires, sink)',
        }),
        ratio: figure('ratio node/change', ratio, 'x', {
          min: Math.min(...ratios),
          max: Math.max(...ratios),
          rounds: ratios.length,
          bar: { min: RATIO_BAR, text: `>= ${RATIO_BAR}` },
          note: 'median of per-round node/change rate ratios (paired rounds)',
        }),
      },
      delivered: { normClean: clean.count, normReject: rejected.count, change: changed.count, floor: floorOut.count },
    };
  } finally {
    await runtime.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const figures: Record<string, Figure> = {};
  let delivered: Record<string, number> | undefined;
  if (only !== 'runtime') Object.assign(figures, await benchCore());
  if (only !== 'core') {
    const r = await benchRuntime();
    Object.assign(figures, r.figures);
    delivered = r.delivered;
  }
  printReport({
    bench: 'pdm-normalise',
    machine: machineInfo(),
    config: {
      core: CORE,
      runtime: { ...RUNTIME, delivery: 'node.receive -> send -> wires -> bench-sink, awaited per chunk', delivered },
      node: NODE_DEFAULTS,
      seconds: (Date.now() - started) / 1000,
    },
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
