/**
 * Limble CMMS API v2 "Tasks" (work orders are tasks). Basic auth base64(clientId:clientSecret);
 * regional hosts api., ca-api., au-api., eu-api., 21cfr-api.limblecmms.com:
 *   create   POST  /v2/tasks {name, description, locationID, priority, type, due?, assetID?, meta1: <dedupe key>} → {taskID}
 *   update   PATCH /v2/tasks/{id} {name, priority}
 *   comment  POST  /v2/tasks/{id}/comments {comment}
 *   close    PATCH /v2/tasks/{id} {statusID: <your closed status>} (without one configured: a comment)
 *   lookup   GET   /v2/tasks?locations=<locationID>&limit=100&page=N → [tasks]; matched on meta1 or the marker
 * Auth and hosts follow domain.md §4; task fields are from Limble's Postman collection as we read
 * it (not re-verified here). Priorities and statuses are per account: set the priority map and the
 * closed status id in the target.
 */
import { marker } from '../content';
import { priorityOf } from '../priority';
import type { TargetSpec } from '../target-config';
import { basic, idOf, idValue, isObject, joinUrl, JSON_HEADERS, type Adapter } from './adapter';

const PAGE = 100;
/** Limble task type 2: an unplanned work order. */
const UNPLANNED_WORK_ORDER = 2;

export function limbleAdapter(spec: TargetSpec): Adapter {
  const headers = () => ({ ...JSON_HEADERS, Authorization: basic(spec.credentials.user ?? '', spec.credentials.password ?? '') });
  return {
    kind: 'limble',
    workOrders: true,
    build(op) {
      const c = op.content;
      const priority = priorityOf(spec.priorities, c.tier ?? c.peakTier);
      const id = encodeURIComponent(op.externalId ?? '');
      switch (op.operation) {
        case 'create': {
          const body: Record<string, unknown> = {
            name: c.title,
            description: c.text,
            locationID: idValue(spec.locationId ?? ''),
            priority,
            type: UNPLANNED_WORK_ORDER,
            meta1: c.dedupeKey,
          };
          const asset = spec.assetMap[c.assetId];
          if (asset) body.assetID = idValue(asset);
          return { method: 'POST', url: joinUrl(spec.url, 'tasks'), headers: headers(), body: JSON.stringify(body) };
        }
        case 'update':
          return { method: 'PATCH', url: joinUrl(spec.url, `tasks/${id}`), headers: headers(), body: JSON.stringify({ name: c.title, priority }) };
        case 'close':
        case 'comment':
          // Without a closed status configured, a close is said in a comment.
          if (op.operation === 'close' && spec.closeStatus) {
            return { method: 'PATCH', url: joinUrl(spec.url, `tasks/${id}`), headers: headers(), body: JSON.stringify({ statusID: idValue(spec.closeStatus) }) };
          }
          return { method: 'POST', url: joinUrl(spec.url, `tasks/${id}/comments`), headers: headers(), body: JSON.stringify({ comment: c.text }) };
      }
    },
    created(res) {
      const body = res.json;
      const one = Array.isArray(body) ? body[0] : body;
      const id = isObject(one) ? idOf(one.taskID) ?? idOf(one.id) : undefined;
      return id ? { externalId: id } : {};
    },
    lookup(_key, cursor) {
      const q = new URLSearchParams({ limit: String(PAGE), page: cursor ?? '1' });
      if (spec.locationId) q.set('locations', spec.locationId);
      return { method: 'GET', url: `${joinUrl(spec.url, 'tasks')}?${q}`, headers: headers() };
    },
    lookupPage(res, k, cursor) {
      const list = Array.isArray(res.json) ? res.json : isObject(res.json) && Array.isArray(res.json.tasks) ? res.json.tasks : [];
      const hit = list.find((t) => isObject(t) && (t.meta1 === k || (typeof t.description === 'string' && t.description.includes(marker(k)))));
      const next = list.length >= PAGE ? String((Number(cursor ?? 1) || 1) + 1) : undefined;
      return { ...(isObject(hit) && (idOf(hit.taskID) ?? idOf(hit.id)) ? { externalId: idOf(hit.taskID) ?? idOf(hit.id) } : {}), ...(next ? { next } : {}) };
    },
  };
}
