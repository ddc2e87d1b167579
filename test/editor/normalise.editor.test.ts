/**
 * pdm-normalise in the real Node-RED 4.1 editor, in headless Chromium: palette, edit dialog
 * labels from the catalog, field validation and the help panel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHROMIUM_FLAGS,
  addNode,
  assertInPalette,
  chromiumCommandLine,
  closeEditor,
  editNode,
  editorSuiteSkip,
  fieldLabel,
  fieldPlaceholder,
  fieldType,
  hasInputError,
  nodeCatalog,
  nodeProps,
  openHelp,
  readField,
  typeField,
  useEditorSuite,
  validateNode,
} from './harness';

const TYPE = 'pdm-normalise';
const catalog = nodeCatalog(TYPE) as { label: Record<string, string>; placeholder: Record<string, string> };

const FIELDS = ['root', 'property', 'site', 'area', 'line', 'ranges', 'stuckCount', 'dedupe', 'maxFuture'];

describe('pdm-normalise editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE]);

  test('Chromium runs with the project flags', async () => {
    const cmd = await chromiumCommandLine(ed.browser);
    for (const flag of CHROMIUM_FLAGS) assert.ok(cmd.split(/\s+/).includes(flag), `${flag} missing from: ${cmd}`);
    assert.match(cmd, /--user-data-dir=\S+/);
  });

  test('the palette shows the node under "predictive maintenance"', async () => {
    const entry = await assertInPalette(ed.page, TYPE, 'normalise');
    assert.equal(entry.header, 'predictive maintenance');
  });

  test('the edit dialog shows every field with its catalog label and defaults', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      assert.equal(await fieldLabel(ed.page, 'name'), 'Name');
      assert.equal(await fieldLabel(ed.page, 'root'), 'Root topic');
      for (const prop of FIELDS) {
        const label = await fieldLabel(ed.page, prop);
        assert.equal(label, catalog.label[prop], `label of ${prop}`);
        assert.doesNotMatch(label, /pdm-normalise\./, `raw catalog key shown for ${prop}`);
        assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await fieldPlaceholder(ed.page, 'site'), catalog.placeholder.level);
      assert.equal(await readField(ed.page, 'root'), 'pdm');
      assert.equal(await readField(ed.page, 'property'), 'payload');
      assert.equal(await fieldType(ed.page, 'property'), 'msg');
      assert.equal(await fieldType(ed.page, 'ranges'), 'json');
      assert.equal(await readField(ed.page, 'stuckCount'), '50');
      assert.equal(await readField(ed.page, 'dedupe'), '10000');
      assert.equal(await readField(ed.page, 'maxFuture'), '600');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is valid');
  });

  test('an invalid root topic marks the field and the node invalid; a valid one clears it', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'root', 'a/+/b');
      assert.equal(await readField(ed.page, 'root'), 'a/+/b');
      assert.equal(await hasInputError(ed.page, 'root'), true, '"a/+/b" accepted');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    let props = await nodeProps(ed.page, id);
    assert.equal(props.root, 'a/+/b');
    assert.equal(await validateNode(ed.page, id), false, 'node with root "a/+/b" is valid');

    await editNode(ed.page, id);
    try {
      assert.equal(await hasInputError(ed.page, 'root'), true, 'reopened with an invalid root but not marked');
      for (const bad of ['', '/plant', 'plant/#', 'plant//pdm', 'plant pdm']) {
        await typeField(ed.page, 'root', bad);
        assert.equal(await hasInputError(ed.page, 'root'), true, `root ${JSON.stringify(bad)} accepted`);
      }
      await typeField(ed.page, 'root', 'plant/pdm');
      assert.equal(await hasInputError(ed.page, 'root'), false, '"plant/pdm" still marked invalid');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    props = await nodeProps(ed.page, id);
    assert.equal(props.root, 'plant/pdm');
    assert.equal(await validateNode(ed.page, id), true, 'node with root "plant/pdm" is invalid');
  });

  test('invalid Ranges JSON marks the field invalid; Cancel keeps the old value', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      for (const bad of ['{"temperature": [-20, 150]', '{"temperature": [150, -20]}', '{"temperature": 150}', '[1, 2]']) {
        await typeField(ed.page, 'ranges', bad);
        assert.equal(await readField(ed.page, 'ranges'), bad);
        assert.equal(await hasInputError(ed.page, 'ranges'), true, `ranges ${bad} accepted`);
      }
      await typeField(ed.page, 'ranges', '{"temperature": [-20, 150]}');
      assert.equal(await hasInputError(ed.page, 'ranges'), false, 'valid ranges still marked invalid');
      await typeField(ed.page, 'ranges', '{"temperature": [150, -20]}');
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
    assert.equal((await nodeProps(ed.page, id)).ranges, '');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('the help panel shows the help text with its sections', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, 'normalise');
    assert.match(help.text, /^Validates readings against one contract/);
    for (const s of ['Inputs', 'Outputs', 'Details']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    assert.match(help.text, /Clean readings/);
    assert.match(help.text, /Rejects/);
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
