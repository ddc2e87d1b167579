/**
 * Target adapters build the request each documented contract expects (domain.md §4): path,
 * method, auth header, body fields, priority scale; target settings are checked, with secrets only
 * in credentials and certificates always verified.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readAlert } from '../../nodes/lib/cmms/alert';
import { buildContent, marker } from '../../nodes/lib/cmms/content';
import { classifyError, classifyResponse } from '../../nodes/lib/cmms/client';
import { HttpError } from '../../nodes/lib/cmms/http';
import { parsePriorityMap } from '../../nodes/lib/cmms/priority';
import { parseTarget, type TargetCredentials, type TargetFields, type TargetSpec } from '../../nodes/lib/cmms/target-config';
import { adapterFor } from '../../nodes/lib/cmms/targets';
import type { Operation, OpView } from '../../nodes/lib/cmms/types';
import { episodeEvents } from '../fixtures/cmms/alerts';

const NOW = Date.UTC(2026, 0, 15);

function spec(fields: TargetFields, creds: TargetCredentials): TargetSpec {
  const p = parseTarget(fields, creds);
  assert.ok(p.ok, p.ok ? '' : p.errors.join('; '));
  return p.spec;
}
function op(operation: Operation, externalId?: string, i = 2): OpView {
  const r = readAlert(episodeEvents('E-1', 'P-101', NOW)[i], NOW);
  assert.ok(r.ok);
  return { id: `k:${i}`, operation, content: buildContent(r.alert, operation), externalId, attempt: 1, inDoubt: false };
}
const body = (req: { body?: string }) => JSON.parse(req.body ?? 'null');

describe('cmms targets: requests per documented contract', () => {
  it('MaintainX: POST /v1/workorders with Bearer key, HIGH priority, marker in the description', () => {
    const a = adapterFor(spec({ kind: 'maintainx', assetMap: '{"P-101": "42"}', locationId: '7' }, { apiKey: 'k1' }));
    const req = a.build(op('create'));
    assert.equal(req.method, 'POST');
    assert.equal(req.url, 'https://api.getmaintainx.com/v1/workorders');
    assert.equal(req.headers.Authorization, 'Bearer k1');
    const b = body(req);
    assert.equal(b.priority, 'HIGH');
    assert.equal(b.assetId, 42);
    assert.equal(b.locationId, 7);
    assert.ok(b.description.includes(marker(op('create').content.dedupeKey)));
    assert.deepEqual([a.build(op('update', '9')).method, a.build(op('update', '9')).url], ['PATCH', 'https://api.getmaintainx.com/v1/workorders/9']);
    assert.equal(a.build(op('comment', '9')).url, 'https://api.getmaintainx.com/v1/workorders/9/comments');
    assert.deepEqual(body(a.build(op('close', '9'))), { status: 'DONE' });
    assert.equal(a.lookup!('pdm-x', undefined).url, 'https://api.getmaintainx.com/v1/workorders?limit=100');
    assert.equal(a.created!({ status: 201, headers: {}, text: '', json: { id: 12345 } }, op('create')).externalId, '12345');
  });

  it('UpKeep: login for a Session-Token, POST /api/v2/work-orders with priority 0–3', () => {
    const a = adapterFor(spec({ kind: 'upkeep' }, { user: 'a@b.c', password: 'pw' }));
    const login = a.login!();
    assert.equal(login.url, 'https://api.onupkeep.com/api/v2/auth');
    assert.deepEqual(body(login), { email: 'a@b.c', password: 'pw' });
    assert.equal(a.session!({ status: 200, headers: {}, text: '', json: { success: true, result: { sessionToken: 'S' } } }), 'S');
    const req = a.build(op('create'), 'S');
    assert.equal(req.url, 'https://api.onupkeep.com/api/v2/work-orders');
    assert.equal(req.headers['Session-Token'], 'S');
    assert.equal(body(req).priority, 3);
    assert.equal(body(a.build(op('create', undefined, 1), 'S')).priority, 2, 'warning → 2');
    assert.equal(a.created!({ status: 200, headers: {}, text: '', json: { success: true, result: { id: 'abc' } } }, op('create')).externalId, 'abc');
  });

  it('Limble: Basic client id/secret, regional host, POST /v2/tasks with locationID and meta1', () => {
    const a = adapterFor(spec({ kind: 'limble', region: 'eu-api', locationId: '12', closeStatus: '4' }, { user: 'id', password: 'sec' }));
    const req = a.build(op('create'));
    assert.equal(req.url, 'https://eu-api.limblecmms.com/v2/tasks');
    assert.equal(req.headers.Authorization, `Basic ${Buffer.from('id:sec').toString('base64')}`);
    const b = body(req);
    assert.equal(b.locationID, 12);
    assert.equal(b.meta1, op('create').content.dedupeKey);
    assert.equal(b.priority, 1);
    assert.deepEqual(body(a.build(op('close', '5'))), { statusID: 4 });
    const noClose = adapterFor(spec({ kind: 'limble', locationId: '12' }, { user: 'id', password: 'sec' }));
    assert.equal(noClose.build(op('close', '5')).url, 'https://api.limblecmms.com/v2/tasks/5/comments');
  });

  it('Atlas CMMS: x-api-key, POST /work-orders, comments and change-status, search by marker', () => {
    const a = adapterFor(spec({ kind: 'atlas', url: 'https://atlas.example.com/api/' }, { apiKey: 'ak' }));
    const req = a.build(op('create'));
    assert.equal(req.url, 'https://atlas.example.com/api/work-orders');
    assert.equal(req.headers['x-api-key'], 'ak');
    assert.equal(body(req).priority, 'HIGH');
    assert.ok(body(req).description.length <= 10_000);
    assert.deepEqual(body(a.build(op('comment', '8'))).workOrder, { id: 8 });
    assert.equal(a.build(op('close', '8')).url, 'https://atlas.example.com/api/work-orders/8/change-status');
    const search = body(a.lookup!('pdm-k', undefined));
    assert.deepEqual(search.filterFields[0], { field: 'description', operation: 'cn', value: '[pdm-ref:pdm-k]', values: [] });
  });

  it('Slack: Block Kit {text, blocks} with header, fields, check, sparkline; ≈ 1 message/s by default', () => {
    const s = spec({ kind: 'slack' }, { webhookUrl: 'https://hooks.slack.com/services/T/B/X' });
    assert.equal(s.ratePerSec, 1);
    const req = adapterFor(s).build(op('create'));
    assert.equal(req.url, 'https://hooks.slack.com/services/T/B/X');
    const b = body(req);
    assert.match(b.text, /Escalated warning → action: P-101/);
    assert.deepEqual(b.blocks.map((x: { type: string }) => x.type), ['header', 'section', 'section', 'context']);
    assert.ok(JSON.stringify(b.blocks[3]).includes('▁'));
  });

  it('Teams: a Workflows message with one Adaptive Card attachment (no MessageCard)', () => {
    const req = adapterFor(spec({ kind: 'teams' }, { webhookUrl: 'https://prod.api.powerplatform.com/workflows/x?sig=s' })).build(op('create'));
    const b = body(req);
    assert.equal(b.type, 'message');
    assert.equal(b.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(b.attachments[0].content.type, 'AdaptiveCard');
    assert.equal(b.attachments[0].content.version, '1.4');
    assert.ok(!JSON.stringify(b).includes('MessageCard'));
  });

  it('webhook: Idempotency-Key per operation, Bearer token, template body, id from the answer', () => {
    const a = adapterFor(spec({ kind: 'webhook', url: 'https://t.example/api/{{assetId}}', method: 'PUT', headers: '{"X-Src": "pdm {{tier}}"}', bodyTemplate: '{"t": "{{title}}", "trend": "{{trend}}", "p": "{{priority}}"}', idPath: 'ticket.id' }, { token: 'tok' }));
    const o = op('create');
    const req = a.build(o);
    assert.equal(req.method, 'PUT');
    assert.equal(req.url, 'https://t.example/api/P-101');
    assert.equal(req.headers['Idempotency-Key'], o.id);
    assert.equal(req.headers.Authorization, 'Bearer tok');
    assert.equal(req.headers['X-Src'], 'pdm action');
    const b = body(req);
    assert.equal(b.p, 'high');
    assert.equal(b.trend.max, 0.78);
    assert.match(b.trend.svg, /^<svg/);
    assert.equal(a.created!({ status: 200, headers: {}, text: '', json: { ticket: { id: 77 } } }, o).externalId, '77');
    const plain = adapterFor(spec({ kind: 'webhook', url: 'https://t.example/hook' }, { user: 'u', password: 'p' })).build(o);
    assert.equal(plain.headers.Authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.equal(body(plain).operation, 'create');
  });
});

describe('cmms targets: settings', () => {
  it('secrets only in credentials', () => {
    const errs = (f: TargetFields, c: TargetCredentials = {}) => {
      const p = parseTarget(f, c);
      return p.ok ? [] : p.errors;
    };
    assert.match(errs({ kind: 'webhook', url: 'https://u:p@x.example/h' }).join(), /must not contain a user or password/);
    assert.match(errs({ kind: 'webhook', url: 'https://x.example/h', headers: '{"Authorization": "Bearer x"}' }).join(), /carries a secret/);
    assert.match(errs({ kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }).join(), /webhook URL is missing \(credentials/);
    assert.match(errs({ kind: 'maintainx' }).join(), /API key/);
    assert.match(errs({ kind: 'upkeep' }, { user: 'a' }).join(), /email and password/);
    assert.match(errs({ kind: 'limble' }, { user: 'a', password: 'b' }).join(), /location id/);
    assert.match(errs({ kind: 'atlas' }, { apiKey: 'k' }).join(), /API URL is missing/);
    assert.match(errs({ kind: 'fiix' as string }).join(), /unknown kind/);
    assert.match(errs({ kind: 'webhook', url: 'ftp://x' }).join(), /http\(s\)/);
  });

  it('priority maps per target scale, rates and timeouts, a CA file that must hold a certificate', () => {
    assert.equal(parsePriorityMap('maintainx', '{"action": "URGENT"}').ok, false);
    assert.equal(parsePriorityMap('upkeep', '{"action": 4}').ok, false);
    assert.deepEqual(parsePriorityMap('upkeep', '{"watch": 0}'), { ok: true, map: { watch: 0, warning: 2, action: 3 } });
    const s = spec({ kind: 'maintainx', ratePerSec: '2', burst: '4', timeoutSec: '3' }, { apiKey: 'k' });
    assert.deepEqual([s.ratePerSec, s.burst, s.timeoutMs], [2, 4, 3000]);
    const bad = parseTarget({ kind: 'webhook', url: 'https://x', caFile: '/nope' }, {}, () => 'not a cert');
    assert.ok(!bad.ok && /holds no PEM certificate/.test(bad.errors.join()));
    const good = parseTarget({ kind: 'webhook', url: 'https://x', caFile: '/ca.pem' }, {}, () => '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    assert.ok(good.ok && good.spec.ca?.includes('BEGIN CERTIFICATE'));
  });
});

describe('cmms targets: answers', () => {
  const res = (status: number, headers: Record<string, string> = {}) => ({ status, headers, text: '' });
  it('classifies status codes: retry, ambiguity, Retry-After, fatal', () => {
    assert.deepEqual(classifyResponse(res(201), 0), { ok: true, status: 201 });
    const r429 = classifyResponse(res(429, { 'retry-after': '7' }), 0);
    assert.ok(!r429.ok && r429.kind === 'retry' && !r429.ambiguous && r429.retryAfterMs === 7000);
    const r503 = classifyResponse(res(503, { 'retry-after': new Date(60_000).toUTCString() }), 0);
    assert.ok(!r503.ok && r503.retryAfterMs === 60_000 && !r503.ambiguous);
    const r500 = classifyResponse(res(500), 0);
    assert.ok(!r500.ok && r500.kind === 'retry' && r500.ambiguous);
    const r401 = classifyResponse(res(401), 0);
    assert.ok(!r401.ok && r401.kind === 'retry');
    const r400 = classifyResponse(res(400), 0);
    assert.ok(!r400.ok && r400.kind === 'fatal');
  });
  it('classifies transport errors: before sending is not ambiguous, after is; TLS is its own code', () => {
    const before = classifyError(new HttpError('refused', 'ECONNREFUSED', false, false));
    assert.ok(!before.ok && !before.ambiguous && before.code === 'network');
    const after = classifyError(new HttpError('reset', 'ECONNRESET', true, false));
    assert.ok(!after.ok && after.ambiguous);
    const tls = classifyError(new HttpError('self signed', 'DEPTH_ZERO_SELF_SIGNED_CERT', false, true));
    assert.ok(!tls.ok && tls.code === 'tls' && tls.kind === 'retry');
  });
});
