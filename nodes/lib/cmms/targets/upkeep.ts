/**
 * UpKeep API v2 (base https://api.onupkeep.com/api/v2). A session token comes from a login with
 * the email and password of an API user and goes in the `Session-Token` header:
 *   login    POST  /auth {email, password} → {success, result: {sessionToken}}
 *   create   POST  /work-orders {title, description, priority 0–3 (0 lowest), asset?, location?} → {success, result: {id}}
 *   update   PATCH /work-orders/{id} {title, priority[, status open]}
 *   comment  POST  /work-orders/{id}/comments {comment}
 *   close    PATCH /work-orders/{id} {status: complete}
 *   lookup   GET   /work-orders?limit=100&offset=N → {success, results: [...]}
 * The endpoint, header and priority scale follow domain.md §4; login, comments, status values and
 * paging are UpKeep's public API docs as we read them (not re-verified here). A 401 drops the
 * session and logs in again once.
 */
import { marker } from '../content';
import { priorityOf } from '../priority';
import type { TargetSpec } from '../target-config';
import { idOf, isObject, joinUrl, JSON_HEADERS, type Adapter } from './adapter';

const PAGE = 100;

export function upkeepAdapter(spec: TargetSpec): Adapter {
  const headers = (session?: string) => ({ ...JSON_HEADERS, 'Session-Token': session ?? '' });
  return {
    kind: 'upkeep',
    workOrders: true,
    login() {
      return { method: 'POST', url: joinUrl(spec.url, 'auth'), headers: { ...JSON_HEADERS }, body: JSON.stringify({ email: spec.credentials.user, password: spec.credentials.password }) };
    },
    session(res) {
      const body = isObject(res.json) ? res.json : {};
      const result = isObject(body.result) ? body.result : body;
      return typeof result.sessionToken === 'string' ? result.sessionToken : undefined;
    },
    build(op, session) {
      const c = op.content;
      const priority = priorityOf(spec.priorities, c.tier ?? c.peakTier);
      const id = encodeURIComponent(op.externalId ?? '');
      switch (op.operation) {
        case 'create': {
          const body: Record<string, unknown> = { title: c.title, description: c.text, priority };
          const asset = spec.assetMap[c.assetId];
          if (asset) body.asset = asset;
          if (spec.locationId) body.location = spec.locationId;
          return { method: 'POST', url: joinUrl(spec.url, 'work-orders'), headers: headers(session), body: JSON.stringify(body) };
        }
        case 'update':
          return { method: 'PATCH', url: joinUrl(spec.url, `work-orders/${id}`), headers: headers(session), body: JSON.stringify({ title: c.title, priority, ...(op.reopen ? { status: 'open' } : {}) }) };
        case 'comment':
          return { method: 'POST', url: joinUrl(spec.url, `work-orders/${id}/comments`), headers: headers(session), body: JSON.stringify({ comment: c.text }) };
        case 'close':
          return { method: 'PATCH', url: joinUrl(spec.url, `work-orders/${id}`), headers: headers(session), body: JSON.stringify({ status: 'complete' }) };
      }
    },
    created(res) {
      const body = isObject(res.json) ? res.json : {};
      const result = isObject(body.result) ? body.result : body;
      const id = idOf(result.id);
      return id ? { externalId: id } : {};
    },
    lookup(_key, cursor, session) {
      const offset = Number(cursor ?? 0) || 0;
      return { method: 'GET', url: `${joinUrl(spec.url, 'work-orders')}?limit=${PAGE}&offset=${offset}`, headers: headers(session) };
    },
    lookupPage(res, k, cursor) {
      const body = isObject(res.json) ? res.json : {};
      const list = Array.isArray(body.results) ? body.results : [];
      const hit = list.find((w) => isObject(w) && typeof w.description === 'string' && w.description.includes(marker(k)));
      const next = list.length >= PAGE ? String((Number(cursor ?? 0) || 0) + PAGE) : undefined;
      return { ...(isObject(hit) && idOf(hit.id) ? { externalId: idOf(hit.id) } : {}), ...(next ? { next } : {}) };
    },
  };
}
