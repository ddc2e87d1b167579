/**
 * Generic webhook (a ticketing system, an SMS gateway, an automation platform): one request per
 * operation with method, URL, headers and a JSON body template of the user's choosing.
 *
 * Every request carries `Idempotency-Key: <operation id>` (the same on every retry and after a
 * restart), so a receiver that honours it never records an operation twice, whatever happened
 * on the wire. Authorization comes from the credentials: a token → `Bearer`, user/password → Basic.
 */
import { templateVars } from '../content';
import { priorityOf } from '../priority';
import { interpolate, renderJson } from '../template';
import type { TargetSpec } from '../target-config';
import type { OpView } from '../types';
import { basic, idOf, pick, JSON_HEADERS, type Adapter } from './adapter';

export function webhookVars(spec: TargetSpec, op: OpView): Record<string, unknown> {
  return templateVars(op.content, {
    operation: op.operation,
    reopen: op.reopen === true,
    externalId: op.externalId ?? '',
    priority: priorityOf(spec.priorities, op.content.tier ?? op.content.peakTier),
    attempt: op.attempt,
    idempotencyKey: op.id,
  });
}

export function defaultWebhookBody(spec: TargetSpec, op: OpView): Record<string, unknown> {
  const c = op.content;
  return {
    source: 'pdm-twin',
    operation: op.operation,
    idempotencyKey: op.id,
    dedupeKey: c.dedupeKey,
    episodeId: c.episodeId,
    ...(c.eventId ? { eventId: c.eventId } : {}),
    ...(op.externalId ? { externalId: op.externalId } : {}),
    asset: { id: c.assetId, ...(c.assetName ? { name: c.assetName } : {}), path: c.path },
    tier: c.tier,
    priority: priorityOf(spec.priorities, c.tier ?? c.peakTier),
    transition: c.transition,
    title: c.title,
    headline: c.headline,
    reason: c.reason,
    check: c.check,
    ...(c.failureMode ? { failureMode: c.failureMode } : {}),
    ...(c.zone ? { zone: c.zone } : {}),
    drivers: c.drivers,
    ...(c.link ? { link: c.link } : {}),
    trend: c.trend ? { values: c.trend.values, min: c.trend.min, mean: c.trend.mean, max: c.trend.max, sparkline: c.trend.spark, svg: c.trend.svg } : null,
    text: c.text,
    ts: c.ts,
  };
}

export function webhookAdapter(spec: TargetSpec): Adapter {
  return {
    kind: 'webhook',
    workOrders: false,
    build(op) {
      const vars = webhookVars(spec, op);
      const headers: Record<string, string> = { ...JSON_HEADERS };
      for (const [k, v] of Object.entries(spec.headers)) headers[k] = interpolate(v, vars).replace(/[\r\n]/g, ' ');
      headers['Idempotency-Key'] = op.id;
      const { token, user, password } = spec.credentials;
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (user && password) headers.Authorization = basic(user, password);
      const body = spec.bodyTemplate !== undefined ? renderJson(spec.bodyTemplate, vars) : defaultWebhookBody(spec, op);
      return { method: spec.method, url: interpolate(spec.url, vars, encodeURIComponent), headers, body: JSON.stringify(body) };
    },
    created(res) {
      const id = idOf(pick(res.json, spec.idPath));
      return id ? { externalId: id } : {};
    },
  };
}
