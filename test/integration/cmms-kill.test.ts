/**
 * pdm-cmms in a REAL Node-RED 4.1 runtime run as a child process, killed with SIGKILL (kill -9)
 * twice, against a local MaintainX contract server:
 *
 *  1. the CMMS is down (503): 10 episodes × 5 alert events are posted to an HTTP-in flow; each
 *     POST is answered only when pdm-cmms has called done() (Complete node), i.e. when the event
 *     is in the outbox journal on disk; then kill -9;
 *  2. a new runtime on the same userDir; the CMMS is back, but the first creates are "committed
 *     then hung" (the work order exists, the answer never comes); kill -9 while deliveries are in
 *     flight;
 *  3. a third runtime; the CMMS is healthy: the outbox drains.
 *
 * Proven: nothing lost (every episode has its work order, its update and its clear comment) and
 * no episode has two work orders (the creates in doubt were looked up by their marker first).
 * Updates and comments are at-least-once across a kill in the middle of their request.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { removeDir } from '../pack/support';
import { NodeRedChild, killChildren, linkedUserDir, sleep } from '../helpers/node-red-child';
import { dedupeKey } from '../../nodes/lib/cmms/content';
import { episodeEvents } from '../fixtures/cmms/alerts';
import { ContractServer, SECRETS } from '../fixtures/cmms/servers';

const EPISODES = 10;
type Json = Record<string, any>;

/** The runtime; POSTs are answered once pdm-cmms has called done(). */
class Runtime extends NodeRedChild {
  static start(userDir: string): Promise<Runtime> {
    return new Runtime(userDir, { startMs: 60_000, waitForAdmin: false }).start();
  }

  async post(route: string, body: unknown): Promise<{ status: number; text: string }> {
    const res = await fetch(this.base + route, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    return { status: res.status, text: await res.text() };
  }
}

const TAB = 'tab-cmms-kill';
const CMMS = 'cmms-kill';
const at = (x: number, y: number) => ({ z: TAB, x, y });

function flows(serverUrl: string): Json[] {
  return [
    { id: TAB, type: 'tab', label: 'cmms kill -9', disabled: false, info: '' },
    { id: 'target-kill', type: 'pdm-cmms-target', name: 'MaintainX (local)', kind: 'maintainx', url: serverUrl, region: 'api', method: 'POST', headers: '', bodyTemplate: '', idPath: 'id', priorityMap: '', locationId: '', assetMap: '', closeStatus: '', ratePerSec: '0', burst: '', timeoutSec: '1', caFile: '' },
    { id: 'in', ...at(100, 100), type: 'http in', url: '/alert', method: 'post', upload: false, swaggerDoc: '', wires: [[CMMS]] },
    {
      id: CMMS, ...at(300, 100), type: 'pdm-cmms', name: 'work orders', target: 'target-kill', createTier: 'action', onChange: 'update', onClear: 'comment', lifecycle: false,
      titleTemplate: '', linkTemplate: '', chartUrlTemplate: '', root: 'pdm', concurrency: '4', maxAttempts: '100000', retryBaseSec: '0.05', retryMaxSec: '0.3',
      maxQueue: '100000', retentionDays: '30', feedbackKey: '', unlabelled: 'ignore', wires: [[], [], [], []],
    },
    { id: 'done', ...at(300, 200), type: 'complete', scope: [CMMS], uncaught: false, wires: [['ok']] },
    { id: 'ok', ...at(500, 200), type: 'http response', statusCode: '200', headers: {}, wires: [] },
    { id: 'err', ...at(300, 300), type: 'catch', scope: [CMMS], uncaught: false, wires: [['bad']] },
    { id: 'bad', ...at(500, 300), type: 'http response', statusCode: '422', headers: {}, wires: [] },
  ];
}

describe('pdm-cmms: kill -9 of a real Node-RED during an outage', () => {
  let userDir: string | undefined;
  let server: ContractServer | undefined;
  after(async () => {
    killChildren();
    await server?.close();
    removeDir(userDir);
  });

  it('loses nothing and creates no work order twice across two kills', { timeout: 240_000 }, async () => {
    let phase: 'down' | 'hang' | 'up' = 'down';
    let hung = 0;
    server = await ContractServer.start('maintainx', {
      retryAfterSec: 0,
      fault: (req) => {
        if (phase === 'down') return '503';
        const create = req.method === 'POST' && req.path.endsWith('/workorders');
        if (phase === 'hang' && create && hung < 4) {
          hung++;
          return 'commit-timeout';
        }
        return undefined;
      },
    });
    userDir = linkedUserDir('cmms-kill', flows(server.url));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'target-kill': { apiKey: SECRETS.maintainxKey } }, null, 2));

    // 1. Outage: every event acknowledged (on disk), then kill -9.
    const rt1 = await Runtime.start(userDir);
    for (let e = 0; e < EPISODES; e++) {
      for (const ev of episodeEvents(`K-${e}`, `P-${e}`)) {
        const res = await rt1.post('/api/alert', ev);
        assert.equal(res.status, 200, `event acknowledged (${res.status} ${res.text})`);
      }
    }
    await sleep(300);
    assert.equal(server.workOrders.size, 0, 'nothing got through the outage');
    const outboxDir = path.join(userDir, 'pdm-outbox', CMMS);
    assert.ok(fs.readdirSync(outboxDir).some((f) => f.startsWith('journal-')), 'journal under <userDir>/pdm-outbox/<node id>');
    await rt1.kill9();

    // 2. Back, but the first creates hang after committing; kill -9 in the middle.
    phase = 'hang';
    const rt2 = await Runtime.start(userDir);
    await rt2.waitFor(() => /outbox restored: 30 operations to send/.test(rt2.log), 30_000, 'the restored outbox');
    await rt2.waitFor(() => hung >= 4 && server!.workOrders.size >= 6, 60_000, 'deliveries in flight');
    await rt2.kill9();
    const afterSecondKill = server.workOrders.size;

    // 3. Healthy: everything drains.
    phase = 'up';
    const rt3 = await Runtime.start(userDir);
    const complete = () => {
      const byMarker = server!.byMarker();
      return Array.from({ length: EPISODES }, (_, e) => byMarker.get(dedupeKey(`P-${e}`, `K-${e}`))?.[0]).every((wo) => wo && wo.patches.length >= 1 && wo.comments.length >= 1);
    };
    await rt3.waitFor(complete, 90_000, 'every episode delivered');
    await sleep(500);
    await rt3.kill9();

    const byMarker = server.byMarker();
    for (let e = 0; e < EPISODES; e++) {
      const orders = byMarker.get(dedupeKey(`P-${e}`, `K-${e}`)) ?? [];
      assert.equal(orders.length, 1, `episode K-${e}: exactly one work order (has ${orders.length})`);
      assert.ok(orders[0].patches.length >= 1 && orders[0].comments.length >= 1, `episode K-${e}: update and clear comment arrived`);
    }
    assert.equal(server.workOrders.size, EPISODES, `no stray work orders (had ${afterSecondKill} after the second kill)`);
    assert.deepEqual(server.violations, []);
    const lookups = server.requests.filter((r) => r.method === 'GET').length;
    assert.ok(lookups >= 1, 'creates in doubt were looked up');
  });
});
