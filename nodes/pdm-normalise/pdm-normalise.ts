import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { isSingle, Normaliser, type NormaliseResult, type Reject } from '../lib/normalise';
import type { Reading } from '../lib/contracts/reading';
import { assetTopic, mergePath, parseAssetPath, TopicCache, type AssetPath } from '../lib/topic';
import { parseRanges } from '../lib/ranges';
import { StatusThrottle } from '../lib/status-throttle';

interface NormaliseNodeDef extends NodeDef {
  property: string;
  root: string;
  site: string;
  area: string;
  line: string;
  ranges: string;
  stuckCount: string | number;
  dedupe: string | number;
  maxFuture: string | number;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Msg | Array<Msg | Msg[] | null>) => void;
type Done = (err?: Error) => void;

function numberSetting(value: string | number | undefined, fallback: number): number {
  const parsed = Number(value);
  return value === '' || value === undefined || !Number.isFinite(parsed) || parsed < 0 ? fallback : parsed;
}

export = function register(RED: NodeAPI): void {
  function PdmNormaliseNode(this: Node, config: NormaliseNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const property = config.property || 'payload';
    const root = config.root || 'pdm';
    const configuredPath: AssetPath = { site: config.site, area: config.area, line: config.line };
    const ranges = parseRanges(config.ranges);
    const normaliser = new Normaliser({
      ranges: ranges.ok ? ranges.ranges : {},
      // An emptied field means the editor's default, not "off" (0 turns a check off).
      stuckCount: numberSetting(config.stuckCount, 50),
      dedupeCapacity: numberSetting(config.dedupe, 10_000),
      maxFutureMs: numberSetting(config.maxFuture, 600) * 1000,
    });
    // Also on the node object, so flows' tests and the fuzz test can check the accounting.
    const topics = new TopicCache((assetId, signal) => assetTopic(root, configuredPath, assetId, 'clean', signal));
    const counts = { clean: 0, rejected: 0, duplicates: 0 };
    (node as Node & { counts?: typeof counts }).counts = counts;
    const status = new StatusThrottle(500, () => {
      node.status({
        fill: counts.rejected > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('pdm-normalise.status.counts', counts),
      });
    });
    if (!ranges.ok) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('pdm-normalise.status.config-error') });
      node.error(RED._('pdm-normalise.errors.ranges', { error: ranges.error }));
    }

    const rejectReason = (reject: Reject): string => RED._(`pdm-normalise.reject.${reject.code}`, reject.params);

    /** msg.path overrides the configured levels; without it the topic is cached per (asset, signal). */
    function topicFor(msg: Msg, reading: Reading): string {
      if (msg.path === undefined) return topics.get(reading.assetId, reading.signal);
      return assetTopic(root, mergePath(parseAssetPath(msg.path), configuredPath), reading.assetId, 'clean', reading.signal);
    }

    /** Sends the clean readings and one reject message for whatever was rejected; one done() for the input. */
    function finish(msg: Msg, result: NormaliseResult, send: Send, done: Done): void {
      counts.clean += result.clean.length;
      counts.rejected += result.rejects.length;
      counts.duplicates += result.duplicates;
      status.update();

      let rejectMsg: Msg | null = null;
      if (result.rejects.length > 0) {
        const first = result.rejects[0];
        rejectMsg = RED.util.cloneMessage(msg) as Msg;
        rejectMsg.reject = {
          code: first.code,
          reason: rejectReason(first),
          count: result.rejects.length,
          items: result.rejects.map((r) => ({ index: r.index, code: r.code, reason: rejectReason(r), item: r.item })),
        };
      }
      // Copies carry every property but the (possibly large) input payload, which each replaces.
      const input = msg.payload;
      msg.payload = undefined;
      const template = result.clean.length > 1 ? (RED.util.cloneMessage(msg) as Msg) : undefined;
      msg.payload = input;
      const cleanMsgs: Msg[] = result.clean.map((reading, i) => {
        // The last message reuses msg itself; earlier ones are copies, so downstream edits never alias.
        const out = i === result.clean.length - 1 ? msg : (RED.util.cloneMessage(template!) as Msg);
        out.payload = reading;
        out.topic = topicFor(msg, reading);
        return out;
      });
      if (cleanMsgs.length > 0 || rejectMsg) {
        send([cleanMsgs.length === 1 ? cleanMsgs[0] : cleanMsgs.length > 1 ? cleanMsgs : null, rejectMsg]);
      }
      if (rejectMsg) {
        done(new Error(RED._('pdm-normalise.errors.rejected', { count: result.rejects.length, reason: rejectReason(result.rejects[0]) })));
      } else {
        done();
      }
    }

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      try {
        if (msg.reset) {
          normaliser.reset();
          counts.clean = counts.rejected = counts.duplicates = 0;
          status.update();
          done();
          return;
        }
        if (!ranges.ok) {
          const reason = RED._('pdm-normalise.errors.ranges', { error: ranges.error });
          send([null, { ...RED.util.cloneMessage(msg), reject: { code: 'config', reason, count: 1, items: [] } }]);
          counts.rejected++;
          status.update();
          done(new Error(reason));
          return;
        }
        const input = property === 'payload' ? msg.payload : RED.util.getMessageProperty(msg, property);
        if (isSingle(input)) {
          // Fast path for the common case: one reading in, at most one message out, no arrays.
          const outcome = normaliser.normaliseOne(input);
          if (outcome === 'duplicate') {
            counts.duplicates++;
            status.update();
            done();
          } else if ('code' in outcome) {
            finish(msg, { clean: [], rejects: [outcome], duplicates: 0 }, send, done);
          } else {
            counts.clean++;
            status.update();
            msg.payload = outcome;
            msg.topic = topicFor(msg, outcome);
            send(msg);
            done();
          }
          return;
        }
        finish(msg, normaliser.normalise(input), send, done);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.stop();
      normaliser.reset();
      done();
    });
  }

  RED.nodes.registerType('pdm-normalise', PdmNormaliseNode);
};
