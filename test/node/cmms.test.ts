/**
 * pdm-cmms and pdm-cmms-target in a real Node-RED runtime (node-red-node-test-helper), against the
 * local contract servers: work orders, twin links, rejects, dead letters, commands, the feedback
 * routes (httpNode with a token, admin with a permission), a redeploy during an outage, done()
 * exactly once per message, and status with the queue depth.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { helper, nodeModule } from '../helpers/node-red';
import { alertEvent, episodeEvents } from '../fixtures/cmms/alerts';
import { ContractServer, targetFor, type Kind } from '../fixtures/cmms/servers';

const cmmsNode = nodeModule('pdm-cmms');
const targetNode = nodeModule('pdm-cmms-target');
type Msg = Record<string, any>;

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-cmms-node-'));
const at = { z: 'tab', x: 100, y: 100 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
let cmmsId = 'c0';
let httpNode: any;
const capture = (red: any) => {
  httpNode = red.httpNode;
};

async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

function flow(server: ContractServer, config: Record<string, unknown> = {}, targetExtra: Record<string, unknown> = {}) {
  const t = targetFor(server, targetExtra);
  const nodes = [
    { id: 'tab', type: 'tab', label: 'cmms' },
    { id: 'target', type: 'pdm-cmms-target', name: 'test target', ...t.fields },
    {
      id: cmmsId, ...at, type: 'pdm-cmms', name: 'cmms', target: 'target', createTier: 'action', onChange: 'update', onClear: 'comment', lifecycle: false,
      titleTemplate: '', linkTemplate: 'https://dash.example/d?asset={{assetId}}', chartUrlTemplate: '', root: 'pdm', concurrency: 4, maxAttempts: 5,
      retryBaseSec: 0.02, retryMaxSec: 0.1, maxQueue: 1000, retentionDays: 30, feedbackKey: `fb${seq}`, unlabelled: 'ignore',
      wires: [['wo'], ['link'], ['dead'], ['rej']], ...config,
    },
    { id: 'wo', ...at, type: 'helper', wires: [] },
    { id: 'link', ...at, type: 'helper', wires: [] },
    { id: 'dead', ...at, type: 'helper', wires: [] },
    { id: 'rej', ...at, type: 'helper', wires: [] },
    { id: 'catcher', ...at, type: 'catch', scope: [cmmsId], uncaught: false, wires: [['caught']] },
    { id: 'caught', ...at, type: 'helper', wires: [] },
    { id: 'completer', ...at, type: 'complete', scope: [cmmsId], uncaught: false, wires: [['completed']] },
    { id: 'completed', ...at, type: 'helper', wires: [] },
  ];
  const credentials = { target: t.credentials, [cmmsId]: { feedbackToken: 's3cret' } };
  return { nodes, credentials };
}

async function load(server: ContractServer, config: Record<string, unknown> = {}, targetExtra: Record<string, unknown> = {}, withToken = true) {
  cmmsId = `cmms${++seq}`;
  const f = flow(server, config, targetExtra);
  await helper.load([cmmsNode, targetNode, capture], f.nodes, withToken ? f.credentials : { target: f.credentials.target });
  const node = helper.getNode(cmmsId);
  // The helper's RED._ returns catalog keys: the status text is the key of the "open" status.
  await until(() => (node.status.args as unknown[][]).some((a) => /pdm-cmms\.status\.ok/.test(JSON.stringify(a))), 5000, 'outbox open');
  return { node, flow: f };
}

async function post(app: any, route: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } finally {
    server.close();
  }
}

describe('pdm-cmms node', () => {
  const servers: ContractServer[] = [];
  const start = async (kind: Kind, opts: Parameters<typeof ContractServer.start>[1] = {}) => {
    const s = await ContractServer.start(kind, opts);
    servers.push(s);
    return s;
  };
  before(async () => {
    helper.settings({ userDir });
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    for (const s of servers) await s.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('turns an action episode into one MaintainX work order, updated and commented, and links it in the twin', async () => {
    const server = await start('maintainx');
    const { node } = await load(server, {}, { assetMap: '{"P-101": "55"}' });
    const wo = collect('wo');
    const link = collect('link');
    const completed = collect('completed');
    const caught = collect('caught');
    for (const ev of episodeEvents('N-1')) node.receive({ payload: ev, _keep: 'me' });
    await until(() => wo.length === 3, 5000, 'three work-order messages');
    assert.deepEqual(wo.map((m) => [m.payload.operation, m.payload.outcome]), [['create', 'created'], ['update', 'updated'], ['comment', 'commented']]);
    const created = wo[0].payload;
    assert.equal(created.kind, 'work_order');
    assert.equal(created.target.kind, 'maintainx');
    assert.equal(created.assetId, 'P-101');
    assert.equal(created.episodeId, 'N-1');
    assert.equal(created.externalId, [...server.workOrders.keys()][0]);
    assert.equal(wo[0].topic, 'pdm/plant1/utilities/cooling/P-101/event');
    assert.equal(server.workOrders.size, 1);
    const order = [...server.workOrders.values()][0];
    assert.match(order.description, /Link: https:\/\/dash\.example\/d\?asset=P-101/);
    assert.equal(server.requests[0].body.assetId, 55);
    assert.equal(link.length, 1);
    assert.equal(link[0].command, 'event');
    assert.equal(link[0].assetId, 'P-101');
    assert.deepEqual([link[0].payload.kind, link[0].payload.type, link[0].payload.episodeId], ['maintenance', 'work_order', 'N-1']);
    assert.equal(completed.length, 5, 'done() once per message');
    assert.equal(caught.length, 0);
    assert.deepEqual(server.violations, []);
  });

  it('rejects what is not an alert to output 4 and Catch, ignores flood events, answers and refuses commands', async () => {
    const server = await start('webhook');
    const { node } = await load(server);
    const rej = collect('rej');
    const caught = collect('caught');
    const completed = collect('completed');
    const wo = collect('wo');
    node.receive({ payload: { assetId: 'x' } });
    node.receive({ payload: [alertEvent({ episodeId: 'N-2', seq: 1, transition: 'raised', tier: 'action' }), 42] });
    node.receive({ payload: [] });
    node.receive({ payload: { kind: 'flood', transition: 'flood_started' } });
    node.receive({ command: 'explode' });
    node.receive({ command: 'status' });
    await until(() => rej.length === 4 && wo.length >= 2, 5000, 'rejects and replies');
    // The mixed array is answered after its valid event is on disk, so it comes last.
    assert.deepEqual(rej.map((m) => m.reject.code), ['not_an_alert', 'empty', 'unknown_command', 'not_an_alert']);
    assert.equal(rej[3].reject.items[0].index, 1);
    assert.deepEqual(rej[0].payload, { assetId: 'x' }, 'the original message');
    assert.equal(caught.length, 4);
    assert.equal(completed.length, 2, 'flood event and status command completed');
    const status = wo.find((m) => m.topic === 'pdm/cmms/status')!;
    assert.match(status.payload.target, /^webhook 127\.0\.0\.1:/);
    assert.equal(typeof status.payload.queued, 'number');
    const sent = wo.find((m) => m.payload.kind === 'work_order')!;
    assert.equal(sent.payload.outcome, 'sent');
    assert.equal(server.messages.length, 1, 'the valid event of the mixed array was sent');
  });

  it('a refused request becomes a dead letter (output 3 and Catch); dead and retry commands', async () => {
    const server = await start('webhook');
    const { node } = await load(server, {}, { url: `${server.origin}/wrong/path` });
    const dead = collect('dead');
    const caught = collect('caught');
    const wo = collect('wo');
    node.receive({ payload: alertEvent({ episodeId: 'N-3', seq: 1, transition: 'raised', tier: 'action' }) });
    await until(() => dead.length === 1, 5000, 'dead letter');
    assert.equal(dead[0].payload.kind, 'work_order_dead_letter');
    assert.match(dead[0].payload.error, /HTTP 404/);
    await until(() => caught.length === 1);
    assert.equal(caught[0].error.message, 'pdm-cmms.errors.dead');
    assert.equal(caught[0].payload.kind, 'work_order_dead_letter');
    node.receive({ command: 'dead' });
    node.receive({ command: 'retry', episodeId: 'N-3' });
    await until(() => wo.length === 2 && dead.length === 2, 5000, 'replies');
    assert.equal(wo[0].payload.length, 1);
    assert.deepEqual(wo[1].payload, { retried: 1 });
    await until(() => (node.status.args as any[][]).some((a) => a[0]?.fill === 'red' && a[0]?.text === 'pdm-cmms.status.ok'), 3000, 'red status with a dead letter');
  });

  it('feedback: a closed work order becomes one label; token, permission and unknown ids are checked', async () => {
    const server = await start('maintainx');
    const { node } = await load(server);
    const wo = collect('wo');
    const link = collect('link');
    node.receive({ payload: alertEvent({ episodeId: 'N-4', seq: 1, transition: 'raised', tier: 'action' }) });
    await until(() => wo.length === 1);
    const externalId = wo[0].payload.externalId;
    const route = `/pdm-cmms/fb${seq}/feedback`;
    const body = { workOrderId: Number(externalId), newWorkOrder: { status: 'DONE', completionNotes: 'Inspected, no fault found' }, reason: 'sensor_drift' };
    assert.equal((await post(httpNode, route, body)).status, 401, 'no token');
    assert.equal((await post(httpNode, route, body, { Authorization: 'Bearer nope' })).status, 401, 'wrong token');
    const ok = await post(httpNode, route, body, { Authorization: 'Bearer s3cret' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { label: 'false_alarm', episodeId: 'N-4', assetId: 'P-101', externalId });
    await until(() => link.length === 2);
    const label = link[1];
    assert.equal(label.command, 'event');
    assert.equal(label.assetId, 'P-101');
    assert.deepEqual(label.payload.kind, 'label');
    assert.deepEqual([label.payload.type, label.payload.reason, label.payload.episodeId], ['false_alarm', 'sensor_drift', 'N-4']);
    const again = await post(httpNode, route, body, { 'X-Pdm-Token': 's3cret' });
    assert.equal(again.body.duplicate, true);
    assert.equal((await post(httpNode, route, { workOrderId: 999999, status: 'done' }, { Authorization: 'Bearer s3cret' })).status, 404);
    assert.equal((await post(httpNode, route, { workOrderId: Number(externalId), status: 'IN_PROGRESS' }, { Authorization: 'Bearer s3cret' })).status, 202);
    assert.equal((await post(httpNode, '/pdm-cmms/nobody/feedback', body, { Authorization: 'Bearer s3cret' })).status, 404);
    // The admin route (permission pdm-cmms.write), by episode id; and the feedback command.
    const admin = await helper.request().post(`/pdm-cmms/${cmmsId}/feedback`).send({ episodeId: 'N-4', closed: true, outcome: 'true_fault' });
    assert.equal(admin.status, 200);
    assert.equal(admin.body.label, 'true_fault');
    const status = await helper.request().get(`/pdm-cmms/${cmmsId}/status`);
    assert.equal(status.status, 200);
    assert.equal(status.body.episodes, 1);
    node.receive({ command: 'feedback', payload: { externalId, status: 'closed', outcome: 'no_fault_found' } });
    await until(() => link.length === 4);
    assert.equal(link[3].payload.type, 'false_alarm');
    void node;
  });

  it('feedback route is off without a token', async () => {
    const server = await start('webhook');
    await load(server, {}, {}, false);
    const res = await post(httpNode, `/pdm-cmms/fb${seq}/feedback`, { episodeId: 'x', closed: true }, { Authorization: 'Bearer s3cret' });
    assert.equal(res.status, 403);
  });

  it('a redeploy during an outage loses nothing and sends nothing twice', async () => {
    let down = true;
    const server = await start('maintainx', { fault: () => (down ? '503' : undefined), retryAfterSec: 0 });
    const { node, flow: f } = await load(server, { maxAttempts: 1000 });
    const completed = collect('completed');
    for (let e = 0; e < 5; e++) for (const ev of episodeEvents(`R-${e}`)) node.receive({ payload: ev });
    await until(() => (node.status.args as any[][]).some((a) => a[0]?.fill === 'yellow' && a[0]?.text === 'pdm-cmms.status.failing'), 3000, 'retrying status');
    const replies = collect('wo');
    node.receive({ command: 'status' });
    await until(() => replies.length === 1);
    assert.equal(replies[0].payload.queued, 15, 'queue depth');
    assert.equal(replies[0].payload.failing, true);
    assert.equal(server.workOrders.size, 0);
    await until(() => completed.length === 26, 2000, 'every message done');
    await helper.setFlows(f.nodes.map((n) => (n.id === cmmsId ? { ...n, name: 'cmms v2' } : n)), 'full', f.credentials);
    down = false;
    const wo = collect('wo');
    await until(() => wo.length === 15, 10_000, '15 operations after the redeploy');
    assert.equal(server.workOrders.size, 5);
    for (const order of server.workOrders.values()) {
      assert.equal(order.comments.length, 1);
      assert.equal(order.patches.length, 1);
    }
    assert.ok(wo.filter((m) => m.payload.operation === 'create').every((m) => m.payload.outcome === 'created' || m.payload.outcome === 'found'));
  });

  it('an invalid target refuses input with a reason, and deleting a node with nothing queued removes its outbox', async () => {
    const server = await start('webhook');
    cmmsId = `cmms${++seq}`;
    const f = flow(server, {}, { url: '' });
    await helper.load([cmmsNode, targetNode], f.nodes, f.credentials);
    const node = helper.getNode(cmmsId);
    const rej = collect('rej');
    node.receive({ payload: alertEvent({ episodeId: 'N-6', seq: 1, transition: 'raised', tier: 'action' }) });
    await until(() => rej.length === 1);
    assert.equal(rej[0].reject.code, 'no_target');
    assert.equal(rej[0].reject.reason, 'pdm-cmms.reject.no_target');
    await helper.unload();

    const good = await load(server);
    const dir = path.join(userDir, 'pdm-outbox', cmmsId);
    assert.ok(fs.existsSync(dir));
    const wo = collect('wo');
    good.node.receive({ payload: alertEvent({ episodeId: 'N-7', seq: 1, transition: 'raised', tier: 'action' }) });
    await until(() => wo.length === 1);
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await until(() => !fs.existsSync(dir), 2000, 'outbox removed with the node');
  });

  it('redeploying 20 times during an outage leaves no timers, sockets or open journals behind', async () => {
    const server = await start('webhook', { fault: () => '503', retryAfterSec: 0 });
    const { node, flow: f } = await load(server, { maxAttempts: 1000 });
    const resources = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'FileHandle').length;
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await sleep(100);
    const baseline = resources();
    await helper.setFlows(f.nodes, 'full', f.credentials);
    for (let i = 0; i < 20; i++) {
      await helper.setFlows(f.nodes.map((n) => (n.id === cmmsId ? { ...n, name: `cmms ${i}` } : n)), 'full', f.credentials);
      helper.getNode(cmmsId).receive({ payload: alertEvent({ episodeId: `L-${i}`, seq: 1, transition: 'raised', tier: 'action' }) });
      await sleep(20);
    }
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }]);
    await sleep(200);
    assert.ok(resources() <= baseline, `timers/sockets/file handles: ${baseline} before, ${resources()} after`);
    void node;
  });

  it('the examples load; their events are refused (no_target) until the secrets they ask for are set, then queued', async () => {
    const dir = path.join(__dirname, '..', '..', '..', 'examples', 'cmms');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    assert.equal(files.length, 3);
    for (const file of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Msg[];
      assert.ok(Array.isArray(flow) && flow.every((n) => n.z === undefined && n.type !== 'tab'), `${file}: bare nodes`);
      assert.ok(flow.some((n) => n.type === 'comment' && /example\.invalid|credentials/.test(`${n.name} ${n.info}`)), `${file}: a comment on what to set`);
      for (const t of flow.filter((n) => n.type === 'pdm-cmms-target')) assert.ok(!t.url || /example\.invalid/.test(t.url), `${file}: example.invalid URLs only`);
      // Core nodes the helper does not load become helper nodes; injects are replayed by hand.
      const nodes = flow.map((n) => (['inject', 'debug', 'comment'].includes(n.type) ? { id: n.id, type: 'helper', z: 'tab', wires: n.type === 'inject' ? n.wires : [] } : n.type === 'pdm-cmms-target' ? n : { ...n, z: 'tab' }));
      const targets = flow.filter((n) => n.type === 'pdm-cmms-target');
      const needsSecret = targets.some((t) => t.kind !== 'webhook');
      // First as imported (no credentials), then with the secrets a user would set.
      for (const withSecrets of [false, true]) {
        const creds = withSecrets ? Object.fromEntries(targets.map((t) => [t.id, { apiKey: 'key', webhookUrl: 'https://hooks.example.invalid/services/T/B/X' }])) : {};
        await helper.load([cmmsNode, targetNode], [{ id: 'tab', type: 'tab' }, ...nodes], creds);
        await sleep(100);
        const cmmsNodes = flow.filter((n) => n.type === 'pdm-cmms').map((n) => helper.getNode(n.id));
        const rejects: Msg[] = [];
        for (const n of flow.filter((x) => x.type === 'debug' && /rejects/.test(x.name))) helper.getNode(n.id).on('input', (m: Msg) => rejects.push(m));
        const replies: Msg[] = [];
        for (const n of flow.filter((x) => x.type === 'debug' && /work orders/.test(x.name))) helper.getNode(n.id).on('input', (m: Msg) => replies.push(m));
        for (const inj of flow.filter((n) => n.type === 'inject')) {
          const msg = inj.payloadType === 'json' ? { payload: JSON.parse(inj.payload) } : { command: inj.props.find((p: Msg) => p.p === 'command').v };
          for (const c of cmmsNodes) c.receive(RED_clone(msg));
        }
        if (needsSecret && !withSecrets) {
          await until(() => rejects.length === 4 * cmmsNodes.length, 3000, `${file}: refused without its secrets`);
          assert.ok(rejects.every((m) => m.reject.code === 'no_target'));
        } else {
          await until(() => replies.filter((m) => m.topic === 'pdm/cmms/status').length === cmmsNodes.length, 3000, `${file}: status replies`);
          assert.equal(rejects.length, 0, `${file}: ${JSON.stringify(rejects.map((r) => r.reject))}`);
          for (const status of replies.filter((m) => m.topic === 'pdm/cmms/status').map((m) => m.payload)) {
            assert.equal(status.queued + status.delivered + status.inflight, 3, `${file}: create, update and comment queued`);
          }
        }
        await helper.unload();
      }
    }
  });
});

function RED_clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
