/**
 * Property-based fuzzing of pdm-cmms (fast-check; PDM_FUZZ_SEED=<n> explores another sample).
 *
 *  1. Pure parts never throw on anything: readAlert, readFeedback, templates, and every adapter
 *     builds a JSON body without CR/LF in headers and within each target's limits.
 *  2. Planner: any stream of events (random episodes, tiers, transitions, duplicates, replays,
 *     out of order) gives each episode at most one create, and nothing before it.
 *  3. Outbox against a simulated CMMS with random failures before and after it acts (lost
 *     answers), and random restarts (close + reopen of the journal): after recovery every episode
 *     that reached the create tier has exactly one work order; nothing is dead.
 *  4. The node in a real runtime: 2,000 random messages (valid events, junk, commands): done()
 *     exactly once per message (Complete + Catch), a reject for every done(err), no crash.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { TargetGate } from '../../nodes/lib/cmms/backoff';
import { buildContent, dedupeKey } from '../../nodes/lib/cmms/content';
import { DEFAULT_PLAN, plan, type PlanOptions } from '../../nodes/lib/cmms/episodes';
import { readFeedback } from '../../nodes/lib/cmms/feedback';
import { Outbox } from '../../nodes/lib/cmms/outbox';
import { parseTarget } from '../../nodes/lib/cmms/target-config';
import { adapterFor } from '../../nodes/lib/cmms/targets';
import { interpolate, renderJson } from '../../nodes/lib/cmms/template';
import { realClock, tierRank, type AlertInput, type DeliveryClient, type DeliveryOutcome, type EpisodeRecord, type OpView, type TargetKind, type Tier } from '../../nodes/lib/cmms/types';
import { helper, nodeModule } from '../helpers/node-red';
import { alertEvent } from '../fixtures/cmms/alerts';
import { ContractServer, targetFor } from '../fixtures/cmms/servers';

const SEED = Number(process.env.PDM_FUZZ_SEED) || 20261127;
const NOW = Date.UTC(2026, 0, 15);
const TIERS: Array<Tier | null> = ['watch', 'warning', 'action', null];
const TRANSITIONS = ['raised', 'escalated', 'de_escalated', 'reactivated', 'cleared', 'acknowledged', 'shelved', 'unshelved', 'suppressed', 'labelled', 'reset', 'out_of_service'];

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A plausible alert event (valid or nearly so). */
const eventArb = fc
  .record({
    episode: fc.integer({ min: 0, max: 5 }),
    asset: fc.constantFrom('P-1', 'M 2', 'Ä/3', 'x'),
    seq: fc.integer({ min: 1, max: 12 }),
    transition: fc.constantFrom(...TRANSITIONS),
    tier: fc.constantFrom(...TIERS),
    closed: fc.boolean(),
    reason: fc.string({ maxLength: 300 }),
    trend: fc.array(fc.double({ noNaN: false }), { maxLength: 40 }),
  })
  .map((e) => ({ ...alertEvent({ episodeId: `E${e.episode}`, assetId: e.asset, seq: e.seq, transition: e.transition, tier: e.tier, closed: e.closed, trend: e.trend.map((v) => (Number.isFinite(v) ? v : 0)) }), reason: e.reason }));

const junkArb = fc.oneof(
  fc.anything(),
  eventArb.chain((ev) => fc.constantFrom(...Object.keys(ev)).chain((k) => fc.anything().map((v) => ({ ...ev, [k]: v })))),
);

describe('cmms fuzz: pure parts', () => {
  it('readAlert, readFeedback and templates never throw', () => {
    fc.assert(
      fc.property(junkArb, fc.anything(), fc.string(), (raw, fb, tpl) => {
        const r = readAlert(raw, NOW);
        if (!r.ok) assert.ok(['not_an_alert', 'invalid_field'].includes(r.code));
        else assert.ok(r.alert.trend.every((v) => Number.isFinite(v)));
        readFeedback(fb);
        interpolate(tpl, raw);
        JSON.stringify(renderJson({ a: tpl, b: [tpl, { c: '{{reason}}' }] }, raw));
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('every adapter builds a well-formed request for any content', () => {
    const kinds: Array<[TargetKind, Record<string, string>, Record<string, string>]> = [
      ['webhook', { url: 'https://t.example/{{assetId}}', bodyTemplate: '{"t": "{{title}}", "x": "{{trend}}", "r": "r={{reason}}"}', headers: '{"X-A": "{{reason}}"}' }, { token: 't' }],
      ['slack', {}, { webhookUrl: 'https://hooks.slack.com/services/T/B/X' }],
      ['teams', {}, { webhookUrl: 'https://x.example/w' }],
      ['maintainx', {}, { apiKey: 'k' }],
      ['upkeep', {}, { user: 'u', password: 'p' }],
      ['limble', { locationId: '3' }, { user: 'u', password: 'p' }],
      ['atlas', { url: 'https://a.example/api' }, { apiKey: 'k' }],
    ];
    const adapters = kinds.map(([kind, fields, creds]) => {
      const p = parseTarget({ kind, ...fields }, creds);
      assert.ok(p.ok, kind);
      return adapterFor(p.spec);
    });
    fc.assert(
      fc.property(eventArb, fc.string({ maxLength: 20_000 }), fc.constantFrom('create', 'update', 'comment', 'close'), (ev, long, operation) => {
        const r = readAlert({ ...ev, reason: long, assetName: long.slice(0, 300) }, NOW);
        if (!r.ok) return;
        const op: OpView = { id: 'k:1', operation: operation as OpView['operation'], content: buildContent(r.alert, operation as OpView['operation'], { titleTemplate: '{{reason}}' }), externalId: '5', attempt: 1, inDoubt: false };
        for (const a of adapters) {
          const req = a.build(op, 'session');
          for (const v of Object.values(req.headers)) assert.ok(!/[\r\n]/.test(v), `${a.kind}: header without CR/LF`);
          const body = JSON.parse(req.body ?? '{}');
          if (a.kind === 'slack') assert.ok(body.blocks[0].text.text.length <= 150 && body.text.length <= 3000);
          if (a.kind === 'atlas' && operation === 'create') assert.ok(body.description.length <= 10_000);
          assert.ok(op.content.title.length <= 120);
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('cmms fuzz: planner', () => {
  it('at most one create per episode, and nothing before it, for any event stream', () => {
    const options = fc.record({
      createTier: fc.constantFrom<Tier>('watch', 'warning', 'action'),
      onChange: fc.constantFrom<PlanOptions['onChange']>('update', 'comment', 'none'),
      onClear: fc.constantFrom<PlanOptions['onClear']>('close', 'comment', 'none'),
      lifecycle: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), options, (events, opts) => {
        const records = new Map<string, EpisodeRecord>();
        const creates = new Map<string, number>();
        for (const ev of events) {
          const r = readAlert(ev, NOW);
          assert.ok(r.ok);
          const key = `${r.alert.assetId}|${r.alert.episodeId}`;
          const p = plan(records.get(key), r.alert, { ...DEFAULT_PLAN, ...opts }, NOW);
          records.set(key, p.record);
          for (const op of p.ops) {
            if (op.operation === 'create') {
              creates.set(key, (creates.get(key) ?? 0) + 1);
              assert.ok(tierRank(r.alert.tier) >= tierRank(opts.createTier));
            } else assert.ok(creates.get(key), `${op.operation} only after the create`);
          }
          assert.ok((creates.get(key) ?? 0) <= 1, 'never two creates');
          assert.equal(p.record.createQueued, (creates.get(key) ?? 0) === 1);
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
  });
});

/** A simulated CMMS with lookups; some requests fail before it acts, some after (answer lost). */
class SimulatedCmms implements DeliveryClient {
  readonly needsExternalId = true;
  readonly orders = new Map<string, string[]>();
  private n = 0;
  constructor(private readonly random: () => number) {}
  async deliver(op: OpView): Promise<DeliveryOutcome> {
    await new Promise((r) => setImmediate(r));
    const roll = this.random();
    if (roll < 0.2) return { ok: false, kind: 'retry', ambiguous: false, code: 'unavailable', message: '503' };
    const key = op.content.dedupeKey;
    if (op.operation === 'create') {
      if (op.inDoubt && this.orders.has(key)) return { ok: true, externalId: this.orders.get(key)![0], found: true };
      const list = this.orders.get(key) ?? [];
      list.push(`WO-${++this.n}`);
      this.orders.set(key, list);
      if (roll < 0.35) return { ok: false, kind: 'retry', ambiguous: true, code: 'network', message: 'reset after sending' };
      return { ok: true, externalId: list[list.length - 1] };
    }
    return roll < 0.3 ? { ok: false, kind: 'retry', ambiguous: true, code: 'server_error', message: '500' } : { ok: true };
  }
}

describe('cmms fuzz: outbox', () => {
  it('exactly one work order per episode under random failures and restarts', async () => {
    const scenario = fc.record({
      events: fc.array(eventArb, { minLength: 1, maxLength: 30 }),
      restarts: fc.array(fc.integer({ min: 0, max: 29 }), { maxLength: 3 }),
      seed: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, restarts, seed }) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-cmms-fuzz-'));
        dirs.push(dir);
        let s = seed >>> 0;
        const random = () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 4294967296);
        const cmms = new SimulatedCmms(random);
        const gate = new TargetGate(realClock, { ratePerSec: 0, burst: 1, pause: { baseMs: 1, maxMs: 2, factor: 2, jitter: 0 } });
        const open = () => Outbox.open({ dir, client: cmms, gate, backoff: { baseMs: 1, maxMs: 3, factor: 2, jitter: 1 }, maxAttempts: 10_000, concurrency: 3 });
        let outbox = await open();
        const reached = new Set<string>();
        for (const [i, ev] of events.entries()) {
          const r = readAlert(ev, NOW);
          assert.ok(r.ok);
          await outbox.submit([r.alert as AlertInput]);
          const ep = outbox.episode(dedupeKey(r.alert.assetId, r.alert.episodeId));
          if (ep?.createQueued) reached.add(ep.key);
          if (restarts.includes(i)) {
            await outbox.close(0);
            outbox = await open();
          }
        }
        const end = Date.now() + 10_000;
        while (outbox.stats().queued > 0 || outbox.stats().inflight > 0) {
          if (Date.now() > end) throw new Error(`not drained: ${JSON.stringify(outbox.stats())}`);
          await new Promise((r) => setTimeout(r, 2));
        }
        assert.equal(outbox.stats().dead, 0);
        await outbox.close(0);
        for (const key of reached) assert.equal(cmms.orders.get(key)?.length, 1, `one work order for ${key}`);
        assert.equal(cmms.orders.size, reached.size);
      }),
      { numRuns: 120, seed: SEED },
    );
  });
});

describe('cmms fuzz: node in a runtime', () => {
  const cmmsNode = nodeModule('pdm-cmms');
  const targetNode = nodeModule('pdm-cmms-target');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-cmms-fuzz-node-'));
  dirs.push(userDir);
  let server: ContractServer;
  before(async () => {
    server = await ContractServer.start('webhook');
    helper.settings({ userDir });
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await server.close();
  });

  it('2,000 random messages: done() exactly once each, every error has a reject, nothing crashes', async () => {
    const t = targetFor(server);
    const at = { z: 'tab', x: 0, y: 0 };
    await helper.load(
      [cmmsNode, targetNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'target', type: 'pdm-cmms-target', ...t.fields },
        { id: 'cm', ...at, type: 'pdm-cmms', target: 'target', createTier: 'watch', onChange: 'update', onClear: 'close', lifecycle: true, root: 'pdm', maxAttempts: 3, retryBaseSec: 0.01, retryMaxSec: 0.05, wires: [['out'], ['out'], ['out'], ['rej']] },
        { id: 'out', ...at, type: 'helper', wires: [] },
        { id: 'rej', ...at, type: 'helper', wires: [] },
        { id: 'ok', ...at, type: 'complete', scope: ['cm'], uncaught: false, wires: [['done']] },
        { id: 'err', ...at, type: 'catch', scope: ['cm'], uncaught: false, wires: [['failed']] },
        { id: 'done', ...at, type: 'helper', wires: [] },
        { id: 'failed', ...at, type: 'helper', wires: [] },
      ],
      { target: t.credentials },
    );
    const node = helper.getNode('cm');
    const seen = new Map<string, number>();
    const count = (m: Record<string, any>) => seen.set(m._msgid, (seen.get(m._msgid) ?? 0) + 1);
    const rejects = new Set<string>();
    let errors = 0;
    helper.getNode('done').on('input', count);
    helper.getNode('failed').on('input', (m: Record<string, any>) => {
      count(m);
      if (!/dead/.test(String(m.error?.message))) errors++;
    });
    helper.getNode('rej').on('input', (m: Record<string, any>) => rejects.add(m._msgid));
    await new Promise((r) => setTimeout(r, 200));
    const message = fc.oneof(
      { weight: 5, arbitrary: eventArb.map((payload) => ({ payload })) },
      { weight: 2, arbitrary: fc.array(fc.oneof(eventArb, fc.anything()), { maxLength: 4 }).map((payload) => ({ payload })) },
      { weight: 2, arbitrary: junkArb.map((payload) => ({ payload })) },
      { weight: 1, arbitrary: fc.record({ command: fc.constantFrom('status', 'dead', 'retry', 'feedback', 'nope', ''), payload: fc.anything() }) },
    );
    const samples = fc.sample(message, { numRuns: 2000, seed: SEED });
    const ids: string[] = [];
    for (const m of samples) {
      const msg = { ...(m as object), _msgid: `m${ids.length}` } as Record<string, any>;
      ids.push(msg._msgid);
      node.receive(msg);
    }
    const end = Date.now() + 60_000;
    while (ids.some((id) => !seen.has(id)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    for (const id of ids) assert.equal(seen.get(id), 1, `done once for ${id}`);
    // Every done(err) of an input came with a reject message (dead letters are errors of their own).
    assert.equal(rejects.size, errors);
  });
});
