/**
 * pdm-retrofit in the real Node-RED 4.1 editor, in headless Chromium: palette, the register-map
 * dialog (add rows, row validation marking the row and the node, JSON and CSV import through the
 * runtime's parser), the zone presets, and the help panel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import {
  addNode,
  assertInPalette,
  closeEditor,
  editNode,
  editorSuiteSkip,
  nodeProps,
  openHelp,
  useEditorSuite,
  validateNode,
} from './harness';
import { ZONE_PRESETS } from '../../nodes/lib/retrofit/zones';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;

const TYPE = 'pdm-retrofit';
const rows = (page: Page): Locator => page.locator('#node-input-registers-container > li');

async function showTab(page: Page, tab: string): Promise<void> {
  // RED.tabs reads two clicks on tabs within 400 ms as a double click and does not switch.
  await page.waitForTimeout(450);
  await page.locator(`#node-pdm-retrofit-tabs a[href="#${tab}"]`).click();
  await page.locator(`#${tab}`).waitFor({ state: 'visible' });
}

/** Fills a row field like a user (value, then the change event the dialog listens to). */
async function fill(row: Locator, field: string, value: string): Promise<void> {
  const input = row.locator(`.pdm-f-${field}`);
  await input.fill(value);
  await input.dispatchEvent('change');
}

async function addRegisterRow(page: Page, values: Record<string, string>): Promise<Locator> {
  const before = await rows(page).count();
  await page.locator('#pdm-retrofit-tab-registers .red-ui-editableList-addButton').click();
  await assert.doesNotReject(async () => rows(page).nth(before).waitFor({ state: 'visible' }));
  const row = rows(page).nth(before);
  for (const select of ['type', 'order']) if (values[select]) await row.locator(`.pdm-f-${select}`).selectOption(values[select]);
  for (const [field, value] of Object.entries(values)) if (field !== 'type' && field !== 'order') await fill(row, field, value);
  return row;
}

const hasError = (row: Locator, field: string) => row.locator(`.pdm-f-${field}`).evaluate((el: any) => el.classList.contains('input-error'));

describe('pdm-retrofit editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE]);

  test('the palette shows the node under "predictive maintenance" with its own icon', async () => {
    await assertInPalette(ed.page, TYPE, 'retrofit');
  });

  test('a new node is valid; the dialog has the four tabs with catalog labels', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), true);
    await editNode(ed.page, id);
    try {
      const tabs = (await ed.page.locator('#node-pdm-retrofit-tabs li').allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(tabs, ['Register map', 'Tag map', 'Scaling', 'Waveform']);
      assert.equal((await ed.page.locator('label[for="node-input-assetId"]').innerText()).trim(), 'Asset');
      assert.equal(await rows(ed.page).count(), 0);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('rows added in the register map are saved as the node\'s map', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-registers');
      const power = await addRegisterRow(ed.page, { signal: 'power', offset: '0', type: 'float32', order: 'CDAB', unit: 'kW' });
      const temp = await addRegisterRow(ed.page, { signal: 'temperature', offset: '2', type: 'int16', scale: '0.1', unit: '°C' });
      const run = await addRegisterRow(ed.page, { signal: 'running', offset: '3', type: 'bit', bit: '2' });
      for (const row of [power, temp, run]) for (const f of ['signal', 'offset', 'bit', 'scale']) assert.equal(await hasError(row, f), false, `${f} marked invalid`);
      assert.equal(await power.locator('.pdm-f-bit').isVisible(), false, 'bit is only shown for type bit');
      assert.equal(await run.locator('.pdm-f-bit').isVisible(), true);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.deepEqual(props.registers, [
      { signal: 'power', offset: 0, type: 'float32', order: 'CDAB', unit: 'kW' },
      { signal: 'temperature', offset: 2, type: 'int16', order: 'ABCD', scale: 0.1, unit: '°C' },
      { signal: 'running', offset: 3, type: 'bit', order: 'ABCD', bit: 2 },
    ]);
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('an invalid row (bit 16) is marked and makes the node invalid; fixing it makes it valid again', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-registers');
      const row = await addRegisterRow(ed.page, { signal: 'alarm', offset: '5', type: 'bit', bit: '16' });
      assert.equal(await hasError(row, 'bit'), true, 'bit 16 accepted');
      assert.match(String(await row.locator('.pdm-f-bit').getAttribute('title')), /0-15/);
      const dup = await addRegisterRow(ed.page, { signal: '9lives', offset: '6', type: 'uint16' });
      assert.equal(await hasError(dup, 'signal'), true, 'signal "9lives" accepted');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), false, 'node with bit 16 is valid');

    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-registers');
      assert.equal(await hasError(rows(ed.page).nth(0), 'bit'), true, 'reopened with bit 16 but not marked');
      await fill(rows(ed.page).nth(0), 'bit', '15');
      await fill(rows(ed.page).nth(1), 'signal', 'lives');
      assert.equal(await hasError(rows(ed.page).nth(0), 'bit'), false);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), true, 'fixed node is invalid');
  });

  test('an unknown byte order from an imported flow stays visible, marked, and the node is invalid', async () => {
    const id = await addNode(ed.page, TYPE, { registers: [{ signal: 'power', offset: 0, type: 'float32', order: 'ABDC' }] });
    assert.equal(await validateNode(ed.page, id), false, 'order ABDC accepted');
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-registers');
      const row = rows(ed.page).nth(0);
      assert.equal(await row.locator('.pdm-f-order').inputValue(), 'ABDC');
      assert.equal(await hasError(row, 'order'), true);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('Import fills the rows from JSON and from CSV, checked by the runtime; a bad import keeps the rows and lists the errors', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-registers');
      const json = JSON.stringify([
        { signal: 'flow', offset: 0, type: 'float32', order: 'DCBA', unit: 'm³/h' },
        { signal: 'level', offset: 2, type: 'uint16', scale: 0.5, bias: -10, unit: 'mm' },
      ]);
      await ed.page.locator('#node-pdm-retrofit-import').fill(json);
      await ed.page.locator('#node-pdm-retrofit-import-button').click();
      await ed.page.waitForFunction(() => $('#node-input-registers-container > li').length === 2);
      assert.match(await ed.page.locator('#node-pdm-retrofit-import-result').innerText(), /2 register\(s\) imported/);
      assert.equal(await rows(ed.page).nth(0).locator('.pdm-f-order').inputValue(), 'DCBA');
      assert.equal(await rows(ed.page).nth(1).locator('.pdm-f-bias').inputValue(), '-10');

      await ed.page.locator('#node-pdm-retrofit-import').fill('signal;offset;type;order;bit\nrun;4;bit;;3\nspeed;5;int32;CDAB;\n');
      await ed.page.locator('#node-pdm-retrofit-import-button').click();
      await ed.page.waitForFunction(() => $('#node-input-registers-container > li').length === 2 && $('#node-input-registers-container .pdm-f-signal').first().val() === 'run');

      await ed.page.locator('#node-pdm-retrofit-import').fill('[{"signal":"x","offset":0,"type":"float32","order":"ABDC"}]');
      await ed.page.locator('#node-pdm-retrofit-import-button').click();
      await ed.page.locator('#node-pdm-retrofit-import-result li').first().waitFor();
      assert.match(await ed.page.locator('#node-pdm-retrofit-import-result').innerText(), /order must be one of ABCD, CDAB, BADC, DCBA/);
      assert.equal(await rows(ed.page).count(), 2, 'a failed import keeps the rows');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.deepEqual(props.registers, [
      { signal: 'run', offset: 4, type: 'bit', order: 'ABCD', bit: 3, scale: 1, bias: 0 },
      { signal: 'speed', offset: 5, type: 'int32', order: 'CDAB', scale: 1, bias: 0 },
    ]);
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the tag map and scaling tables save their rows; a 4–20 mA row without a range is marked', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-tags');
      await ed.page.locator('#pdm-retrofit-tab-tags .red-ui-editableList-addButton').click();
      const tag = ed.page.locator('#node-input-tags-container > li').nth(0);
      await fill(tag, 'address', 'ns=3;s=Pump.Temp');
      await fill(tag, 'signal', 'bearing_temperature');
      await fill(tag, 'unit', '°C');
      await showTab(ed.page, 'pdm-retrofit-tab-scaling');
      await ed.page.locator('#pdm-retrofit-tab-scaling .red-ui-editableList-addButton').click();
      const scale = ed.page.locator('#node-input-scaling-container > li').nth(0);
      await fill(scale, 'signal', 'pressure');
      assert.equal(await hasError(scale, 'min'), true, 'a loop without its range is not marked');
      await fill(scale, 'min', '0');
      await fill(scale, 'max', '10');
      await fill(scale, 'unit', 'bar');
      assert.equal(await hasError(scale, 'min'), false);
      assert.equal(await hasError(scale, 'max'), false);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.deepEqual(props.tags, [{ address: 'ns=3;s=Pump.Temp', signal: 'bearing_temperature', unit: '°C' }]);
    assert.deepEqual(props.scaling, [{ signal: 'pressure', kind: 'loop', min: 0, max: 10, currentUnit: 'mA', unit: 'bar' }]);
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the zone presets are exactly the core\'s, one to pick', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await showTab(ed.page, 'pdm-retrofit-tab-waveform');
      const values = await ed.page.locator('#node-input-zonePreset option').evaluateAll((os: any[]) => os.map((o) => o.value));
      assert.deepEqual(values, ['', ...Object.keys(ZONE_PRESETS)]);
      await ed.page.locator('#node-input-zonePreset').selectOption('iso10816-3/group2-rigid');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).zonePreset, 'iso10816-3/group2-rigid');
  });

  test('the help panel shows the help text with its sections', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, 'retrofit');
    assert.match(help.text, /^Turns what Modbus and OPC UA nodes/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    assert.match(help.text, /Register map/);
    assert.match(help.text, /BadNodeIdUnknown/);
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
