/**
 * pdm-partition in a real Node-RED runtime (4.1 on Node 20; 5.x on Node 22 via NR_PKG): routing by
 * owner, the asset from payload or topic, path rules, rejects reaching Catch, invalid
 * configuration, the instance name from an environment variable, the subscription actions after
 * deploys, a real dynamic `mqtt in` node on an aedes broker subscribing to this instance's assets
 * only, and redeploys leaving no timers or listeners.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { connect } from 'mqtt';
import { helper, nodeModule, once } from '../helpers/node-red';

const partitionNode = nodeModule('pdm-partition');
const mqttNode = require(require.resolve('@node-red/nodes/core/network/10-mqtt.js', { paths: [path.dirname(require.resolve(process.env.NR_PKG || 'node-red'))] }));

type Msg = Record<string, any>;
const at = { z: 'tab', x: 100, y: 100 };
const MAP = { instances: ['edge-a', 'edge-b'], assets: { 'P-1': 'edge-a', 'P-2': 'edge-b' }, paths: { plant1: 'edge-a', plant2: 'edge-b' }, default: 'edge-b' };
const reading = (assetId: string) => ({ assetId, signal: 'current', value: 10, unit: 'A', ts: 1_764_000_000_000 });

function flow(config: Record<string, unknown> = {}, extra: Msg[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'p1', ...at, type: 'pdm-partition', name: '', instance: 'edge-a', map: JSON.stringify(MAP), mapType: 'json', root: 'pdm', kind: 'raw', qos: '1', wires: [['own'], ['others'], ['rejects'], ['subs']], ...config },
    { id: 'own', ...at, type: 'helper', wires: [] },
    { id: 'others', ...at, type: 'helper', wires: [] },
    { id: 'rejects', ...at, type: 'helper', wires: [] },
    { id: 'subs', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
    ...extra,
  ];
}

function collect(nodeId: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(nodeId).on('input', (msg: Msg) => got.push(msg));
  return got;
}

const settle = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(20);
  }
}

/** Loads a flow and collects output 4 from before the first `flows:started`. */
async function loadWatchingSubs(nodes: unknown, flows: Msg[]): Promise<Msg[]> {
  const subs: Msg[] = [];
  const attach = () => {
    const n = helper.getNode('subs');
    if (n && !n.__watched) {
      n.__watched = true;
      n.on('input', (m: Msg) => subs.push(m));
    }
  };
  helper._events.prependListener('flows:started', attach);
  try {
    await helper.load(nodes, flows);
  } finally {
    helper._events.removeListener('flows:started', attach);
  }
  await settle();
  return subs;
}

describe('pdm-partition node', () => {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.PDM_INSTANCE;
    delete process.env.PDM_PARTITION_MAP;
  });

  it('passes own assets on output 1 and others on output 2 with msg.owner, other properties untouched', async () => {
    await helper.load(partitionNode, flow());
    const own = collect('own');
    const others = collect('others');
    const p1 = helper.getNode('p1');
    p1.receive({ payload: reading('P-1'), parts: { id: 'x' }, _custom: 1 });
    p1.receive({ payload: reading('P-2') });
    p1.receive({ payload: reading('M-9'), topic: 'pdm/plant1/press/l1/M-9/raw/current' });
    p1.receive({ payload: reading('M-9'), path: 'plant2/press' });
    await settle();
    assert.deepEqual(own.map((m) => m.payload.assetId), ['P-1', 'M-9']);
    assert.deepEqual(own[0].parts, { id: 'x' });
    assert.equal(own[0]._custom, 1);
    assert.equal(own[0].owner, 'edge-a');
    assert.deepEqual(others.map((m) => [m.payload.assetId, m.owner]), [['P-2', 'edge-b'], ['M-9', 'edge-b']]);
    assert.deepEqual(p1.counts, { own: 2, others: 2, rejected: 0 });
  });

  it('takes the asset from the topic when the payload has none (a plain value from mqtt in)', async () => {
    await helper.load(partitionNode, flow());
    const own = collect('own');
    const others = collect('others');
    helper.getNode('p1').receive({ payload: '12.5', topic: 'pdm/_/_/_/P-1/raw/current' });
    helper.getNode('p1').receive({ payload: 7, topic: 'pdm/plant2/a/l/M-3/raw/speed' });
    await settle();
    assert.equal(own[0].payload, '12.5');
    assert.equal(others[0].owner, 'edge-b');
  });

  it('splits an array whose readings belong to several instances, keeping their order', async () => {
    await helper.load(partitionNode, flow({ map: JSON.stringify({ instances: ['edge-a', 'edge-b'], assets: { 'P-1': 'edge-a' }, default: 'edge-b' }) }));
    const own = collect('own');
    const others = collect('others');
    helper.getNode('p1').receive({ payload: [reading('P-1'), reading('X'), { ...reading('P-1'), value: 11 }], topic: 'in' });
    await settle();
    assert.deepEqual(own.map((m) => m.payload.map((r: Msg) => r.value)), [[10, 11]]);
    assert.deepEqual(others.map((m) => [m.owner, m.payload.length, m.topic]), [['edge-b', 1, 'in']]);
    assert.deepEqual(helper.getNode('p1').counts, { own: 2, others: 1, rejected: 0 });
  });

  const rejects: Array<[string, Msg, string]> = [
    ['a message with no asset anywhere', { payload: { value: 1 }, topic: 'sensors/x' }, 'no_asset'],
    ['an array with one item without asset', { payload: [reading('P-1'), 5] }, 'no_asset'],
    ['an unlisted asset without a path when paths decide', { payload: reading('M-9') }, 'no_path'],
  ];
  for (const [label, input, code] of rejects) {
    it(`rejects ${label} to output 3 and reaches Catch`, async () => {
      await helper.load(partitionNode, flow());
      const own = collect('own');
      const rejected = once<Msg>(helper.getNode('rejects'), 'input');
      const caught = once<Msg>(helper.getNode('caught'), 'input');
      helper.getNode('p1').receive({ ...input, _keep: true });
      const r = await rejected;
      assert.equal(r.reject.code, code);
      // The test runtime has no message catalogue: a reason reads as its key.
      assert.equal(r.reject.reason, `pdm-partition.reject.${code}`);
      assert.equal(r._keep, true);
      assert.deepEqual(r.payload, input.payload);
      assert.match((await caught).error.message, new RegExp(`${r.reject.reason}$`));
      assert.equal(own.length, 0);
    });
  }

  it('rejects an asset a closed map does not list (no_owner) and subscribes to its own rules only', async () => {
    const closed = { instances: ['edge-a', 'edge-b'], paths: { plant1: 'edge-a', plant2: 'edge-b' }, default: 'none' };
    const subs = await loadWatchingSubs(partitionNode, flow({ map: JSON.stringify(closed) }));
    assert.deepEqual(subs[1].topic, [{ topic: 'pdm/plant1/+/+/+/raw/#', qos: 1 }]);
    const rejected = once<Msg>(helper.getNode('rejects'), 'input');
    helper.getNode('p1').receive({ payload: reading('M-5'), topic: 'pdm/plant3/a/l/M-5/raw/current' });
    assert.equal((await rejected).reject.code, 'no_owner');
  });

  const badConfigs: Array<[string, Record<string, unknown>, string]> = [
    ['an invalid map', { map: '{"instances": []}' }, 'map'],
    ['a map naming an unknown instance', { map: '{"instances": ["edge-a"], "default": "edge-c"}' }, 'map'],
    ['a map from an unset environment variable', { map: 'PDM_UNSET_MAP_FOR_TEST', mapType: 'env' }, 'map'],
    ['an instance not in the map', { instance: 'edge-z' }, 'unknown-instance'],
    ['an empty instance name (unset env var)', { instance: '${PDM_UNSET_FOR_TEST}' }, 'no-instance'],
    ['an invalid root', { root: 'pdm/#' }, 'root'],
  ];
  for (const [label, config, message] of badConfigs) {
    it(`with ${label} it says so, shows a red status and rejects every message`, async () => {
      const subs = await loadWatchingSubs(partitionNode, flow(config));
      const p1 = helper.getNode('p1');
      const rejected = once<Msg>(helper.getNode('rejects'), 'input');
      p1.receive({ payload: reading('P-1') });
      const r = await rejected;
      assert.equal(r.reject.code, 'config');
      assert.equal(r.reject.reason, 'pdm-partition.reject.config');
      const logged = helper.log().args.map((a: Msg[]) => a[0]).filter((e: Msg) => e.id === 'p1' && e.level === 20);
      assert.ok(logged.some((e: Msg) => e.msg === `pdm-partition.errors.${message}`), JSON.stringify(logged));
      assert.equal(subs.length, 0, 'no subscriptions from an invalid configuration');
    });
  }

  it('reads its instance name and its map from environment variables, so one flow file serves every instance', async () => {
    process.env.PDM_INSTANCE = 'edge-b';
    process.env.PDM_PARTITION_MAP = JSON.stringify(MAP);
    await helper.load(partitionNode, flow({ instance: '${PDM_INSTANCE}', map: 'PDM_PARTITION_MAP', mapType: 'env' }));
    const own = collect('own');
    helper.getNode('p1').receive({ payload: reading('P-2') });
    await settle();
    assert.equal(own.length, 1);
    assert.equal(own[0].owner, 'edge-b');
  });

  it('after deploy, output 4 unsubscribes everything and subscribes to the filters of this instance', async () => {
    const subs = await loadWatchingSubs(partitionNode, flow({ qos: '2' }));
    assert.deepEqual(subs, [
      { action: 'unsubscribe', topic: true, _msgid: subs[0]._msgid },
      { action: 'subscribe', topic: [{ topic: 'pdm/+/+/+/P-1/raw/#', qos: 2 }, { topic: 'pdm/plant1/+/+/+/raw/#', qos: 2 }], _msgid: subs[1]._msgid },
    ]);
    await helper.unload();
    const hashed = await loadWatchingSubs(partitionNode, flow({ map: '{"instances": ["edge-a", "edge-b"]}', kind: 'all' }));
    assert.deepEqual(hashed[1].topic, [{ topic: 'pdm/+/+/+/+/#', qos: 1 }]);
  });

  it('sends the subscriptions again on command, and after a deploy that restarts the node they feed, not after others', async () => {
    const subs: Msg[] = [];
    // Runs before the partition node's own flows:started listener: the current 'subs' node is watched in time.
    const attach = () => {
      const n = helper.getNode('subs');
      if (n && !n.__watched) {
        n.__watched = true;
        n.on('input', (m: Msg) => subs.push(m));
      }
    };
    helper._events.prependListener('flows:started', attach);
    try {
      const base = flow({}, [{ id: 'other', ...at, type: 'helper', name: 'v1', wires: [] }]);
      await helper.load(partitionNode, base);
      await settle();
      assert.equal(subs.length, 2);
      helper.getNode('p1').receive({ command: 'subscribe' });
      await settle();
      assert.equal(subs.length, 4);
      // Modified-nodes deploys: an unrelated node changes, then the node that takes the subscriptions.
      await helper.setFlows(base.map((n) => (n.id === 'other' ? { ...n, name: 'v2' } : n)), 'nodes');
      await settle();
      assert.equal(subs.length, 4, 'an unrelated deploy re-sent the subscriptions');
      await helper.setFlows(base.map((n) => (n.id === 'subs' ? { ...n, name: 'restarted' } : n)), 'nodes');
      await settle();
      assert.equal(subs.length, 6, 'the restarted subscriber did not get the subscriptions again');
      assert.deepEqual(subs.slice(4).map((m) => m.action), ['unsubscribe', 'subscribe']);
    } finally {
      helper._events.removeListener('flows:started', attach);
    }
  });

  it('status shows the counts from the catalog', async () => {
    await helper.load(partitionNode, flow());
    const p1 = helper.getNode('p1');
    const statuses: Msg[] = [];
    p1.on('call:status', (call: { args: Msg[] }) => statuses.push(call.args[0]));
    p1.receive({ payload: reading('P-1') });
    p1.receive({ payload: reading('P-2') });
    await settle(700);
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'pdm-partition.status.counts' });
  });

  it('redeploying 50 times leaves no timers or flows:started listeners behind', async () => {
    await helper.load(partitionNode, flow());
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    const listeners = helper._events.listenerCount('flows:started');
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow({ name: `p${i}` }));
      const p1 = helper.getNode('p1');
      p1.receive({ payload: reading('P-1') });
      p1.receive({ payload: reading('P-2') });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await settle();
    assert.ok(timers() <= baseline, `timers grew from ${baseline} to ${timers()}`);
    assert.equal(helper._events.listenerCount('flows:started'), listeners - 1);
  });
});

// ---- a real dynamic mqtt in node on an aedes broker ---------------------------------------------

async function startBroker(): Promise<{ port: number; stop(): Promise<void> }> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    aedes.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

describe('pdm-partition with a dynamic mqtt in node', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  before(async () => {
    broker = await startBroker();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await broker.stop();
  });
  afterEach(async () => {
    await helper.unload();
  });

  function mqttFlow(instance: string, map: unknown): Msg[] {
    return [
      { id: 'tab', type: 'tab', label: 'mqtt' },
      { id: 'broker', type: 'mqtt-broker', name: '', broker: '127.0.0.1', port: String(broker.port), clientid: `pdm-partition-${instance}`, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '10', cleansession: true },
      { id: 'in', ...at, type: 'mqtt in', name: '', topic: '', qos: '1', datatype: 'json', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 1, wires: [['p1']] },
      { id: 'p1', ...at, type: 'pdm-partition', name: '', instance, map: JSON.stringify(map), mapType: 'json', root: 'pdm', kind: 'raw', qos: '1', wires: [['own'], ['others'], ['rejects'], ['in']] },
      { id: 'own', ...at, type: 'helper', wires: [] },
      { id: 'others', ...at, type: 'helper', wires: [] },
      { id: 'rejects', ...at, type: 'helper', wires: [] },
    ];
  }

  async function publishAll(topics: string[]): Promise<void> {
    const client = connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'pdm-partition-publisher' });
    await once(client, 'connect', 5000);
    for (const t of topics) await client.publishAsync(t, JSON.stringify({ ...reading(t.split('/')[4]), ts: Date.now() }), { qos: 1 });
    await client.endAsync();
  }

  const topics = ['pdm/plant1/a/l/M-1/raw/current', 'pdm/plant2/a/l/M-2/raw/current', 'pdm/x/a/l/P-1/raw/current', 'pdm/x/a/l/P-2/raw/current', 'pdm/x/a/l/P-1/state'];

  it('with an explicit map the broker sends this instance only its own assets', async () => {
    await helper.load([partitionNode, mqttNode], mqttFlow('edge-a', MAP));
    const own = collect('own');
    const others = collect('others');
    await until(() => helper.getNode('in').brokerConn?.connected === true && Object.keys(helper.getNode('in').dynamicSubs).length === 2, 5000, 'the dynamic subscriptions');
    await settle(200); // SUBACKs
    await publishAll(topics);
    await until(() => own.length === 2, 5000, 'two own readings');
    await settle(300);
    assert.deepEqual(own.map((m) => m.topic).sort(), ['pdm/plant1/a/l/M-1/raw/current', 'pdm/x/a/l/P-1/raw/current']);
    assert.equal(others.length, 0, 'the broker sent another instance\'s asset');
  });

  it('with a hash map every instance subscribes to all raw topics and the node sets the others aside', async () => {
    const map = { instances: ['edge-a', 'edge-b'] };
    await helper.load([partitionNode, mqttNode], mqttFlow('edge-a', map));
    const own = collect('own');
    const others = collect('others');
    await until(() => helper.getNode('in').brokerConn?.connected === true && Object.keys(helper.getNode('in').dynamicSubs).length === 1, 5000, 'the dynamic subscription');
    await settle(200);
    await publishAll(topics);
    await until(() => own.length + others.length === 4, 5000, 'four raw readings');
    const owner = helper.getNode('p1').partition;
    for (const m of own) assert.equal(owner.ownerOf(m.payload.assetId), 'edge-a');
    for (const m of others) assert.equal(owner.ownerOf(m.payload.assetId), 'edge-b');
  });
});
