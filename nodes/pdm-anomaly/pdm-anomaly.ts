import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  AnomalyScorer,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  ModelFormatError,
  observationFromWindow,
  type ModelBundle,
  type Score,
  type ScorerState,
} from '../lib/anomaly';
import { assetDirectory } from '../lib/assets/directory';
import { isAssetClassId } from '../lib/assets/classes';
import { OPERATING_STATES, type OperatingState } from '../lib/twin/operating-state';
import type { FeatureWindow } from '../lib/twin/feature-window';
import { assetTopic, isValidRootTopic, topicSegment } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';
import { Handover, loadAll, saveAll, type ContextStore, type Write } from '../lib/persistence';
import {
  contextKeyOf,
  isContextKey,
  isSavedKey,
  modelKeyOf,
  parseSettings,
  signatureOf,
  trainingSignatureOf,
  windowProblem,
  type SavedKey,
} from './settings';

interface AnomalyNodeDef extends NodeDef {
  root: string;
  method: string;
  scope: 'asset' | 'class';
  assetClass: string;
  features: string;
  warmupWindows: string | number;
  warmupHours: string | number;
  threshold: string | number;
  retrainHours: string | number;
  seed: string | number;
  publish: boolean | string;
  store: string;
  persistSec: string | number;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;
interface RejectItem {
  index?: number;
  code: string;
  reason: string;
  item: unknown;
}

/** Messages that arrive while saved models are still being restored wait here (bounded). */
const MAX_WAITING = 10_000;
/** Model keys (assets, or classes when pooled) one node learns at most; windows of more are rejected. */
const MAX_KEYS = 10_000;
/** pdm-twin output 3 event kinds: accepted (a replaced part re-baselines), never scored. */
const TWIN_EVENTS = ['state', 'maintenance', 'label'];
/** Remembered topic prefixes (`<root>/<site>/<area>/<line>/<asset>`), bounded. */
const MAX_TOPICS = 20_000;

/** Learners handed from a closing node to its redeployed successor (see nodes/lib/persistence). */
const handover = new Handover<SavedKey[]>();

function positive(value: string | number | undefined, fallback: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
/** Sets an own property, even one named "__proto__" (a legal asset id). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Splits a scorer state into one state per model key. */
function splitState(state: ScorerState): Map<string, ScorerState> {
  const out = new Map<string, ScorerState>();
  const part = (key: string) => {
    let p = out.get(key);
    if (!p) out.set(key, (p = { v: 1, learners: [], faults: {} }));
    return p;
  };
  for (const l of state.learners) part(l.key).learners.push(l);
  for (const [key, labels] of Object.entries(state.faults)) setOwn(part(key).faults, key, labels);
  return out;
}

export = function register(RED: NodeAPI): void {
  function PdmAnomalyNode(this: Node, config: AnomalyNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const root = typeof config.root === 'string' && isValidRootTopic(config.root) ? config.root : 'pdm';
    const settings = parseSettings(config);
    const signature = signatureOf(settings);
    const training = trainingSignatureOf(settings);
    const publish = config.publish === true || config.publish === 'true';
    const store = config.store || undefined;
    const persistMs = Math.max(100, positive(config.persistSec, 60) * 1000);
    const context = node.context() as unknown as ContextStore;
    const scorer = new AnomalyScorer({}, settings.options);
    (node as Node & { scorer?: AnomalyScorer }).scorer = scorer;

    /** Topic prefix per asset, learned from the `…/features` topics of its windows. */
    const topics = new Map<string, string>();
    /** Assets seen per model key (one per key unless pooled). */
    const keyAssets = new Map<string, Set<string>>();
    /** Per model key: end of the newest window (event time) and the length of the last one. */
    const lastEnd = new Map<string, number>();
    const windowMs = new Map<string, number>();
    /** Per asset: end of its newest window; windows must come in time order. */
    const assetEnd = new Map<string, number>();
    const noteEnd = (assetId: string, end: number) => {
      if (!assetEnd.has(assetId) && assetEnd.size >= MAX_TOPICS) assetEnd.delete(assetEnd.keys().next().value as string);
      assetEnd.set(assetId, end);
    };
    /** Per asset: is its latest score anomalous? (for the status) */
    const anomalousNow = new Map<string, boolean>();
    const dirty = new Set<string>();
    const counts = { scored: 0, masked: 0, learning: 0, anomalous: 0, trained: 0, rejected: 0, falseAlarms: 0 };

    const classOf = (assetId: string, ...hints: unknown[]): string => {
      for (const h of hints) if (isAssetClassId(h)) return h;
      const declared = assetDirectory.get(assetId)?.assetClass;
      return isAssetClassId(declared) ? declared : settings.assetClass;
    };
    const keyOf = (assetId: string, ...hints: unknown[]) => scorer.keyOf({ assetId, assetClass: classOf(assetId, ...hints) });
    const remember = (assetId: string, prefix: string) => {
      if (topics.get(assetId) === prefix) return;
      topics.delete(assetId);
      if (topics.size >= MAX_TOPICS) topics.delete(topics.keys().next().value as string);
      topics.set(assetId, prefix);
    };
    const prefixOf = (assetId: string): string => {
      const known = topics.get(assetId);
      if (known) return known;
      const declared = assetDirectory.get(assetId);
      return assetTopic(root, declared?.path ?? {}, assetId, 'features').slice(0, -'/features'.length);
    };
    /** The asset a key's messages are published under: the one asked for, else one seen on the key. */
    const assetOfKey = (key: string, assetId?: string): string => {
      if (assetId) return assetId;
      const seen = keyAssets.get(key);
      if (seen && seen.size) return seen.values().next().value as string;
      return key;
    };
    const noteAsset = (key: string, assetId: string) => {
      let set = keyAssets.get(key);
      if (!set) keyAssets.set(key, (set = new Set()));
      if (!set.has(assetId) && set.size < MAX_TOPICS) set.add(assetId);
    };

    // ---- status --------------------------------------------------------------------------
    let restoring = true;
    const status = new StatusThrottle(1000, () => {
      if (restoring) return node.status({ fill: 'grey', shape: 'ring', text: RED._('pdm-anomaly.status.restoring') });
      const keys = scorer.keys();
      if (keys.length === 0) return node.status({ fill: 'grey', shape: 'ring', text: RED._('pdm-anomaly.status.waiting') });
      let ready = 0;
      let most = 0;
      for (const key of keys) {
        const learners = scorer.status(key);
        if (learners.some((l) => l.status === 'ready')) ready++;
        else for (const l of learners) most = Math.max(most, l.samples);
      }
      let assets = 0;
      for (const key of keys) assets += Math.max(1, keyAssets.get(key)?.size ?? 0);
      let anomalous = 0;
      for (const a of anomalousNow.values()) if (a) anomalous++;
      const params = { n: most, N: settings.warmupWindows, ready, models: keys.length, assets, anomalous };
      if (ready === 0) return node.status({ fill: 'yellow', shape: 'ring', text: RED._('pdm-anomaly.status.learning', params) });
      if (ready < keys.length) return node.status({ fill: anomalous ? 'red' : 'yellow', shape: 'dot', text: RED._('pdm-anomaly.status.mixed', params) });
      return node.status({ fill: anomalous ? 'red' : 'green', shape: 'dot', text: RED._(anomalous ? 'pdm-anomaly.status.anomalous' : 'pdm-anomaly.status.ready', params) });
    });

    // ---- models out ----------------------------------------------------------------------
    /** The bundle of a key as published: the core's bundle plus the window statistics its features are made of. */
    const bundleOf = (key: string): (ModelBundle & { windowStats: string[] }) | undefined => {
      const bundle = scorer.exportModels(key);
      return bundle ? { ...bundle, windowStats: [...settings.stats] } : undefined;
    };
    const modelMsg = (key: string, assetId?: string, base?: Msg): Msg | undefined => {
      const bundle = bundleOf(key);
      if (!bundle) return undefined;
      const msg = (base ?? {}) as Msg;
      msg.topic = `${prefixOf(assetOfKey(key, assetId))}/model`;
      msg.payload = bundle;
      msg.retain = true;
      return msg;
    };

    // ---- persistence ---------------------------------------------------------------------
    const savedOf = (key: string, state: ScorerState): SavedKey => {
      const own: Record<string, string> = {};
      for (const a of keyAssets.get(key) ?? []) {
        const t = topics.get(a);
        if (t) setOwn(own, a, t);
      }
      return { v: 1, sig: signature, training, scorer: state, topics: own };
    };
    const persist = (keys: string[], callback?: () => void) => {
      if (keys.length === 0) return callback?.();
      const parts = splitState(scorer.toJSON(keys));
      const writes = keys.map((key): Write => {
        const part = parts.get(key);
        return [contextKeyOf(key), part ? savedOf(key, part) : undefined];
      });
      saveAll(context, store, writes, (err) => node.warn(RED._('pdm-anomaly.errors.persist', { error: String(err) })), callback);
    };
    const takeDirty = () => {
      const keys = [...dirty];
      dirty.clear();
      return keys;
    };

    /** Installs saved keys; those learned with other features or scope are dropped, those trained with another method, threshold or seed are retrained. */
    const install = (saved: unknown[]) => {
      let discarded = 0;
      const retrain = new Map<string, number>();
      for (const s of saved) {
        if (!isSavedKey(s)) continue;
        if (s.sig.stats !== signature.stats || s.sig.scope !== signature.scope) {
          discarded++;
          continue;
        }
        scorer.restore(s.scorer);
        for (const [asset, prefix] of Object.entries(s.topics ?? {})) if (typeof prefix === 'string') remember(asset, prefix);
        for (const l of s.scorer.learners ?? []) {
          if (typeof l?.key !== 'string') continue;
          for (const asset of Object.keys(s.topics ?? {})) noteAsset(l.key, asset);
          const lastSample = Array.isArray(l.samples) && l.samples.length ? Number(l.samples[l.samples.length - 1][0]) : NaN;
          const end = Math.max(Number.isFinite(lastSample) ? lastSample : -Infinity, Number(l.model?.trainedAt) || -Infinity);
          if (Number.isFinite(end)) lastEnd.set(l.key, Math.max(end, lastEnd.get(l.key) ?? -Infinity));
          // Only windows this node saw order the asset's clock (an imported model's training time does not).
          if (Number.isFinite(lastSample) && !l.key.startsWith('class:')) noteEnd(l.key, Math.max(lastSample, assetEnd.get(l.key) ?? -Infinity));
          const t = s.training ?? {};
          if (t.method !== training.method || t.threshold !== training.threshold || t.seed !== training.seed) retrain.set(l.key, lastEnd.get(l.key) ?? Date.now());
        }
      }
      for (const [key, at] of retrain) if (scorer.retrainNow(key, at, { readyOnly: true }) > 0) dirty.add(key);
      if (discarded) node.warn(RED._('pdm-anomaly.errors.discarded', { count: discarded }));
    };

    const waiting: Array<{ msg: Msg; send: Send; done: Done }> = [];
    const restored = () => {
      restoring = false;
      status.update();
      for (const item of waiting.splice(0)) handle(item.msg, item.send, item.done);
    };
    const restore = () => {
      const handed = handover.take(node.id);
      if (handed) {
        install(handed);
        return restored();
      }
      loadAll(context, store, isContextKey, (err) => node.warn(RED._('pdm-anomaly.errors.restore', { error: String(err) })), (loaded) => {
        if (loaded.length === 0) return restored();
        const saved: unknown[] = [];
        for (const { key, value, error } of loaded) {
          if (error || !isSavedKey(value)) node.warn(RED._('pdm-anomaly.errors.restore-key', { key: modelKeyOf(key) }));
          else saved.push(value);
        }
        try {
          install(saved);
        } catch (e) {
          node.warn(RED._('pdm-anomaly.errors.restore', { error: String(e) }));
        }
        restored();
      });
    };

    const timer = setInterval(() => {
      try {
        if (!restoring) persist(takeDirty());
      } catch (err) {
        node.error(err);
      }
    }, persistMs);

    // ---- input -----------------------------------------------------------------------------
    const reasonOf = (code: string, params: Record<string, string | number> = {}) => RED._(`pdm-anomaly.reject.${code}`, params);

    /** Scores one valid window; returns the score and any models to publish. */
    function scoreWindow(w: FeatureWindow & { assetClass?: unknown }, msg: Msg, topicHint: string | undefined): { score?: Score; models: Msg[]; problem?: string; params?: Record<string, number> } {
      const previous = assetEnd.get(w.assetId);
      if (previous !== undefined && w.end <= previous) return { models: [], problem: 'late_window', params: { end: w.end, last: previous } };
      const assetClass = classOf(w.assetId, w.assetClass, msg.assetClass);
      const obs = observationFromWindow(w, settings.stats, assetClass);
      const key = scorer.keyOf(obs);
      if (!lastEnd.has(key) && !scorer.status(key).length && scorer.keys().length >= MAX_KEYS) return { models: [], problem: 'too_many_models', params: { max: MAX_KEYS } };
      noteEnd(w.assetId, w.end);
      if (topicHint) remember(w.assetId, topicHint);
      noteAsset(key, w.assetId);
      const before = scorer.model(key, obs.state)?.version ?? 0;
      const score = scorer.score(obs);
      const after = scorer.model(key, obs.state)?.version ?? 0;
      if (!score.masked || score.masked === 'operating_point') dirty.add(key);
      lastEnd.set(key, Math.max(w.end, lastEnd.get(key) ?? -Infinity));
      if (w.end > w.start) windowMs.set(key, w.end - w.start);
      if (score.masked) counts.masked++;
      else if (score.status === 'learning') counts.learning++;
      else counts.scored++;
      if (score.anomalous) counts.anomalous++;
      if (!score.masked) anomalousNow.set(w.assetId, score.anomalous);
      const models: Msg[] = [];
      if (after !== before) {
        counts.trained++;
        if (publish) {
          const m = modelMsg(key, w.assetId);
          if (m) models.push(m);
        }
      }
      return { score, models };
    }

    function handle(msg: Msg, send: Send, done: Done): void {
      try {
        if (typeof msg.command === 'string') return command(msg, send, done);
        const input = msg.payload;
        if (isObject(input) && (input.format === BUNDLE_FORMAT || input.format === MODEL_FORMAT)) return importModels(msg, input, send, done, false);
        if (isObject(input) && TWIN_EVENTS.includes(input.kind as string) && typeof input.assetId === 'string' && !('features' in input)) return twinEvent(msg, input, done);
        const list = Array.isArray(input) ? input : [input];
        const single = !Array.isArray(input);
        const rejects: RejectItem[] = [];
        const scores: Msg[] = [];
        const models: Msg[] = [];
        const topic = typeof msg.topic === 'string' ? msg.topic : undefined;
        list.forEach((item, i) => {
          const index = single ? undefined : i;
          const problem = windowProblem(item, settings.stats);
          if (problem) {
            rejects.push({ index, code: problem.code, reason: reasonOf(problem.code, { error: problem.error ?? '' }), item });
            return;
          }
          const w = item as FeatureWindow;
          // A window's own topic (`<root>/<site>/<area>/<line>/<asset>/features`) gives its place in the namespace.
          let hint: string | undefined;
          if (single && topic && topic.endsWith('/features')) {
            const prefix = topic.slice(0, -'/features'.length);
            if (prefix.split('/').pop() === topicSegment(w.assetId)) hint = prefix;
          }
          const out = scoreWindow(w, msg, hint);
          if (out.problem || !out.score) {
            const code = out.problem ?? 'not_a_window';
            rejects.push({ index, code, reason: reasonOf(code, { error: '', ...out.params }), item });
            return;
          }
          for (const m of out.models) models.push(Object.assign(m, { _msgid: msg._msgid }));
          const scoreTopic = `${prefixOf(w.assetId)}/score`;
          if (single) {
            msg.payload = out.score;
            msg.topic = scoreTopic;
            delete msg.retain;
            scores.push(msg);
          } else {
            // Scores of one message share its _msgid, as the split node's parts do.
            scores.push({ _msgid: msg._msgid, topic: scoreTopic, payload: out.score } as Msg);
          }
        });
        if (list.length === 0) rejects.push({ code: 'empty', reason: reasonOf('empty'), item: input });
        status.update();
        let rejectMsg: Msg | null = null;
        if (rejects.length > 0) {
          counts.rejected += rejects.length;
          rejectMsg = (single ? msg : RED.util.cloneMessage(msg)) as Msg;
          rejectMsg.reject = { code: rejects[0].code, reason: rejects[0].reason, count: rejects.length, items: rejects };
        }
        const pick = (l: Msg[]) => (l.length === 0 ? null : l.length === 1 ? l[0] : l);
        if (scores.length || models.length || rejectMsg) send([pick(scores), pick(models), rejectMsg]);
        done(rejectMsg ? new Error(RED._('pdm-anomaly.errors.rejected', { count: rejects.length, reason: rejects[0].reason })) : undefined);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    const refuse = (msg: Msg, send: Send, done: Done, code: string, params: Record<string, string | number> = {}) => {
      const reason = reasonOf(code, params);
      const rejectMsg = RED.util.cloneMessage(msg) as Msg;
      rejectMsg.reject = { code, reason, count: 1, items: [] };
      counts.rejected++;
      send([null, null, rejectMsg]);
      done(new Error(reason));
    };
    /** A command's answer on output 2: msg.command is kept so a switch can tell answers from models. */
    const reply = (msg: Msg, send: Send, done: Done, payload: unknown, what: string) => {
      msg.payload = payload;
      msg.topic = `${root}/anomaly/${what}`;
      delete msg.retain;
      send([null, msg, null]);
      done();
    };

    /** After a rebaseline: the key's assets are no longer anomalous, and may start again from older data. */
    const forget = (key: string, assetId: string) => {
      for (const a of [assetId, ...(keyAssets.get(key) ?? [])]) {
        anomalousNow.delete(a);
        assetEnd.delete(a);
      }
    };

    /** Events from pdm-twin output 3: a replaced part re-baselines the asset; other events are not for scoring. */
    function twinEvent(msg: Msg, event: Record<string, unknown>, done: Done): void {
      if (event.kind === 'maintenance' && event.type === 'part_replaced') {
        const key = keyOf(event.assetId as string, msg.assetClass);
        if (scorer.rebaseline(key) > 0) {
          dirty.add(key);
          forget(key, event.assetId as string);
          status.update();
        }
      }
      done();
    }

    function importModels(msg: Msg, input: unknown, send: Send, done: Done, answer: boolean): void {
      let json = input;
      if (typeof json === 'string') {
        try {
          json = JSON.parse(json);
        } catch (e) {
          return refuse(msg, send, done, 'model_format', { error: (e as Error).message });
        }
      }
      if (!isObject(json)) return refuse(msg, send, done, 'model_format', { error: typeof json });
      const isBundle = json.format === BUNDLE_FORMAT;
      const newer = isBundle ? Number(json.formatVersion) > BUNDLE_FORMAT_VERSION : json.format === MODEL_FORMAT && Number(json.formatVersion) > MODEL_FORMAT_VERSION;
      let key: string | undefined;
      if (!newer) {
        if (isBundle) key = typeof json.key === 'string' ? json.key : undefined;
        else if (typeof json.assetId === 'string') key = json.assetId;
        else if (typeof json.assetClass === 'string') key = `class:${json.assetClass}`;
        // An asset-scope bundle can be installed under another asset id (a spare pump of the same make).
        const target = typeof msg.assetId === 'string' && msg.assetId !== '' ? msg.assetId : undefined;
        if (target && settings.scope === 'asset' && key && !key.startsWith('class:')) key = target;
        if (key && key.startsWith('class:') !== (settings.scope === 'class')) {
          return refuse(msg, send, done, 'model_scope', { key, scope: settings.scope });
        }
        const stats = (json as { windowStats?: unknown }).windowStats;
        if (Array.isArray(stats) && stats.join(',') !== signature.stats) {
          return refuse(msg, send, done, 'model_features', { model: stats.join(', '), node: signature.stats });
        }
      }
      let installed: ReturnType<AnomalyScorer['importModels']>;
      try {
        installed = scorer.importModels(json, key);
      } catch (err) {
        if (err instanceof ModelFormatError) return refuse(msg, send, done, err.code, { error: err.message });
        return refuse(msg, send, done, 'model_invalid', { error: (err as Error).message });
      }
      for (const m of installed) {
        dirty.add(m.key);
        for (const a of keyAssets.get(m.key) ?? []) anomalousNow.delete(a);
        if (!m.key.startsWith('class:')) noteAsset(m.key, m.key);
      }
      status.update();
      if (!answer) return done();
      return reply(msg, send, done, { command: 'import', imported: installed }, 'import');
    }

    function command(msg: Msg, send: Send, done: Done): void {
      const payload = isObject(msg.payload) ? msg.payload : undefined;
      const asText = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const assetId = asText(msg.assetId) ?? asText(payload?.assetId);
      const known = (key: string) => scorer.status(key).length > 0;
      switch (msg.command) {
        case 'rebaseline': {
          if (!assetId) return refuse(msg, send, done, 'no_asset', { command: 'rebaseline' });
          const state = asText(payload?.state) ?? asText(msg.state);
          if (state && !OPERATING_STATES.includes(state as OperatingState)) return refuse(msg, send, done, 'invalid_state', { state });
          const key = keyOf(assetId, msg.assetClass);
          const n = scorer.rebaseline(key, state as OperatingState | undefined);
          if (n === 0) return refuse(msg, send, done, 'unknown_asset', { assetId });
          dirty.add(key);
          forget(key, assetId);
          status.update();
          return reply(msg, send, done, { command: 'rebaseline', assetId, key, learners: n }, 'rebaseline');
        }
        case 'retrain': {
          if (!assetId) return refuse(msg, send, done, 'no_asset', { command: 'retrain' });
          const key = keyOf(assetId, msg.assetClass);
          if (!known(key)) return refuse(msg, send, done, 'unknown_asset', { assetId });
          const n = scorer.retrainNow(key, lastEnd.get(key) ?? Date.now(), { readyOnly: true });
          if (n === 0) return refuse(msg, send, done, 'nothing_to_retrain', { assetId });
          counts.trained += n;
          dirty.add(key);
          status.update();
          send([null, modelMsg(key, assetId, msg) ?? null, null]);
          return done();
        }
        case 'label': {
          if (!assetId) return refuse(msg, send, done, 'no_asset', { command: 'label' });
          let kind = asText(payload?.kind) ?? asText(msg.kind);
          if (kind === 'label') kind = asText(payload?.type);
          if (kind !== 'true_fault' && kind !== 'false_alarm') return refuse(msg, send, done, 'invalid_label', { kind: String(kind) });
          const key = keyOf(assetId, msg.assetClass);
          const win = isObject(payload?.window) ? payload.window : payload;
          const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
          let start = num(win?.start);
          let end = num(win?.end);
          const ts = num(payload?.ts) ?? num(msg.ts);
          if ((start === undefined || end === undefined) && ts !== undefined) {
            // The window [s, e) that contains ts ends within one window length after it.
            start = ts;
            end = ts + (windowMs.get(key) ?? 60_000);
          }
          if (start === undefined || end === undefined || end < start) return refuse(msg, send, done, 'invalid_label', { kind });
          let removed = 0;
          if (kind === 'true_fault') {
            // Windows are learned at their end time: those inside [start, end] end in (start, end].
            removed = scorer.labelFault(key, start + 1, end);
            dirty.add(key);
          } else counts.falseAlarms++;
          return reply(msg, send, done, { command: 'label', assetId, key, kind, window: { start, end }, removed }, 'label');
        }
        case 'export': {
          const all = !assetId || assetId === 'all' || payload?.all === true;
          if (!all) {
            const key = keyOf(assetId, msg.assetClass);
            const m = modelMsg(key, assetId, msg);
            if (!m) return refuse(msg, send, done, 'no_model', { assetId });
            send([null, m, null]);
            return done();
          }
          const out: Msg[] = [];
          for (const key of scorer.keys()) {
            const m = modelMsg(key, undefined, out.length === 0 ? msg : (RED.util.cloneMessage(msg) as Msg));
            if (m) out.push(m);
          }
          if (out.length === 0) return refuse(msg, send, done, 'no_model', { assetId: 'all' });
          send([null, out.length === 1 ? out[0] : out, null]);
          return done();
        }
        case 'import':
          return importModels(msg, msg.payload, send, done, true);
        case 'status': {
          const keys = assetId ? [keyOf(assetId, msg.assetClass)].filter(known) : scorer.keys();
          if (assetId && keys.length === 0) return refuse(msg, send, done, 'unknown_asset', { assetId });
          const models = keys.map((key) => ({ key, assets: [...(keyAssets.get(key) ?? [])], learners: scorer.status(key) }));
          return reply(msg, send, done, {
            command: 'status',
            method: settings.method,
            scope: settings.scope,
            features: settings.stats,
            threshold: settings.threshold,
            warmup: { windows: settings.warmupWindows, hours: settings.warmupHours },
            models,
            counts: { ...counts },
          }, 'status');
        }
        default:
          return refuse(msg, send, done, 'unknown_command', { command: String(msg.command) });
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
      status.stop();
      for (const item of waiting.splice(0)) item.done(new Error(RED._('pdm-anomaly.errors.closing')));
      if (restoring) return done();
      if (!removed) {
        const parts = splitState(scorer.toJSON());
        handover.set(node.id, [...parts].map(([key, part]) => savedOf(key, part)));
      }
      // Save what changed since the last save before the runtime lets go of the node.
      persist(takeDirty(), done);
    });

    status.update();
    restore();
  }

  RED.nodes.registerType('pdm-anomaly', PdmAnomalyNode);
};
