/**
 * Scale-out with real parts: Debian's mosquitto as a separate process and TWO full Node-RED 4.1
 * runtimes as child processes, each with this package linked in, both running the same flow file
 * (test/helpers/scale-out.ts): mqtt in (dynamic) → pdm-partition → pdm-normalise → pdm-twin →
 * mqtt out, the instance name from PDM_INSTANCE.
 *
 * A publisher sends a plant of 40 assets × 4 signals, round after round (QoS 1). Proven:
 *  (a) with a map of a path rule, an asset rule and hashing for the rest: every asset's state
 *      comes from exactly one instance, the two together cover every asset, each handles exactly
 *      the assets PartitionMap.ownerOf gives it, and every reading is processed exactly once
 *      (per asset, readings finished by the twin on either instance = readings published);
 *      Under hashing both instances subscribe to every raw topic: together they set aside exactly
 *      one plant's worth of other instances' readings;
 *  (b) after a map change to a closed map (every line listed, "default": "none") and a redeploy on
 *      both, the same holds for the new map, assets did move, their new readings show up only in
 *      states published by their new owner, and the broker sent each instance only its own lines
 *      (edge-a receives nothing it does not own; edge-b only the one asset edge-a owns on its line).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePartitionMap, type PartitionMap } from '../../nodes/lib/partition/map';
import { MOSQUITTO_MISSING, Mosquitto, mosquittoBinary } from '../helpers/mosquitto';
import { Publisher, Runtime, SIGNALS, StateWatcher, plant, scaleOutFlow, sleep, until, type Stats } from '../helpers/scale-out';

const ASSETS = plant(40);
const ROUNDS = 10;
const MAP_1 = { instances: ['edge-a', 'edge-b'], paths: { 'plant1/press': 'edge-a' }, assets: { 'M-31': 'edge-b' }, default: 'hash' };
/** Closed: every line listed, so each instance subscribes to its own lines (and edge-a to M-31) only. */
const MAP_2 = { instances: ['edge-a', 'edge-b'], paths: { 'plant1/press': 'edge-b', 'plant1/paint': 'edge-a', plant2: 'edge-b' }, assets: { 'M-31': 'edge-a' }, default: 'none' };

function compiled(input: unknown): PartitionMap {
  const parsed = parsePartitionMap(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.map;
}

function skipReason(): string | false {
  if (mosquittoBinary() || process.env.CI) return false; // under CI the suite runs and fails with the message
  console.warn(`\n${'!'.repeat(100)}\n!! SCALE-OUT TESTS SKIPPED: ${MOSQUITTO_MISSING}\n${'!'.repeat(100)}\n`);
  return MOSQUITTO_MISSING;
}

describe('scale-out: two Node-RED runtimes share a plant on mosquitto', { skip: skipReason(), timeout: 5 * 60_000 }, () => {
  let broker: Mosquitto | undefined;
  const runtimes: Runtime[] = [];
  let publisher: Publisher | undefined;
  let watcher: StateWatcher | undefined;

  before(async () => {
    broker = await Mosquitto.start();
    const flow = scaleOutFlow({ brokerPort: broker.port, map: MAP_1 });
    runtimes.push(...(await Promise.all(['edge-a', 'edge-b'].map((name) => Runtime.start(name, flow)))));
    watcher = new StateWatcher();
    await watcher.connect(broker.url);
    publisher = new Publisher(broker.url, ASSETS);
    await publisher.connect();
    await sleep(500); // the dynamic subscriptions' SUBACKs
  });

  after(async () => {
    await publisher?.end().catch(() => {});
    await watcher?.end().catch(() => {});
    await Promise.all(runtimes.map((rt) => rt.stop()));
    await broker?.stop();
  });

  /** Publishes ROUNDS rounds and waits until both instances together finished every reading. */
  let others = new Map<string, number>();

  async function publishAndDrain(): Promise<Map<string, Record<string, number>>> {
    const sent = await publisher!.publish(ROUNDS);
    assert.equal(sent, ASSETS.length * SIGNALS.length * ROUNDS);
    let stats: Stats[] = [];
    await until(
      async () => {
        stats = await Promise.all(runtimes.map((rt) => rt.stats()));
        return stats.reduce((n, s) => n + s.total, 0) >= sent;
      },
      60_000,
      `${sent} readings finished by the twins`,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(stats.map((s) => s.total))}\n${runtimes.map((rt) => rt.text.slice(-3000)).join('\n')}`);
    });
    await sleep(1500); // anything sent twice would arrive now; last snapshots (1 s throttle) go out
    stats = await Promise.all(runtimes.map((rt) => rt.stats()));
    for (const [i, s] of stats.entries()) assert.equal(s.rejected, 0, `${runtimes[i].instance} rejected or caught errors`);
    others = new Map(runtimes.map((rt, i) => [rt.instance, stats[i].others]));
    return new Map(runtimes.map((rt, i) => [rt.instance, stats[i].processed]));
  }

  /** Every asset on exactly its owner, every reading once. */
  function assertPartitioned(map: PartitionMap, processed: Map<string, Record<string, number>>): Map<string, string> {
    const ownerSeen = new Map<string, string>();
    for (const [instance, perAsset] of processed) {
      for (const [assetId, n] of Object.entries(perAsset)) {
        assert.ok(!ownerSeen.has(assetId), `${assetId} was handled by ${ownerSeen.get(assetId)} and ${instance}`);
        ownerSeen.set(assetId, instance);
        assert.equal(n, SIGNALS.length * ROUNDS, `${instance} finished ${n} readings of ${assetId}`);
      }
    }
    assert.deepEqual([...ownerSeen.keys()].sort(), ASSETS.map((a) => a.assetId).sort(), 'the instances together cover every asset');
    for (const a of ASSETS) assert.equal(ownerSeen.get(a.assetId), map.ownerOf(a.assetId, a.path), `owner of ${a.assetId}`);
    for (const name of map.names) assert.ok([...ownerSeen.values()].includes(name), `${name} handled no asset`);
    return ownerSeen;
  }

  let firstOwners: Map<string, string>;

  it('(a) hash map with a path and an asset rule: each asset on exactly one instance, each reading once', async () => {
    const map = compiled(MAP_1);
    const processed = await publishAndDrain();
    firstOwners = assertPartitioned(map, processed);
    const statesBy = new Map<string, Set<string>>();
    for (const s of watcher!.states) (statesBy.get(s.assetId) ?? statesBy.set(s.assetId, new Set()).get(s.assetId)!).add(s.handledBy);
    for (const a of ASSETS) {
      assert.deepEqual([...(statesBy.get(a.assetId) ?? [])], [firstOwners.get(a.assetId)], `states of ${a.assetId}`);
    }
    // Hashing: both subscribe to every raw topic, so each received the other's readings and set them aside.
    const sent = ASSETS.length * SIGNALS.length * ROUNDS;
    assert.equal(others.get('edge-a')! + others.get('edge-b')!, sent);
    console.log(JSON.stringify({ phase: 'hash', others: Object.fromEntries(others), perInstance: Object.fromEntries([...processed].map(([k, v]) => [k, Object.keys(v).length])) }));
  });

  it('(b) a map change and a redeploy move assets cleanly to their new owners', async () => {
    assert.ok(firstOwners, 'phase (a) must run first');
    const map = compiled(MAP_2);
    const moved = ASSETS.filter((a) => map.ownerOf(a.assetId, a.path) !== firstOwners.get(a.assetId)).map((a) => a.assetId);
    assert.ok(moved.length >= 5, `the new map moves only ${moved.length} assets`);

    await Promise.all(runtimes.map((rt) => rt.resetStats()));
    const flow = scaleOutFlow({ brokerPort: broker!.port, map: MAP_2 });
    await Promise.all(runtimes.map((rt) => rt.deploy(flow)));
    await sleep(500);
    const changedAt = watcher!.states.length;
    const phaseStart = Date.now() - 60_000; // the publisher stamps readings a minute back

    const processed = await publishAndDrain();
    const owners = assertPartitioned(map, processed);
    for (const id of moved) assert.notEqual(owners.get(id), firstOwners.get(id));

    // States carrying readings of this phase come only from the owner; a moved asset's new owner
    // starts a twin for it and publishes its state (a twin that stays sends one only on a change).
    const newer = watcher!.states.slice(changedAt).filter((s) => s.newestTs >= phaseStart);
    for (const a of ASSETS) {
      const by = [...new Set(newer.filter((s) => s.assetId === a.assetId).map((s) => s.handledBy))];
      if (moved.includes(a.assetId)) assert.deepEqual(by, [owners.get(a.assetId)], `new states of moved ${a.assetId}`);
      else assert.ok(by.every((b) => b === owners.get(a.assetId)), `new states of ${a.assetId} from ${by.join(', ')}`);
    }
    // Closed map: the broker sent edge-a only its own readings; edge-b's plant2 filter also brings M-31.
    assert.equal(others.get('edge-a'), 0, 'edge-a received readings of assets it does not own');
    assert.equal(others.get('edge-b'), SIGNALS.length * ROUNDS, 'edge-b received other readings than M-31\'s');
    console.log(JSON.stringify({ phase: 'moved', others: Object.fromEntries(others), moved: moved.length, perInstance: Object.fromEntries([...processed].map(([k, v]) => [k, Object.keys(v).length])) }));
  });
});
