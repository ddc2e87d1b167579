import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { AlertEngine, type AlertCommand, type AssetInfo, type EngineOutput } from '../lib/alert/engine';
import { classify } from '../lib/alert/inputs';
import type { AssetAlertState, SiteAlertState } from '../lib/alert/state';
import { assetDirectory } from '../lib/assets/directory';
import { resolveAsset } from '../lib/assets/resolve';
import { assetTopic, topicSegment, type AssetPath } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';
import { contextKey, engineSettings, type AlertFields } from './settings';
import { Handover, loadAll, saveAll, type ContextStore, type Write } from '../lib/persistence';

interface AlertNodeDef extends NodeDef, AlertFields {
  store: string;
  persistSec: string | number;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;

const ASSET_PREFIX = 'alert:';
const SITE_PREFIX = 'alert-site:';
const TICK_MS = 1000;
const MAX_WAITING = 10_000;

/** Episodes and shelving timers handed from a closing node to its redeployed successor (see nodes/lib/persistence). */
const handover = new Handover<{ assets: AssetAlertState[]; sites: SiteAlertState[] }>();

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export = function register(RED: NodeAPI): void {
  function PdmAlertNode(this: Node, config: AlertNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const root = config.root || 'pdm';
    const store = config.store || undefined;
    const persistMs = positive(config.persistSec, 5) * 1000;
    const context = node.context() as unknown as ContextStore;

    const settings = engineSettings(config);
    for (const error of settings.errors) node.error(RED._('pdm-alert.errors.config', { error }));

    // Assets declared by pdm-asset nodes; others are learned from twin snapshots or take the default class.
    const resolved = new Map<string, AssetInfo | null>();
    const resolver = (assetId: string): AssetInfo | undefined => {
      const cached = resolved.get(assetId);
      if (cached !== undefined) return cached ?? undefined;
      let info: AssetInfo | null = null;
      const declared = assetDirectory.get(assetId);
      if (declared) {
        try {
          const asset = resolveAsset(declared);
          info = { name: asset.name, path: asset.path, assetClass: asset.assetClass.id, failureModes: asset.assetClass.failureModes };
        } catch (err) {
          node.warn(RED._('pdm-alert.errors.asset', { assetId, error: (err as Error).message }));
        }
      }
      resolved.set(assetId, info);
      return info ?? undefined;
    };
    const engine = new AlertEngine(settings.config, resolver);
    const counts = { scores: 0, snapshots: 0, events: 0, zones: 0, ignored: 0, commands: 0, rejected: 0 };
    Object.assign(node as object, { engine, counts });
    const unsubscribe = assetDirectory.onChange(() => {
      resolved.clear();
      engine.setResolver(resolver);
    });

    const status = new StatusThrottle(1000, () => {
      if (restoring) {
        node.status({ fill: 'grey', shape: 'ring', text: RED._('pdm-alert.status.restoring') });
        return;
      }
      const open = engine.openEpisodes();
      const shown = open.filter((o) => ['active_unacknowledged', 'active_acknowledged', 'returned_unacknowledged', 'latched'].includes(o.state));
      const unack = shown.filter((o) => !o.episode.acked).length;
      const action = shown.some((o) => o.episode.tier === 'action');
      const flood = engine.siteIds().some((s) => engine.site(s)?.flood.flood);
      node.status({
        fill: settings.errors.length > 0 ? 'red' : action ? 'red' : shown.length > 0 ? 'yellow' : 'green',
        shape: flood ? 'ring' : 'dot',
        text: RED._(flood ? 'pdm-alert.status.flood' : 'pdm-alert.status.open', { open: shown.length, unack, assets: engine.size }),
      });
    });

    // ---- outputs: 1 latest alert per asset, 2 events, 3 twin labels, 4 KPIs, 5 rejects ------
    const pathOf = (assetId: string): AssetPath => engine.asset(assetId)?.info.path ?? {};
    const toMessages = (output: EngineOutput, skipSummaryOf?: string): [Msg[], Msg[], Msg[], Msg[]] => {
      const alerts = output.summaries
        .filter((s) => s.assetId !== skipSummaryOf)
        .map((s) => ({ topic: assetTopic(root, s.path, s.assetId, 'alert'), payload: s, retain: true }) as unknown as Msg);
      const events: Msg[] = [];
      for (const f of output.floods) events.push({ topic: `${root}/${topicSegment(f.site)}/alerts/flood`, payload: f } as unknown as Msg);
      for (const e of output.events) events.push({ topic: assetTopic(root, e.path, e.assetId, 'event'), payload: e } as unknown as Msg);
      const twin = output.twin.map((c) => ({ topic: assetTopic(root, pathOf(c.assetId), c.assetId, 'event'), command: c.command, assetId: c.assetId, payload: c.payload }) as unknown as Msg);
      const kpis = output.kpis.map((k) => ({ topic: `${root}/${topicSegment(k.site)}/alerts/kpi`, payload: k }) as unknown as Msg);
      return [alerts, events, twin, kpis];
    };
    const pick = (list: Msg[]) => (list.length === 0 ? null : list.length === 1 ? list[0] : list);
    const sendAll = (send: Send, outs: [Msg[], Msg[], Msg[], Msg[]], reject: Msg | null = null) => {
      if (outs.every((o) => o.length === 0) && !reject) return;
      send([pick(outs[0]), pick(outs[1]), pick(outs[2]), pick(outs[3]), reject]);
    };

    // ---- persistence ------------------------------------------------------------------------
    let restoring = true;
    const waiting: Array<{ msg: Msg; send: Send; done: Done }> = [];
    const persist = (callback?: () => void) => {
      const dirty = engine.takeDirty();
      const writes: Write[] = [
        ...dirty.assets.map((id): Write => [contextKey(ASSET_PREFIX, id), engine.exportAsset(id)]),
        ...dirty.removedAssets.map((id): Write => [contextKey(ASSET_PREFIX, id), undefined]),
        ...dirty.sites.map((id): Write => [contextKey(SITE_PREFIX, id), engine.exportSite(id)]),
        ...dirty.removedSites.map((id): Write => [contextKey(SITE_PREFIX, id), undefined]),
      ];
      saveAll(context, store, writes, (err) => node.warn(RED._('pdm-alert.errors.persist', { error: String(err) })), callback);
    };
    const finishRestore = () => {
      restoring = false;
      engine.takeDirty();
      status.update();
      for (const item of waiting.splice(0)) handle(item.msg, item.send, item.done);
    };
    const restore = () => {
      const handed = handover.take(node.id);
      if (handed) {
        engine.restore(handed, Date.now());
        return finishRestore();
      }
      const ours = (key: string) => key.startsWith(ASSET_PREFIX) || key.startsWith(SITE_PREFIX);
      loadAll(context, store, ours, (err) => node.warn(RED._('pdm-alert.errors.restore', { error: String(err) })), (loaded) => {
        // Assets first: in reading-time mode a site's clock comes from its assets.
        const order = (key: string) => (key.startsWith(ASSET_PREFIX) ? 0 : 1);
        for (const { key, value, error } of [...loaded].sort((a, b) => order(a.key) - order(b.key))) {
          if (error || !value) continue;
          const ok = key.startsWith(ASSET_PREFIX) ? engine.importAsset(value) : engine.importSite(value, Date.now());
          if (!ok) node.warn(RED._('pdm-alert.errors.restore-key', { key }));
        }
        finishRestore();
      });
    };

    let lastPersist = Date.now();
    const timer = setInterval(() => {
      try {
        if (restoring) return;
        sendAll((m) => node.send(m), toMessages(engine.tick(Date.now())));
        if (Date.now() - lastPersist >= persistMs) {
          lastPersist = Date.now();
          persist();
        }
        status.update();
      } catch (err) {
        node.error(err);
      }
    }, TICK_MS);

    // ---- input ------------------------------------------------------------------------------
    const reason = (code: string, params: Record<string, string> = {}) => RED._(`pdm-alert.reject.${code}`, params);

    function handle(msg: Msg, send: Send, done: Done): void {
      try {
        if (typeof msg.command === 'string') return command(msg, send, done);
        // An answer to another node's query: a twin snapshot (pdm-twin's get, event) is state like
        // any other; anything else (pdm-twin's list, export) is nothing to alert on.
        if (typeof msg.reply === 'string' && classify(msg.payload).kind !== 'snapshot') {
          counts.ignored++;
          return done();
        }
        const input = msg.payload;
        const items = Array.isArray(input) ? input : [input];
        const rejects: Array<{ index?: number; code: string; reason: string; item: unknown }> = [];
        const merged: EngineOutput = { events: [], floods: [], summaries: [], twin: [], kpis: [] };
        const now = Date.now();
        items.forEach((item, i) => {
          const index = Array.isArray(input) ? i : undefined;
          const c = classify(item);
          let outcome;
          switch (c.kind) {
            case 'score':
              outcome = engine.ingestScore(c.score, now);
              if (outcome.ok) counts.scores++;
              break;
            case 'snapshot':
              outcome = engine.ingestSnapshot(c.snapshot, now);
              if (outcome.ok) counts.snapshots++;
              break;
            case 'twin_event':
              outcome = engine.ingestTwinEvent(c.event, now);
              if (outcome.ok) counts.events++;
              break;
            case 'zone':
              outcome = engine.ingestZone(c.zone, now);
              if (outcome.ok) counts.zones++;
              break;
            case 'ignored':
              counts.ignored++;
              return;
            case 'invalid':
              rejects.push({ index, code: c.code, reason: reason(c.code, { error: c.error }), item });
              return;
          }
          if (!outcome.ok) {
            rejects.push({ index, code: outcome.code, reason: reason(outcome.code, { assetId: outcome.assetId }), item });
            return;
          }
          mergeInto(merged, outcome.output);
        });
        if (items.length === 0) rejects.push({ code: 'empty', reason: reason('empty'), item: input });
        counts.rejected += rejects.length;
        status.update();
        let rejectMsg: Msg | null = null;
        if (rejects.length > 0) {
          rejectMsg = RED.util.cloneMessage(msg) as Msg;
          rejectMsg.reject = { code: rejects[0].code, reason: rejects[0].reason, count: rejects.length, items: rejects };
        }
        sendAll(send, toMessages(dedupeSummaries(merged)), rejectMsg);
        done(rejectMsg ? new Error(RED._('pdm-alert.errors.rejected', { count: rejects.length, reason: rejects[0].reason })) : undefined);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    function command(msg: Msg, send: Send, done: Done): void {
      counts.commands++;
      const p = isObject(msg.payload) ? msg.payload : {};
      const cmd: AlertCommand = { command: msg.command as string };
      const assetId = text(msg.assetId) ?? text(p.assetId);
      const episodeId = text(msg.episodeId) ?? text(p.episodeId);
      const mode = text(msg.mode) ?? text(p.mode) ?? text(p.failureMode);
      const site = text(msg.site) ?? text(p.site);
      if (assetId !== undefined) cmd.assetId = assetId;
      if (episodeId !== undefined) cmd.episodeId = episodeId;
      if (mode !== undefined) cmd.mode = mode;
      if (site !== undefined) cmd.site = site;
      const by = text(p.by) ?? text(msg.by);
      if (by !== undefined) cmd.by = by;
      for (const key of ['note', 'reason'] as const) if (text(p[key]) !== undefined) cmd[key] = text(p[key]);
      const forMs = finite(p.for) ?? finite(p.forMs);
      if (forMs !== undefined) cmd.forMs = forMs;
      else if (p.for !== undefined || p.forMs !== undefined) cmd.forMs = NaN;
      if (p.once === true) cmd.once = true;
      if (finite(p.until) !== undefined) cmd.until = finite(p.until);
      if (finite(p.from) !== undefined) cmd.from = finite(p.from);
      if (p.end === true) cmd.end = true;
      const label = text(p.label) ?? text(p.type);
      if (label !== undefined) cmd.label = label;

      const outcome = engine.command(cmd, Date.now());
      if (!outcome.ok) {
        counts.rejected++;
        const why = reason(outcome.code, outcome.params);
        const rejectMsg = RED.util.cloneMessage(msg) as Msg;
        rejectMsg.reject = { code: outcome.code, reason: why, count: 1, items: [] };
        status.update();
        send([null, null, null, null, rejectMsg]);
        return done(new Error(why));
      }
      const replyMsg = RED.util.cloneMessage(msg) as Msg;
      replyMsg.payload = outcome.reply;
      if (outcome.replyKind === 'alert' && outcome.assetId !== undefined) {
        replyMsg.topic = assetTopic(root, pathOf(outcome.assetId), outcome.assetId, 'alert');
        replyMsg.retain = true;
      } else {
        replyMsg.topic = outcome.replyKind === 'kpi' ? `${root}/alerts/kpi` : `${root}/alerts`;
        delete replyMsg.retain;
      }
      const outs = toMessages(outcome.output, outcome.replyKind === 'alert' ? outcome.assetId : undefined);
      outs[0].unshift(replyMsg);
      status.update();
      sendAll(send, outs);
      done();
    }

    node.on('input', (msg: Msg, send, done) => {
      if (restoring && waiting.length < MAX_WAITING) {
        waiting.push({ msg, send: send as Send, done });
        return;
      }
      if (restoring) {
        done(new Error(RED._('pdm-alert.errors.busy')));
        return;
      }
      handle(msg, send as Send, done);
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(timer);
      status.stop();
      unsubscribe();
      for (const item of waiting.splice(0)) item.done(new Error(RED._('pdm-alert.errors.closing')));
      if (!removed && !restoring) {
        const state = engine.toJSON();
        handover.set(node.id, { assets: state.assets, sites: state.sites });
      }
      // Save what changed since the last save before the runtime lets go of the node.
      if (restoring) return done();
      persist(done);
    });

    status.update();
    restore();
  }

  RED.nodes.registerType('pdm-alert', PdmAlertNode);
};

function mergeInto(into: EngineOutput, from: EngineOutput): void {
  into.events.push(...from.events);
  into.floods.push(...from.floods);
  into.summaries.push(...from.summaries);
  into.twin.push(...from.twin);
  into.kpis.push(...from.kpis);
}

/** Of several summaries of one asset in one batch, only the last (the latest alert) goes out. */
function dedupeSummaries(out: EngineOutput): EngineOutput {
  const last = new Map<string, number>();
  out.summaries.forEach((s, i) => last.set(s.assetId, i));
  out.summaries = out.summaries.filter((s, i) => last.get(s.assetId) === i);
  return out;
}
