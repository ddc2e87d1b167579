import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { readAlert } from '../lib/cmms/alert';
import { DEFAULT_PLAN, type PlanOptions } from '../lib/cmms/episodes';
import { readFeedback } from '../lib/cmms/feedback';
import { Outbox, type OutboxStats } from '../lib/cmms/outbox';
import { isTier, type AlertInput, type DeliveryOutcome, type EpisodeRecord, type LabelType, type OpRecord } from '../lib/cmms/types';
import { assetTopic, parseAssetPath } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';
import type { TargetConfigNode } from '../pdm-cmms-target/types';

interface CmmsNodeDef extends NodeDef {
  target: string;
  createTier: string;
  onChange: string;
  onClear: string;
  lifecycle: boolean;
  titleTemplate: string;
  linkTemplate: string;
  chartUrlTemplate: string;
  root: string;
  concurrency: string | number;
  maxAttempts: string | number;
  retryBaseSec: string | number;
  retryMaxSec: string | number;
  maxQueue: string | number;
  retentionDays: string | number;
  feedbackKey: string;
  unlabelled: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;

interface FeedbackAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** What the HTTP routes reach: one live pdm-cmms node. */
interface Handle {
  id: string;
  key: string;
  token(): string | undefined;
  feedback(body: unknown): Promise<FeedbackAnswer>;
  status(): Record<string, unknown>;
  retry(filter: { episodeId?: string; assetId?: string }): Promise<number>;
}

const byId = new Map<string, Handle>();
const byKey = new Map<string, Handle>();
/** Outbox directories still being closed by a predecessor (same node id): the successor waits. */
const closingDirs = new Map<string, Promise<void>>();
const MAX_WAITING = 10_000;
const FEEDBACK_MAX_BYTES = 64 * 1024;

function num(value: string | number | undefined, fallback: number, min: number, max: number): number {
  const n = Number(value);
  return value !== '' && value !== undefined && value !== null && Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The JSON body of an httpNode request (that app has no body parser of its own). */
function readBody(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  if (req.body !== undefined && (isObject(req.body) || Array.isArray(req.body))) return Promise.resolve(req.body);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > FEEDBACK_MAX_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(Object.assign(new Error('the body is not JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}

export = function register(RED: NodeAPI): void {
  function PdmCmmsNode(this: Node, config: CmmsNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials = ((node as unknown as { credentials?: { feedbackToken?: string } }).credentials ?? {}) as { feedbackToken?: string };
    const root = config.root || 'pdm';
    const planOptions: PlanOptions = {
      createTier: isTier(config.createTier) ? config.createTier : DEFAULT_PLAN.createTier,
      onChange: config.onChange === 'comment' || config.onChange === 'none' ? config.onChange : 'update',
      onClear: config.onClear === 'close' || config.onClear === 'none' ? config.onClear : 'comment',
      lifecycle: config.lifecycle === true,
    };
    const unlabelled: LabelType | undefined = config.unlabelled === 'true_fault' || config.unlabelled === 'false_alarm' ? config.unlabelled : undefined;
    const target = RED.nodes.getNode(config.target) as TargetConfigNode | null;
    const runtime = target?.runtime;
    const kind = runtime?.spec.kind;
    const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    const dir = path.join(userDir, 'pdm-outbox', node.id.replace(/[^A-Za-z0-9_.-]/g, '_'));

    let outbox: Outbox | undefined;
    let openError: string | undefined;
    let closing = false;
    const waiting: Array<{ msg: Msg; send: Send; done: Done }> = [];
    let warnedCode: string | undefined;

    // ---- status ----------------------------------------------------------------------------
    const status = new StatusThrottle(1000, () => {
      if (!runtime) {
        node.status({ fill: 'red', shape: 'ring', text: RED._('pdm-cmms.status.no-target') });
        return;
      }
      if (openError) {
        node.status({ fill: 'red', shape: 'ring', text: RED._('pdm-cmms.status.broken') });
        return;
      }
      if (!outbox) {
        node.status({ fill: 'grey', shape: 'ring', text: RED._('pdm-cmms.status.opening') });
        return;
      }
      const s = outbox.stats();
      const params = { queued: s.queued, sent: s.delivered, dead: s.dead, error: (s.lastError ?? '').slice(0, 40) };
      if (s.failing) node.status({ fill: s.dead > 0 || s.lastError === 'tls' || s.lastError === 'unauthorized' ? 'red' : 'yellow', shape: 'ring', text: RED._('pdm-cmms.status.failing', params) });
      else node.status({ fill: s.dead > 0 ? 'red' : s.queued > 0 ? 'yellow' : 'green', shape: 'dot', text: RED._('pdm-cmms.status.ok', params) });
    });

    // ---- outputs ---------------------------------------------------------------------------
    const topicOf = (assetId: string, pathText: string) => assetTopic(root, parseAssetPath(pathText) ?? {}, assetId, 'event');
    const outcomeWord = (op: OpRecord, found: boolean): string => {
      if (!runtime?.adapter.workOrders) return 'sent';
      if (op.operation === 'create') return found ? 'found' : 'created';
      return { update: 'updated', comment: 'commented', close: 'closed' }[op.operation];
    };
    const workOrderMsg = (op: OpRecord, ep: EpisodeRecord | undefined, extra: Record<string, unknown>): Msg =>
      ({
        topic: topicOf(op.content.assetId, op.content.path),
        payload: {
          kind: 'work_order',
          target: { kind, name: target?.name || target?.describe() },
          operation: op.operation,
          episodeId: op.content.episodeId,
          ...(op.content.eventId ? { eventId: op.content.eventId } : {}),
          assetId: op.content.assetId,
          dedupeKey: op.content.dedupeKey,
          ...(ep?.externalId ? { externalId: ep.externalId } : {}),
          ...(ep?.externalUrl ? { url: ep.externalUrl } : {}),
          title: op.content.title,
          attempts: op.attempts,
          queuedAt: op.createdAt,
          ts: Date.now(),
          ...extra,
        },
      }) as unknown as Msg;

    const delivered = (op: OpRecord, outcome: Extract<DeliveryOutcome, { ok: true }>, ep: EpisodeRecord | undefined) => {
      const msg = workOrderMsg(op, ep, { outcome: outcomeWord(op, outcome.found === true), ...(outcome.status ? { status: outcome.status } : {}) });
      let link: Msg | null = null;
      if (op.operation === 'create' && ep?.externalId) {
        // The external id goes into the twin's maintenance history.
        link = {
          topic: topicOf(op.content.assetId, op.content.path),
          command: 'event',
          assetId: op.content.assetId,
          episodeId: op.content.episodeId,
          payload: { kind: 'maintenance', type: 'work_order', note: `${kind} work order ${ep.externalId}`, episodeId: op.content.episodeId, by: 'pdm-cmms', ts: Date.now() },
        } as unknown as Msg;
      }
      if (warnedCode) {
        node.log(RED._('pdm-cmms.log.recovered', { target: target?.describe() ?? '' }));
        warnedCode = undefined;
      }
      node.send([msg, link, null, null]);
      status.update();
    };
    const dead = (op: OpRecord, ep: EpisodeRecord | undefined) => {
      const msg = workOrderMsg(op, ep, { outcome: 'dead', error: op.lastError ?? '' });
      (msg.payload as Record<string, unknown>).kind = 'work_order_dead_letter';
      // The dead letter is an alert of its own: Catch nodes see it as an error with this message.
      node.error(RED._('pdm-cmms.errors.dead', { operation: op.operation, assetId: op.content.assetId, episodeId: op.content.episodeId, attempts: op.attempts, error: op.lastError ?? '' }), msg);
      node.send([null, null, msg, null]);
      status.update();
    };
    const failed = (op: OpRecord, outcome: Extract<DeliveryOutcome, { ok: false }>) => {
      if (warnedCode !== outcome.code) {
        warnedCode = outcome.code;
        node.warn(RED._('pdm-cmms.errors.attempt', { target: target?.describe() ?? '', operation: op.operation, assetId: op.content.assetId, error: outcome.message.slice(0, 300) }));
      }
      status.update();
    };

    // ---- feedback --------------------------------------------------------------------------
    async function feedback(body: unknown): Promise<FeedbackAnswer> {
      if (!outbox) return { status: 503, body: { error: RED._('pdm-cmms.feedback.not-ready') } };
      const read = readFeedback(body);
      if (!read.ok) return { status: 400, body: { error: read.detail } };
      const fb = read.feedback;
      const ep = (fb.externalId ? outbox.episodeByExternalId(fb.externalId) : undefined) ?? (fb.episodeId ? outbox.episodeById(fb.episodeId) : undefined);
      if (!ep) return { status: 404, body: { error: RED._('pdm-cmms.feedback.unknown', { id: fb.externalId ?? fb.episodeId ?? '' }) } };
      if (!fb.closed) return { status: 202, body: { ignored: 'not_closed', episodeId: ep.episodeId } };
      const type = fb.label ?? unlabelled;
      if (!type) return { status: 202, body: { ignored: 'no_outcome', episodeId: ep.episodeId } };
      const recorded = await outbox.label(ep.key, type, fb.reason);
      if (recorded === 'duplicate') return { status: 200, body: { duplicate: true, episodeId: ep.episodeId, label: type } };
      const payload: Record<string, unknown> = { kind: 'label', type, episodeId: ep.episodeId, ts: Date.now() };
      if (fb.reason) payload.reason = fb.reason;
      if (fb.note) payload.note = fb.note;
      payload.by = fb.by ?? `${kind ?? 'cmms'}${ep.externalId ? ` ${ep.externalId}` : ''}`;
      const msg = { topic: assetTopic(root, {}, ep.assetId, 'event'), command: 'event', assetId: ep.assetId, episodeId: ep.episodeId, payload } as unknown as Msg;
      node.send([null, msg, null, null]);
      return { status: 200, body: { label: type, episodeId: ep.episodeId, assetId: ep.assetId, ...(ep.externalId ? { externalId: ep.externalId } : {}) } };
    }

    const statsBody = (): Record<string, unknown> => ({
      target: target?.describe() ?? null,
      problems: target?.problems ?? [RED._('pdm-cmms.status.no-target')],
      ready: outbox !== undefined,
      ...(outbox ? outbox.stats() : {}),
      ...(openError ? { error: openError } : {}),
    });

    const handle: Handle = {
      id: node.id,
      key: (config.feedbackKey || node.id).trim(),
      token: () => credentials.feedbackToken || undefined,
      feedback,
      status: statsBody,
      retry: async (filter) => (outbox ? outbox.retryDead(filter) : 0),
    };
    byId.set(node.id, handle);
    if (byKey.has(handle.key) && byKey.get(handle.key)!.id !== node.id) node.warn(RED._('pdm-cmms.errors.key-taken', { key: handle.key }));
    else byKey.set(handle.key, handle);

    // ---- input -----------------------------------------------------------------------------
    const reason = (code: string, params: Record<string, string> = {}) => RED._(`pdm-cmms.reject.${code}`, params);
    const refuse = (msg: Msg, send: Send, done: Done, code: string, params: Record<string, string> = {}) => {
      const why = reason(code, params);
      const rejectMsg = RED.util.cloneMessage(msg) as Msg;
      rejectMsg.reject = { code, reason: why, count: 1, items: [] };
      send([null, null, null, rejectMsg]);
      done(new Error(why));
    };

    function handle_(msg: Msg, send: Send, done: Done): void {
      try {
        if (typeof msg.command === 'string') return command(msg, send, done);
        if (!runtime || !outbox) return refuse(msg, send, done, 'no_target', { problems: (target?.problems ?? []).join('; ') || openError || '' });
        const input = msg.payload;
        const items = Array.isArray(input) ? input : [input];
        const now = Date.now();
        const rejects: Array<{ index?: number; code: string; reason: string; item: unknown }> = [];
        const alerts: AlertInput[] = [];
        const positions: number[] = [];
        items.forEach((item, i) => {
          // pdm-alert's event output also carries flood events: they are not episodes.
          if (isObject(item) && item.kind === 'flood') return;
          const read = readAlert(item, now);
          if (!read.ok) {
            rejects.push({ index: Array.isArray(input) ? i : undefined, code: read.code, reason: reason(read.code, { detail: read.detail }), item });
            return;
          }
          alerts.push(read.alert);
          positions.push(i);
        });
        if (items.length === 0) rejects.push({ code: 'empty', reason: reason('empty'), item: input });
        const finish = () => {
          rejects.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
          status.update();
          if (rejects.length === 0) return done();
          const rejectMsg = RED.util.cloneMessage(msg) as Msg;
          rejectMsg.reject = { code: rejects[0].code, reason: rejects[0].reason, count: rejects.length, items: rejects };
          send([null, null, null, rejectMsg]);
          done(new Error(RED._('pdm-cmms.errors.rejected', { count: rejects.length, reason: rejects[0].reason })));
        };
        if (alerts.length === 0) return finish();
        outbox.submit(alerts).then(
          (results) => {
            results.forEach((r, j) => {
              if (r.refused) rejects.push({ index: Array.isArray(input) ? positions[j] : undefined, code: r.refused, reason: reason(r.refused), item: items[positions[j]] });
            });
            finish();
          },
          (err: Error) => {
            status.update();
            refuse(msg, send, done, 'outbox_write', { error: err.message });
          },
        );
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    function command(msg: Msg, send: Send, done: Done): void {
      const p = isObject(msg.payload) ? msg.payload : {};
      const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const reply = (payload: unknown, topic: string) => {
        const out = RED.util.cloneMessage(msg) as Msg;
        out.payload = payload;
        out.topic = topic;
        send([out, null, null, null]);
        done();
      };
      switch (msg.command) {
        case 'status':
          return reply(statsBody(), `${root}/cmms/status`);
        case 'dead':
          return reply(outbox ? outbox.deadLetters() : [], `${root}/cmms/dead`);
        case 'retry': {
          if (!outbox) return refuse(msg, send, done, 'not_ready');
          const filter: { episodeId?: string; assetId?: string } = {};
          const episodeId = text(msg.episodeId) ?? text(p.episodeId);
          const assetId = text(msg.assetId) ?? text(p.assetId);
          if (episodeId) filter.episodeId = episodeId;
          if (assetId) filter.assetId = assetId;
          outbox.retryDead(filter).then(
            (n) => {
              status.update();
              reply({ retried: n }, `${root}/cmms/status`);
            },
            (err: Error) => refuse(msg, send, done, 'outbox_write', { error: err.message }),
          );
          return;
        }
        case 'feedback':
          feedback(msg.payload).then(
            (answer) => {
              if (answer.status >= 400) return refuse(msg, send, done, 'feedback', { error: String(answer.body.error ?? answer.status) });
              reply(answer.body, `${root}/cmms/feedback`);
            },
            (err: Error) => refuse(msg, send, done, 'outbox_write', { error: err.message }),
          );
          return;
        default:
          return refuse(msg, send, done, 'unknown_command', { command: String(msg.command).slice(0, 40) });
      }
    }

    node.on('input', (msg: Msg, send, done) => {
      if (!outbox && runtime && !openError && !closing) {
        if (waiting.length < MAX_WAITING) waiting.push({ msg, send: send as Send, done });
        else refuse(msg, send as Send, done, 'busy');
        return;
      }
      handle_(msg, send as Send, done);
    });

    // ---- open ------------------------------------------------------------------------------
    let opened: Promise<void> = Promise.resolve();
    if (runtime) {
      opened = (async () => {
        await closingDirs.get(dir);
        const box = await Outbox.open({
          dir,
          client: runtime.client,
          gate: runtime.gate,
          plan: planOptions,
          content: { titleTemplate: config.titleTemplate || undefined, linkTemplate: config.linkTemplate || undefined, chartUrlTemplate: config.chartUrlTemplate || undefined },
          concurrency: num(config.concurrency, 4, 1, 64),
          maxAttempts: num(config.maxAttempts, 50, 1, 1000),
          backoff: { baseMs: num(config.retryBaseSec, 2, 0.01, 3600) * 1000, maxMs: num(config.retryMaxSec, 300, 0.01, 86_400) * 1000, factor: 2, jitter: 1 },
          maxQueue: num(config.maxQueue, 100_000, 1, 10_000_000),
          retentionMs: num(config.retentionDays, 30, 0.001, 3650) * 86_400_000,
          events: {
            delivered,
            dead,
            failed,
            changed: () => status.update(),
            error: (err) => node.error(RED._('pdm-cmms.errors.journal', { error: err.message })),
          },
        });
        if (closing) {
          await box.close(0);
          return;
        }
        outbox = box;
        const s: OutboxStats = box.stats();
        if (s.recovered.torn || s.recovered.skipped) node.warn(RED._('pdm-cmms.errors.recovered', { skipped: s.recovered.skipped, torn: String(s.recovered.torn) }));
        if (s.queued || s.dead) node.log(RED._('pdm-cmms.log.restored', { queued: s.queued, dead: s.dead }));
        status.update();
        for (const item of waiting.splice(0)) handle_(item.msg, item.send, item.done);
      })().catch((err: Error) => {
        openError = err.message;
        node.error(RED._('pdm-cmms.errors.open', { dir, error: err.message }));
        status.update();
        for (const item of waiting.splice(0)) refuse(item.msg, item.send, item.done, 'no_target', { problems: err.message });
      });
    }
    status.update();

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      status.stop();
      if (byId.get(node.id) === handle) byId.delete(node.id);
      if (byKey.get(handle.key) === handle) byKey.delete(handle.key);
      for (const item of waiting.splice(0)) item.done(new Error(RED._('pdm-cmms.errors.closing')));
      const finished = (async () => {
        await opened;
        const box = outbox;
        outbox = undefined;
        if (!box) return;
        const s = box.stats();
        await box.close(5000);
        // A deleted node with nothing left to send leaves nothing behind.
        if (removed && s.queued === 0 && s.dead === 0) await fs.promises.rm(dir, { recursive: true, force: true });
      })().catch((err: Error) => node.warn(RED._('pdm-cmms.errors.journal', { error: err.message })));
      closingDirs.set(dir, finished);
      finished.finally(() => {
        if (closingDirs.get(dir) === finished) closingDirs.delete(dir);
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('pdm-cmms', PdmCmmsNode, { credentials: { feedbackToken: { type: 'password' } } });

  // ---- HTTP routes (registered once per runtime; they reach live nodes through the registry) ----
  const answer = (res: { status(n: number): { json(b: unknown): void } }, a: FeedbackAnswer) => res.status(a.status).json(a.body);
  const fail = (res: { status(n: number): { json(b: unknown): void } }, err: unknown) =>
    res.status((err as { status?: number }).status ?? 500).json({ error: (err as Error).message ?? String(err) });

  if (RED.httpNode) {
    // A CMMS webhook (or any system) reports a closed work order; authenticated by the node's feedback token.
    RED.httpNode.post('/pdm-cmms/:key/feedback', (req, res) => {
      const h = byKey.get(String(req.params.key));
      if (!h) return res.status(404).json({ error: 'unknown feedback route' });
      const token = h.token();
      if (!token) return res.status(403).json({ error: 'feedback is disabled: set a feedback token in the pdm-cmms node' });
      const auth = String(req.headers.authorization ?? '');
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : String(req.headers['x-pdm-token'] ?? '');
      if (!given || !sameSecret(given, token)) return res.status(401).json({ error: 'missing or wrong feedback token' });
      readBody(req)
        .then((body) => h.feedback(body))
        .then((a) => answer(res, a), (err) => fail(res, err));
    });
  }
  if (RED.httpAdmin) {
    const needs = (p: string) => RED.auth.needsPermission(p);
    RED.httpAdmin.post('/pdm-cmms/:id/feedback', needs('pdm-cmms.write'), (req, res) => {
      const h = byId.get(String(req.params.id));
      if (!h) return res.status(404).json({ error: 'unknown pdm-cmms node' });
      readBody(req)
        .then((body) => h.feedback(body))
        .then((a) => answer(res, a), (err) => fail(res, err));
    });
    RED.httpAdmin.get('/pdm-cmms/:id/status', needs('pdm-cmms.read'), (req, res) => {
      const h = byId.get(String(req.params.id));
      if (!h) return res.status(404).json({ error: 'unknown pdm-cmms node' });
      res.json(h.status());
    });
    RED.httpAdmin.post('/pdm-cmms/:id/retry', needs('pdm-cmms.write'), (req, res) => {
      const h = byId.get(String(req.params.id));
      if (!h) return res.status(404).json({ error: 'unknown pdm-cmms node' });
      const body = isObject(req.body) ? req.body : {};
      const filter: { episodeId?: string; assetId?: string } = {};
      if (typeof body.episodeId === 'string') filter.episodeId = body.episodeId;
      if (typeof body.assetId === 'string') filter.assetId = body.assetId;
      h.retry(filter).then((n) => res.json({ retried: n }), (err) => fail(res, err));
    });
  }
};
