/**
 * pdm-cmms content: reading pdm-alert events (the real contract, validated with its own schema,
 * and the lenient extras), the trend as SVG / text sparkline / min-mean-max, templates that cannot
 * be broken by values, and the work-order text.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readAlert, trendValues } from '../../nodes/lib/cmms/alert';
import { buildContent, dedupeKey, marker, templateVars } from '../../nodes/lib/cmms/content';
import { downsample, figure, svgSparkline, textSparkline, trendStats } from '../../nodes/lib/cmms/sparkline';
import { interpolate, parseJsonTemplate, renderJson } from '../../nodes/lib/cmms/template';
import { alertEventProblem } from '../../nodes/lib/contracts/alert-event';
import { alertEvent, episodeEvents } from '../fixtures/cmms/alerts';

const NOW = Date.UTC(2026, 0, 15, 8, 0, 0);

describe('cmms: reading alert events', () => {
  it('reads every event of a pdm-alert episode (fixtures valid against the AlertEvent schema)', () => {
    for (const ev of episodeEvents('E-1', 'P-101', NOW)) {
      assert.equal(alertEventProblem(ev), undefined, 'fixture follows the alert contract');
      const read = readAlert(ev, NOW);
      assert.ok(read.ok);
      assert.equal(read.alert.episodeId, 'E-1');
      assert.equal(read.alert.assetId, 'P-101');
      assert.deepEqual(read.alert.path, { site: 'plant1', area: 'utilities', line: 'cooling' });
      assert.equal(read.alert.trend.length, 8);
      assert.equal(read.alert.check?.startsWith('Check bearing'), true);
    }
    const de = readAlert(episodeEvents('E-1')[3], NOW);
    assert.ok(de.ok && de.alert.transition === 'de_escalated' && de.alert.previousTier === 'action');
    const cleared = readAlert(episodeEvents('E-1')[4], NOW);
    assert.ok(cleared.ok && cleared.alert.closed && cleared.alert.tier === null);
  });

  it('accepts the lenient shape: recommendedCheck, string path, hyphenated transition, trend as numbers or {ts, value}', () => {
    const read = readAlert(
      { episodeId: 'X', asset: { id: 'M-7', name: 'Fan', path: 'site/area/line' }, tier: 'warning', transition: 'De-Escalated', reason: 'r', recommendedCheck: 'look', evidence: { trend: [{ ts: 1, value: 2 }, { ts: 2, value: 3 }] }, ts: 5 },
      NOW,
    );
    assert.ok(read.ok);
    assert.equal(read.alert.assetId, 'M-7');
    assert.equal(read.alert.assetName, 'Fan');
    assert.equal(read.alert.transition, 'de_escalated');
    assert.equal(read.alert.check, 'look');
    assert.deepEqual(read.alert.path, { site: 'site', area: 'area', line: 'line' });
    assert.deepEqual(read.alert.trend, [2, 3]);
    assert.deepEqual(trendValues([1, 'x', NaN, 2]), [1, 2]);
    assert.deepEqual(trendValues({ values: [4, 5] }), [4, 5]);
  });

  it('rejects what is not an alert event, with a reason', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'not_an_alert'],
      [{ kind: 'flood', episodeId: 'e', assetId: 'a', transition: 'raised' }, 'not_an_alert'],
      [{ assetId: 'a', transition: 'raised' }, 'not_an_alert'],
      [{ episodeId: 'e', transition: 'raised' }, 'not_an_alert'],
      [{ episodeId: 'e', assetId: 'a' }, 'not_an_alert'],
      [{ episodeId: 'e', assetId: 'a', transition: 'raised', tier: 'critical' }, 'invalid_field'],
      [{ episodeId: 'e', assetId: 'a', transition: '!!' }, 'invalid_field'],
    ];
    for (const [raw, code] of cases) {
      const read = readAlert(raw, NOW);
      assert.equal(read.ok, false, JSON.stringify(raw));
      if (!read.ok) assert.equal(read.code, code);
    }
  });
});

describe('cmms: sparklines', () => {
  it('text sparkline spans the blocks and downsamples long series', () => {
    assert.equal(textSparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
    assert.equal(textSparkline([5, 5, 5]), '▄▄▄');
    assert.equal(textSparkline([]), '');
    assert.equal(textSparkline(Array.from({ length: 1000 }, (_, i) => i)).length, 24);
    assert.deepEqual(downsample([1, 3, 5, 7], 2), [2, 6]);
  });

  it('SVG sparkline is a standalone, finite polyline with a dot on the latest value', () => {
    const svg = svgSparkline([1, 4, 2, 8, 5]);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="160" height="32" viewBox="0 0 160 32" role="img"><polyline /);
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
    const points = /points="([^"]+)"/.exec(svg)![1].split(' ');
    assert.equal(points.length, 5);
    for (const p of points) {
      const [x, y] = p.split(',').map(Number);
      assert.ok(x >= 0 && x <= 160 && y >= 0 && y <= 32);
    }
    assert.match(svg, /<circle cx="157" cy="[\d.]+" r="2.5"/);
    assert.equal(svgSparkline([]), '');
    assert.doesNotMatch(svgSparkline([3]), /NaN/);
    assert.doesNotMatch(svgSparkline([2, 2, 2]), /NaN/);
  });

  it('min / mean / max and human figures', () => {
    assert.deepEqual(trendStats([1, 2, 3, NaN]), { n: 3, min: 1, mean: 2, max: 3 });
    assert.equal(trendStats([]), undefined);
    assert.equal(figure(0.123456), '0.123');
    assert.equal(figure(6.2), '6.2');
    assert.equal(figure(12345), '1.23e+4');
  });
});

describe('cmms: templates', () => {
  it('interpolates text and URL-encodes for links', () => {
    const vars = { assetId: 'P 101/a', n: 3, o: { a: 1 } };
    assert.equal(interpolate('x={{assetId}} n={{ n }} o={{o}} m={{missing}}', vars), 'x=P 101/a n=3 o={"a":1} m=');
    assert.equal(interpolate('https://d/?a={{assetId}}', vars, encodeURIComponent), 'https://d/?a=P%20101%2Fa');
  });

  it('renders JSON templates value by value: exact placeholders keep their type, values cannot inject', () => {
    const tpl = parseJsonTemplate('{"summary": "{{title}}", "trend": "{{trend}}", "n": "{{n}}", "text": "a {{evil}} b", "{{key}}": 1}');
    assert.ok(tpl.ok);
    const out = renderJson(tpl.value, { title: 'T', trend: { min: 1 }, n: 5, evil: '", "admin": true, "x": "', key: 'k' }) as Record<string, unknown>;
    assert.deepEqual(out, { summary: 'T', trend: { min: 1 }, n: 5, text: 'a ", "admin": true, "x": " b', k: 1 });
    assert.equal(parseJsonTemplate('[1').ok, false);
    assert.equal(parseJsonTemplate('"text"').ok, false);
    assert.deepEqual(parseJsonTemplate(''), { ok: true, value: undefined });
  });
});

describe('cmms: work-order content', () => {
  const alert = (i: number) => {
    const read = readAlert(episodeEvents('E-9', 'P-101', NOW)[i], NOW);
    assert.ok(read.ok);
    return read.alert;
  };

  it('carries asset, path, tier, reason, check, drivers, zone, trend and the episode marker', () => {
    const c = buildContent(alert(2), 'create', { linkTemplate: 'https://grafana.example/d/pdm?var-asset={{assetId}}&e={{episodeId}}' });
    assert.equal(c.dedupeKey, dedupeKey('P-101', 'E-9'));
    assert.match(c.dedupeKey, /^pdm-[0-9a-f]{20}$/);
    assert.equal(c.title, '[ACTION] P-101 Cooling water pump: Bearing wear');
    assert.equal(c.headline, 'Escalated warning → action');
    assert.equal(c.path, 'plant1/utilities/cooling');
    assert.equal(c.link, 'https://grafana.example/d/pdm?var-asset=P-101&e=E-9');
    assert.deepEqual(c.drivers.map((d) => d.signal), ['vibration_velocity', 'bearing_temperature']);
    assert.equal(c.zone, 'D on vibration_velocity (ISO 10816-3, pump_rigid)');
    assert.equal(c.trend?.min, 0.31);
    assert.equal(c.trend?.max, 0.78);
    assert.equal(c.trend?.spark.length, 8);
    for (const part of ['Escalated warning → action: P-101 – Cooling water pump (plant1/utilities/cooling)', 'Tier: action', 'Reason: vibration_velocity 6.2', 'Failure mode: Bearing wear', 'Recommended check: Check bearing', 'Trend: ▁', 'min 0.31 · mean', 'max 0.78 (8 score)', 'Drivers: vibration_velocity 70 %, bearing_temperature 30 %', 'Zone: D', 'Link: https://grafana.example', marker(c.dedupeKey)]) {
      assert.ok(c.text.includes(part), `text has "${part}":\n${c.text}`);
    }
  });

  it('a title template, a clear without a check, and every template variable', () => {
    const c = buildContent(alert(2), 'create', { titleTemplate: '{{tierUpper}} {{assetId}} ({{path}}) {{problem}}' });
    assert.equal(c.title, 'ACTION P-101 (plant1/utilities/cooling) Bearing wear');
    const clear = buildContent(alert(4), 'close');
    assert.equal(clear.headline, 'Cleared: the condition has returned to normal');
    assert.ok(!clear.text.includes('Recommended check'));
    const vars = templateVars(c, { operation: 'create' });
    for (const k of ['episodeId', 'assetId', 'assetName', 'path', 'tier', 'tierUpper', 'reason', 'check', 'sparkline', 'svg', 'svgDataUri', 'min', 'mean', 'max', 'trend', 'link', 'iso', 'dedupeKey', 'operation']) {
      assert.ok(k in vars, k);
    }
    assert.match(String(vars.svgDataUri), /^data:image\/svg\+xml;base64,/);
  });
});
