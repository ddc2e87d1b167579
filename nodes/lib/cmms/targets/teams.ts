/**
 * Microsoft Teams through a Workflows (Power Automate) webhook — the Office 365 connector cards
 * are retired, and MessageCard payloads are rejected. POST
 *   {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
 *     "content":{AdaptiveCard 1.4}}]}
 * to the workflow URL (a secret, in the credentials); the flow answers 202 Accepted. The trend is
 * a monospace text sparkline with min/mean/max; with a chart URL template the card also shows
 * the chart image from that URL.
 */
import { trendLine } from '../content';
import type { TargetSpec } from '../target-config';
import type { OpView, Tier } from '../types';
import { JSON_HEADERS, type Adapter } from './adapter';

const COLOR: Record<Tier, string> = { watch: 'Accent', warning: 'Warning', action: 'Attention' };

export function adaptiveCard(op: OpView): Record<string, unknown> {
  const c = op.content;
  const tier = c.tier ?? c.peakTier;
  const cleared = op.operation === 'close' || c.transition === 'cleared';
  const facts: Array<{ title: string; value: string }> = [{ title: 'Asset', value: `${c.assetId}${c.assetName ? ` – ${c.assetName}` : ''}` }];
  if (c.path) facts.push({ title: 'Where', value: c.path });
  facts.push({ title: 'Tier', value: tier ? tier.toUpperCase() : 'cleared' });
  if (c.failureMode) facts.push({ title: 'Failure mode', value: c.failureMode });
  if (c.reason) facts.push({ title: 'Reason', value: c.reason });
  if (c.zone) facts.push({ title: 'Zone', value: c.zone });
  if (c.drivers.length) facts.push({ title: 'Drivers', value: c.drivers.map((d) => `${d.signal} ${Math.round(d.share * 100)} %`).join(', ') });
  facts.push({ title: 'Episode', value: c.episodeId });
  const body: unknown[] = [
    { type: 'TextBlock', text: c.title, weight: 'Bolder', size: 'Medium', wrap: true, color: cleared ? 'Good' : tier ? COLOR[tier] : 'Default' },
    { type: 'TextBlock', text: c.headline, wrap: true, spacing: 'None', isSubtle: true },
    { type: 'FactSet', facts },
  ];
  if (c.check && op.operation !== 'close') body.push({ type: 'TextBlock', text: `**Recommended check:** ${c.check}`, wrap: true });
  const trend = trendLine(c);
  if (trend) body.push({ type: 'TextBlock', text: trend, fontType: 'Monospace', wrap: true, size: 'Small' });
  if (c.chartUrl && /^https:\/\//.test(c.chartUrl)) body.push({ type: 'Image', url: c.chartUrl, altText: 'recent trend', size: 'Stretch' });
  const card: Record<string, unknown> = { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body };
  if (c.link && /^https?:\/\//.test(c.link)) card.actions = [{ type: 'Action.OpenUrl', title: 'Open dashboard', url: c.link }];
  return card;
}

export function teamsAdapter(spec: TargetSpec): Adapter {
  return {
    kind: 'teams',
    workOrders: false,
    build(op) {
      const message = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard(op) }] };
      return { method: 'POST', url: spec.url, headers: { ...JSON_HEADERS }, body: JSON.stringify(message) };
    },
  };
}
