import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { parsePartitionMap, type PartitionMap, type SubscribeKind } from '../lib/partition/map';
import { addressOf } from '../lib/partition/address';
import { isValidRootTopic } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';

interface PartitionNodeDef extends NodeDef {
  instance: string;
  map: string;
  mapType: 'json' | 'env';
  root: string;
  kind: SubscribeKind;
  qos: string | number;
  wires?: string[][];
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;
type RejectCode = 'config' | 'no_asset' | 'no_path' | 'no_owner';

const KINDS: SubscribeKind[] = ['raw', 'clean', 'all'];

/** What `flows:started` carries: the deploy type and, for partial deploys, the ids that changed. */
interface FlowsStarted {
  type?: string;
  diff?: { added?: string[]; changed?: string[]; rewired?: string[] };
}

export = function register(RED: NodeAPI): void {
  function PdmPartitionNode(this: Node, config: PartitionNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    // `${PDM_INSTANCE}` has already been replaced by the runtime, so one flow file serves every instance.
    const instance = String(config.instance ?? '').trim();
    const root = config.root || 'pdm';
    const kind: SubscribeKind = KINDS.includes(config.kind) ? config.kind : 'raw';
    const qos = [0, 1, 2].includes(Number(config.qos)) ? Number(config.qos) : 1;
    const counts = { own: 0, others: 0, rejected: 0 };
    (node as Node & { counts?: typeof counts }).counts = counts;

    // ---- configuration --------------------------------------------------------------------
    let map: PartitionMap | undefined;
    let configError: string | undefined;
    try {
      const source = config.mapType === 'env' ? RED.util.evaluateNodeProperty(config.map, 'env', node, {} as never) : config.map;
      const parsed = parsePartitionMap(source ?? '');
      if (!parsed.ok) configError = RED._('pdm-partition.errors.map', { error: parsed.errors.join('; ') });
      // The runtime leaves `${NAME}` as it is when the variable is not set.
      else if (!instance || /^\$[{(]\S+[})]$/.test(instance)) configError = RED._('pdm-partition.errors.no-instance', { instance });
      else if (!parsed.map.has(instance)) configError = RED._('pdm-partition.errors.unknown-instance', { instance, instances: parsed.map.names.join(', ') });
      else if (!isValidRootTopic(root)) configError = RED._('pdm-partition.errors.root', { root });
      else map = parsed.map;
    } catch (err) {
      configError = RED._('pdm-partition.errors.map', { error: (err as Error).message });
    }
    (node as Node & { partition?: PartitionMap }).partition = map;

    const status = new StatusThrottle(500, () => {
      node.status({
        fill: counts.rejected > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('pdm-partition.status.counts', { instance, ...counts }),
      });
    });
    if (configError) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('pdm-partition.status.config-error') });
      node.error(configError);
    } else {
      node.status({ fill: 'grey', shape: 'dot', text: RED._('pdm-partition.status.ready', { instance }) });
    }

    // ---- subscriptions for a dynamic `mqtt in` ------------------------------------------------
    const filters = map ? map.topicFiltersFor(instance, root, kind) : [];
    const subscriptionMsgs = (): Msg[] => {
      const out: Msg[] = [{ action: 'unsubscribe', topic: true } as unknown as Msg];
      if (filters.length > 0) out.push({ action: 'subscribe', topic: filters.map((topic) => ({ topic, qos })) } as unknown as Msg);
      return out;
    };
    const subscriptionTargets = new Set<string>(((config.wires ?? [])[3] ?? []) as string[]);
    let fresh = true;
    /**
     * After every deploy that (re)started this node or the nodes its subscription output feeds:
     * those `mqtt in` nodes forgot their dynamic subscriptions, or ours changed. Unchanged nodes
     * keep theirs, so a deploy of something else does not interrupt them.
     */
    const onFlowsStarted = (event: FlowsStarted) => {
      const diff = event?.diff;
      const touched = [...(diff?.added ?? []), ...(diff?.changed ?? []), ...(diff?.rewired ?? [])];
      const restarted = !diff || event.type === 'full' || touched.some((id) => subscriptionTargets.has(id));
      if (!map || !(fresh || restarted)) return;
      fresh = false;
      node.send([null, null, null, subscriptionMsgs()]);
    };
    RED.events.on('flows:started', onFlowsStarted);

    // ---- readings -------------------------------------------------------------------------
    const reject = (msg: Msg, code: RejectCode, params: Record<string, string | number>, send: Send, done: Done) => {
      const reason = RED._(`pdm-partition.reject.${code}`, params);
      const out = RED.util.cloneMessage(msg) as Msg;
      out.reject = { code, reason, ...params };
      counts.rejected++;
      status.update();
      send([null, null, out, null]);
      done(new Error(reason));
    };

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      try {
        if (!map) return reject(msg, 'config', { error: configError ?? '' }, send, done);
        if (msg.command === 'subscribe') {
          send([null, null, null, subscriptionMsgs()]);
          return done();
        }
        const items = Array.isArray(msg.payload) ? (msg.payload as unknown[]) : [msg.payload];
        // Every item's owner first, so a message is either placed completely or rejected whole.
        const owners: string[] = [];
        for (let i = 0; i < items.length; i++) {
          const address = addressOf(items[i], msg.topic, msg.path, root);
          if (!address) return reject(msg, 'no_asset', Array.isArray(msg.payload) ? { index: i } : {}, send, done);
          const owner = map.ownerOf(address.assetId, address.path);
          if (owner === undefined) return reject(msg, 'no_path', { assetId: address.assetId }, send, done);
          if (owner === null) return reject(msg, 'no_owner', { assetId: address.assetId }, send, done);
          owners.push(owner);
        }
        if (!Array.isArray(msg.payload) || owners.every((o) => o === owners[0])) {
          msg.owner = owners[0] ?? instance;
          const own = msg.owner === instance;
          counts[own ? 'own' : 'others'] += items.length;
          send(own ? [msg, null, null, null] : [null, msg, null, null]);
        } else {
          // A mixed array: one message per owner, each with only that owner's items, in input order.
          const byOwner = new Map<string, unknown[]>();
          owners.forEach((o, i) => (byOwner.get(o) ?? byOwner.set(o, []).get(o)!).push(items[i]));
          const own: Msg[] = [];
          const others: Msg[] = [];
          for (const [owner, list] of byOwner) {
            const out = RED.util.cloneMessage({ ...msg, payload: undefined }) as Msg;
            out.payload = list;
            out.owner = owner;
            (owner === instance ? own : others).push(out);
            counts[owner === instance ? 'own' : 'others'] += list.length;
          }
          send([own.length ? own : null, others.length ? others : null, null, null]);
        }
        status.update();
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      RED.events.removeListener('flows:started', onFlowsStarted);
      status.stop();
      done();
    });
  }

  RED.nodes.registerType('pdm-partition', PdmPartitionNode);
};
