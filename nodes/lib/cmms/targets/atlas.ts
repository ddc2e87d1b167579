/**
 * Atlas CMMS (Grashjs/cmms, self-hosted; base = your API URL), header `x-api-key`:
 *   create   POST  /work-orders {title, description ≤ 10,000, priority NONE|LOW|MEDIUM|HIGH, asset?: {id}, location?: {id}} → WorkOrderShowDTO {id, customId}
 *   update   PATCH /work-orders/{id} {title, priority}
 *   comment  POST  /comments {content, workOrder: {id}}
 *   close    PATCH /work-orders/{id}/change-status {status: COMPLETE}
 *   lookup   POST  /work-orders/search {filterFields: [{field: description, operation: cn, value: <marker>}], pageNum, pageSize} → {content: [...]}
 * From api/…/controller/WorkOrderController.java, CommentController.java, advancedsearch/SearchCriteria.java
 * and security/ApiKeyAuthFilter.java of Grashjs/cmms.
 */
import { marker } from '../content';
import { priorityOf } from '../priority';
import type { TargetSpec } from '../target-config';
import { idOf, idValue, isObject, joinUrl, JSON_HEADERS, type Adapter } from './adapter';

export function atlasAdapter(spec: TargetSpec): Adapter {
  const headers = () => ({ ...JSON_HEADERS, 'x-api-key': spec.credentials.apiKey ?? spec.credentials.token ?? '' });
  return {
    kind: 'atlas',
    workOrders: true,
    build(op) {
      const c = op.content;
      const priority = priorityOf(spec.priorities, c.tier ?? c.peakTier);
      const id = encodeURIComponent(op.externalId ?? '');
      switch (op.operation) {
        case 'create': {
          const body: Record<string, unknown> = { title: c.title, description: c.text.slice(0, 10_000), priority };
          const asset = spec.assetMap[c.assetId];
          if (asset) body.asset = { id: idValue(asset) };
          if (spec.locationId) body.location = { id: idValue(spec.locationId) };
          return { method: 'POST', url: joinUrl(spec.url, 'work-orders'), headers: headers(), body: JSON.stringify(body) };
        }
        case 'update':
          return { method: 'PATCH', url: joinUrl(spec.url, `work-orders/${id}`), headers: headers(), body: JSON.stringify({ title: c.title, priority }) };
        case 'comment':
          return { method: 'POST', url: joinUrl(spec.url, 'comments'), headers: headers(), body: JSON.stringify({ content: c.text, workOrder: { id: idValue(op.externalId ?? '') } }) };
        case 'close':
          return { method: 'PATCH', url: joinUrl(spec.url, `work-orders/${id}/change-status`), headers: headers(), body: JSON.stringify({ status: 'COMPLETE' }) };
      }
    },
    created(res) {
      const id = isObject(res.json) ? idOf(res.json.id) : undefined;
      return id ? { externalId: id } : {};
    },
    lookup(key, cursor) {
      const body = { filterFields: [{ field: 'description', operation: 'cn', value: marker(key), values: [] }], pageNum: Number(cursor ?? 0) || 0, pageSize: 20, sortField: 'id', direction: 'DESC' };
      return { method: 'POST', url: joinUrl(spec.url, 'work-orders/search'), headers: headers(), body: JSON.stringify(body) };
    },
    lookupPage(res, k, cursor) {
      const body = isObject(res.json) ? res.json : {};
      const list = Array.isArray(body.content) ? body.content : [];
      const hit = list.find((w) => isObject(w) && typeof w.description === 'string' && w.description.includes(marker(k)));
      const last = body.last === true || list.length === 0;
      return { ...(isObject(hit) && idOf(hit.id) ? { externalId: idOf(hit.id) } : {}), ...(!last && !hit ? { next: String((Number(cursor ?? 0) || 0) + 1) } : {}) };
    },
  };
}
