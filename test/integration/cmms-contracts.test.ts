/**
 * Exactly-once work orders against local servers that follow each target's documented contract
 * (test/fixtures/cmms/servers.ts: paths, auth headers, request shapes, status codes), with the
 * real client (node:http), the real durable outbox and injected failures.
 *
 * Per target kind (webhook, Slack, Teams, MaintainX, UpKeep, Limble, Atlas CMMS):
 *  1. failures the target did not act on — 500, 502, 503 and 429 with Retry-After, timeouts,
 *     connection resets — on a third of the requests: every episode yields exactly one work order
 *     (one message per operation for chat targets) and every update and comment exactly once;
 *  2. (CMMS and webhook) failures after the target acted — reset, timeout or 500 after the work
 *     order was created: still exactly one work order per episode (CMMS: the create is looked up by
 *     its marker before it is repeated; webhook: the Idempotency-Key is honoured);
 *  3. an outage with a restart of the outbox in the middle (close, new client, reopen the
 *     journal), then recovery: nothing lost, nothing twice.
 * No request ever broke the contract (auth header, shape): the servers count violations.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { TargetRuntime } from '../../nodes/lib/cmms/client';
import { dedupeKey } from '../../nodes/lib/cmms/content';
import { Outbox } from '../../nodes/lib/cmms/outbox';
import { parseTarget } from '../../nodes/lib/cmms/target-config';
import type { AlertInput, OpRecord } from '../../nodes/lib/cmms/types';
import { episodeEvents } from '../fixtures/cmms/alerts';
import { ContractServer, targetFor, type Fault, type Kind } from '../fixtures/cmms/servers';

const KINDS: Kind[] = ['webhook', 'slack', 'teams', 'maintainx', 'upkeep', 'limble', 'atlas'];
const CMMS: Kind[] = ['maintainx', 'upkeep', 'limble', 'atlas'];
const EPISODES = 8;
const PRE: Fault[] = ['500', '502', '503', '429', 'timeout', 'reset'];
const POST: Fault[] = ['commit-reset', 'commit-timeout', 'commit-500'];

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-cmms-contract-'));
  dirs.push(d);
  return d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded PRNG (mulberry32), so a failing run can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function alerts(prefix: string): AlertInput[][] {
  return Array.from({ length: EPISODES }, (_, e) =>
    episodeEvents(`${prefix}-${e}`, `A-${e % 3}`).map((raw) => {
      const r = readAlert(raw, Date.now());
      assert.ok(r.ok);
      return r.alert;
    }),
  );
}

interface Rig {
  server: ContractServer;
  runtime: TargetRuntime;
  outbox: Outbox;
  dir: string;
  delivered: OpRecord[];
  dead: OpRecord[];
}

async function rig(server: ContractServer, dir = tmp()): Promise<Rig> {
  const t = targetFor(server, { timeoutSec: 0.4 });
  const parsed = parseTarget(t.fields, t.credentials);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('; '));
  const runtime = new TargetRuntime(parsed.spec, { pause: { baseMs: 20, maxMs: 200, factor: 2, jitter: 1 } });
  const delivered: OpRecord[] = [];
  const dead: OpRecord[] = [];
  const outbox = await Outbox.open({
    dir,
    client: runtime.client,
    gate: runtime.gate,
    backoff: { baseMs: 10, maxMs: 150, factor: 2, jitter: 1 },
    maxAttempts: 60,
    concurrency: 4,
    events: { delivered: (op) => delivered.push(op), dead: (op) => dead.push(op) },
  });
  return { server, runtime, outbox, dir, delivered, dead };
}

async function drained(r: Rig, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const s = r.outbox.stats();
    if (s.queued === 0 && s.inflight === 0) return;
    if (Date.now() > end) throw new Error(`not drained after ${ms} ms: ${JSON.stringify(s)}; violations ${r.server.violations.join(' | ')}`);
    await sleep(20);
  }
}

async function stop(r: Rig): Promise<void> {
  await r.outbox.close(0);
  r.runtime.destroy();
}

/** Episode id named in a chat message (Slack context block / Teams fact). */
function episodeOf(message: any): string {
  const text = JSON.stringify(message);
  return /Episode ([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? /"title":"Episode","value":"([^"]+)"/.exec(text)?.[1] ?? '?';
}

/** What the target holds, checked against "exactly once". */
function assertExactlyOnce(server: ContractServer, prefix: string, strictOps: boolean): void {
  assert.deepEqual(server.violations, [], 'no request broke the contract');
  const ids = Array.from({ length: EPISODES }, (_, e) => `${prefix}-${e}`);
  if (CMMS.includes(server.kind)) {
    const byMarker = server.byMarker();
    for (const [e, id] of ids.entries()) {
      const orders = byMarker.get(dedupeKey(`A-${e % 3}`, id)) ?? [];
      assert.equal(orders.length, 1, `${server.kind}: episode ${id} has exactly one work order (has ${orders.length})`);
      const wo = orders[0];
      assert.match(wo.title, /^\[ACTION\] A-\d Cooling water pump: Bearing wear$/);
      const updates = wo.patches.filter((p) => p.priority !== undefined).length;
      // Limble closes/comments by comment; the clear is a comment everywhere by default.
      if (strictOps) {
        assert.equal(updates, 1, `${server.kind}: one update for ${id}`);
        assert.equal(wo.comments.length, 1, `${server.kind}: one clear comment for ${id}`);
      } else {
        assert.ok(updates >= 1 && wo.comments.length >= 1, `${server.kind}: update and comment arrived for ${id}`);
      }
    }
    assert.equal(server.workOrders.size, EPISODES, `${server.kind}: no stray work orders`);
    return;
  }
  if (server.kind === 'webhook') {
    for (const [key, n] of server.processedKeys) assert.equal(n, 1, `webhook: ${key} processed once`);
    assert.equal(server.messages.length, EPISODES * 3, 'webhook: create, update and comment per episode');
    for (const id of ids) {
      const ops = server.messages.filter((m) => m.body.episodeId === id).map((m) => m.body.operation);
      assert.deepEqual(ops, ['create', 'update', 'comment'], `webhook: ${id} in order`);
    }
    return;
  }
  assert.equal(server.messages.length, EPISODES * 3, `${server.kind}: one message per operation`);
  for (const id of ids) assert.equal(server.messages.filter((m) => episodeOf(m) === id).length, 3, `${server.kind}: 3 messages for ${id}`);
}

describe('cmms contracts: exactly one work order per episode under failures', () => {
  for (const kind of KINDS) {
    it(`${kind}: failures the target did not act on (5xx, 429/503 Retry-After, timeouts, resets)`, async () => {
      const random = prng(kind.length * 7919);
      const server = await ContractServer.start(kind, {
        retryAfterSec: 1,
        fault: (req, i) => {
          if (i < 6) return (['503', 'reset', 'timeout', '500', '429', '502'] as Fault[])[i];
          if (req.method === 'GET' || req.path.includes('/auth')) return undefined;
          const r = random();
          if (r > 0.33) return undefined;
          const f = PRE[Math.floor(random() * PRE.length)];
          // Retry-After pauses the whole target for a second: keep those rare.
          return (f === '429' || f === '503') && random() < 0.7 ? '500' : f;
        },
      });
      const r = await rig(server);
      try {
        for (const ep of alerts(`P${kind}`)) await r.outbox.submit(ep);
        await drained(r);
        assert.deepEqual(r.dead, [], 'nothing went to the dead letters');
        assertExactlyOnce(server, `P${kind}`, true);
        const faults = server.requests.filter((q) => q.fault).map((q) => q.fault);
        for (const f of ['503', 'reset', 'timeout', '500']) assert.ok(faults.includes(f as Fault), `${f} was injected`);
        const created = r.delivered.filter((d) => d.operation === 'create').length;
        assert.equal(created, EPISODES);
      } finally {
        await stop(r);
        await server.close();
      }
    });
  }

  for (const kind of [...CMMS, 'webhook' as Kind]) {
    it(`${kind}: failures after the target acted (reset / timeout / 500 after the create)`, async () => {
      const random = prng(kind.length * 104729);
      let creates = 0;
      const server = await ContractServer.start(kind, {
        fault: (req) => {
          const isCreate = req.method === 'POST' && /\/(workorders|work-orders|tasks|ticket)$/.test(req.path.split('?')[0]);
          if (!isCreate) return undefined;
          creates++;
          if (creates <= 3) return POST[creates - 1];
          return random() < 0.3 ? POST[Math.floor(random() * POST.length)] : undefined;
        },
      });
      const r = await rig(server);
      try {
        for (const ep of alerts(`C${kind}`)) await r.outbox.submit(ep);
        await drained(r);
        assert.deepEqual(r.dead, []);
        assertExactlyOnce(server, `C${kind}`, kind === 'webhook');
        if (kind !== 'webhook') {
          const lookups = server.requests.filter((q) => q.method === 'GET' || q.path.includes('/search')).length;
          assert.ok(lookups >= 3, `${kind}: creates in doubt were looked up (${lookups} lookups)`);
        }
      } finally {
        await stop(r);
        await server.close();
      }
    });
  }

  for (const kind of KINDS) {
    it(`${kind}: an outage with a restart in the middle loses nothing and sends nothing twice`, async () => {
      let down = true;
      const server = await ContractServer.start(kind, { fault: () => (down ? '503' : undefined), retryAfterSec: 0 });
      const dir = tmp();
      const first = await rig(server, dir);
      let second: Rig | undefined;
      try {
        const eps = alerts(`O${kind}`);
        for (const ep of eps.slice(0, EPISODES / 2)) await first.outbox.submit(ep);
        await sleep(150);
        assert.equal(server.messages.length + server.workOrders.size, 0, 'nothing got through the outage');
        await stop(first);
        // "Restart": a new client and outbox on the same journal; more events arrive, still down.
        second = await rig(server, dir);
        assert.equal(second.outbox.stats().queued, (EPISODES / 2) * 3);
        for (const ep of eps.slice(EPISODES / 2)) await second.outbox.submit(ep);
        await sleep(100);
        down = false;
        await drained(second);
        assert.deepEqual(second.dead, []);
        assertExactlyOnce(server, `O${kind}`, true);
      } finally {
        await stop(first);
        if (second) await stop(second);
        await server.close();
      }
    });
  }
});
