/**
 * pdm-buffer in the real Node-RED 4.1 editor, in headless Chromium: palette, catalog labels and
 * options, defaults, field validation, credentials (password field; never in an export nor in
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

const TYPE = 'pdm-buffer';
const catalog = nodeCatalog(TYPE) as {
  paletteLabel: string;
  label: Record<string, string>;
  option: Record<string, string>;
  outputs: Record<string, string>;
  placeholder: Record<string, string>;
};
const FIELDS = ['broker', 'protocol', 'clientId', 'user', 'password', 'tls', 'keepalive', 'root', 'journal', 'maxMB', 'maxAgeH', 'overflow', 'syncMs', 'window', 'reconnectSec'];

describe('pdm-buffer editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
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
        assert.doesNotMatch(label, /pdm-buffer\./, `raw catalog key shown for ${prop}`);
        if (prop !== 'tls') assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      const defaults: Record<string, string> = { broker: 'mqtt://127.0.0.1:1883', protocol: '4', clientId: '', keepalive: '60', root: 'pdm', journal: '', maxMB: '100', maxAgeH: '168', overflow: 'drop-oldest', syncMs: '100', window: '500', reconnectSec: '5', user: '', password: '' };
      for (const [prop, value] of Object.entries(defaults)) assert.equal(await readField(ed.page, prop), value, `default of ${prop}`);
      assert.equal(await fieldPlaceholder(ed.page, 'clientId'), catalog.placeholder.clientId);
      assert.equal(await fieldPlaceholder(ed.page, 'journal'), catalog.placeholder.journal);
      assert.equal(await ed.page.locator('#node-input-password').getAttribute('type'), 'password');
      const options = (sel: string) => ed.page.locator(`${sel} option`).evaluateAll((els: any[]) => els.map((e) => [e.value, (e.textContent as string).trim()]));
      assert.deepEqual(await options('#node-input-protocol'), [
        ['4', catalog.option.v311],
        ['5', catalog.option.v5],
      ]);
      assert.deepEqual(await options('#node-input-overflow'), [
        ['drop-oldest', catalog.option['drop-oldest']],
        ['drop-newest', catalog.option['drop-newest']],
        ['reject', catalog.option.reject],
      ]);
      // The TLS field is the core tls-config picker (config node select + edit button).
      const picker = await ed.page.evaluate(() => $('#node-input-tls').is('select') && $('#node-input-btn-tls-edit').length === 1);
      assert.equal(picker, true, 'no tls-config picker');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('an invalid broker URL, root, size, age, fsync interval, window or reconnect marks its field and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    const cases: Array<[string, string[], string]> = [
      ['broker', ['', 'broker:1883', 'http://x:1883', 'mqtt://', 'tcp://x'], 'mqtts://broker.example:8883'],
      ['root', ['', '/pdm', 'a/#', 'a b'], 'plant/pdm'],
      ['maxMB', ['0', '-1', 'x', ''], '512'],
      ['maxAgeH', ['-1', 'x', ''], '0'],
      ['syncMs', ['-1', '1.5', '70000', ''], '0'],
      ['window', ['0', '70000', '2.5'], '1000'],
      ['reconnectSec', ['0', '-1', '4000'], '1'],
      ['keepalive', ['-1', '1.5', '70000'], '0'],
    ];
    await editNode(ed.page, id);
    try {
      await assertFieldMarks(ed.page, cases);
      await typeField(ed.page, 'window', '0');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.broker, 'mqtts://broker.example:8883');
    assert.equal(props.maxAgeH, '0');
    assert.equal(await validateNode(ed.page, id), false, 'a node with a window of 0 is valid');
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'window', '100');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('username and password are credentials: kept by the editor, absent from an export and from flows.json after a deploy', async () => {
    const id = await addNode(ed.page, TYPE, { x: 300, y: 500 });
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'user', 'gateway-7');
      await typeField(ed.page, 'password', 'pa55-Secret');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const held = await ed.page.evaluate((id: string) => RED.nodes.node(id).credentials, id);
    assert.equal(held.user, 'gateway-7');
    assert.equal(held.password, 'pa55-Secret');
    const exported = await ed.page.evaluate((id: string) => JSON.stringify(RED.nodes.createExportableNodeSet([RED.nodes.node(id)])), id);
    assert.doesNotMatch(exported, /pa55-Secret|gateway-7/, 'credentials in an export');
    const flowsFile = path.join(ed.server.userDir, 'flows.json');
    await ed.page.locator('#red-ui-header-button-deploy').click();
    // A confirmation (e.g. unused configuration nodes) is answered with Deploy.
    const confirm = ed.page.locator('#node-dialog-confirm-deploy-deploy');
    await Promise.race([confirm.waitFor({ state: 'visible', timeout: 3000 }).then(() => confirm.click()), ed.page.waitForFunction(() => !RED.nodes.dirty(), undefined, { timeout: 3000 })]).catch(() => {});
    await ed.page.waitForFunction(() => !RED.nodes.dirty(), undefined, { timeout: TIMEOUTS.ui });
    const flows = fs.readFileSync(flowsFile, 'utf8');
    assert.match(flows, new RegExp(id), 'the node was deployed');
    assert.doesNotMatch(flows, /pa55-Secret|gateway-7/, 'credentials in flows.json');
    const creds = fs.readFileSync(path.join(ed.server.userDir, 'flows_cred.json'), 'utf8');
    assert.match(creds, /pa55-Secret/, 'the password is in the credentials file');
    // After a deploy the editor only knows that a password exists.
    await editNode(ed.page, id);
    try {
      assert.equal(await readField(ed.page, 'user'), 'gateway-7');
      assert.notEqual(await readField(ed.page, 'password'), 'pa55-Secret');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
  });

  test('each output port shows its label from the catalog', async () => {
    const id = await addNode(ed.page, TYPE, { x: 520, y: 360 });
    const want = [catalog.outputs.delivered, catalog.outputs.rejects];
    assert.equal(await ed.page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count(), 2);
    for (let i = 0; i < 2; i++) assert.equal(await outputPortTooltip(ed.page, id, i), want[i], `tooltip of output ${i + 1}`);
  });

  test('the help panel shows Inputs, Outputs, Details and References', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, catalog.paletteLabel);
    assert.match(help.text, /^Store-and-forward to an MQTT broker/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    for (const word of ['idempotency key', 'historical', 'PUBACK', 'drop the oldest', 'kill -9', 'credentials']) assert.match(help.text, new RegExp(word), `help does not mention ${word}`);
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
