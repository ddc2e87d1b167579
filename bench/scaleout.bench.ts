/**
 * Scale-out benchmark (`npm run bench:scaleout`): the same plant through one Node-RED instance and
 * through two, on Debian's mosquitto (a separate process).
 *
 * Each configuration runs full Node-RED 4.1 runtimes as child processes with the scale-out flow of
 * the integration test (mqtt in → pdm-partition → pdm-normalise → pdm-twin → mqtt out, a counter on
 * the twin's done()), under its own root topic so the configurations never see each other's traffic:
 *   one        one instance owns all 40 assets;
 *   two-hash   two instances, rendezvous hashing: both subscribe to every raw topic, each keeps its half;
 *   two-paths  two instances, a closed map: plant1 → edge-a, plant2 → edge-b, "default": "none", so
 *              each subscribes to its own site only and the broker sends it only its half.
 * A round publishes 40 assets × 4 signals × ROUNDS readings (QoS 1, 200 in flight) as fast as the
 * publisher can, and ends when the twins of all instances together have finished every reading;
 * sustained readings/s = readings ÷ that time. Rounds interleave the configurations, rotating their
 * order. Beside the rate, each instance's CPU time (from /proc) per reading: with a core per
 * instance the busiest instance bounds the throughput, so one's CPU per reading ÷ the busiest
 * instance's is the capacity ratio two instances reach when they do not share cores.
 *
 * Options: `--quick` (fewer, smaller rounds). Exit code 1 only if a reading is lost or handled twice.
 */
import { parsePartitionMap } from '../nodes/lib/partition/map';
import { MOSQUITTO_MISSING, Mosquitto, mosquittoBinary } from '../test/helpers/mosquitto';
import { Publisher, Runtime, SIGNALS, plant, scaleOutFlow, sleep, until } from '../test/helpers/scale-out';
import { figure, machineInfo, median, printReport, type Figure } from './support';

const quick = process.argv.includes('--quick');
const ASSETS = plant(40);
const ROUNDS_PER_BATCH = quick ? 20 : 60;
const BATCH = ASSETS.length * SIGNALS.length * ROUNDS_PER_BATCH;
const REPEATS = { warmup: 1, timed: quick ? 2 : 5 };
const RATIO_BAR = 1.6;

interface Config {
  name: string;
  root: string;
  map: { instances: string[]; paths?: Record<string, string>; default?: string };
  runtimes: Runtime[];
  publisher?: Publisher;
  rates: number[];
  /** CPU seconds per reading, per instance, per timed round. */
  cpu: number[][];
  /** Readings each instance finished, last round. */
  share: number[];
}

const configs: Config[] = [
  { name: 'one', root: 'one/pdm', map: { instances: ['edge-a'] }, runtimes: [], rates: [], cpu: [], share: [] },
  { name: 'two-hash', root: 'hash/pdm', map: { instances: ['edge-a', 'edge-b'] }, runtimes: [], rates: [], cpu: [], share: [] },
  { name: 'two-paths', root: 'paths/pdm', map: { instances: ['edge-a', 'edge-b'], paths: { plant1: 'edge-a', plant2: 'edge-b' }, default: 'none' }, runtimes: [], rates: [], cpu: [], share: [] },
];

async function round(config: Config, timed: boolean): Promise<void> {
  await Promise.all(config.runtimes.map((rt) => rt.resetStats()));
  const cpuBefore = config.runtimes.map((rt) => rt.cpuSeconds());
  const start = performance.now();
  await config.publisher!.publish(ROUNDS_PER_BATCH);
  let totals: number[] = [];
  await until(
    async () => {
      totals = (await Promise.all(config.runtimes.map((rt) => rt.stats()))).map((s) => s.total);
      return totals.reduce((a, b) => a + b, 0) >= BATCH;
    },
    180_000,
    `${config.name}: ${BATCH} readings finished`,
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = config.runtimes.map((rt, i) => (rt.cpuSeconds() - cpuBefore[i]) / BATCH);
  await sleep(300);
  const stats = await Promise.all(config.runtimes.map((rt) => rt.stats()));
  const done = stats.reduce((n, s) => n + s.total, 0);
  // Correctness: every reading once, every asset on one instance only.
  if (done !== BATCH) throw new Error(`${config.name}: ${done} readings finished for ${BATCH} published`);
  const seen = new Map<string, number>();
  for (const s of stats) for (const id of Object.keys(s.processed)) seen.set(id, (seen.get(id) ?? 0) + 1);
  if (seen.size !== ASSETS.length || [...seen.values()].some((n) => n !== 1)) throw new Error(`${config.name}: an asset was handled by two instances or by none`);
  if (timed) {
    config.rates.push(BATCH / seconds);
    config.cpu.push(cpu);
    config.share = stats.map((s) => s.total);
  }
}

async function main(): Promise<void> {
  if (!mosquittoBinary()) throw new Error(MOSQUITTO_MISSING);
  const broker = await Mosquitto.start();
  try {
    for (const c of configs) {
      const parsed = parsePartitionMap(c.map);
      if (!parsed.ok) throw new Error(parsed.errors.join('; '));
      const flow = scaleOutFlow({ brokerPort: broker.port, map: c.map, root: c.root, countOthers: false });
      for (const name of c.map.instances) c.runtimes.push(await Runtime.start(name, flow));
      c.publisher = new Publisher(broker.url, ASSETS, c.root);
      await c.publisher.connect();
    }
    // The publisher's own ceiling: the same batch to a root nobody subscribes to.
    const idle = new Publisher(broker.url, ASSETS, 'nobody/pdm');
    await idle.connect();
    const publisherRates: number[] = [];
    await sleep(1000);

    for (let r = 0; r < REPEATS.warmup + REPEATS.timed; r++) {
      const timed = r >= REPEATS.warmup;
      const order = configs.map((_, i) => configs[(i + r) % configs.length]);
      for (const c of order) await round(c, timed);
      const start = performance.now();
      await idle.publish(ROUNDS_PER_BATCH);
      if (timed) publisherRates.push(BATCH / ((performance.now() - start) / 1000));
    }
    await idle.end();

    const [one, hash, paths] = configs;
    const rate = (c: Config) => median(c.rates);
    /** Median over rounds of the CPU per reading of the instance that worked hardest in that round. */
    const busiest = (c: Config) => median(c.cpu.map((perInstance) => Math.max(...perInstance)));
    const total = (c: Config) => median(c.cpu.map((perInstance) => perInstance.reduce((a, b) => a + b, 0)));
    const spread = (c: Config) => ({ min: Math.min(...c.rates), max: Math.max(...c.rates), rounds: c.rates.length });
    const us = (s: number) => s * 1e6;

    const figures: Record<string, Figure> = {
      publisher: figure('publisher alone (no subscriber)', median(publisherRates), 'readings/s', { min: Math.min(...publisherRates), max: Math.max(...publisherRates), rounds: publisherRates.length }),
      one: figure('one instance', rate(one), 'readings/s', spread(one)),
      twoHash: figure('two instances, hash map', rate(hash), 'readings/s', spread(hash)),
      twoPaths: figure('two instances, closed path map', rate(paths), 'readings/s', spread(paths)),
      ratioHash: figure('two ÷ one, hash map (this machine)', rate(hash) / rate(one), '×', { bar: { min: RATIO_BAR, text: `≥ ${RATIO_BAR}` } }),
      ratioPaths: figure('two ÷ one, closed path map (this machine)', rate(paths) / rate(one), '×', { bar: { min: RATIO_BAR, text: `≥ ${RATIO_BAR}` } }),
      cpuOne: figure('CPU per reading, one instance', us(busiest(one)), 'µs'),
      cpuHashTotal: figure('CPU per reading, hash map, both instances', us(total(hash)), 'µs'),
      cpuHashBusiest: figure('CPU per reading, hash map, busiest instance', us(busiest(hash)), 'µs'),
      cpuPathsTotal: figure('CPU per reading, closed path map, both instances', us(total(paths)), 'µs'),
      cpuPathsBusiest: figure('CPU per reading, closed path map, busiest instance', us(busiest(paths)), 'µs'),
      capacityHash: figure('capacity two ÷ one with a core each, hash map', busiest(one) / busiest(hash), '×', { bar: { min: RATIO_BAR, text: `≥ ${RATIO_BAR}` } }),
      capacityPaths: figure('capacity two ÷ one with a core each, closed path map', busiest(one) / busiest(paths), '×', { bar: { min: RATIO_BAR, text: `≥ ${RATIO_BAR}` } }),
    };
    printReport({
      bench: 'scaleout',
      machine: machineInfo(),
      config: {
        broker: `mosquitto (child process, port ${broker.port})`,
        plant: `${ASSETS.length} assets × ${SIGNALS.length} signals`,
        readingsPerRound: BATCH,
        rounds: REPEATS,
        qos: 1,
        shares: Object.fromEntries(configs.map((c) => [c.name, c.share])),
      },
      figures,
    });
  } finally {
    await Promise.all(configs.flatMap((c) => [c.publisher?.end().catch(() => {}), ...c.runtimes.map((rt) => rt.stop())]));
    await broker.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
