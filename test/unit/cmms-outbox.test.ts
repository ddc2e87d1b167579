/**
 * The outbox with a scripted client (no HTTP): per-episode ordering, backoff with jitter,
 * Retry-After, the per-target rate limit, one probe at a time while the target fails, dead letters
 * (after the last attempt, on a fatal answer, and for operations whose work order was never
 * created), retry of dead letters, the queue limit, restart with creates in doubt, compaction.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { backoffDelay, parseRetryAfter, TargetGate } from '../../nodes/lib/cmms/backoff';
import { Outbox, type OutboxOptions } from '../../nodes/lib/cmms/outbox';
import { realClock, scaledClock, type AlertInput, type DeliveryClient, type DeliveryOutcome, type OpRecord, type OpView } from '../../nodes/lib/cmms/types';
import { alertEvent, episodeEvents } from '../fixtures/cmms/alerts';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-outbox-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = (raw: Record<string, unknown>): AlertInput => {
  const r = readAlert(raw, Date.now());
  assert.ok(r.ok);
  return r.alert;
};
async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

type Script = (op: OpView, n: number) => DeliveryOutcome | Promise<DeliveryOutcome>;
class FakeClient implements DeliveryClient {
  calls: Array<{ op: OpView; at: number }> = [];
  inflight = 0;
  maxInflight = 0;
  private ids = 0;
  constructor(
    readonly needsExternalId: boolean,
    private readonly script: Script = () => ({ ok: true }),
  ) {}
  async deliver(op: OpView): Promise<DeliveryOutcome> {
    this.calls.push({ op, at: Date.now() });
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      const out = await this.script(op, this.calls.length);
      if (out.ok && op.operation === 'create' && this.needsExternalId && !out.externalId) return { ...out, externalId: `WO-${++this.ids}` };
      return out;
    } finally {
      this.inflight--;
    }
  }
}

function gate(rate = 0, burst = 1, pauseMs = 5) {
  return new TargetGate(realClock, { ratePerSec: rate, burst, pause: { baseMs: pauseMs, maxMs: pauseMs * 4, factor: 2, jitter: 0 } });
}

async function open(client: DeliveryClient, extra: Partial<OutboxOptions> = {}) {
  const delivered: OpRecord[] = [];
  const dead: OpRecord[] = [];
  const outbox = await Outbox.open({
    dir: extra.dir ?? tmp(),
    client,
    gate: extra.gate ?? gate(),
    backoff: { baseMs: 5, maxMs: 40, factor: 2, jitter: 1 },
    maxAttempts: 5,
    concurrency: 4,
    ...extra,
    events: { delivered: (op) => delivered.push(op), dead: (op) => dead.push(op) },
  });
  return { outbox, delivered, dead };
}

const fail = (code: string, extra: Partial<Extract<DeliveryOutcome, { ok: false }>> = {}): DeliveryOutcome => ({ ok: false, kind: 'retry', ambiguous: false, code, message: code, ...extra });

describe('cmms: backoff', () => {
  it('grows exponentially with jitter in [delay/2, delay], capped', () => {
    const opts = { baseMs: 1000, maxMs: 10_000, factor: 2, jitter: 1 };
    assert.equal(backoffDelay(1, opts, () => 1), 1000);
    assert.equal(backoffDelay(1, opts, () => 0), 500);
    assert.equal(backoffDelay(3, opts, () => 1), 4000);
    assert.equal(backoffDelay(20, opts, () => 1), 10_000);
    assert.equal(backoffDelay(3, { ...opts, jitter: 0 }, () => 0.3), 4000);
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('2', 0), 2000);
    assert.equal(parseRetryAfter(new Date(5000).toUTCString(), 0), 5000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
  });
});

describe('cmms: outbox', () => {
  it('sends each episode in order, episodes in parallel, one work order each', async () => {
    const client = new FakeClient(true, async () => {
      await sleep(5);
      return { ok: true };
    });
    const { outbox, delivered } = await open(client);
    for (let e = 0; e < 6; e++) await outbox.submit(episodeEvents(`E${e}`, `A${e}`).map(read));
    await until(() => delivered.length === 18, 5000, '18 deliveries');
    for (let e = 0; e < 6; e++) {
      const ops = client.calls.filter((c) => c.op.content.episodeId === `E${e}`).map((c) => c.op.operation);
      assert.deepEqual(ops, ['create', 'update', 'comment']);
      const update = client.calls.find((c) => c.op.content.episodeId === `E${e}` && c.op.operation === 'update')!;
      assert.ok(update.op.externalId?.startsWith('WO-'), 'update carries the created id');
    }
    assert.ok(client.maxInflight > 1 && client.maxInflight <= 4);
    assert.equal(outbox.stats().queued, 0);
    await outbox.close();
  });

  it('retries with backoff, honours Retry-After, and reports each outcome once', async () => {
    let n = 0;
    const client = new FakeClient(true, () => {
      n++;
      if (n === 1) return fail('unavailable', { retryAfterMs: 300 });
      if (n === 2) return fail('server_error', { ambiguous: true });
      return { ok: true };
    });
    const { outbox, delivered } = await open(client);
    await outbox.submit([read(alertEvent({ episodeId: 'R', seq: 1, transition: 'raised', tier: 'action' }))]);
    await until(() => delivered.length === 1);
    assert.ok(client.calls[1].at - client.calls[0].at >= 290, `second attempt waited for Retry-After (${client.calls[1].at - client.calls[0].at} ms)`);
    assert.equal(client.calls[1].op.inDoubt, false, 'a 503 did not reach the target');
    assert.equal(client.calls[2].op.inDoubt, true, 'after a 500 the create is in doubt (lookup first)');
    assert.equal(delivered[0].attempts, 3);
    await outbox.close();
  });

  it('rate limit: a 5/s target gets 6 creates over at least one second', async () => {
    const client = new FakeClient(false);
    const { outbox, delivered } = await open(client, { gate: gate(5, 1) });
    for (let e = 0; e < 6; e++) await outbox.submit([read(alertEvent({ episodeId: `L${e}`, seq: 1, transition: 'raised', tier: 'action' }))]);
    await until(() => delivered.length === 6, 5000);
    const span = client.calls[5].at - client.calls[0].at;
    assert.ok(span >= 950, `6 requests at 5/s spread over ${span} ms`);
    await outbox.close();
  });

  it('while the target fails, only one probe is in flight; recovery drains the queue', async () => {
    let down = true;
    const client = new FakeClient(false, async () => {
      await sleep(3);
      return down ? fail('network') : { ok: true };
    });
    const g = gate(0, 1, 20);
    const { outbox, delivered } = await open(client, { gate: g, maxAttempts: 1000, concurrency: 8 });
    for (let e = 0; e < 20; e++) await outbox.submit([read(alertEvent({ episodeId: `C${e}`, seq: 1, transition: 'raised', tier: 'action' }))]);
    await until(() => client.calls.length >= 8, 5000, 'probes');
    const failingCalls = client.calls.length;
    down = false;
    await until(() => delivered.length === 20, 5000, 'drain');
    // Before the first failure up to 8 ran together; after it, one at a time until recovery.
    assert.ok(failingCalls < 40, `${failingCalls} attempts while down`);
    assert.equal(new Set(delivered.map((d) => d.content.episodeId)).size, 20);
    await outbox.close();
  });

  it('dead letters: after the last attempt, on a fatal answer, and for operations without a work order; retry brings them back', async () => {
    let mode: 'fail' | 'fatal' | 'ok' = 'fail';
    const client = new FakeClient(true, (op) => {
      if (mode === 'ok') return { ok: true };
      if (mode === 'fatal' && op.content.episodeId === 'F') return { ok: false, kind: 'fatal', ambiguous: false, code: 'rejected', message: 'HTTP 400', status: 400 };
      if (mode === 'fatal') return { ok: true };
      return fail('server_error');
    });
    const { outbox, dead, delivered } = await open(client, { maxAttempts: 3 });
    await outbox.submit(episodeEvents('D', 'A-D').map(read));
    await until(() => dead.length === 3, 5000, 'dead letters');
    assert.deepEqual(dead.map((d) => [d.operation, d.attempts]), [['create', 3], ['update', 0], ['comment', 0]]);
    assert.match(dead[1].lastError ?? '', /no_work_order/);
    mode = 'fatal';
    await outbox.submit([read(alertEvent({ episodeId: 'F', seq: 1, transition: 'raised', tier: 'action' }))]);
    await until(() => dead.length === 4);
    assert.equal(dead[3].attempts, 1, 'a 400 is not retried');
    assert.equal(outbox.stats().dead, 4);
    mode = 'ok';
    assert.equal(await outbox.retryDead({ episodeId: 'D' }), 3);
    await until(() => delivered.length === 3);
    assert.deepEqual(delivered.map((d) => d.operation), ['create', 'update', 'comment']);
    assert.equal(outbox.stats().dead, 1);
    await outbox.close();
  });

  it('refuses events beyond the queue limit instead of dropping them', async () => {
    const client = new FakeClient(false, () => fail('network'));
    const { outbox } = await open(client, { maxQueue: 3, maxAttempts: 1000 });
    const results = await outbox.submit([0, 1, 2, 3, 4].map((e) => read(alertEvent({ episodeId: `Q${e}`, seq: 1, transition: 'raised', tier: 'action' }))));
    assert.deepEqual(results.map((r) => r.refused ?? r.operations.join()), ['create', 'create', 'create', 'outbox_full', 'outbox_full']);
    await outbox.close(0);
  });

  it('after a restart: pending work resumes, creates are sent in doubt, ids and labels are remembered', async () => {
    const dir2 = tmp();
    const a = await open(new FakeClient(true, () => fail('network')), { dir: dir2, maxAttempts: 1000 });
    await a.outbox.submit(episodeEvents('S2', 'A2').map(read));
    await a.outbox.close(0);
    const client = new FakeClient(true);
    const b = await open(client, { dir: dir2 });
    await until(() => b.delivered.length === 3, 5000, 'resume');
    assert.equal(client.calls[0].op.operation, 'create');
    assert.equal(client.calls[0].op.inDoubt, true, 'a create pending at restart is looked up first');
    const ep = b.outbox.episodeById('S2')!;
    assert.ok(ep.externalId);
    assert.equal(await b.outbox.label(ep.key, 'true_fault', 'bearing'), 'recorded');
    assert.equal(await b.outbox.label(ep.key, 'true_fault', 'bearing'), 'duplicate');
    // Replays of the same events after the restart send nothing new.
    const again = await b.outbox.submit(episodeEvents('S2', 'A2').map(read));
    assert.ok(again.every((r) => r.ignored === 'duplicate'));
    await b.outbox.close();
    const c = await open(new FakeClient(true), { dir: dir2 });
    const same = c.outbox.episodeByExternalId(ep.externalId!)!;
    assert.equal(same.key, ep.key);
    assert.equal(same.label?.type, 'true_fault');
    assert.equal(c.outbox.stats().queued, 0);
    await c.outbox.close();
  });

  it('compacts a long journal and keeps the state', async () => {
    const dir = tmp();
    const client = new FakeClient(true);
    const { outbox, delivered } = await open(client, { dir, compactAfter: 100 });
    for (let e = 0; e < 60; e++) await outbox.submit(episodeEvents(`K${e}`, 'A').map(read));
    await until(() => delivered.length === 180, 10_000);
    await outbox.close();
    const files = fs.readdirSync(dir);
    assert.ok(files.some((f) => /^snapshot-\d+\.jsonl$/.test(f)), files.join());
    const again = await open(new FakeClient(true), { dir });
    assert.equal(again.outbox.stats().episodes, 60);
    assert.ok(again.outbox.episodeById('K59')?.externalId);
    await again.outbox.close();
  });

  it('with the node defaults, a one-hour outage (clock x1000) sends nothing to the dead letters', async () => {
    const clock = scaledClock(1000);
    const t0 = clock.now();
    const client = new FakeClient(true, () => (clock.now() < t0 + 3_600_000 ? fail('unavailable') : { ok: true }));
    const g = new TargetGate(clock, { ratePerSec: 5, burst: 5, pause: { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 1 } });
    const { outbox, delivered, dead } = await open(client, { clock, gate: g, backoff: { baseMs: 2000, maxMs: 300_000, factor: 2, jitter: 1 }, maxAttempts: 50 });
    await outbox.submit(episodeEvents('H1', 'A').map(read));
    await outbox.submit([read(alertEvent({ episodeId: 'H2', seq: 1, transition: 'raised', tier: 'action' }))]);
    await until(() => delivered.length === 4, 15_000, 'delivery after the outage');
    assert.deepEqual(dead, []);
    const attempts = client.calls.filter((c) => c.op.operation === 'create').length;
    assert.ok(attempts < 60, `the outage cost ${attempts} create attempts, not a storm`);
    await outbox.close();
  });
});
