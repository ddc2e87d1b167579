import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { Journal, JournalError, OVERFLOW_POLICIES, type AppendResult, type JournalCounters, type OverflowPolicy } from '../lib/buffer/journal';
import { Forwarder, type ConnectionState, type ForwarderOptions } from '../lib/buffer/forwarder';
import { recordsOf, type JournalRecord } from '../lib/buffer/record';
import { assetDirectory } from '../lib/assets/directory';
import { isValidRootTopic } from '../lib/topic';
import { StatusThrottle } from '../lib/status-throttle';

interface BufferNodeDef extends NodeDef {
  broker: string;
  protocol: string;
  clientId: string;
  tls: string;
  keepalive: string | number;
  root: string;
  journal: string;
  maxMB: string | number;
  maxAgeH: string | number;
  overflow: string;
  syncMs: string | number;
  window: string | number;
  reconnectSec: string | number;
}

interface BufferCredentials {
  user?: string;
  password?: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;

const TICK_MS = 1000;
/** How long close() waits for PUBACKs of what is in flight before it drops the connection. */
const CLOSE_GRACE_MS = 1000;
/** Refused records named in one overflow report (the rest are counted). */
const MAX_SAMPLES = 10;
const BROKER_URL = /^(mqtts?|wss?):\/\/[^\s/?#]+/i;

function number(value: string | number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value === '' || value === undefined || !Number.isFinite(n) || n < min || n > max) return fallback;
  return n;
}

/** "42 s", "3 min", "2.5 h", "4 d": the status bar has little room. */
function formatAge(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Number((s / 3600).toPrecision(2))} h`;
  return `${Number((s / 86400).toPrecision(2))} d`;
}

export = function register(RED: NodeAPI): void {
  function PdmBufferNode(this: Node, config: BufferNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const root = isValidRootTopic(config.root) ? config.root : 'pdm';
    const overflow: OverflowPolicy = (OVERFLOW_POLICIES as readonly string[]).includes(config.overflow) ? (config.overflow as OverflowPolicy) : 'drop-oldest';
    const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    const dir = config.journal ? path.resolve(userDir, config.journal) : path.join(userDir, 'pdm-buffer', node.id);
    const pathOf = (assetId: string) => assetDirectory.get(assetId)?.path;

    let closing = false;
    let journal: Journal | undefined;
    let journalProblem: string | undefined;
    let forwarder: Forwarder | undefined;
    let configProblem: string | undefined;

    // ---- status and reports -----------------------------------------------------------------
    let state: ConnectionState = 'disconnected';
    let stateChanged = true;
    let deliveredSince = 0;
    let historicalSince = 0;
    const refusedSamples: Array<{ topic: string; key?: string; reasonCode: number; reason: string }> = [];
    let reported: JournalCounters | undefined;

    const status = new StatusThrottle(500, () => {
      if (!journal) {
        node.status({ fill: 'red', shape: 'dot', text: RED._('pdm-buffer.status.journal', { error: journalProblem ?? '' }) });
        return;
      }
      const stats = journal.stats();
      const lost = stats.counters.dropped + stats.counters.expired + stats.counters.refused + stats.counters.corrupt;
      const oldest = stats.oldestTs === undefined ? undefined : formatAge(Date.now() - stats.oldestTs);
      const params = { pending: stats.pending, age: oldest ?? '', lost };
      let key: string;
      if (configProblem) key = 'invalid';
      else if (state === 'connected') key = oldest && stats.pending > 0 && Date.now() - stats.oldestTs! > 5000 ? 'backlog' : 'connected';
      else key = state === 'connecting' ? 'connecting' : 'disconnected';
      let text = RED._(`pdm-buffer.status.${key}`, { ...params, error: configProblem ?? '' });
      if (lost > 0) text += RED._('pdm-buffer.status.lost', params);
      node.status({
        fill: configProblem || state !== 'connected' ? 'red' : lost > 0 || key === 'backlog' ? 'yellow' : 'green',
        shape: state === 'connected' ? 'dot' : 'ring',
        text,
      });
    });

    /** Output 1: what was delivered since the last report; output 2: what was lost since then. */
    const report = () => {
      if (!journal) return;
      const stats = journal.stats();
      const now = Date.now();
      const common = {
        connected: state === 'connected',
        state,
        pending: stats.pending,
        pendingBytes: stats.pendingBytes,
        oldestTs: stats.oldestTs ?? null,
        oldestAgeMs: stats.oldestTs === undefined ? null : now - stats.oldestTs,
        totals: stats.counters,
      };
      const out: Array<Msg | null> = [null, null];
      if (deliveredSince > 0 || stateChanged) {
        out[0] = { topic: 'pdm-buffer/delivered', payload: { ...common, delivered: deliveredSince, historical: historicalSince } } as Msg;
        deliveredSince = historicalSince = 0;
        stateChanged = false;
      }
      const c = stats.counters;
      const prev = reported!;
      reported = c;
      const delta = { dropped: c.dropped - prev.dropped, expired: c.expired - prev.expired, refused: c.refused - prev.refused, corrupt: c.corrupt - prev.corrupt };
      const count = delta.dropped + delta.expired + delta.refused + delta.corrupt;
      if (count > 0) {
        const code = delta.dropped > 0 ? 'overflow' : delta.expired > 0 ? 'expired' : delta.refused > 0 ? 'refused' : 'corrupt';
        const reason = RED._(`pdm-buffer.loss.${code}`, {
          count,
          dropped: delta.dropped,
          expired: delta.expired,
          refused: delta.refused,
          corrupt: delta.corrupt,
          policy: overflow,
          maxMB: Math.round((stats.maxBytes / 1048576) * 10) / 10,
          maxAgeH: Math.round((stats.maxAgeMs / 3600_000) * 10) / 10,
          reason: refusedSamples[0]?.reason ?? '',
        });
        const items = refusedSamples.splice(0);
        out[1] = {
          topic: 'pdm-buffer/overflow',
          payload: { policy: overflow, ...delta, ...common, maxBytes: stats.maxBytes, maxAgeMs: stats.maxAgeMs },
          reject: { code, reason, count, items },
        } as unknown as Msg;
        node.warn(reason);
      }
      if (out[0] || out[1]) node.send(out);
    };

    // ---- journal and connection ---------------------------------------------------------------
    try {
      journal = Journal.open({
        dir,
        maxBytes: number(config.maxMB, 100, 0.0625) * 1048576,
        maxAgeMs: number(config.maxAgeH, 168, 0) * 3600_000,
        overflow,
        syncMs: number(config.syncMs, 100, 0, 60_000),
        onDurable: () => forwarder?.pump(),
      });
      reported = journal.stats().counters; // losses are reported from here on
      const rec = journal.recovery;
      if (rec.pending > 0 || rec.corrupt > 0 || rec.truncatedBytes > 0) {
        node.log(RED._('pdm-buffer.log.recovered', { pending: rec.pending, corrupt: rec.corrupt, truncated: rec.truncatedBytes, dir }));
      }
    } catch (err) {
      journalProblem = err instanceof JournalError ? err.message : String(err);
      node.error(RED._('pdm-buffer.errors.journal', { error: journalProblem }));
    }

    const url = String(config.broker ?? '').trim();
    if (!BROKER_URL.test(url)) configProblem = RED._('pdm-buffer.errors.broker', { url });
    if (configProblem) node.error(configProblem);

    if (journal && !configProblem) {
      const credentials = (node.credentials ?? {}) as BufferCredentials;
      const options: ForwarderOptions = {
        url,
        protocolVersion: config.protocol === '5' ? 5 : 4,
        clientId: config.clientId || undefined,
        username: credentials.user || undefined,
        password: credentials.password || undefined,
        keepaliveSec: number(config.keepalive, 60, 0, 65535),
        reconnectMs: number(config.reconnectSec, 5, 0.01, 3600) * 1000,
        window: number(config.window, 500, 1, 65535),
      };
      if (config.tls) {
        const tlsNode = RED.nodes.getNode(config.tls) as (Node & { addTLSOptions?: (o: Record<string, unknown>) => void }) | null;
        if (tlsNode?.addTLSOptions) {
          const tls: Record<string, unknown> = {};
          tlsNode.addTLSOptions(tls);
          options.tls = tls;
        }
      }
      const j = journal;
      forwarder = new Forwarder(j, options, {
        onState: (s, detail) => {
          if (s === 'stopped') return;
          if (s !== state) stateChanged = true;
          if (s === 'disconnected' && state === 'connected') node.warn(RED._('pdm-buffer.log.disconnected', { url, error: detail ?? '' }));
          if (s === 'connected') node.log(RED._('pdm-buffer.log.connected', { url, pending: j.pending }));
          state = s;
          status.update();
        },
        onDelivered: (n, h) => {
          deliveredSince += n;
          historicalSince += h;
          status.update();
        },
        onRefused: (rec: JournalRecord, reasonCode: number, reason: string) => {
          if (refusedSamples.length < MAX_SAMPLES) refusedSamples.push({ topic: rec.topic, key: rec.key, reasonCode, reason });
        },
      });
      forwarder.start();
    }
    (node as Node & { buffer?: unknown }).buffer = { journal, forwarder, dir };

    const timer = setInterval(() => {
      try {
        journal?.maintain();
        if (journal?.error && !journalProblem) {
          journalProblem = journal.error.message;
          node.error(RED._('pdm-buffer.errors.journal', { error: journalProblem }));
        }
        report();
        status.update();
      } catch (err) {
        node.error(err);
      }
    }, TICK_MS);
    status.update();

    // ---- input -----------------------------------------------------------------------------
    const rejectReason = (code: string) => RED._(`pdm-buffer.reject.${code}`, { error: journalProblem ?? journal?.error?.message ?? '' });

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      try {
        const { records, positions, rejects } = recordsOf(msg, { root, pathOf });
        const items: Array<{ index?: number; code: string; reason: string; item: unknown }> = rejects.map((r) => ({
          index: r.index,
          code: r.code,
          reason: rejectReason(r.code),
          item: r.item,
        }));
        let lastSeq = -1;
        records.forEach((rec, i) => {
          const index = positions[i];
          const item = index === undefined ? msg.payload : (msg.payload as unknown[])[index];
          const res: AppendResult = journal && !closing ? journal.append(rec) : { ok: false, code: closing ? 'closed' : 'io' };
          if (res.ok) lastSeq = res.seq;
          else if (res.code !== 'dropped') {
            // drop-newest losses are counted by the journal and reported once a second on output 2.
            const code = res.code === 'io' ? 'journal' : res.code;
            items.push({ index, code, reason: rejectReason(code), item });
          }
        });
        status.update();
        let rejectMsg: Msg | null = null;
        if (items.length > 0) {
          items.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
          rejectMsg = RED.util.cloneMessage(msg) as Msg;
          rejectMsg.reject = { code: items[0].code, reason: items[0].reason, count: items.length, items };
          send([null, rejectMsg]);
        }
        const rejected = rejectMsg ? new Error(RED._('pdm-buffer.errors.rejected', { count: items.length, reason: items[0].reason })) : undefined;
        // done() once what was stored is on disk (group commit), so a Complete node means "durable".
        if (lastSeq < 0 || !journal) return done(rejected);
        journal.whenDurable(lastSeq, (err) => done(err ? new Error(RED._('pdm-buffer.errors.write', { error: err.message })) : rejected));
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      clearInterval(timer);
      status.stop();
      const finish = () => {
        const j = journal;
        if (!j) return done();
        j.close(() => {
          try {
            if (removed) {
              if (j.pending === 0 && !config.journal) fs.rmSync(dir, { recursive: true, force: true });
              else if (j.pending > 0) node.warn(RED._('pdm-buffer.log.removed', { pending: j.pending, dir }));
            }
          } catch {
            /* leave the directory */
          }
          done();
        });
      };
      if (forwarder) forwarder.stop(CLOSE_GRACE_MS, finish);
      else finish();
    });
  }

  RED.nodes.registerType('pdm-buffer', PdmBufferNode, {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
