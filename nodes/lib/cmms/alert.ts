/**
 * Reads alert events leniently into AlertInput.
 *
 * The primary source is pdm-alert's AlertEvent (nodes/lib/contracts/alert-event.ts: episodeId,
 * seq, eventId, assetId, assetName, path {site, area, line}, tier, peakTier, previous.tier,
 * transition, closed, reason, check, failureMode, evidence {trend {points [{t, score}]},
 * contributions, zone}, ts). To take events from other sources as well, it also accepts:
 * `recommendedCheck` for `check`; a string `path` ("site/area/line") or `asset: {id, name, path}`;
 * transitions spelled with hyphens (de-escalated); a trend given as numbers, as [{ts, value}] or
 * [{t, score}] points, or as {values: number[]}. Kept local on purpose: this module must not break
 * when the alert contract grows.
 */
import { isTier, type AlertInput, type Tier } from './types';

export type AlertProblem = { code: 'not_an_alert' | 'invalid_field'; detail: string };

const MAX_ID = 256;
const MAX_TEXT = 4000;
const MAX_TREND = 500;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = MAX_TEXT): string | undefined => (typeof v === 'string' ? (v.length > max ? v.slice(0, max) : v) : undefined);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Pulls numbers out of the trend shapes we accept. */
export function trendValues(trend: unknown): number[] {
  let items: unknown[] | undefined;
  if (Array.isArray(trend)) items = trend;
  else if (isObject(trend)) {
    if (Array.isArray(trend.points)) items = trend.points;
    else if (Array.isArray(trend.values)) items = trend.values;
  }
  if (!items) return [];
  const out: number[] = [];
  for (const item of items) {
    let v: number | undefined;
    if (typeof item === 'number') v = finite(item);
    else if (isObject(item)) v = finite(item.value) ?? finite(item.score) ?? finite(item.v) ?? finite(item.y);
    if (v !== undefined) out.push(v);
  }
  return out.length > MAX_TREND ? out.slice(out.length - MAX_TREND) : out;
}

function pathOf(raw: Record<string, unknown>): AlertInput['path'] {
  const source = raw.path ?? (isObject(raw.asset) ? raw.asset.path : undefined) ?? raw.assetPath;
  if (isObject(source)) {
    const out: AlertInput['path'] = {};
    for (const k of ['site', 'area', 'line'] as const) {
      const v = str(source[k], 128);
      if (v) out[k] = v;
    }
    return out;
  }
  if (typeof source === 'string') {
    const [site, area, line] = source.split('/').filter((s) => s !== '');
    const out: AlertInput['path'] = {};
    if (site) out.site = site.slice(0, 128);
    if (area) out.area = area.slice(0, 128);
    if (line) out.line = line.slice(0, 128);
    return out;
  }
  return {};
}

export function normaliseTransition(v: string): string {
  return v.trim().toLowerCase().replace(/[-\s]+/g, '_');
}

/** AlertInput, or why the item is not an alert event. */
export function readAlert(raw: unknown, now: number): { ok: true; alert: AlertInput } | ({ ok: false } & AlertProblem) {
  if (!isObject(raw)) return { ok: false, code: 'not_an_alert', detail: 'payload is not an object' };
  if (raw.kind !== undefined && raw.kind !== 'alert') return { ok: false, code: 'not_an_alert', detail: `kind "${String(raw.kind).slice(0, 40)}" is not "alert"` };
  const asset = isObject(raw.asset) ? raw.asset : {};
  const episodeId = str(raw.episodeId, MAX_ID);
  const assetId = str(raw.assetId, MAX_ID) ?? str(asset.id, MAX_ID);
  const transitionRaw = str(raw.transition, 64);
  if (!episodeId || episodeId.trim() === '') return { ok: false, code: 'not_an_alert', detail: 'episodeId is missing' };
  if (!assetId || assetId.trim() === '') return { ok: false, code: 'not_an_alert', detail: 'assetId is missing' };
  if (!transitionRaw) return { ok: false, code: 'not_an_alert', detail: 'transition is missing' };
  const transition = normaliseTransition(transitionRaw);
  if (!/^[a-z][a-z_]{0,39}$/.test(transition)) return { ok: false, code: 'invalid_field', detail: `transition "${transitionRaw}" is not a word` };
  if (raw.tier !== undefined && raw.tier !== null && !isTier(raw.tier)) return { ok: false, code: 'invalid_field', detail: `tier "${String(raw.tier).slice(0, 20)}" is not watch, warning or action` };
  const tier: Tier | null = isTier(raw.tier) ? raw.tier : null;
  const ts = finite(raw.ts) ?? now;
  if (ts < 0) return { ok: false, code: 'invalid_field', detail: 'ts is negative' };

  const evidence = isObject(raw.evidence) ? raw.evidence : {};
  const alert: AlertInput = {
    episodeId,
    assetId,
    path: pathOf(raw),
    tier,
    transition,
    closed: raw.closed === true,
    reason: str(raw.reason) ?? '',
    trend: trendValues(evidence.trend ?? raw.trend),
    ts,
  };
  const eventId = str(raw.eventId, MAX_ID);
  if (eventId) alert.eventId = eventId;
  const seq = finite(raw.seq);
  if (seq !== undefined && Number.isInteger(seq) && seq >= 0) alert.seq = seq;
  const assetName = str(raw.assetName, 256) ?? str(asset.name, 256);
  if (assetName) alert.assetName = assetName;
  const assetClass = str(raw.assetClass, 64);
  if (assetClass) alert.assetClass = assetClass;
  if (isTier(raw.peakTier)) alert.peakTier = raw.peakTier;
  const previous = isObject(raw.previous) ? raw.previous.tier : raw.previousTier;
  if (previous === null || isTier(previous)) alert.previousTier = previous;
  const reasonCode = str(raw.reasonCode, 64);
  if (reasonCode) alert.reasonCode = reasonCode;
  const check = str(raw.check) ?? str(raw.recommendedCheck);
  if (check) alert.check = check;
  if (isObject(raw.failureMode) && typeof raw.failureMode.id === 'string') {
    alert.failureMode = { id: raw.failureMode.id.slice(0, 64), name: str(raw.failureMode.name, 128) ?? raw.failureMode.id.slice(0, 64) };
  }
  const category = str(raw.category, 32);
  if (category) alert.category = category;
  if (isObject(evidence.trend) && isObject(evidence.trend) && Array.isArray(evidence.trend.points)) alert.trendLabel = 'score';
  const contributions = evidence.contributions ?? raw.contributions;
  if (isObject(contributions)) {
    const c: Record<string, number> = {};
    for (const [k, v] of Object.entries(contributions).slice(0, 50)) if (finite(v) !== undefined) c[k.slice(0, 64)] = v as number;
    if (Object.keys(c).length) alert.contributions = c;
  }
  const zone = evidence.zone ?? raw.zone;
  if (isObject(zone) && typeof zone.zone === 'string') {
    alert.zone = { zone: zone.zone.slice(0, 8) };
    for (const k of ['signal', 'standard', 'preset'] as const) if (typeof zone[k] === 'string') alert.zone[k] = (zone[k] as string).slice(0, 128);
    if (finite(zone.value) !== undefined) alert.zone.value = zone.value as number;
  } else if (typeof zone === 'string') alert.zone = { zone: zone.slice(0, 8) };
  const by = str(raw.by, 128);
  if (by) alert.by = by;
  const note = str(raw.note, 1000);
  if (note) alert.note = note;
  return { ok: true, alert };
}
