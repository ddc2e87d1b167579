/**
 * MaintainX REST API v1 (base https://api.getmaintainx.com/v1, `Authorization: Bearer <API key>`):
 *   create   POST  /workorders {title, description, priority NONE|LOW|MEDIUM|HIGH, assetId?, locationId?} → {id}
 *   update   PATCH /workorders/{id} {priority, title[, status OPEN when reopening]}
 *   comment  POST  /workorders/{id}/comments {content}
 *   close    PATCH /workorders/{id} {status: DONE}
 *   lookup   GET   /workorders?limit=100[&cursor=…] → {workOrders: [...], nextCursor}
 * Create, PATCH /workorders/{id} and cursor paging follow domain.md §4 (Pipedream's MaintainX
 * app); the comments path and the DONE status are MaintainX's public API docs as we read them
 * (not re-verified here). No idempotency key exists, so lookups find the episode's marker.
 */
import { marker } from '../content';
import { priorityOf } from '../priority';
import type { TargetSpec } from '../target-config';
import { idOf, idValue, isObject, joinUrl, JSON_HEADERS, type Adapter } from './adapter';

export function maintainxAdapter(spec: TargetSpec): Adapter {
  const key = spec.credentials.apiKey ?? spec.credentials.token ?? '';
  const headers = () => ({ ...JSON_HEADERS, Authorization: `Bearer ${key}` });
  return {
    kind: 'maintainx',
    workOrders: true,
    build(op) {
      const c = op.content;
      const priority = priorityOf(spec.priorities, c.tier ?? c.peakTier);
      const id = encodeURIComponent(op.externalId ?? '');
      switch (op.operation) {
        case 'create': {
          const body: Record<string, unknown> = { title: c.title, description: c.text, priority };
          const asset = spec.assetMap[c.assetId];
          if (asset) body.assetId = idValue(asset);
          if (spec.locationId) body.locationId = idValue(spec.locationId);
          return { method: 'POST', url: joinUrl(spec.url, 'workorders'), headers: headers(), body: JSON.stringify(body) };
        }
        case 'update':
          return {
            method: 'PATCH',
            url: joinUrl(spec.url, `workorders/${id}`),
            headers: headers(),
            body: JSON.stringify({ title: c.title, priority, ...(op.reopen ? { status: 'OPEN' } : {}) }),
          };
        case 'comment':
          return { method: 'POST', url: joinUrl(spec.url, `workorders/${id}/comments`), headers: headers(), body: JSON.stringify({ content: c.text }) };
        case 'close':
          return { method: 'PATCH', url: joinUrl(spec.url, `workorders/${id}`), headers: headers(), body: JSON.stringify({ status: 'DONE' }) };
      }
    },
    created(res) {
      const body = res.json;
      const id = isObject(body) ? idOf(body.id) ?? (isObject(body.workOrder) ? idOf(body.workOrder.id) : undefined) : undefined;
      return id ? { externalId: id } : {};
    },
    lookup(_key, cursor) {
      const q = new URLSearchParams({ limit: '100' });
      if (cursor) q.set('cursor', cursor);
      return { method: 'GET', url: `${joinUrl(spec.url, 'workorders')}?${q}`, headers: headers() };
    },
    lookupPage(res, k) {
      const body = isObject(res.json) ? res.json : {};
      const list = Array.isArray(body.workOrders) ? body.workOrders : [];
      const hit = list.find((w) => isObject(w) && typeof w.description === 'string' && w.description.includes(marker(k)));
      const next = typeof body.nextCursor === 'string' && body.nextCursor ? body.nextCursor : undefined;
      return { ...(isObject(hit) && idOf(hit.id) ? { externalId: idOf(hit.id) } : {}), ...(next ? { next } : {}) };
    },
  };
}
