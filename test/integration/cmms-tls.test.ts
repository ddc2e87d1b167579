/**
 * Certificates are always checked: a self-signed HTTPS target is refused (no request reaches its
 * handler, the operation stays queued — not lost, not dead), even with
 * NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment; once its CA file is configured (a redeploy:
 * new target, same outbox journal) the queued operation is delivered exactly once.
 * The certificate is made at test time with openssl (nothing private is committed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { TargetRuntime } from '../../nodes/lib/cmms/client';
import { Outbox } from '../../nodes/lib/cmms/outbox';
import { parseTarget } from '../../nodes/lib/cmms/target-config';
import { alertEvent } from '../fixtures/cmms/alerts';
import { opensslMissing, selfSignedCert, type TestCert } from '../fixtures/cmms/certs';
import { ContractServer, SECRETS } from '../fixtures/cmms/servers';

const skip = opensslMissing();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cmms: TLS', { skip }, () => {
  let cert: TestCert;
  let server: ContractServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-cmms-tls-outbox-'));
  before(async () => {
    cert = selfSignedCert()!;
    server = await ContractServer.start('webhook', { tls: { key: cert.key, cert: cert.cert } });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
  });

  const open = (caFile?: string) => {
    const parsed = parseTarget({ kind: 'webhook', url: server.url, timeoutSec: 2, ...(caFile ? { caFile } : {}) }, { token: SECRETS.webhookToken });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join());
    const runtime = new TargetRuntime(parsed.spec, { pause: { baseMs: 50, maxMs: 100, factor: 2, jitter: 0 } });
    const delivered: string[] = [];
    const dead: string[] = [];
    return Outbox.open({
      dir,
      client: runtime.client,
      gate: runtime.gate,
      backoff: { baseMs: 50, maxMs: 100, factor: 2, jitter: 0 },
      maxAttempts: 1000,
      events: { delivered: (op) => delivered.push(op.id), dead: (op) => dead.push(op.id) },
    }).then((outbox) => ({ outbox, runtime, delivered, dead }));
  };

  it('refuses the self-signed server without its CA, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    const rig = await open();
    try {
      const r = readAlert(alertEvent({ episodeId: 'TLS-1', seq: 1, transition: 'raised', tier: 'action' }), Date.now());
      assert.ok(r.ok);
      await rig.outbox.submit([r.alert]);
      await sleep(600);
      const stats = rig.outbox.stats();
      assert.equal(server.requests.length, 0, 'no request reached the server');
      assert.equal(stats.queued, 1, 'still queued, not lost');
      assert.equal(stats.dead, 0, 'and not given up');
      assert.equal(stats.failing, true);
      assert.equal(stats.lastError, 'tls');
      assert.ok(stats.failedAttempts >= 2, 'retried, refused each time');
      assert.deepEqual(rig.delivered, []);
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      await rig.outbox.close(0);
      rig.runtime.destroy();
    }
  });

  it('delivers the queued operation exactly once once the CA file is configured', async () => {
    const rig = await open(cert.certFile);
    try {
      const end = Date.now() + 10_000;
      while (rig.delivered.length === 0 && Date.now() < end) await sleep(20);
      assert.equal(rig.delivered.length, 1);
      assert.equal(server.messages.length, 1);
      assert.equal(server.messages[0].body.episodeId, 'TLS-1');
      assert.equal(rig.outbox.stats().queued, 0);
    } finally {
      await rig.outbox.close(0);
      rig.runtime.destroy();
    }
  });
});
