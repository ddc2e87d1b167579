/**
 * pdm-history in the real Node-RED 4.1 editor, in headless Chromium: palette, catalog labels and
 * options, defaults, field validation, the password as a credential (never in an export nor in
 * flows.json after a deploy), the core TLS configuration picker, output port labels and the help.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS,
  addNode,
  assertFieldMarks,
  assertInPalette,
  closeEditor,
  editNode,
  editorSuiteSkip,
  fieldLabel,
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

const TYPE = 'pdm-history';
const catalog = nodeCatalog(TYPE) as {
  paletteLabel: string;
  label: Record<string, string>;
  option: Record<string, string>;
  outputs: Record<string, string>;
};
const FIELDS = ['host', 'port', 'database', 'user', 'password', 'tls', 'schema', 'variant', 'batchRows', 'maxDelayMs', 'maxQueueRows', 'rawDays', 'aggregateDays', 'longDays', 'maintenanceMin'];

describe('pdm-history editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE, 'tls-config']);

  test('the palette shows the node under "predictive maintenance" with its own icon', async () => {
    await assertInPalette(ed.page, TYPE, catalog.paletteLabel);
  });

  test('the edit dialog shows every field with its catalog label, options and defaults', async () => {
    const id = await addNode(ed.page, TYPE);
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is invalid');
    await editNode(ed.page, id);
    try {
      for (const prop of FIELDS) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-history\./, `raw catalog key shown for ${prop}`);
        if (prop !== 'tls') assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      const defaults: Record<string, string> = { host: '127.0.0.1', port: '5432', database: 'postgres', user: 'postgres', password: '', schema: 'pdm', variant: 'auto', batchRows: '5000', maxDelayMs: '500', maxQueueRows: '100000', rawDays: '7', aggregateDays: '180', longDays: '1825', maintenanceMin: '5' };
      for (const [prop, value] of Object.entries(defaults)) assert.equal(await readField(ed.page, prop), value, `default of ${prop}`);
      assert.equal(await ed.page.locator('#node-input-password').getAttribute('type'), 'password');
      const options = await ed.page.locator('#node-input-variant option').evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(options, [
        ['auto', catalog.option.auto],
        ['plain', catalog.option.plain],
        ['timescale', catalog.option.timescale],
      ]);
      const picker = await ed.page.evaluate(() => $('#node-input-tls').is('select') && $('#node-input-btn-tls-edit').length === 1);
      assert.equal(picker, true, 'no tls-config picker');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('an invalid host, port, schema, batch, delay, queue, tier or interval marks its field and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['host', ['', 'a b', 'http://x/'], 'db.example.com'],
      ['port', ['0', '70000', '1.5', 'x'], '6432'],
      ['database', [''], 'plant'],
      ['user', [''], 'writer'],
      ['schema', ['', 'Pdm', 'a-b', '1x'], 'pdm_history'],
      ['batchRows', ['0', '100001', '2.5'], '1000'],
      ['maxDelayMs', ['-1', '1.5', ''], '0'],
      ['maxQueueRows', ['0', 'x'], '50000'],
      ['rawDays', ['0', '-1', 'x'], '14'],
      ['aggregateDays', ['0', ''], '365'],
      ['longDays', ['0', 'x'], '3650'],
      ['maintenanceMin', ['-1', '2000', 'x'], '0'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases);
      await typeField(ed.page, 'port', '0');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.host, 'db.example.com');
    assert.equal(props.schema, 'pdm_history');
    assert.equal(await validateNode(ed.page, id), false, 'a node with port 0 is valid');
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'port', '5432');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the password is a credential: kept by the editor, absent from an export and from flows.json after a deploy', async () => {
    const id = await addNode(ed.page, TYPE, { x: 300, y: 500 });
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'password', 'pg-Secret-77');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const held = await ed.page.evaluate((id: string) => RED.nodes.node(id).credentials, id);
    assert.equal(held.password, 'pg-Secret-77');
    const exported = await ed.page.evaluate((id: string) => JSON.stringify(RED.nodes.createExportableNodeSet([RED.nodes.node(id)])), id);
    assert.doesNotMatch(exported, /pg-Secret-77/, 'password in an export');
    const flowsFile = path.join(ed.server.userDir, 'flows.json');
    await ed.page.locator('#red-ui-header-button-deploy').click();
    const confirm = ed.page.locator('#node-dialog-confirm-deploy-deploy');
    await Promise.race([confirm.waitFor({ state: 'visible', timeout: 3000 }).then(() => confirm.click()), ed.page.waitForFunction(() => !RED.nodes.dirty(), undefined, { timeout: 3000 })]).catch(() => {});
    await ed.page.waitForFunction(() => !RED.nodes.dirty(), undefined, { timeout: TIMEOUTS.ui });
    const flows = fs.readFileSync(flowsFile, 'utf8');
    assert.match(flows, new RegExp(id), 'the node was deployed');
    assert.doesNotMatch(flows, /pg-Secret-77/, 'password in flows.json');
    assert.match(fs.readFileSync(path.join(ed.server.userDir, 'flows_cred.json'), 'utf8'), /pg-Secret-77/, 'the password is in the credentials file');
    await editNode(ed.page, id);
    try {
      assert.notEqual(await readField(ed.page, 'password'), 'pg-Secret-77');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('each output port shows its label from the catalog', async () => {
    const id = await addNode(ed.page, TYPE, { x: 520, y: 360 });
    const want = [catalog.outputs.reports, catalog.outputs.rejects];
    assert.equal(await ed.page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 2);
    for (let i = 0; i < 2; i++) assert.equal(await outputPortTooltip(ed.page, id, i), want[i], `tooltip of output ${i + 1}`);
  });

  test('the help panel shows Inputs, Outputs, Details and References', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Writes readings, feature windows, scores/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const word of ['ON CONFLICT DO NOTHING', 'historical', 'Retention tiers', 'readings_1m', 'TimescaleDB', 'credential', 'queue_full']) assert.match(help.text, new RegExp(word), `help does not mention ${word}`);
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
