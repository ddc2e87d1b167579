/**
 * The Flow Library scorecard (`node-red-dev validate`) of the tree that npm would publish: the
 * tarball installed into a scratch userDir, not the repository (which has no built .html files
 * beside its sources, so N02 would pass vacuously there).
 *
 * catalogue.nodered.org is not reachable from CI, so test/pack/catalogue-stub.js (a -r preload)
 * answers it with an empty catalogue; the npm registry is still asked for P06/P07/D02/D03.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editorTypes, installTarball, packRepo, readJson, removeDir, repoPackage, repoRoot, run, tempDir, type EditorType, type PackageJson } from './support';

/** Every check node-red-dev 0.1.6 runs (P02 is commented out in its source). */
const CHECKS = ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];
const STUB = path.join(repoRoot, 'test', 'pack', 'catalogue-stub.js');
const CLI = path.join(repoRoot, 'node_modules', 'node-red-dev', 'bin', 'run');

type Scorecard = Record<string, { test?: boolean; [k: string]: unknown }>;

const pkg = repoPackage();
let work: string;
let published: string; // the installed package directory

async function validate(catalogue?: unknown): Promise<{ card: Scorecard; output: string }> {
  const out = path.join(work, `score-${Date.now()}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `-r ${STUB}` };
  if (catalogue !== undefined) {
    env.PDM_CATALOGUE_FILE = path.join(work, 'catalogue.json');
    fs.writeFileSync(env.PDM_CATALOGUE_FILE, JSON.stringify(catalogue));
  } else {
    delete env.PDM_CATALOGUE_FILE;
  }
  const res = await run(process.execPath, [CLI, 'validate', '-p', published, '-o', out], { cwd: work, env, ms: 180_000 });
  const output = `exit ${res.code}\n${res.stdout}\n${res.stderr}`;
  assert.ok(fs.existsSync(out), `node-red-dev wrote no scorecard:\n${output}`);
  return { card: readJson<Scorecard>(out), output };
}

/** The node types registered by the published .html files (none for a missing file). */
function publishedTypes(): EditorType[] {
  return Object.values(pkg['node-red'].nodes).flatMap((js) => {
    const html = path.join(published, js.replace(/\.c?js$/, '.html'));
    return fs.existsSync(html) ? editorTypes(fs.readFileSync(html, 'utf8')) : [];
  });
}

before(
  async () => {
    work = tempDir('scorecard');
    const packed = await packRepo(work);
    published = await installTarball(packed.tarball, path.join(work, 'userdir'), pkg.name);
  },
  { timeout: 240_000 },
);

after(() => removeDir(work));

describe('node-red-dev validate of the published tree', () => {
  it('passes every scorecard check', { timeout: 200_000 }, async () => {
    const { card, output } = await validate();
    const shown = `${JSON.stringify(card, null, 2)}\n\n${output}`;
    assert.deepEqual(card.package, { name: pkg.name, version: pkg.version }, shown);
    assert.deepEqual(CHECKS.filter((id) => !(id in card)), [], `checks that did not run:\n${shown}`);
    const failed = Object.entries(card).filter(([id, r]) => id !== 'package' && r.test !== true);
    assert.deepEqual(failed.map(([id]) => id), [], `failed checks:\n${shown}`);
    // N02 passes vacuously when node-red-dev cannot parse a .html ("Unable to parse"), so check
    // that it really saw every non-config type we ship.
    const all = publishedTypes();
    assert.ok(all.length >= Object.keys(pkg['node-red'].nodes).length, `too few node types in the published .html files: ${all.map((t) => t.type).join(', ')}`);
    const types = all.filter((t) => !t.config).map((t) => t.type);
    assert.deepEqual(types.filter((t) => !(card.N02?.nodes as string[] | undefined)?.includes(t)), [], `N02 did not look at these types:\n${shown}`);
  });

  it('P05: keywords include "node-red" (node-red-dev 0.1.6 records P05 as passed either way)', () => {
    const installed = readJson<PackageJson>(path.join(published, 'package.json'));
    assert.ok(installed.keywords?.includes('node-red'), `keywords: ${JSON.stringify(installed.keywords)}`);
  });

  it('really consults the (stub) catalogue: a module already owning one of our types fails N01', { timeout: 200_000 }, async () => {
    const type = publishedTypes()[0]?.type;
    assert.ok(type, 'no node type found in the published .html files');
    const { card, output } = await validate({ modules: [{ id: 'node-red-contrib-someone-else', types: [type] }] });
    assert.equal(card.N01?.test, false, `${JSON.stringify(card, null, 2)}\n${output}`);
    assert.deepEqual(card.N01?.nodes, ['node-red-contrib-someone-else']);
  });
});
