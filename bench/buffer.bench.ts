/**
 * pdm-buffer benchmark (`npm run bench:buffer`).
 *
 *  1. Journal write: readings (≈ 200-byte JSON, 20 assets × 6 signals) appended to the durable
 *     journal until the group commit has made the last one durable (fsync at most every 100 ms,
 *     the node's default). Bar: >= 20,000 messages/s. Also with an fsync every 10 ms (no bar).
 *  2. Replay: a journal of readings is written and closed, then reopened — so every record is read
 *     back from the segment files — and forwarded to a local broker with QoS 1 until the last
 *     PUBACK (connection set-up included). The broker is Debian's mosquitto as a child process
 *     (`set_tcp_nodelay true`, `max_queued_messages 0`), or aedes in this process when mosquitto is
 *     not installed (the report says which). Bar: >= 10,000 messages/s. Also with a QoS 1
 *     subscriber that must receive every message (no bar).
 *  3. The node: readings into pdm-buffer in an embedded Node-RED runtime until its done() (the
 *     message is durable), fed in chunks of 5,000 (no bar).
 *  4. The cloud side: the pdm-history writer into PostgreSQL (bench/history-writer.ts).
 *     Bar: >= 20,000 rows/s.
 *
 * Options: `--only=write|replay|node|history`, `--quick` for a smoke run.
 * Exit code 0 whether or not a bar is met; 1 only if the benchmark itself is broken (a message
 * lost, a record refused).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'mqtt';
import { Journal } from '../nodes/lib/buffer/journal';
import { Forwarder } from '../nodes/lib/buffer/forwarder';
import { idempotencyKey, type RecordInput } from '../nodes/lib/buffer/record';
import { Mosquitto, mosquittoBinary } from '../test/helpers/mosquitto';
import { benchHistory } from './history-writer';
import { fromRounds, machineInfo, measureInterleaved, printReport, pump, startRuntime, type Figure } from './support';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const quick = args.includes('--quick');

const WRITE_BAR = 20_000;
const REPLAY_BAR = 10_000;
/** The node's editor defaults (pdm-buffer.html). */
const NODE_DEFAULTS = { syncMs: 100, window: 500, maxMB: 100 };

const WRITE = { warmup: 1, rounds: quick ? 3 : 7, messages: quick ? 20_000 : 100_000 };
const REPLAY = { warmup: 1, rounds: quick ? 3 : 5, messages: quick ? 20_000 : 100_000 };
const NODE = { warmup: 1, rounds: quick ? 3 : 5, messages: quick ? 20_000 : 50_000, chunk: 5_000 };

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-bench-buffer-'));
let dirSeq = 0;
const newDir = () => path.join(tmpRoot, `j${++dirSeq}`);

// ---------------------------------------------------------------------------------------------
// Readings

const SIGNALS: Array<[string, string, number]> = [
  ['current', 'A', 16],
  ['vibration_velocity', 'mm/s', 2.2],
  ['bearing_temperature', '°C', 55],
  ['speed', 'rpm', 1480],
  ['power', 'kW', 7.5],
  ['discharge_pressure', 'bar', 4.2],
];
const ASSETS = Array.from({ length: 20 }, (_, i) => `P-${101 + i}`);
const T0 = Date.UTC(2026, 0, 1);

function reading(i: number): Record<string, unknown> {
  const [signal, unit, base] = SIGNALS[i % SIGNALS.length];
  const assetId = ASSETS[Math.floor(i / SIGNALS.length) % ASSETS.length];
  return { assetId, signal, value: Math.round(base * (1 + 0.05 * Math.sin(i)) * 1000) / 1000, unit, ts: T0 + i, quality: 'good', source: { protocol: 'modbus', address: `HR${40001 + (i % 64)}` } };
}
function record(i: number): RecordInput {
  const r = reading(i);
  return { topic: `pdm/plant1/utilities/l1/${r.assetId}/clean/${r.signal}`, payload: JSON.stringify(r), enc: 'json', key: idempotencyKey(r.assetId as string, r.signal as string, r.ts as number), asset: r.assetId as string };
}

// ---------------------------------------------------------------------------------------------
// 1. Journal write

function writeRound(n: number, syncMs: number): Promise<number> {
  const j = Journal.open({ dir: newDir(), syncMs, maxBytes: 1024 * 1024 * 1024 });
  return new Promise((resolve, reject) => {
    let last = -1;
    for (let i = 0; i < n; i++) {
      const res = j.append(record(i));
      if (!res.ok) return reject(new Error(`append refused: ${res.code}`));
      last = res.seq;
    }
    j.whenDurable(last, (err) => {
      if (err) return reject(err);
      j.close(() => resolve(n));
    });
  });
}

async function benchWrite(): Promise<Record<string, Figure>> {
  const stats = await measureInterleaved(
    [
      { name: 'default', prepare: () => WRITE.messages, run: (n: number) => writeRound(n, NODE_DEFAULTS.syncMs) },
      { name: 'sync10', prepare: () => WRITE.messages, run: (n: number) => writeRound(n, 10) },
    ],
    WRITE,
  );
  return {
    write: fromRounds('journal write, fsync every 100 ms (node default)', stats.default, 'msg/s', { bar: { min: WRITE_BAR, text: `>= ${WRITE_BAR.toLocaleString('en-US')}` }, pass: stats.default.median >= WRITE_BAR }),
    writeSync10: fromRounds('journal write, fsync every 10 ms', stats.sync10, 'msg/s'),
  };
}

// ---------------------------------------------------------------------------------------------
// Brokers

interface Broker {
  url: string;
  kind: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startBroker(): Promise<Broker> {
  const bin = mosquittoBinary();
  if (bin) {
    const broker = await Mosquitto.start();
    const version = await new Promise<string>((resolve) => {
      const v = spawn(bin, ['-h'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      v.stdout!.on('data', (d) => (out += d));
      v.on('close', () => resolve(/mosquitto version (\S+)/.exec(out)?.[1] ?? '?'));
    });
    return {
      url: broker.url,
      kind: `mosquitto ${version} (child process)`,
      stop: () => broker.stop(),
    };
  }
  const port = await freePort();
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    aedes.handle(s);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes (in this process: it shares the event loop with the publisher)',
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Replay

/** A closed journal of n readings, written without fsync (only its contents matter here). */
function prefilled(n: number): string {
  const dir = newDir();
  const j = Journal.open({ dir, fsync: false, maxBytes: 1024 * 1024 * 1024 });
  for (let i = 0; i < n; i++) if (!j.append(record(i)).ok) throw new Error('prefill refused');
  j.close();
  return dir;
}

async function replayRound(url: string, dir: string, n: number, subscribe: boolean): Promise<number> {
  let received = 0;
  const sub = subscribe ? connect(url, { clean: true, protocolVersion: 4 }) : undefined;
  if (sub) {
    sub.on('message', () => received++);
    await new Promise<void>((resolve, reject) => {
      sub.once('connect', () => resolve());
      sub.once('error', reject);
    });
    await sub.subscribeAsync('pdm/#', { qos: 1 });
  }
  const start = performance.now();
  let f: Forwarder | undefined;
  const j = Journal.open({ dir, syncMs: NODE_DEFAULTS.syncMs, maxBytes: 1024 * 1024 * 1024, onDurable: () => f?.pump() });
  if (j.pending !== n) throw new Error(`journal holds ${j.pending}, expected ${n}`);
  f = new Forwarder(j, { url, window: NODE_DEFAULTS.window, reconnectMs: 100 });
  f.start();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replay stalled: ${j.pending} pending, ${received} received`)), 120_000);
    const check = () => {
      if (j.pending === 0 && (!sub || received >= n)) {
        clearTimeout(timer);
        resolve();
      } else setTimeout(check, 2);
    };
    check();
  });
  const seconds = (performance.now() - start) / 1000;
  const c = j.stats().counters;
  if (c.delivered !== n || c.refused + c.dropped + c.expired !== 0) throw new Error(`replay delivered ${c.delivered} of ${n}: ${JSON.stringify(c)}`);
  await new Promise<void>((r) => f!.stop(0, r));
  await new Promise<void>((r) => j.close(r));
  await sub?.endAsync();
  fs.rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

async function benchReplay(broker: Broker): Promise<Record<string, Figure>> {
  // measureInterleaved times run(); the rate here excludes the subscriber's set-up, so the round
  // returns a rate that is converted back to a count over one second.
  const rates: Record<string, number[]> = { plain: [], sub: [] };
  for (let round = 0; round < REPLAY.warmup + REPLAY.rounds; round++) {
    for (const sub of round % 2 ? [true, false] : [false, true]) {
      const rate = await replayRound(broker.url, prefilled(REPLAY.messages), REPLAY.messages, sub);
      if (round >= REPLAY.warmup) rates[sub ? 'sub' : 'plain'].push(rate);
    }
  }
  const stats = (r: number[]) => {
    const sorted = [...r].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { rates: r, median, min: sorted[0], max: sorted[sorted.length - 1], items: REPLAY.messages };
  };
  const plain = stats(rates.plain);
  return {
    replay: fromRounds(`replay from disk to ${broker.kind.split(' (')[0]}, QoS 1 until the last PUBACK`, plain, 'msg/s', { bar: { min: REPLAY_BAR, text: `>= ${REPLAY_BAR.toLocaleString('en-US')}` }, pass: plain.median >= REPLAY_BAR }),
    replaySubscribed: fromRounds('replay with a QoS 1 subscriber receiving every message', stats(rates.sub), 'msg/s'),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. The node in a runtime

async function benchNode(broker: Broker): Promise<Record<string, Figure>> {
  const at = { z: 'tab', x: 100, y: 100 };
  const runtime = await startRuntime({
    flows: [
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'buf', ...at, type: 'pdm-buffer', name: '', broker: broker.url, protocol: '4', clientId: '', tls: '', keepalive: 60, root: 'pdm', journal: newDir(), maxMB: 1024, maxAgeH: 168, overflow: 'reject', syncMs: NODE_DEFAULTS.syncMs, window: NODE_DEFAULTS.window, reconnectSec: 1, wires: [[], []] },
      { id: 'done', ...at, type: 'complete', scope: ['buf'], uncaught: false, wires: [['sink']] },
      { id: 'sink', ...at, type: 'bench-sink', wires: [] },
    ],
  });
  try {
    const node = runtime.getNode('buf');
    const sink = runtime.sink('sink');
    let offset = 0;
    const stats = await measureInterleaved(
      [
        {
          name: 'node',
          prepare: () => {
            const msgs = Array.from({ length: NODE.messages }, (_, i) => ({ payload: reading(offset + i) }));
            offset += NODE.messages;
            return msgs;
          },
          run: (msgs: Array<Record<string, unknown>>) => pump(node, msgs, sink, NODE.chunk),
        },
      ],
      NODE,
    );
    return { node: fromRounds(`pdm-buffer node: readings in until done() (durable), chunks of ${NODE.chunk}`, stats.node, 'msg/s') };
  } finally {
    await runtime.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const figures: Record<string, Figure> = {};
  let broker: Broker | undefined;
  let history: Record<string, unknown> | undefined;
  try {
    if (!only || only === 'write') Object.assign(figures, await benchWrite());
    if (!only || only === 'replay' || only === 'node') broker = await startBroker();
    if (broker && (!only || only === 'replay')) Object.assign(figures, await benchReplay(broker));
    if (broker && (!only || only === 'node')) Object.assign(figures, await benchNode(broker));
    if (!only || only === 'history') {
      const h = await benchHistory({ quick });
      Object.assign(figures, h.figures);
      history = h.config;
    }
  } finally {
    await broker?.stop();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
  printReport({
    bench: 'pdm-buffer',
    machine: { ...machineInfo(), tmpdir: os.tmpdir() },
    config: {
      write: { ...WRITE, record: 'JSON reading ≈ 200 B, 20 assets × 6 signals', until: 'the last append is fsynced' },
      replay: { ...REPLAY, broker: broker?.kind, from: 'segment files (journal reopened, cache empty)' },
      node: NODE,
      history,
      defaults: NODE_DEFAULTS,
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
