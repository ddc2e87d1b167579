/**
 * pdm-history over TLS to a real PostgreSQL (throwaway cluster with `ssl=on` and a certificate
 * made at test time by openssl): with a core tls-config node naming the private CA the node
 * connects, verifies the server and writes (the server's pg_stat_ssl says the session is TLS);
 * without the CA the server certificate is refused, the node stays disconnected and keeps the
 * message queued.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { PgCluster } from '../helpers/postgres';
import { helper, nodeModule } from '../helpers/node-red';
import { reading } from '../helpers/history-fixtures';
import { selfSignedCert, type TestCert } from '../fixtures/cmms/certs';

/* eslint-disable @typescript-eslint/no-explicit-any */
const tlsConfigNode = require(require.resolve('@node-red/nodes/core/network/05-tls.js', { paths: [path.dirname(require.resolve(process.env.NR_PKG || 'node-red'))] }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cert: TestCert;
let cluster: PgCluster;
let pool: Pool;

before(async () => {
  const made = selfSignedCert();
  assert.ok(made, 'openssl is needed for this test (.ci/run installs it)');
  cert = made;
  cluster = await PgCluster.create({ ssl: { certFile: cert.certFile, keyFile: path.join(cert.dir, 'server.key') } });
  pool = cluster.pool();
  await helper.startServer();
});
after(async () => {
  await helper.unload().catch(() => {});
  await helper.stopServer().catch(() => {});
  await pool?.end().catch(() => {});
  await cluster?.destroy();
  if (cert) fs.rmSync(cert.dir, { recursive: true, force: true });
});

function flow(ca: string) {
  const at = { z: 'tab', x: 1, y: 1 };
  return [
    { id: 'tab', type: 'tab' },
    { id: 'tlsconf', type: 'tls-config', name: '', cert: '', key: '', ca, certname: '', keyname: '', caname: '', servername: '', verifyservercert: true, alpnprotocol: '' },
    { id: 'h', ...at, type: 'pdm-history', host: '127.0.0.1', port: cluster.port, database: 'postgres', user: 'postgres', schema: 'tls', tls: 'tlsconf', variant: 'auto', batchRows: 100, maxDelayMs: 10, maxQueueRows: 1000, rawDays: 7, aggregateDays: 180, longDays: 1825, maintenanceMin: 0, wires: [[], []] },
    { id: 'completer', ...at, type: 'complete', scope: ['h'], uncaught: false, wires: [['completed']] },
    { id: 'completed', ...at, type: 'helper', wires: [] },
  ];
}

describe('pdm-history over TLS', { timeout: 60_000 }, () => {
  it('verifies the server with the private CA of a tls-config node and writes over TLS', async () => {
    await helper.load([nodeModule('pdm-history'), tlsConfigNode], flow(cert.certFile));
    let done = 0;
    helper.getNode('completed').on('input', () => done++);
    helper.getNode('h').receive({ payload: reading('M-1', 'current', Date.now() - 1000, 12.5) });
    for (let i = 0; i < 200 && done === 0; i++) await sleep(50);
    assert.equal(done, 1, `written over TLS (${helper.getNode('h').history.writer.stats().lastError ?? ''})`);
    const ssl = await pool.query(`SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'node-red pdm-history'`);
    assert.ok(ssl.rows.length > 0 && ssl.rows.every((r) => r.ssl === true), JSON.stringify(ssl.rows));
    assert.equal(Number((await pool.query('SELECT count(*) AS n FROM tls.readings')).rows[0].n), 1);
    await helper.unload();
  });

  it('without the CA the server certificate is refused: disconnected, the message kept in the queue', async () => {
    await helper.load([nodeModule('pdm-history'), tlsConfigNode], flow(''));
    let done = 0;
    helper.getNode('completed').on('input', () => done++);
    const node = helper.getNode('h');
    node.receive({ payload: reading('M-1', 'current', Date.now() - 500, 13) });
    for (let i = 0; i < 100 && !node.history.writer.stats().lastError; i++) await sleep(50);
    const stats = node.history.writer.stats();
    assert.match(String(stats.lastError), /self.signed|certificate/i);
    assert.equal(stats.connected, false);
    assert.equal(stats.queuedMessages, 1);
    assert.equal(done, 0);
    await helper.unload();
  });
});
