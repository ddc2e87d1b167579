/**
 * pdm-alert in the real Node-RED 4.1 editor, in headless Chromium: palette, catalog labels and
 * options, defaults, field validation (numbers, M of N, operating states, the flood end below the
 * flood start), the Overrides JSON editor (kept on Done, dropped on Cancel, invalid JSON makes the
 * node invalid), output port labels and the help panel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  addNode,
  assertFieldMarks,
  assertInPalette,
  closeEditor,
  editNode,
  editorSuiteSkip,
  fieldLabel,
  fieldPlaceholder,
  hasInputError,
  nodeCatalog,
  nodeProps,
  openHelp,
  readField,
  setField,
  typeField,
  useEditorSuite,
  validateNode,
} from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
declare const window: any;

const TYPE = 'pdm-alert';
const catalog = nodeCatalog(TYPE) as {
  paletteLabel: string;
  label: Record<string, string>;
  option: Record<string, string>;
  outputs: Record<string, string>;
  placeholder: Record<string, string>;
};

const DEFAULTS: Record<string, string | boolean> = {
  root: 'pdm',
  defaultClass: 'motor',
  scoreAbove: '',
  onDelaySec: '300',
  mOfN: '3/5',
  widenBy: '0.15',
  agreeSec: '0',
  severeSec: '300',
  hysteresis: '0.05',
  offDelaySec: '300',
  deescalateSec: '300',
  dataWarnSec: '900',
  ackFrom: 'warning',
  latching: false,
  suppress: 'off, startup, shutdown',
  maxShelveSec: '28800',
  floodCount: '10',
  floodWindowSec: '600',
  floodEndCount: '5',
  floodSuppress: 'warning',
  kpiSec: '3600',
  clock: 'wall',
  store: '',
  persistSec: '5',
};

/** Replaces the Overrides text as a user would (select all, delete, insert) and leaves the field. */
async function typeOverrides(page: Page, text: string): Promise<void> {
  const area = page.locator('#node-input-overrides');
  await area.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.insertText(text);
  await area.blur();
}

describe('pdm-alert editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE]);

  test('the palette shows the node under "predictive maintenance" with its own icon', async () => {
    await assertInPalette(ed.page, TYPE, catalog.paletteLabel);
  });

  test('the edit dialog shows every field with its catalog label, options and defaults', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is invalid');
    await editNode(ed.page, id);
    try {
      for (const [prop, value] of Object.entries(DEFAULTS)) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-alert\./, `raw catalog key shown for ${prop}`);
        assert.equal(await readField(ed.page, prop), value, `default of ${prop}`);
        assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await fieldLabel(ed.page, 'overrides'), catalog.label.overrides);
      assert.equal(await readField(ed.page, 'overrides'), '');
      assert.equal(await fieldPlaceholder(ed.page, 'scoreAbove'), catalog.placeholder.scoreAbove);
      const options = (sel: string) => ed.page.locator(`${sel} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(await options('#node-input-ackFrom'), [
        ['watch', catalog.option.watch],
        ['warning', catalog.option.warning],
        ['action', catalog.option.action],
      ]);
      assert.deepEqual(await options('#node-input-clock'), [
        ['wall', catalog.option.wall],
        ['reading', catalog.option.reading],
      ]);
      assert.deepEqual(await options('#node-input-floodSuppress'), [
        ['none', catalog.option.none],
        ['watch', catalog.option.floodWatch],
        ['warning', catalog.option.floodWarning],
      ]);
      assert.deepEqual((await options('#node-input-defaultClass')).map(([v]: string[]) => v), ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox']);
      // The default store first, then the runtime's configured stores.
      const stores: string[] = await ed.page.evaluate(() => (RED.settings.context && RED.settings.context.stores) || []);
      assert.deepEqual(await options('#node-input-store'), [['', catalog.label.defaultStore], ...stores.map((s) => [s, s])]);
      const headings = await ed.page.locator('#dialog-form h4').allInnerTexts();
      assert.deepEqual(headings.map((h) => h.trim()), [catalog.label.tiers, catalog.label.clearing, catalog.label.lifecycle, catalog.label.flood, catalog.label.persistence]);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('invalid values mark their field and the node invalid; good values clear the mark', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['root', ['', '/pdm', 'a/+/b', 'plant pdm'], 'plant/pdm'],
      ['scoreAbove', ['1.5', '-0.1', 'high'], '0.6'],
      ['onDelaySec', ['-1', 'abc', ''], '120'],
      ['mOfN', ['5/3', '0/2', '3', 'x/y', '3/99'], '2 of 4'],
      ['widenBy', ['2', '-1'], '0.2'],
      ['hysteresis', ['1.1'], '0.1'],
      ['offDelaySec', ['-5'], '60'],
      ['suppress', ['off, nap', 'sleeping'], 'off, startup'],
      ['maxShelveSec', ['0', 'x'], '3600'],
      ['floodCount', ['0', '2.5', 'x'], '20'],
      ['floodEndCount', ['-1', '25', '1.5'], '8'],
      ['kpiSec', ['0', ''], '600'],
      ['persistSec', ['0', '-1'], '10'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases, true);
      // Lowering "flood above" below "flood ends below" marks the latter.
      await typeField(ed.page, 'floodCount', '6');
      assert.equal(await hasInputError(ed.page, 'floodEndCount'), true, 'flood end 8 above flood start 6 accepted');
      await typeField(ed.page, 'floodCount', '20');
      assert.equal(await hasInputError(ed.page, 'floodEndCount'), false);
      await setField(ed.page, 'latching', true);
      await setField(ed.page, 'ackFrom', 'action');
      await typeField(ed.page, 'mOfN', '4/3');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    let props = await nodeProps(ed.page, id);
    assert.equal(props.mOfN, '4/3');
    assert.equal(props.latching, true);
    assert.equal(props.ackFrom, 'action');
    assert.equal(props.suppress, 'off, startup');
    assert.equal(await validateNode(ed.page, id), false, 'a node with M > N is valid');
    await editNode(ed.page, id);
    try {
      assert.equal(await hasInputError(ed.page, 'mOfN'), true, 'reopened with M > N but not marked');
      await typeField(ed.page, 'mOfN', '3/5');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    props = await nodeProps(ed.page, id);
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the Overrides field keeps its text on Done, drops edits on Cancel, and marks invalid overrides while typing', async () => {
    const id = await addNode(ed.page, TYPE);
    const json = '{"pump": {"warning": {"onDelayMs": 600000}}, "assets": {"P-101": {"lifecycle": {"latching": true}}}}';
    await editNode(ed.page, id);
    try {
      await typeOverrides(ed.page, json);
      assert.equal(await readField(ed.page, 'overrides'), json);
      assert.equal(await hasInputError(ed.page, 'overrides'), false);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).overrides, json);
    assert.equal(await validateNode(ed.page, id), true);
    await editNode(ed.page, id);
    try {
      assert.equal(await readField(ed.page, 'overrides'), json, 'reopened Overrides field lost its text');
      await typeOverrides(ed.page, '{"motor": {}}');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
    assert.equal((await nodeProps(ed.page, id)).overrides, json, 'Cancel changed the overrides');
    const cases: Array<[string, boolean]> = [
      ['{"toaster": {}}', false],
      ['{"pump": ', false],
      ['[]', false],
      ['{"pump": 5}', false],
      ['{"default": {"clear": {"offDelayMs": 0}}}', true],
      ['', true],
    ];
    await editNode(ed.page, id);
    try {
      for (const [text, good] of cases) {
        await typeOverrides(ed.page, text);
        assert.equal(await hasInputError(ed.page, 'overrides'), !good, `overrides ${JSON.stringify(text)} marked ${!good ? 'valid' : 'invalid'}`);
      }
      await typeOverrides(ed.page, '{"pump": ');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), false, 'broken overrides saved but the node is valid');
  });

  test('each output port shows its label from the catalog', async () => {
    const id = await addNode(ed.page, TYPE, { x: 520, y: 360 });
    const labels = await ed.page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      return [0, 1, 2, 3, 4].map((i) => n._def.outputLabels.call(n, i));
    }, id);
    assert.deepEqual(labels, [catalog.outputs.alerts, catalog.outputs.events, catalog.outputs.twin, catalog.outputs.kpis, catalog.outputs.rejects]);
    assert.equal(await ed.page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 5);
  });

  test('the help panel documents inputs, outputs, every command and the references', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Turns anomaly scores and business rules into few, credible alerts/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const out of ['Latest alert', 'Events', 'Twin labels', 'KPIs', 'Rejects']) assert.match(help.text, new RegExp(out), `help lists no ${out} output`);
    for (const cmd of ['acknowledge', 'shelve', 'unshelve', 'out_of_service', 'return_to_service', 'label', 'maintenance', 'get', 'list', 'kpi', 'reset']) {
      assert.match(help.text, new RegExp(`\\b${cmd}\\b`), `help does not document the ${cmd} command`);
    }
    for (const ref of ['ISA-18.2', 'OPC UA Part 9', 'EEMUA 191']) assert.match(help.text, new RegExp(ref));
  });

  test('the editor logged no errors', () => {
    assert.deepEqual(ed.errors, []);
  });
});
