/**
 * pdm-partition in the real Node-RED 4.1 editor, in headless Chromium: palette, edit dialog
 * labels and defaults from the catalog, four labelled outputs, validation of the instance name,
 * the partition map (JSON or an environment variable) and the root topic, and the help panel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  addNode,
  assertInPalette,
  closeEditor,
  editNode,
  editorSuiteSkip,
  fieldLabel,
  fieldType,
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

// Browser-side globals, used only inside page.evaluate callbacks.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const RED: any;
declare const $: any;

const TYPE = 'pdm-partition';
const catalog = nodeCatalog(TYPE) as {
  label: Record<string, string>;
  outputs: Record<string, string>;
  kind: Record<string, string>;
};
const FIELDS = ['instance', 'map', 'root', 'kind', 'qos'];

describe('pdm-partition editor', { skip: editorSuiteSkip(), timeout: 5 * 60_000 }, () => {
  const ed = useEditorSuite([TYPE]);

  test('the palette shows the node under "predictive maintenance" with its icon', async () => {
    await assertInPalette(ed.page, TYPE, 'partition');
  });

  test('the edit dialog shows every field with its catalog label and the defaults; four labelled outputs', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      for (const prop of FIELDS) {
        assert.equal(await fieldLabel(ed.page, prop), catalog.label[prop], `label of ${prop}`);
        assert.equal(await hasInputError(ed.page, prop), false, `${prop} is marked invalid on open`);
      }
      assert.equal(await readField(ed.page, 'instance'), '${PDM_INSTANCE}');
      assert.equal(await fieldType(ed.page, 'map'), 'json');
      assert.deepEqual(JSON.parse(String(await readField(ed.page, 'map'))).instances, ['edge-a', 'edge-b']);
      assert.equal(await readField(ed.page, 'root'), 'pdm');
      assert.equal(await readField(ed.page, 'kind'), 'raw');
      assert.equal(await readField(ed.page, 'qos'), '1');
      const kinds = await ed.page.evaluate(() => $('#node-input-kind option').map((_: number, o: any) => $(o).text().trim()).get());
      assert.deepEqual(kinds, [catalog.kind.raw, catalog.kind.clean, catalog.kind.all]);
    } finally {
      await closeEditor(ed.page, 'cancel');
    }
    assert.equal(await validateNode(ed.page, id), true, 'a new node with defaults is valid');
    const outputs = await ed.page.evaluate((id: string) => {
      const n = RED.nodes.node(id);
      return { count: n.outputs, labels: [0, 1, 2, 3].map((i) => n._def.outputLabels.call(n, i)) };
    }, id);
    assert.equal(outputs.count, 4);
    assert.deepEqual(outputs.labels, [catalog.outputs.own, catalog.outputs.others, catalog.outputs.rejects, catalog.outputs.subscriptions]);
  });

  test('an instance name must be a plain name or an environment variable reference', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      for (const bad of ['', 'edge a', '-edge', '${PDM INSTANCE}']) {
        await typeField(ed.page, 'instance', bad);
        assert.equal(await hasInputError(ed.page, 'instance'), true, `instance ${JSON.stringify(bad)} accepted`);
      }
      for (const good of ['edge-a', 'gw_2.hall', '${EDGE_NAME}']) {
        await typeField(ed.page, 'instance', good);
        assert.equal(await hasInputError(ed.page, 'instance'), false, `instance ${JSON.stringify(good)} refused`);
      }
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal((await nodeProps(ed.page, id)).instance, '${EDGE_NAME}');
  });

  test('the map must be JSON with instances, or the name of an environment variable', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      for (const bad of ['{"instances": ["a"]', '{"instances": []}', '{"assets": {}}', '[1]']) {
        await setField(ed.page, 'map', bad);
        assert.equal(await hasInputError(ed.page, 'map'), true, `map ${bad} accepted`);
      }
      await setField(ed.page, 'map', '{"instances": ["a", "b"], "paths": {"plant1": "a"}, "default": "none"}');
      assert.equal(await hasInputError(ed.page, 'map'), false, 'a valid map still marked invalid');
      // The env type: the value is a variable's name.
      await ed.page.evaluate(() => $('#node-input-map').typedInput('type', 'env'));
      await setField(ed.page, 'map', 'PDM_PARTITION_MAP');
      assert.equal(await fieldType(ed.page, 'map'), 'env');
      assert.equal(await hasInputError(ed.page, 'map'), false, 'an env var name marked invalid');
    } finally {
      await closeEditor(ed.page, 'done');
    }
    const props = await nodeProps(ed.page, id);
    assert.equal(props.map, 'PDM_PARTITION_MAP');
    assert.equal(props.mapType, 'env');
    assert.equal(await validateNode(ed.page, id), true);
  });

  test('an invalid root topic marks the field and the node invalid', async () => {
    const id = await addNode(ed.page, TYPE);
    await editNode(ed.page, id);
    try {
      await typeField(ed.page, 'root', 'pdm/#');
      assert.equal(await hasInputError(ed.page, 'root'), true);
    } finally {
      await closeEditor(ed.page, 'done');
    }
    assert.equal(await validateNode(ed.page, id), false);
  });

  test('the help panel shows the help text with its sections', async () => {
    const help = await openHelp(ed.page, TYPE);
    assert.equal(help.title, 'partition');
    assert.match(help.text, /^Splits a plant's assets between several Node-RED instances/);
    for (const s of ['Inputs', 'Outputs', 'Details', 'References']) assert.ok(help.sections.includes(s), `no ${s} section in ${help.sections}`);
    assert.match(help.text, /rendezvous hashing/);
  });

  test('the editor logged no errors (script errors, failed loads)', () => {
    assert.deepEqual(ed.errors, []);
  });
});
