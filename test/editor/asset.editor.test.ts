/**
 * pdm-asset (config node) in the real Node-RED 4.1 editor, in headless Chromium: the config dialog
 * opened the way the Configuration nodes sidebar opens it (RED.editor.editConfig("", type, id)),
 * catalog labels, the class select, field validation, Update/Cancel and the help panel.
 *
 * The harness's field helpers address `#node-input-<prop>`; a config node's dialog uses
 * `#node-config-input-<prop>`, so the config-dialog helpers live here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  editorSuiteSkip,
  nodeCatalog,
  nodeProps,
  openHelp,
  useEditorSuite,
  validateNode,
} from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;

const TYPE = 'pdm-asset';
const catalog = nodeCatalog(TYPE) as { paletteLabel: string; label: Record<string, string>; placeholder: Record<string, string> };

const CLASSES = ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox'];
const FIELDS = ['assetId', 'assetClass', 'site', 'area', 'line', 'ratedCurrentA', 'ratedPowerKW', 'ratedSpeedRpm', 'ratedVoltageV', 'sensors', 'limits', 'thresholds'];

// ---- config-dialog helpers (#node-config-input-<prop>) --------------------------------------

const cfield = (prop: string) => `#node-config-input-${prop}`;

/** Adds a global (no `z`) config node of `type` with `props`; returns its id. */
async function addConfigNode(page: Page, type: string, props: Record<string, unknown> = {}): Promise<string> {
  return page.evaluate(
    ({ type, props }) => {
      const id = RED.nodes.id();
      RED.view.importNodes([{ id, type, ...props }], {
        generateIds: false,
        addFlow: false,
        touchImport: true,
        notify: false,
        applyNodeDefaults: true,
      });
      const n = RED.nodes.node(id);
      if (!n) throw new Error(`config node of type ${type} was not added`);
      if (n.z) throw new Error(`config node ${id} is scoped to ${n.z}, expected global`);
      return id as string;
    },
    { type, props },
  );
}

/** Opens a config node's edit tray the way the Configuration nodes sidebar does. */
async function editConfig(page: Page, id: string): Promise<void> {
  await page.evaluate((id: string) => {
    const n = RED.nodes.node(id);
    if (!n) throw new Error(`no config node ${id}`);
    RED.editor.editConfig('', n.type, n.id);
  }, id);
  await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'visible' });
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
}

/** Closes the config tray with Update (done) or Cancel and waits until it is gone. */
async function closeConfig(page: Page, how: 'done' | 'cancel'): Promise<void> {
  await page.locator(how === 'done' ? '#node-config-dialog-ok' : '#node-config-dialog-cancel').click();
  await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'detached' });
}

async function configLabel(page: Page, prop: string): Promise<string> {
  return (await page.locator(`label[for="node-config-input-${prop}"]`).innerText()).trim();
}

/** Types into a config field as a user would (the typedInput's own input for typedInput fields), then leaves it. */
async function typeConfig(page: Page, prop: string, text: string): Promise<void> {
  const typed = page.locator(`${cfield(prop)} + .red-ui-typedInput-container input.red-ui-typedInput-input`);
  const target = (await typed.count()) > 0 ? typed : page.locator(cfield(prop));
  await target.click();
  await target.press('ControlOrMeta+a');
  await target.press('Backspace');
  if (text) await target.pressSequentially(text);
  await target.blur();
}

async function readConfig(page: Page, prop: string): Promise<string> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    if (!input.length) throw new Error(`no field ${sel}`);
    if (input.next('.red-ui-typedInput-container').length) return input.typedInput('value') as string;
    return input.val() as string;
  }, cfield(prop));
}

async function configHasError(page: Page, prop: string): Promise<boolean> {
  return page.evaluate((sel: string) => {
    const input = $(sel);
    if (!input.length) throw new Error(`no field ${sel}`);
    return input.hasClass('input-error') || input.next('.red-ui-typedInput-container').hasClass('input-error');
  }, cfield(prop));
}

// ---------------------------------------------------------------------------------------------

describe('pdm-asset editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE, 'pdm-twin']);

  test('is a config node: not in the palette, labelled by name, else asset id, else the palette label', async () => {
    const info = await ed.page.evaluate((type: string) => {
      const def = RED.nodes.getType(type);
      const label = (props: Record<string, string>) => def.label.call({ ...props, _: def._ });
      return {
        category: def.category,
        inPalette: $(`.red-ui-palette-node[data-palette-type="${type}"]`).length,
        named: label({ name: 'Cooling pump', assetId: 'P-101' }),
        idOnly: label({ name: '', assetId: 'P-101' }),
        empty: label({ name: '', assetId: '' }),
        palette: def.paletteLabel.call({ _: def._ }),
      };
    }, TYPE);
    assert.equal(info.category, 'config');
    assert.equal(info.inPalette, 0, 'a config node shows in the palette');
    assert.equal(info.named, 'Cooling pump');
    assert.equal(info.idOnly, 'P-101');
    assert.equal(info.empty, catalog.paletteLabel);
    assert.equal(info.palette, catalog.paletteLabel);
  });

  test('the config dialog opens with every field labelled from the catalog; a new asset needs an id', async () => {
    const id = await addConfigNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), false, 'an asset without an id is valid');
    await editConfig(ed.page, id);
    try {
      assert.equal(await ed.page.locator('label[for="node-config-input-name"]').innerText().then((s) => s.trim()), 'Name');
      for (const prop of FIELDS) {
        const label = await configLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-asset\./, `raw catalog key shown for ${prop}`);
      }
      assert.equal(await ed.page.locator(cfield('sensors')).getAttribute('placeholder'), catalog.placeholder.sensors);
      assert.equal(await configHasError(ed.page, 'assetId'), true, 'the empty required asset id is not marked');
      for (const prop of FIELDS.filter((p) => p !== 'assetId')) {
        assert.equal(await configHasError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await readConfig(ed.page, 'assetClass'), 'motor');
      // limits and thresholds are JSON typedInputs
      for (const prop of ['limits', 'thresholds']) {
        const type = await ed.page.evaluate((sel: string) => $(sel).typedInput('type'), cfield(prop));
        assert.equal(type, 'json', `${prop} is not a JSON typedInput`);
      }
      await typeConfig(ed.page, 'assetId', 'P-101');
      assert.equal(await configHasError(ed.page, 'assetId'), false, 'a valid asset id is still marked');
    } finally {
      await closeConfig(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.assetId, 'P-101');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the class select offers exactly the six asset classes, and keeps the chosen one', async () => {
    const id = await addConfigNode(ed.page, TYPE, { assetId: 'P-102' });
    for (let round = 0; round < 2; round++) {
      await editConfig(ed.page, id);
      try {
        const options = await ed.page.locator(`${cfield('assetClass')} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, e.textContent]));
        assert.deepEqual(options, CLASSES.map((c) => [c, c]), `round ${round}`);
        assert.equal(await readConfig(ed.page, 'assetClass'), round === 0 ? 'motor' : 'pump');
        if (round === 0) await ed.page.locator(cfield('assetClass')).selectOption('pump');
      } finally {
        await closeConfig(ed.page, 'done');
      }
    }
    assert.equal((await nodeProps(ed.page, id)).assetClass, 'pump');
  });

  test('invalid values mark their fields and the node invalid; valid ones clear the mark', async () => {
    const id = await addConfigNode(ed.page, TYPE, { assetId: 'M-201' });
    const cases: Array<[string, string[], string]> = [
      ['assetId', ['', 'plant/M-1', 'M+1', 'M#1', ' M-1'], 'M-1'],
      ['site', ['plant/1', 'plant#'], 'plant1'],
      ['line', ['line+1'], 'line-1'],
      ['ratedCurrentA', ['-20', '0', 'abc'], '20'],
      ['ratedPowerKW', ['-11'], '11'],
      ['ratedSpeedRpm', ['0'], '1470'],
      ['ratedVoltageV', ['-400'], '400'],
      ['sensors', ['current, 1st_sensor', 'current, vibration velocity'], 'current, vibration_velocity'],
      ['limits', ['{"speed": {"warningLow": 900, "actionLow": 1000}}', '{"speed": {"low": 1}}'], '{"speed": {"warningLow": 1000, "actionLow": 900}}'],
      ['limits', ['not json', '{"vibration_velocity": {"warning": 2.8}', '[1, 2]', '42'], '{"vibration_velocity": {"warning": 2.8, "action": 4.5}}'],
      ['thresholds', ['{overloadAbove: 1.2}', '[]'], '{"overloadAbove": 1.2}'],
    ];
    await editConfig(ed.page, id);
    try {
      for (const [prop, bads, good] of cases) {
        for (const bad of bads) {
          await typeConfig(ed.page, prop, bad);
          assert.equal(await readConfig(ed.page, prop), bad, `${prop} did not take ${JSON.stringify(bad)}`);
          assert.equal(await configHasError(ed.page, prop), true, `${prop} ${JSON.stringify(bad)} accepted`);
        }
        await typeConfig(ed.page, prop, good);
        assert.equal(await configHasError(ed.page, prop), false, `${prop} ${JSON.stringify(good)} still marked invalid`);
      }
      await typeConfig(ed.page, 'ratedCurrentA', '-20');
    } finally {
      await closeConfig(ed.page, 'done');
    }
    let props = await nodeProps(ed.page, id);
    assert.equal(props.ratedCurrentA, '-20');
    assert.equal(props.limits, '{"vibration_velocity": {"warning": 2.8, "action": 4.5}}');
    assert.equal(await validateNode(ed.page, id), false, 'an asset with a negative rated current is valid');

    // Reopened, the bad field is still marked; fixing it makes the node valid again.
    await editConfig(ed.page, id);
    try {
      assert.equal(await configHasError(ed.page, 'ratedCurrentA'), true, 'reopened with a negative rated current but not marked');
      await typeConfig(ed.page, 'ratedCurrentA', '21');
    } finally {
      await closeConfig(ed.page, 'done');
    }
    props = await nodeProps(ed.page, id);
    assert.equal(props.assetId, 'M-1');
    assert.equal(props.ratedCurrentA, '21');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('Cancel keeps the stored values', async () => {
    const id = await addConfigNode(ed.page, TYPE, { assetId: 'F-301', assetClass: 'fan', ratedCurrentA: '14.5' });
    await editConfig(ed.page, id);
    try {
      assert.equal(await readConfig(ed.page, 'assetClass'), 'fan');
      assert.equal(await readConfig(ed.page, 'ratedCurrentA'), '14.5');
      await typeConfig(ed.page, 'assetId', 'F/301');
      await typeConfig(ed.page, 'limits', 'not json');
      await ed.page.locator(cfield('assetClass')).selectOption('gearbox');
    } finally {
      await closeConfig(ed.page, 'cancel');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.assetId, 'F-301');
    assert.equal(props.assetClass, 'fan');
    assert.equal(props.limits, '');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('an imported asset with an unknown class is invalid', async () => {
    const id = await addConfigNode(ed.page, TYPE, { assetId: 'X-1', assetClass: 'turbine' });
    assert.equal(await validateNode(ed.page, id), false, 'class "turbine" accepted');
  });

  test(
    'an asset that no node references is not reported as an unused configuration node',
    async () => {
      const id = await addConfigNode(ed.page, TYPE, { assetId: 'U-1' });
      const unused = await ed.page.evaluate((id: string) => {
        const n = RED.nodes.node(id);
        return n._def.hasUsers !== false && n.users.length === 0;
      }, id);
      assert.equal(unused, false);
    },
  );

  test('the help panel shows the asset help with its sections', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Declares one machine/);
    for (const s of ['Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const c of CLASSES) assert.match(help.text, new RegExp(`\\b${c}\\b`), `help does not name the ${c} class`);
    assert.match(help.text, /Rated current/);
  });

  test('the dialog\'s help button shows the same help', async () => {
    const id = await addConfigNode(ed.page, TYPE, { assetId: 'G-1' });
    await editConfig(ed.page, id);
    try {
      await ed.page.evaluate(() => RED.sidebar.help.show('pdm-twin'));
      await ed.page.locator('.red-ui-tray-footer-left button').first().click();
      const title = ed.page.locator('.red-ui-sidebar-help-stack .red-ui-help-title');
      await title.waitFor({ state: 'visible' });
      assert.equal((await title.innerText()).trim(), catalog.paletteLabel);
    } finally {
      await closeConfig(ed.page, 'cancel');
    }
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
