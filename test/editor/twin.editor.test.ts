/**
 * pdm-twin in the real Node-RED 4.1 editor, in headless Chromium: palette, catalog labels and
 * options, field validation, the Fleet ace editor (value kept on Done, dropped on Cancel, invalid
 * fleet text makes the node invalid), output port labels and the help panel.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  TIMEOUTS,
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
  outputPortTooltip,
  readField,
  typeField,
  useEditorSuite,
  validateNode,
} from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;
declare const window: any;
declare const navigator: any;

const TYPE = 'pdm-twin';
const catalog = nodeCatalog(TYPE) as { paletteLabel: string; label: Record<string, string>; option: Record<string, string>; outputs: Record<string, string> };

const CLASSES = ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox'];
const FIELDS = ['root', 'windowSec', 'staleFactor', 'snapshotSec', 'republishSec', 'unknownAssets', 'defaultClass', 'store', 'persistSec'];

// ---- Fleet helpers --------------------------------------------------------------------------

/** The Fleet textarea's text. */
async function fleetText(page: Page): Promise<string> {
  return page.evaluate(() => String($('#node-input-fleet').val()));
}

/** Replaces the Fleet text as a user would (fill the textarea), then leaves it by clicking the Name field. */
async function typeFleet(page: Page, text: string): Promise<void> {
  await page.locator('#node-input-fleet').fill(text);
  await page.waitForFunction((t: string) => $('#node-input-fleet').val() === t, text, { timeout: TIMEOUTS.ui });
  await page.locator('#node-input-name').click();
}

// ---------------------------------------------------------------------------------------------

describe('pdm-twin editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE, 'pdm-asset'], { settings: { contextStorage: { memory: { module: 'memory' }, file: { module: 'localfilesystem' } } } });
  before(() => ed.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ed.server.url.replace(/\/$/, '') }));

  test('the palette shows the node under "predictive maintenance" with its own icon', async () => {
    const entry = await assertInPalette(ed.page, TYPE, catalog.paletteLabel);
    assert.equal(entry.header, 'predictive maintenance');
  });

  test('the edit dialog shows every field with its catalog label, options and defaults', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is invalid');
    await editNode(ed.page, id);
    try {
      assert.equal(await fieldLabel(ed.page, 'name'), 'Name');
      for (const prop of FIELDS) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-twin\./, `raw catalog key shown for ${prop}`);
        assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await fieldLabel(ed.page, 'fleet'), catalog.label.fleet);
      assert.equal(await fieldPlaceholder(ed.page, 'root'), 'pdm');
      assert.equal(await readField(ed.page, 'root'), 'pdm');
      assert.equal(await readField(ed.page, 'windowSec'), '60');
      assert.equal(await readField(ed.page, 'staleFactor'), '5');
      assert.equal(await readField(ed.page, 'snapshotSec'), '1');
      assert.equal(await readField(ed.page, 'republishSec'), '60');
      assert.equal(await readField(ed.page, 'persistSec'), '5');
      assert.equal(await readField(ed.page, 'unknownAssets'), 'create');
      assert.equal(await readField(ed.page, 'defaultClass'), 'motor');
      assert.equal(await readField(ed.page, 'store'), '');
      assert.equal(await fleetText(ed.page), '');

      const options = (sel: string) => ed.page.locator(`${sel} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(await options('#node-input-unknownAssets'), [
        ['create', catalog.option.create],
        ['reject', catalog.option.reject],
      ]);
      assert.deepEqual(await options('#node-input-defaultClass'), CLASSES.map((c) => [c, c]));
      // This runtime has two context stores (see before()): both are offered after the default.
      const stores = await options('#node-input-store');
      assert.deepEqual(stores[0], ['', catalog.label.defaultStore]);
      assert.deepEqual(stores.slice(1).map(([v]) => v).sort(), ['file', 'memory']);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('an invalid root topic, window, stale factor or interval marks its field and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['root', ['', '/plant', 'plant/#', 'a/+/b', 'plant//pdm', 'plant pdm'], 'plant/pdm'],
      ['windowSec', ['0', '-10', 'abc', ''], '10'],
      ['staleFactor', ['0', '-1'], '3'],
      ['snapshotSec', ['0', 'x'], '2'],
      ['republishSec', ['-1', 'x', ''], '0'],
      ['persistSec', ['-5', ''], '30'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases, true);
      await typeField(ed.page, 'windowSec', '0');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    let props = await nodeProps(ed.page, id);
    assert.equal(props.root, 'plant/pdm');
    assert.equal(props.windowSec, '0');
    assert.equal(await validateNode(ed.page, id), false, 'a node with a 0 s window is valid');

    await editNode(ed.page, id);
    try {
      assert.equal(await hasInputError(ed.page, 'windowSec'), true, 'reopened with a 0 s window but not marked');
      await typeField(ed.page, 'windowSec', '10');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    props = await nodeProps(ed.page, id);
    assert.equal(props.windowSec, '10');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the Fleet field keeps its text on Done, shows it again on reopen, and drops edits on Cancel', async () => {
    const id = await addNode(ed.page, TYPE);
    const csv = 'id,name,assetClass,ratedCurrentA\nP-101,Feed pump,pump,21\nP-102,Spare feed pump,pump,21';
    await editNode(ed.page, id);
    try {
      await typeFleet(ed.page, csv);
      assert.equal(await fleetText(ed.page), csv);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).fleet, csv);
    assert.equal(await validateNode(ed.page, id), true, 'a valid CSV fleet made the node invalid');

    await editNode(ed.page, id);
    try {
      assert.equal(await fleetText(ed.page), csv, 'reopened Fleet field lost its text');
      await typeFleet(ed.page, '[{"id": "M-1", "assetClass": "motor"}]');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
    assert.equal((await nodeProps(ed.page, id)).fleet, csv, 'Cancel changed the fleet');

    await editNode(ed.page, id);
    try {
      assert.equal(await fleetText(ed.page), csv);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('invalid fleet text (CSV without assetClass, broken JSON, a JSON object) makes the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    const bad = [
      'id,name,ratedCurrentA\nM-1,Motor,20',
      'name,assetClass\nMotor,motor',
      '[{"id": "M-1", "assetClass": "motor"',
      '{"id": "M-1", "assetClass": "motor"}',
    ];
    const good = ['[{"id": "M-1", "assetClass": "motor"}]', 'id,assetClass\nM-1,motor', ''];
    for (const text of [...bad, ...good]) {
      await editNode(ed.page, id);
      try {
        await typeFleet(ed.page, text);
      } finally {
        await closeEditor(ed.page, 'done');
      }
      assert.equal((await nodeProps(ed.page, id)).fleet, text);
      const valid = await validateNode(ed.page, id);
      assert.equal(valid, good.includes(text), `fleet ${JSON.stringify(text)}: node valid = ${valid}`);
      // the canvas shows the invalid marker (red triangle) for an invalid node
      const marker = await ed.page.evaluate(
        (id: string) => $(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-error`).not('.hide').length > 0,
        id,
      );
      assert.equal(marker, !good.includes(text), `canvas marker for fleet ${JSON.stringify(text)}`);
    }
  });

  test(
    'invalid fleet text is marked in the dialog while typing',
    async () => {
      const id = await addNode(ed.page, TYPE, { fleet: 'id,name\nM-1,x' });
      await editNode(ed.page, id);
      try {
        const marked = await ed.page.evaluate(
          () => $('#node-input-fleet').hasClass('input-error'),
        );
        assert.equal(marked, true);
      } finally {
        await closeEditor(ed.page, 'cancel');
      }
    },
  );

  test(
    'closing the dialog while the Fleet editor has focus raises no page error',
    async () => {
      const id = await addNode(ed.page, TYPE);
      const before = ed.errors.length;
      try {
        await editNode(ed.page, id);
        try {
          await ed.page.locator('#node-input-fleet').click();
          await ed.page.keyboard.type('id,assetClass');
        } finally {
          await closeEditor(ed.page, 'done');
        }
        assert.equal((await nodeProps(ed.page, id)).fleet, 'id,assetClass');
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(ed.errors.slice(before), []);
      } finally {
        ed.errors.splice(before); // reported here, not again by the final no-errors test
      }
    },
  );

  test('each output port shows its label from the catalog', async () => {
    const id = await addNode(ed.page, TYPE, { x: 520, y: 360 });
    const labels = await ed.page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      return [0, 1, 2, 3].map((i) => n._def.outputLabels.call(n, i));
    }, id);
    const want = [catalog.outputs.snapshot, catalog.outputs.windows, catalog.outputs.events, catalog.outputs.rejects];
    assert.deepEqual(labels, want);
    assert.equal(await ed.page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 4);
    for (let i = 0; i < 4; i++) assert.equal(await outputPortTooltip(ed.page, id, i), want[i], `tooltip of output ${i + 1}`);
  });

  test('the help panel shows the help with Inputs, Outputs and Details', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Keeps a living twin of every asset/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const out of ['Snapshots', 'Feature windows', 'Events', 'Rejects']) assert.match(help.text, new RegExp(out), `help lists no ${out} output`);
    for (const cmd of ['get', 'list', 'reset', 'rebaseline', 'event', 'import', 'export']) {
      assert.match(help.text, new RegExp(`\\b${cmd}\\b`), `help does not document the ${cmd} command`);
    }
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
