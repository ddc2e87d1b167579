/**
 * pdm-anomaly in the real Node-RED 4.1 editor, in headless Chromium: palette, catalog labels,
 * options and defaults, field validation (threshold, warm-up, retraining, root, save interval),
 * the feature checkboxes, output port labels and the help panel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
  typeField,
  useEditorSuite,
  validateNode,
} from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;

const TYPE = 'pdm-anomaly';
const catalog = nodeCatalog(TYPE) as {
  paletteLabel: string;
  label: Record<string, string>;
  option: Record<string, string>;
  outputs: Record<string, string>;
};

const FIELDS = ['root', 'method', 'scope', 'assetClass', 'features', 'warmupWindows', 'warmupHours', 'threshold', 'retrainHours', 'seed', 'publish', 'store', 'persistSec'];
const CLASSES = ['motor', 'pump', 'compressor', 'fan', 'conveyor', 'gearbox'];

describe('pdm-anomaly editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE], { settings: { contextStorage: { memory: { module: 'memory' }, file: { module: 'localfilesystem' } } } });

  const options = (sel: string) => ed.page.locator(`${sel} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
  const checked = (stat: string) => ed.page.evaluate((s: string) => $(`#pdm-anomaly-stat-${s}`).prop('checked') as boolean, stat);

  test('the palette shows the node under "predictive maintenance" with its own icon', async () => {
    await assertInPalette(ed.page, TYPE, catalog.paletteLabel);
  });

  test('the dialog opens with every field under its catalog label, with the documented defaults and options', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is invalid');
    await editNode(ed.page, id);
    try {
      assert.equal(await fieldLabel(ed.page, 'name'), 'Name');
      for (const prop of FIELDS) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-anomaly\./, `raw catalog key shown for ${prop}`);
        if (prop !== 'features' && prop !== 'publish') assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await fieldPlaceholder(ed.page, 'root'), 'pdm');
      const defaults: Record<string, string | boolean> = { root: 'pdm', method: 'combined', scope: 'asset', assetClass: 'pump', features: 'mean', warmupWindows: '120', warmupHours: '2', threshold: '0.5', retrainHours: '24', seed: '1', publish: false, store: '', persistSec: '60' };
      for (const [prop, value] of Object.entries(defaults)) assert.equal(await readField(ed.page, prop), value, `default of ${prop}`);
      assert.deepEqual(await options('#node-input-method'), ['combined', 'robustZ', 'iforest', 'pca'].map((m) => [m, catalog.option[m]]));
      assert.deepEqual(await options('#node-input-scope'), [['asset', catalog.option.asset], ['class', catalog.option.class]]);
      assert.deepEqual(await options('#node-input-assetClass'), CLASSES.map((c) => [c, c]));
      const stores = await options('#node-input-store');
      assert.deepEqual(stores[0], ['', catalog.label.defaultStore]);
      assert.deepEqual(stores.slice(1).map(([v]) => v).sort(), ['file', 'memory']);
      assert.deepEqual(await Promise.all(['mean', 'rms', 'std', 'slope'].map(checked)), [true, false, false, false]);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('an invalid threshold, warm-up, retrain interval, root or save interval marks its field and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['threshold', ['0', '1', '1.5', '-0.2', 'abc', ''], '0.7'],
      ['warmupWindows', ['1', '0', '2.5', '-3', 'x', '', '100001'], '60'],
      ['warmupHours', ['-1', 'x', '', '9000'], '0'],
      ['retrainHours', ['-1', 'never', ''], '0'],
      ['seed', ['1.5', 'x', ''], '42'],
      ['root', ['', '/plant', 'plant/#', 'a/+/b', 'plant pdm'], 'plant/pdm'],
      ['persistSec', ['0', '-5', ''], '30'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases, true);
      await typeField(ed.page, 'threshold', '1.2');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    let props = await nodeProps(ed.page, id);
    assert.equal(props.threshold, '1.2');
    assert.equal(props.warmupWindows, '60');
    assert.equal(await validateNode(ed.page, id), false, 'a node with threshold 1.2 is valid');

    await editNode(ed.page, id);
    try {
      assert.equal(await hasInputError(ed.page, 'threshold'), true, 'reopened with threshold 1.2 but not marked');
      await typeField(ed.page, 'threshold', '0.6');
      await typeField(ed.page, 'warmupWindows', '1');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), false, 'a node with 1 warm-up window is valid');
    await editNode(ed.page, id);
    try {
      assert.equal(await hasInputError(ed.page, 'warmupWindows'), true);
      await typeField(ed.page, 'warmupWindows', '30');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    props = await nodeProps(ed.page, id);
    assert.equal(props.threshold, '0.6');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the feature checkboxes set the Features list; none checked marks the row and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await ed.page.locator('#pdm-anomaly-stat-std').check();
      await ed.page.locator('#pdm-anomaly-stat-slope').check();
      assert.equal(await readField(ed.page, 'features'), 'mean,std,slope');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).features, 'mean,std,slope');
    await editNode(ed.page, id);
    try {
      assert.deepEqual(await Promise.all(['mean', 'rms', 'std', 'slope'].map(checked)), [true, false, true, true], 'reopened with other boxes');
      for (const s of ['mean', 'std', 'slope']) await ed.page.locator(`#pdm-anomaly-stat-${s}`).uncheck();
      assert.equal(await readField(ed.page, 'features'), '');
      assert.equal(await ed.page.evaluate(() => $('#pdm-anomaly-stats').hasClass('input-error') as boolean), true, 'no feature but the row is not marked');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), false, 'a node without features is valid');
    await editNode(ed.page, id);
    try {
      assert.deepEqual(await Promise.all(['mean', 'rms', 'std', 'slope'].map(checked)), [false, false, false, false], 'reopened without features but boxes checked');
      assert.equal(await ed.page.evaluate(() => $('#pdm-anomaly-stats').hasClass('input-error') as boolean), true, 'reopened without features but not marked');
      await ed.page.locator('#pdm-anomaly-stat-rms').check();
      assert.equal(await ed.page.evaluate(() => $('#pdm-anomaly-stats').hasClass('input-error') as boolean), false);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).features, 'rms');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('each output port has its label from the catalog', async () => {
    const id = await addNode(ed.page, TYPE, { x: 520, y: 360 });
    const labels = await ed.page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      return [0, 1, 2].map((i) => n._def.outputLabels.call(n, i));
    }, id);
    assert.deepEqual(labels, [catalog.outputs.scores, catalog.outputs.models, catalog.outputs.rejects]);
    assert.equal(await ed.page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 3);
  });

  test('the help panel has Inputs, Outputs, Details and References, and explains methods, warm-up and the threshold', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Scores the feature windows of each asset/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const out of ['Scores', 'Models and command answers', 'Rejects']) assert.match(help.text, new RegExp(out), `help lists no ${out} output`);
    for (const cmd of ['rebaseline', 'retrain', 'label', 'export', 'import', 'status']) assert.match(help.text, new RegExp(`\\b${cmd}\\b`), `help does not document ${cmd}`);
    for (const topic of [/Robust z/, /Isolation forest/, /Hotelling T²/, /\bQ\b/, /Combined/, /Warm-up/i, /Threshold/, /Protected learning/, /Masking/, /newer format version/]) {
      assert.match(help.text, topic, `help does not explain ${topic}`);
    }
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
