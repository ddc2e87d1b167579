/**
 * Slack incoming webhook: POST {text, blocks} (Block Kit) to the webhook URL (a secret, kept in
 * the credentials). Slack answers 200 "ok"; errors are 400 invalid_payload, 403, 404 no_service,
 * 410 channel_is_archived; 429 with Retry-After past ≈ 1 message/s. Slack shows images only from
 * public PNG/JPEG URLs, so the trend goes as a text sparkline with min/mean/max.
 */
import { trendLine } from '../content';
import type { TargetSpec } from '../target-config';
import type { OpView, Tier } from '../types';
import { JSON_HEADERS, type Adapter } from './adapter';

const EMOJI: Record<Tier, string> = { watch: ':large_blue_circle:', warning: ':large_orange_circle:', action: ':red_circle:' };

/** Slack mrkdwn escaping (&, <, >). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function slackMessage(op: OpView): { text: string; blocks: unknown[] } {
  const c = op.content;
  const tier = c.tier ?? c.peakTier;
  const mark = op.operation === 'close' || c.transition === 'cleared' ? ':white_check_mark:' : tier ? EMOJI[tier] : ':information_source:';
  const text = clip(`${mark} ${c.headline}: ${c.assetId}${c.assetName ? ` ${c.assetName}` : ''}${c.reason ? ` — ${c.reason}` : ''}`, 3000);
  const fields = [
    { type: 'mrkdwn', text: clip(`*Asset*\n${slackEscape(`${c.assetId}${c.assetName ? ` – ${c.assetName}` : ''}`)}`, 2000) },
    { type: 'mrkdwn', text: `*Tier*\n${tier ? tier.toUpperCase() : 'cleared'}` },
  ];
  if (c.path) fields.push({ type: 'mrkdwn', text: clip(`*Where*\n${slackEscape(c.path)}`, 2000) });
  if (c.failureMode) fields.push({ type: 'mrkdwn', text: clip(`*Failure mode*\n${slackEscape(c.failureMode)}`, 2000) });
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(c.title, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${mark} *${slackEscape(c.headline)}*${c.reason ? `\n${slackEscape(c.reason)}` : ''}`, 3000) }, fields },
  ];
  if (c.check && op.operation !== 'close') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Recommended check*\n${slackEscape(c.check)}`, 3000) } });
  const context: unknown[] = [];
  const trend = trendLine(c);
  if (trend) context.push({ type: 'mrkdwn', text: clip(`Trend \`${slackEscape(trend)}\``, 3000) });
  if (c.drivers.length) context.push({ type: 'mrkdwn', text: clip(`Drivers: ${slackEscape(c.drivers.map((d) => `${d.signal} ${Math.round(d.share * 100)} %`).join(', '))}`, 3000) });
  if (c.zone) context.push({ type: 'mrkdwn', text: clip(`Zone ${slackEscape(c.zone)}`, 3000) });
  context.push({ type: 'mrkdwn', text: clip(`Episode ${slackEscape(c.episodeId)}`, 3000) });
  blocks.push({ type: 'context', elements: context.slice(0, 10) });
  if (c.link && /^https?:\/\//.test(c.link) && c.link.length <= 3000) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: c.link }] });
  }
  return { text, blocks };
}

export function slackAdapter(spec: TargetSpec): Adapter {
  return {
    kind: 'slack',
    workOrders: false,
    build(op) {
      return { method: 'POST', url: spec.url, headers: { ...JSON_HEADERS }, body: JSON.stringify(slackMessage(op)) };
    },
  };
}
