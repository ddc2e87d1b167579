/**
 * pdm-cmms and pdm-cmms-target in the real Node-RED 4.1 editor, in headless Chromium: palette and
 * icon, catalog labels and options, field validation, the target dialog showing the fields of each
 * kind with secrets as password credentials (never exported), output labels, help, and the live
 * status showing the queue depth of a deployed node whose target is failing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  TIMEOUTS,
  addNode,
  assertFieldMarks,
  closeEditor,
  editNode,
  editorSuiteSkip,
  fieldLabel,
  nodeCatalog,
  nodeProps,
  openHelp,
  paletteEntry,
  readField,
  useEditorSuite,
  validateNode,
} from './harness';
import { alertEvent } from '../fixtures/cmms/alerts';
import { ContractServer } from '../fixtures/cmms/servers';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;

const TYPE = 'pdm-cmms';
const TARGET = 'pdm-cmms-target';
const catalogOf = nodeCatalog;
const catalog = catalogOf(TYPE);
const tcatalog = catalogOf(TARGET);

/** Adds a target config node to the editor; returns its id. */
async function addTarget(page: Page, props: Record<string, unknown>): Promise<string> {
  return page.evaluate((props: Record<string, unknown>) => {
    const id = RED.nodes.id();
    RED.view.importNodes([{ id, type: 'pdm-cmms-target', ...props }], { generateIds: false, addFlow: false, notify: false, applyNodeDefaults: true });
    return id as string;
  }, props);
}

async function editTarget(page: Page, id: string): Promise<void> {
  await page.evaluate((id: string) => RED.editor.editConfig('', 'pdm-cmms-target', id), id);
  await page.locator('#node-config-input-kind').waitFor({ state: 'visible' });
}

/** Which target rows are visible. */
async function visibleRows(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    $('[id^="pdm-cmms-target-row-"]')
      .filter(function (this: any) {
        return $(this).is(':visible');
      })
      .map(function (this: any) {
        return this.id.replace('pdm-cmms-target-row-', '');
      })
      .get()
      .sort(),
  );
}

async function setConfigField(page: Page, prop: string, value: string): Promise<void> {
  await page.evaluate(
    ({ prop, value }) => {
      const input = $(`#node-config-input-${prop}`);
      if (input.next('.red-ui-typedInput-container').length) input.typedInput('value', value);
      else input.val(value);
      input.trigger('change');
    },
    { prop, value },
  );
}

async function configFieldInvalid(page: Page, prop: string): Promise<boolean> {
  return page.evaluate((prop: string) => {
    const input = $(`#node-config-input-${prop}`);
    return input.hasClass('input-error') || input.next('.red-ui-typedInput-container').hasClass('input-error');
  }, prop);
}

describe('pdm-cmms editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  let cmms: ContractServer | undefined;
  before(async () => {
    cmms = await ContractServer.start('webhook');
  });
  // A deployed node whose target answers 401 (no token configured): it retries, and shows its queue.
  const ed = useEditorSuite([TYPE, TARGET], () => {
    const event = JSON.stringify(alertEvent({ episodeId: 'ED-1', seq: 1, transition: 'raised', tier: 'action' }));
    return {
      flows: [
        { id: 'edtab', type: 'tab', label: 'cmms' },
        { id: 'edtarget', type: TARGET, name: 'local webhook', kind: 'webhook', url: cmms!.url, timeoutSec: '2' },
        { id: 'edinject', type: 'inject', z: 'edtab', x: 100, y: 100, name: 'alert', props: [{ p: 'payload' }], payload: event, payloadType: 'json', repeat: '', once: false, topic: '', wires: [['edcmms']] },
        { id: 'edcmms', type: TYPE, z: 'edtab', x: 300, y: 100, name: 'tickets', target: 'edtarget', createTier: 'action', onChange: 'update', onClear: 'comment', root: 'pdm', retryBaseSec: '0.2', retryMaxSec: '1', maxAttempts: '1000', wires: [[], [], [], []] },
      ],
    };
  });
  after(async () => {
    await cmms?.close();
  });

  test('the palette shows the node under "predictive maintenance" with its own icon; the target is a config node', async () => {
    const entry = await paletteEntry(ed.page, TYPE);
    assert.ok(entry, `${TYPE} is not in the palette`);
    assert.equal(entry.category, 'predictive maintenance');
    assert.equal(entry.label.replace(/\s+/g, ' '), catalog.paletteLabel);
    assert.match(entry.icon, /icons\/@pdm-twin\/node-red-pdm\/pdm-cmms\.svg/, `palette icon is ${entry.icon}`);
    assert.equal(await paletteEntry(ed.page, TARGET), null);
    const id = await addNode(ed.page, TYPE);
    const outputs = await ed.page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      return [0, 1, 2, 3].map((i) => n._def.outputLabels.call(n, i));
    }, id);
    assert.deepEqual(outputs, [catalog.outputs.workOrders, catalog.outputs.labels, catalog.outputs.dead, catalog.outputs.rejects]);
  });

  test('the edit dialog: catalog labels, options, defaults; a node without a target is invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), false, 'valid without a target');
    await editNode(ed.page, id);
    try {
      for (const prop of ['target', 'createTier', 'onChange', 'onClear', 'titleTemplate', 'linkTemplate', 'root', 'concurrency', 'maxAttempts', 'retryBaseSec', 'retryMaxSec', 'maxQueue', 'retentionDays', 'feedbackKey', 'feedbackToken', 'unlabelled']) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
      }
      const options = (sel: string) => ed.page.locator(`${sel} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(await options('#node-input-createTier'), [['watch', catalog.option.watch], ['warning', catalog.option.warning], ['action', catalog.option.action]]);
      assert.deepEqual((await options('#node-input-onClear')).map(([v]: string[]) => v), ['comment', 'close', 'none']);
      assert.equal(await readField(ed.page, 'createTier'), 'action');
      assert.equal(await readField(ed.page, 'maxAttempts'), '50');
      assert.equal(await ed.page.locator('#node-input-feedbackToken').getAttribute('type'), 'password');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('invalid values mark their field; good values clear the mark', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['root', ['', '/pdm', 'a/+/b'], 'plant/pdm'],
      ['linkTemplate', ['dashboard', 'https://x/{{assetId', 'ftp://x'], 'https://grafana.example/d?a={{assetId}}'],
      ['titleTemplate', ['{{}} broken', '{{a'], '[{{tierUpper}}] {{assetId}}'],
      ['concurrency', ['0', '1.5', '65'], '8'],
      ['maxAttempts', ['0', 'x'], '20'],
      ['retryBaseSec', ['0', '-1'], '1'],
      ['maxQueue', ['0', 'lots'], '5000'],
      ['feedbackKey', ['a/b', 'has space'], 'plant-1'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.root, 'plant/pdm');
    assert.equal(props.feedbackKey, 'plant-1');
  });

  test('the target dialog shows the fields of each kind; secrets are password credentials', async () => {
    const id = await addTarget(ed.page, { kind: 'webhook' });
    await editTarget(ed.page, id);
    try {
      const kinds = await ed.page.locator('#node-config-input-kind option').evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(kinds, Object.entries(tcatalog.kind));
      const expect: Record<string, string[]> = {
        webhook: ['bodyTemplate', 'headers', 'idPath', 'method', 'password', 'token', 'url', 'user', 'webhookUrl'],
        slack: ['webhookUrl'],
        teams: ['webhookUrl'],
        maintainx: ['apiKey', 'assetMap', 'locationId', 'url'],
        upkeep: ['assetMap', 'locationId', 'password', 'url', 'user'],
        limble: ['assetMap', 'closeStatus', 'locationId', 'password', 'region', 'url', 'user'],
        atlas: ['apiKey', 'assetMap', 'locationId', 'url'],
      };
      for (const [kind, rows] of Object.entries(expect)) {
        await ed.page.locator('#node-config-input-kind').selectOption(kind);
        assert.deepEqual(await visibleRows(ed.page), rows, `rows of ${kind}`);
      }
      for (const secret of ['webhookUrl', 'token', 'apiKey', 'password']) {
        assert.equal(await ed.page.locator(`#node-config-input-${secret}`).getAttribute('type'), 'password', `${secret} is a password field`);
      }
      // Kind-dependent rules: Atlas needs its URL, Limble a location, MaintainX a known priority.
      await ed.page.locator('#node-config-input-kind').selectOption('atlas');
      await setConfigField(ed.page, 'url', '');
      assert.equal(await configFieldInvalid(ed.page, 'url'), true, 'Atlas without URL accepted');
      await setConfigField(ed.page, 'url', 'https://atlas.example.com/api');
      assert.equal(await configFieldInvalid(ed.page, 'url'), false);
      await setConfigField(ed.page, 'url', 'https://user:pw@atlas.example.com/api');
      assert.equal(await configFieldInvalid(ed.page, 'url'), true, 'URL with a password accepted');
      await setConfigField(ed.page, 'url', 'https://atlas.example.com/api');
      await ed.page.locator('#node-config-input-kind').selectOption('maintainx');
      await setConfigField(ed.page, 'priorityMap', '{"action": "URGENT"}');
      assert.equal(await configFieldInvalid(ed.page, 'priorityMap'), true, 'unknown MaintainX priority accepted');
      await setConfigField(ed.page, 'priorityMap', '{"action": "HIGH", "watch": "NONE"}');
      assert.equal(await configFieldInvalid(ed.page, 'priorityMap'), false);
      await ed.page.locator('#node-config-input-kind').selectOption('webhook');
      await setConfigField(ed.page, 'headers', '{"Authorization": "Bearer x"}');
      assert.equal(await configFieldInvalid(ed.page, 'headers'), true, 'a secret header accepted');
      await setConfigField(ed.page, 'headers', '{"X-Source": "pdm"}');
      assert.equal(await configFieldInvalid(ed.page, 'headers'), false);
      await setConfigField(ed.page, 'url', 'https://tickets.example.com/api');
      await ed.page.locator('#node-config-input-token').fill('super-secret-token');
    } finally {
      await ed.page.locator('#node-config-dialog-ok').click();
      await ed.page.locator('#node-config-input-kind').waitFor({ state: 'detached' });
    }
    const exported = await ed.page.evaluate((id: string) => JSON.stringify(RED.nodes.createExportableNodeSet([RED.nodes.node(id)])), id);
    assert.ok(exported.includes('"X-Source'), 'the plain header is exported');
    assert.ok(!exported.includes('super-secret-token'), 'the token is not exported');
  });

  test('the help panel has Inputs, Outputs, Details and References', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.deepEqual(help.sections, ['Inputs', 'Outputs', 'Details', 'References']);
    assert.match(help.text, /one work order per episode/);
    assert.match(help.text, /Idempotency-Key/);
    const thelp = await openHelp(ed.page, TARGET);
    assert.ok(thelp.sections.includes('Details'));
    assert.match(thelp.text, /Certificates are always checked/);
  });

  test('a deployed node whose target fails shows its queue depth in the status', async () => {
    const res = await fetch(`${ed.server.url}inject/edinject`, { method: 'POST' });
    assert.equal(res.status, 200);
    await ed.page.waitForFunction(() => {
      const n = RED.nodes.node('edcmms');
      return !!(n && n.status && /^1 queued · retrying \(unauthorized\)/.test(n.status.text || ''));
    }, undefined, { timeout: TIMEOUTS.ui });
    const status = await ed.page.evaluate(() => RED.nodes.node('edcmms').status);
    assert.equal(status.fill, 'red');
    assert.ok(cmms!.requests.length >= 1 && cmms!.violations.every((v) => /bearer/.test(v)), 'the target saw the request without a token');
  });
});
