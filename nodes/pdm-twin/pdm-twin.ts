import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { validateReading, type Reading } from '../lib/contracts/reading';
import { describeErrors } from '../lib/contracts/ajv';
import { assetDirectory } from '../lib/assets/directory';
import { resolveAsset } from '../lib/assets/resolve';
import { isAssetClassId } from '../lib/assets/classes';
import type { AssetClassId, AssetConfig, ResolvedAsset } from '../lib/assets/types';
import { TwinFleet, type FleetUpdate } from '../lib/twin/fleet';
import type { TwinEvent, TwinState } from '../lib/twin/asset-twin';
import type { TwinSnapshot } from '../lib/twin/snapshot';
import { assetTopic } from '../lib/topic';
import { AssetRegistry } from '../lib/assets/registry';
import { describeImport, importFleet } from '../lib/assets/fleet-text';
import { StatusThrottle } from '../lib/status-throttle';
import { Handover, escapeKey, loadAll, saveAll, unescapeKey, type ContextStore } from '../lib/persistence';

interface TwinNodeDef extends NodeDef {
  root: string;
  windowSec: string | number;
  staleFactor: string | number;
  snapshotSec: string | number;
  republishSec?: string | number;
  unknownAssets: 'create' | 'reject';
  defaultClass: string;
  fleet: string;
  store: string;
  persistSec: string | number;
  clock: 'wall' | 'reading';
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;

/** One context key per twin: `twin:<escaped asset id>`. */
const KEY_PREFIX = 'twin:';
const keyOf = (assetId: string): string => escapeKey(KEY_PREFIX, assetId);
const assetIdOf = (key: string): string => unescapeKey(KEY_PREFIX, key);
const TICK_MS = 1000;
/** Readings that arrive while saved twins are still being restored wait here (bounded). */
const MAX_WAITING = 10_000;

/** Twins handed from a closing node to its redeployed successor (see nodes/lib/persistence). */
const handover = new Handover<TwinState[]>();

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Like positive(), but 0 is a value of its own ("off"). */
function positiveOrZero(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Default of "Republish every": a retained state lost by the broker or missed by a late subscriber is back within a minute. */
const REPUBLISH_SEC = 60;

export = function register(RED: NodeAPI): void {
  function PdmTwinNode(this: Node, config: TwinNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const root = config.root || 'pdm';
    const store = config.store || undefined;
    const persistMs = positive(config.persistSec, 5) * 1000;
    const defaultClass: AssetClassId = isAssetClassId(config.defaultClass) ? config.defaultClass : 'motor';
    const createUnknown = config.unknownAssets !== 'reject';
    const context = node.context() as unknown as ContextStore;

    // Assets from the Fleet field, then those imported by message (which win).
    const configuredFleet = new AssetRegistry();
    const fleetImport = importFleet(configuredFleet, config.fleet);
    if (!fleetImport.ok) node.error(RED._('pdm-twin.errors.fleet', { error: describeImport(fleetImport) }));
    const importedFleet = new AssetRegistry();

    // Resolved assets are cached; any change of pdm-asset nodes or imported fleet clears the cache.
    const resolved = new Map<string, ResolvedAsset | null>();
    const resolver = (assetId: string): ResolvedAsset | undefined => {
      const cached = resolved.get(assetId);
      if (cached !== undefined) return cached ?? undefined;
      const declared =
        importedFleet.get(assetId) ??
        assetDirectory.get(assetId) ??
        configuredFleet.get(assetId) ??
        (createUnknown ? { id: assetId, assetClass: defaultClass } : undefined);
      let asset: ResolvedAsset | null = null;
      if (declared) {
        try {
          asset = resolveAsset(declared);
        } catch (err) {
          node.warn(RED._('pdm-twin.errors.asset', { assetId, error: (err as Error).message }));
        }
      }
      resolved.set(assetId, asset);
      return asset ?? undefined;
    };
    const fleet = new TwinFleet(resolver, {
      windowMs: positive(config.windowSec, 60) * 1000,
      staleFactor: positive(config.staleFactor, 5),
      snapshotMinIntervalMs: positive(config.snapshotSec, 1) * 1000,
      eventTime: config.clock === 'reading',
    });
    (node as Node & { fleet?: TwinFleet }).fleet = fleet;
    const assetsChanged = () => {
      resolved.clear();
      fleet.reconfigure(resolver);
    };
    const unsubscribe = assetDirectory.onChange(assetsChanged);

    const status = new StatusThrottle(1000, () => {
      let attention = 0;
      let running = 0;
      for (const id of fleet.ids()) {
        const twin = fleet.get(id)!;
        if (twin.state === 'running' || twin.state === 'overload') running++;
        if ([...twin.latestValues().values()].some((v) => v.stale || v.quality === 'bad')) attention++;
      }
      node.status({
        fill: attention > 0 ? 'yellow' : 'green',
        shape: restoring ? 'ring' : 'dot',
        text: RED._(restoring ? 'pdm-twin.status.restoring' : 'pdm-twin.status.fleet', { assets: fleet.size, running, attention }),
      });
    });

    // ---- outputs -------------------------------------------------------------------------
    /**
     * A snapshot is a snapshot whatever asked for it: the input's `command` is consumed here (an
     * answer names it in `msg.reply`), so a pdm-alert downstream never takes it for its own command.
     */
    const snapshotMsg = (snapshot: TwinSnapshot, base?: Msg): Msg => {
      const msg = (base ? RED.util.cloneMessage(base) : {}) as Msg;
      if (typeof msg.command === 'string') msg.reply = msg.command;
      delete msg.command;
      msg.topic = assetTopic(root, snapshot.attributes.path, snapshot.assetId, 'state');
      msg.payload = snapshot;
      msg.retain = true;
      return msg;
    };
    /** Splits fleet updates onto outputs: 1 snapshots, 2 feature windows, 3 events. */
    const outputsOf = (updates: FleetUpdate[], base?: Msg): [Msg[], Msg[], Msg[]] => {
      const snapshots: Msg[] = [];
      const windows: Msg[] = [];
      const events: Msg[] = [];
      for (const { twin, result, snapshot } of updates) {
        const path = twin.definition.path;
        if (snapshot) snapshots.push(snapshotMsg(snapshot, base));
        for (const window of result.windows) {
          windows.push({ topic: assetTopic(root, path, twin.id, 'features'), payload: window } as Msg);
        }
        for (const t of result.transitions) {
          events.push({ topic: assetTopic(root, path, twin.id, 'event'), payload: { kind: 'state', assetId: twin.id, ...t } } as Msg);
        }
      }
      return [snapshots, windows, events];
    };
    const sendOutputs = (send: Send, outs: [Msg[], Msg[], Msg[]], rejects: Msg | null = null) => {
      if (outs[0].length + outs[1].length + outs[2].length === 0 && !rejects) return;
      const pick = (list: Msg[]) => (list.length === 0 ? null : list.length === 1 ? list[0] : list);
      send([pick(outs[0]), pick(outs[1]), pick(outs[2]), rejects]);
    };

    // ---- persistence -----------------------------------------------------------------------
    let restoring = true;
    const waiting: Array<{ msg: Msg; send: Send; done: (err?: Error) => void }> = [];
    const persist = (ids: string[], callback?: () => void) => {
      const writes = ids.map((id): [string, unknown] => [keyOf(id), fleet.get(id)?.toJSON()]);
      saveAll(context, store, writes, (err) => node.warn(RED._('pdm-twin.errors.persist', { error: String(err) })), callback);
    };
    const restore = () => {
      const handed = handover.take(node.id);
      if (handed) {
        for (const state of handed) fleet.restore(state);
        restoring = false;
        fleet.takeDirty();
        status.update();
        return;
      }
      const ours = (key: string) => key.startsWith(KEY_PREFIX);
      loadAll(context, store, ours, (err) => node.warn(RED._('pdm-twin.errors.restore', { error: String(err) })), (loaded) => {
        for (const { key, value, error } of loaded) {
          if (!error && value && !fleet.restore(value as TwinState)) node.warn(RED._('pdm-twin.errors.restore-asset', { assetId: assetIdOf(key) }));
        }
        restoring = false;
        fleet.takeDirty();
        status.update();
        for (const item of waiting.splice(0)) handle(item.msg, item.send, item.done);
      });
    };

    let lastPersist = Date.now();
    const timer = setInterval(() => {
      try {
        if (restoring) return;
        const outs = outputsOf(fleet.tick(Date.now()));
        sendOutputs((m) => node.send(m), outs);
        if (Date.now() - lastPersist >= persistMs) {
          lastPersist = Date.now();
          persist(fleet.takeDirty());
        }
        status.update();
      } catch (err) {
        node.error(err);
      }
    }, TICK_MS);

    // A retained …/state is only as good as the broker's memory: a broker restarted without
    // persistence, or a connection that came up after the last change, would otherwise wait for
    // the next change. Every asset's current snapshot is sent again at this interval.
    const republishMs = positiveOrZero(config.republishSec, REPUBLISH_SEC) * 1000;
    const republish =
      republishMs > 0
        ? setInterval(() => {
            try {
              if (restoring || fleet.size === 0) return;
              const now = Date.now();
              const all = fleet.ids().map((id) => snapshotMsg(fleet.snapshot(id, now)!));
              node.send([all, null, null, null]);
            } catch (err) {
              node.error(err);
            }
          }, republishMs)
        : undefined;

    // ---- input -----------------------------------------------------------------------------
    const rejectReason = (code: string, params: Record<string, string> = {}) => RED._(`pdm-twin.reject.${code}`, params);

    function handle(msg: Msg, send: Send, done: (err?: Error) => void): void {
      try {
        if (typeof msg.command === 'string') return command(msg, send, done);
        const input = msg.payload;
        const items = Array.isArray(input) ? input : [input];
        const rejects: { index?: number; code: string; reason: string; item: unknown }[] = [];
        const readings: Reading[] = [];
        const positions: number[] = [];
        items.forEach((item, i) => {
          if (!validateReading(item)) {
            const index = Array.isArray(input) ? i : undefined;
            rejects.push({ index, code: 'not_a_reading', reason: rejectReason('not_a_reading', { error: describeErrors(validateReading.errors) }), item });
            return;
          }
          readings.push(item as Reading);
          positions.push(i);
        });
        const { updates, errors } = fleet.ingestAll(readings, Date.now());
        for (const e of errors) {
          const i = positions[e.index];
          rejects.push({ index: Array.isArray(input) ? i : undefined, code: e.error, reason: rejectReason(e.error, { assetId: e.assetId }), item: items[i] });
        }
        rejects.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        if (items.length === 0) rejects.push({ code: 'empty', reason: rejectReason('empty'), item: input });
        status.update();
        let rejectMsg: Msg | null = null;
        if (rejects.length > 0) {
          rejectMsg = RED.util.cloneMessage(msg) as Msg;
          rejectMsg.reject = { code: rejects[0].code, reason: rejects[0].reason, count: rejects.length, items: rejects };
        }
        sendOutputs(send, outputsOf(updates, msg), rejectMsg);
        done(rejectMsg ? new Error(RED._('pdm-twin.errors.rejected', { count: rejects.length, reason: rejects[0].reason })) : undefined);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    function command(msg: Msg, send: Send, done: (err?: Error) => void): void {
      const now = Date.now();
      const payload = msg.payload as Record<string, unknown> | undefined;
      const assetId = (typeof msg.assetId === 'string' ? msg.assetId : undefined) ?? (typeof payload?.assetId === 'string' ? payload.assetId : undefined);
      /** Answers to queries name the query in `msg.reply`; the command itself is consumed. */
      const reply = (payload: unknown, topic: string) => {
        // A copy: the input message itself still names its command for Complete and Catch nodes.
        const out = RED.util.cloneMessage(msg) as Msg;
        out.reply = out.command;
        delete out.command;
        out.payload = payload;
        out.topic = topic;
        send([out, null, null, null]);
        done();
      };
      const refuse = (code: string, params: Record<string, string> = {}) => {
        const reason = rejectReason(code, params);
        const rejectMsg = RED.util.cloneMessage(msg) as Msg;
        rejectMsg.reject = { code, reason, count: 1, items: [] };
        send([null, null, null, rejectMsg]);
        done(new Error(reason));
      };
      switch (msg.command) {
        case 'get': {
          const snapshot = assetId ? fleet.snapshot(assetId, now) : undefined;
          if (!snapshot) return refuse('unknown_twin', { assetId: String(assetId) });
          send([snapshotMsg(snapshot, msg), null, null, null]);
          return done();
        }
        case 'list':
          return reply(
            fleet.ids().map((id) => {
              const twin = fleet.get(id)!;
              return { assetId: id, name: twin.definition.name, assetClass: twin.definition.assetClass.id, state: twin.state, version: twin.version, updatedAt: twin.updatedAt };
            }),
            `${root}/twins`,
          );
        case 'reset': {
          const ids = assetId ? [assetId] : fleet.ids();
          if (assetId && !fleet.get(assetId)) return refuse('unknown_twin', { assetId });
          ids.forEach((id) => fleet.remove(id));
          persist(fleet.takeDirty());
          status.update();
          return reply({ reset: ids }, `${root}/twins`);
        }
        case 'rebaseline': {
          const twin = assetId ? fleet.get(assetId) : undefined;
          if (!twin) return refuse('unknown_twin', { assetId: String(assetId) });
          twin.rebaseline(now);
          const snapshot = fleet.snapshot(twin.id, now)!;
          send([snapshotMsg(snapshot, msg), null, null, null]);
          return done();
        }
        case 'event': {
          const event = toEvent(payload, now);
          if (!assetId || !event) return refuse('invalid_event');
          const outcome = fleet.record(assetId, event, now);
          if ('error' in outcome) return refuse(outcome.error, { assetId });
          const path = outcome.twin.definition.path;
          const eventMsg = { topic: assetTopic(root, path, assetId, 'event'), payload: { assetId, ...event } } as Msg;
          send([outcome.snapshot ? snapshotMsg(outcome.snapshot, msg) : null, null, eventMsg, null]);
          return done();
        }
        case 'import': {
          const result = importFleet(importedFleet, msg.payload);
          if (!result.ok) return refuse('invalid_fleet', { error: describeImport(result) });
          assetsChanged();
          return reply({ imported: result.imported.length }, `${root}/assets`);
        }
        case 'export': {
          const merged = new AssetRegistry([...configuredFleet.list(), ...assetDirectory.list(), ...importedFleet.list()]);
          return reply(msg.format === 'csv' ? merged.exportCsv() : merged.list(), `${root}/assets`);
        }
        default:
          return refuse('unknown_command', { command: String(msg.command) });
      }
    }

    node.on('input', (msg: Msg, send, done) => {
      if (restoring && waiting.length < MAX_WAITING) {
        waiting.push({ msg, send: send as Send, done });
        return;
      }
      handle(msg, send as Send, done);
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(timer);
      if (republish) clearInterval(republish);
      if (!removed && !restoring) handover.set(node.id, fleet.ids().map((id) => fleet.get(id)!.toJSON()));
      status.stop();
      unsubscribe();
      for (const item of waiting.splice(0)) item.done(new Error(RED._('pdm-twin.errors.closing')));
      // Persist what changed since the last save before the runtime lets go of the node.
      persist(restoring ? [] : fleet.takeDirty(), done);
    });

    restore();
  }

  function toEvent(payload: Record<string, unknown> | undefined, now: number): TwinEvent | undefined {
    if (!payload || (payload.kind !== 'maintenance' && payload.kind !== 'label') || typeof payload.type !== 'string') return undefined;
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const ts = typeof payload.ts === 'number' && Number.isFinite(payload.ts) ? payload.ts : now;
    const event: TwinEvent = { kind: payload.kind, type: payload.type, ts };
    for (const key of ['reason', 'note', 'by', 'episodeId', 'signal'] as const) {
      const value = text(payload[key]);
      if (value !== undefined) event[key] = value;
    }
    return event;
  }

  RED.nodes.registerType('pdm-twin', PdmTwinNode);
};
