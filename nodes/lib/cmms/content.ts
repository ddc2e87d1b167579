/**
 * What a work order, comment or chat message says, built once when the operation is queued:
 * asset id, name and ISA-95 path, tier, what happened, reason, evidence (drivers, standard zone),
 * the recommended check, a link, and the recent trend (SVG, text sparkline, min/mean/max).
 */
import { createHash } from 'node:crypto';
import { figure, summariseTrend, svgDataUri } from './sparkline';
import { interpolate } from './template';
import type { AlertInput, Content, Operation, Tier } from './types';

export interface ContentOptions {
  /** Title template ({{tierUpper}}, {{assetId}}, {{assetName}}, {{problem}}, ...); '' = the default title. */
  titleTemplate?: string;
  /** Link template, e.g. a dashboard URL with {{assetId}}; values are URL-encoded. */
  linkTemplate?: string;
  /** URL of a chart image for targets that show images by URL (Teams); values are URL-encoded. */
  chartUrlTemplate?: string;
}

export const TITLE_MAX = 120;
export const TEXT_MAX = 9000; // Atlas caps descriptions at 10,000 characters

/** The dedupe key of an episode: stable, short, safe in URLs and search filters. */
export function dedupeKey(assetId: string, episodeId: string): string {
  return `pdm-${createHash('sha256').update(`${assetId}\u0000${episodeId}`).digest('hex').slice(0, 20)}`;
}

/** The marker every work-order description carries, found again by lookups. */
export function marker(key: string): string {
  return `[pdm-ref:${key}]`;
}

const cap = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function headlineOf(alert: AlertInput): string {
  const prev = alert.previousTier;
  switch (alert.transition) {
    case 'raised':
      return `Raised at ${alert.tier ?? 'watch'}`;
    case 'escalated':
      return prev ? `Escalated ${prev} → ${alert.tier}` : `Escalated to ${alert.tier}`;
    case 'de_escalated':
      return prev ? `De-escalated ${prev} → ${alert.tier}` : `De-escalated to ${alert.tier}`;
    case 'reactivated':
      return `Reactivated at ${alert.tier ?? 'watch'}`;
    case 'cleared':
      return 'Cleared: the condition has returned to normal';
    default: {
      const words = cap(alert.transition.replace(/_/g, ' '));
      return alert.by ? `${words} by ${alert.by}` : words;
    }
  }
}

export function pathText(alert: Pick<AlertInput, 'path'>): string {
  return [alert.path.site, alert.path.area, alert.path.line].filter((s) => s).join('/');
}

export function buildContent(alert: AlertInput, operation: Operation, options: ContentOptions = {}): Content {
  const key = dedupeKey(alert.assetId, alert.episodeId);
  const drivers = Object.entries(alert.contributions ?? {})
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([signal, share]) => ({ signal, share }));
  const zone = alert.zone
    ? `${alert.zone.zone}${alert.zone.signal ? ` on ${alert.zone.signal}` : ''}${alert.zone.standard ? ` (${alert.zone.standard}${alert.zone.preset ? `, ${alert.zone.preset}` : ''})` : ''}`
    : undefined;
  const content: Content = {
    dedupeKey: key,
    episodeId: alert.episodeId,
    assetId: alert.assetId,
    path: pathText(alert),
    tier: alert.tier,
    transition: alert.transition,
    headline: headlineOf(alert),
    title: '',
    reason: alert.reason,
    check: alert.check ?? '',
    drivers,
    text: '',
    ts: alert.ts,
  };
  if (alert.eventId) content.eventId = alert.eventId;
  if (alert.assetName) content.assetName = alert.assetName;
  if (alert.peakTier) content.peakTier = alert.peakTier;
  if (alert.failureMode) content.failureMode = alert.failureMode.name;
  if (zone) content.zone = zone;
  const trend = summariseTrend(alert.trend);
  if (trend) content.trend = trend;
  if (alert.trendLabel) content.trendLabel = alert.trendLabel;

  const vars = templateVars(content);
  if (options.linkTemplate) content.link = interpolate(options.linkTemplate, vars, encodeURIComponent);
  if (options.chartUrlTemplate) content.chartUrl = interpolate(options.chartUrlTemplate, vars, encodeURIComponent);
  const title = options.titleTemplate ? interpolate(options.titleTemplate, templateVars(content)) : defaultTitle(content, alert);
  content.title = clip(title.replace(/\s+/g, ' ').trim() || defaultTitle(content, alert), TITLE_MAX);
  content.text = clip(describe(content, operation), TEXT_MAX);
  return content;
}

function defaultTitle(content: Content, alert: AlertInput): string {
  const tier = (content.tier ?? content.peakTier ?? 'watch').toUpperCase();
  const problem = alert.failureMode?.name || alert.reason || content.headline;
  return `[${tier}] ${content.assetId}${content.assetName ? ` ${content.assetName}` : ''}: ${problem}`;
}

export function trendLine(content: Content): string | undefined {
  const t = content.trend;
  if (!t) return undefined;
  return `${t.spark}  min ${figure(t.min)} · mean ${figure(t.mean)} · max ${figure(t.max)} (${t.n} ${content.trendLabel ?? 'points'})`;
}

/** The plain-text body: description of a created work order, a comment, or a message fallback. */
export function describe(content: Content, operation: Operation): string {
  const lines: string[] = [];
  const who = `${content.assetId}${content.assetName ? ` – ${content.assetName}` : ''}${content.path ? ` (${content.path})` : ''}`;
  lines.push(`${content.headline}: ${who}`);
  if (content.tier) lines.push(`Tier: ${content.tier}${content.peakTier && content.peakTier !== content.tier ? ` (peak ${content.peakTier})` : ''}`);
  if (content.reason) lines.push(`Reason: ${content.reason}`);
  if (content.failureMode) lines.push(`Failure mode: ${content.failureMode}`);
  if (content.check && operation !== 'close') lines.push(`Recommended check: ${content.check}`);
  const trend = trendLine(content);
  if (trend) lines.push(`Trend: ${trend}`);
  if (content.drivers.length) lines.push(`Drivers: ${content.drivers.map((d) => `${d.signal} ${Math.round(d.share * 100)} %`).join(', ')}`);
  if (content.zone) lines.push(`Zone: ${content.zone}`);
  if (content.link) lines.push(`Link: ${content.link}`);
  lines.push(`Episode: ${content.episodeId} ${marker(content.dedupeKey)}`);
  return lines.join('\n');
}

export const TIER_UPPER: Record<Tier, string> = { watch: 'WATCH', warning: 'WARNING', action: 'ACTION' };

/** Everything templates can use. */
export function templateVars(content: Content, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = content.trend;
  return {
    episodeId: content.episodeId,
    eventId: content.eventId ?? '',
    dedupeKey: content.dedupeKey,
    marker: marker(content.dedupeKey),
    assetId: content.assetId,
    assetName: content.assetName ?? '',
    path: content.path,
    tier: content.tier ?? '',
    tierUpper: content.tier ? TIER_UPPER[content.tier] : '',
    peakTier: content.peakTier ?? '',
    transition: content.transition,
    headline: content.headline,
    title: content.title,
    problem: content.failureMode || content.reason || content.headline,
    reason: content.reason,
    check: content.check,
    failureMode: content.failureMode ?? '',
    zone: content.zone ?? '',
    drivers: content.drivers,
    link: content.link ?? '',
    chartUrl: content.chartUrl ?? '',
    text: content.text,
    ts: content.ts,
    iso: new Date(content.ts).toISOString(),
    sparkline: t?.spark ?? '',
    svg: t?.svg ?? '',
    svgDataUri: t?.svg ? svgDataUri(t.svg) : '',
    min: t?.min ?? null,
    mean: t?.mean ?? null,
    max: t?.max ?? null,
    trend: t ? { values: t.values, n: t.n, min: t.min, mean: t.mean, max: t.max, sparkline: t.spark, svg: t.svg } : null,
    ...extra,
  };
}
