/**
 * Packaging: what `npm publish` would ship, installed the way the Palette Manager installs it,
 * loaded by a real headless Node-RED 4.1 (Node 20) and Node-RED 5 (Node 22 from npx).
 * TypeScript packages that lose their .html, locales, icons or examples on the way to npm are a
 * classic failure (see reference/node-red.md E7); this suite catches them before a release.
 * It checks the tree `npm run build` produced; it never rebuilds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  declaredModules,
  editorTypes,
  installTarball,
  isCoreIcon,
  NodeRed,
  node22Binary,
  nodeFromDefaults,
  onTab,
  packRepo,
  removeDir,
  repoPackage,
  repoRoot,
  run,
  tempDir,
  withFreshIds,
  type EditorType,
  type FlowNode,
  type Packed,
} from './support';

const pkg = repoPackage();
const nodeSets = Object.entries(pkg['node-red'].nodes);
const coreIcons = fs.readdirSync(path.join(repoRoot, 'node_modules', '@node-red', 'nodes', 'icons'));
/** Lines that mean code blew up, as opposed to a node reporting bad input. */
const CRASH = /TypeError|ReferenceError|SyntaxError|RangeError|is not a function|Cannot read propert|Cannot set propert|uncaught|unhandled/i;

let work: string;
let packed: Packed;
let tree: string; // the extracted tarball ("package/")
let types: EditorType[] = [];
const examples: Array<{ file: string; flow: FlowNode[] }> = [];

before(
  async () => {
    work = tempDir('pack');
    packed = await packRepo(work);
    const res = await run('tar', ['-xzf', packed.tarball, '-C', work]);
    assert.equal(res.code, 0, res.stderr);
    tree = path.join(work, 'package');
    for (const [, js] of nodeSets) {
      const html = path.join(tree, js.replace(/\.c?js$/, '.html'));
      if (fs.existsSync(html)) types.push(...editorTypes(fs.readFileSync(html, 'utf8')));
    }
    for (const file of packed.files.filter((f) => f.startsWith('examples/') && f.endsWith('.json'))) {
      examples.push({ file, flow: JSON.parse(fs.readFileSync(path.join(tree, file), 'utf8')) as FlowNode[] });
    }
  },
  { timeout: 120_000 },
);

after(() => removeDir(work));

describe('npm pack', () => {
  it('has a .js, .html, en-US locales (.json + .html) and an icon for every node-red.nodes entry', () => {
    assert.ok(nodeSets.length > 0, 'package.json node-red.nodes is empty');
    const files = new Set(packed.files);
    const missing: string[] = [];
    for (const [name, js] of nodeSets) {
      const dir = path.posix.dirname(js);
      const base = path.posix.basename(js).replace(/\.c?js$/, '');
      const want = [js, `${dir}/${base}.html`, `${dir}/locales/en-US/${base}.json`, `${dir}/locales/en-US/${base}.html`];
      for (const f of want) if (!files.has(f)) missing.push(`${name}: ${f}`);
      // Config nodes have no palette icon; every other set ships its own.
      const isConfig = types.some((t) => t.type === name && t.config);
      if (!isConfig && !packed.files.some((f) => f.startsWith(`${dir}/icons/`))) missing.push(`${name}: ${dir}/icons/*`);
      if (files.has(`${dir}/locales/en-US/${base}.json`)) {
        assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(tree, dir, 'locales', 'en-US', `${base}.json`), 'utf8')), `${name}: invalid catalogue JSON`);
      }
    }
    assert.deepEqual(missing, [], `missing from the tarball:\n${missing.join('\n')}\n\ntarball lists:\n${packed.files.join('\n')}`);
  });

  it('lists in node-red.nodes every node it ships (dist/nodes/<name>/<name>.js with an .html)', () => {
    const listed = new Set(nodeSets.map(([, js]) => js));
    const built = packed.files.filter((f) => {
      const m = /^dist\/nodes\/([^/]+)\/\1\.js$/.exec(f);
      return m && packed.files.includes(`dist/nodes/${m[1]}/${m[1]}.html`);
    });
    assert.deepEqual(built.filter((f) => !listed.has(f)), [], 'built nodes that package.json node-red.nodes does not list');
  });

  it('ships README.md and LICENSE (the Flow Library shows the README)', () => {
    const top = packed.files.filter((f) => !f.includes('/')).map((f) => f.toLowerCase());
    assert.ok(top.some((f) => f.startsWith('readme')), `no README in ${top.join(', ')}`);
    assert.ok(top.some((f) => f.startsWith('licen')), `no LICENSE in ${top.join(', ')}`);
  });

  it('registers a type in each .html, and every icon it names is shipped (or is a core icon)', () => {
    assert.ok(types.length >= nodeSets.length, `only ${types.length} registerType calls for ${nodeSets.length} node sets`);
    const shippedIcons = new Set(packed.files.filter((f) => /^dist\/nodes\/[^/]+\/icons\//.test(f)).map((f) => path.posix.basename(f)));
    // Config nodes never show on the canvas, so only they may go without an icon.
    const bad = types.filter((t) => (t.icon ? !(shippedIcons.has(t.icon) || isCoreIcon(t.icon, coreIcons)) : !t.config));
    assert.deepEqual(bad.map((t) => `${t.type}: icon ${t.icon ?? '(none)'}`), [], `shipped icons: ${[...shippedIcons].join(', ')}`);
  });

  it('ships examples/ flows (JSON arrays) that use every non-config node type', () => {
    assert.ok(examples.length > 0, 'no examples/**/*.json in the tarball: every node type must appear in an example flow');
    const used = new Set<string>();
    for (const { file, flow } of examples) {
      assert.ok(Array.isArray(flow), `${file} is not a JSON array of nodes`);
      for (const n of flow) {
        assert.ok(n && typeof n.id === 'string' && typeof n.type === 'string', `${file}: a node without id/type: ${JSON.stringify(n)}`);
        used.add(n.type);
      }
    }
    const unused = types.filter((t) => !t.config && !used.has(t.type)).map((t) => t.type);
    assert.deepEqual(unused, [], 'node types used by no example flow');
  });

  it('ships no tests, benchmarks or TypeScript sources', () => {
    const stray = packed.files.filter((f) => /(^|\/)(test|tests|bench)\//.test(f) || (/\.ts$/.test(f) && !f.endsWith('.d.ts')) || f.endsWith('.tgz'));
    assert.deepEqual(stray, []);
  });
});

// ---------------------------------------------------------------------------------------------

const runtimes = [
  { name: 'Node-RED 4.1 on Node 20', major: 4, redJs: 'node_modules/node-red/red.js', nodeBin: async () => process.execPath },
  { name: 'Node-RED 5 on Node 22', major: 5, redJs: 'node_modules/node-red-5/red.js', nodeBin: node22Binary },
];

for (const rt of runtimes) {
  describe(`installed tarball in ${rt.name}`, () => {
    let nr: NodeRed | undefined;
    let startLog = '';

    before(
      async () => {
        const userDir = path.join(work, `userdir-nr${rt.major}`);
        // Other packages an example declares in its global-config node (e.g. node-red-contrib-modbus).
        const extra = new Map<string, string>();
        for (const { flow } of examples) {
          for (const [mod, version] of Object.entries(declaredModules(flow))) {
            if (mod !== pkg.name && mod !== 'node-red') extra.set(mod, `${mod}@${version}`);
          }
        }
        await installTarball(packed.tarball, userDir, pkg.name, [...extra.values()]);
        nr = await NodeRed.start({ nodeBin: await rt.nodeBin(), redJs: path.join(repoRoot, rt.redJs), userDir, ms: 90_000 });
        startLog = nr.log;
      },
      { timeout: 300_000 },
    );

    after(async () => {
      await nr?.stop();
    });

    it(`is Node-RED ${rt.major}`, async () => {
      const settings = (await nr!.api('GET', '/settings')).json();
      assert.match(settings.version, new RegExp(`^${rt.major}\\.`));
    });

    it('lists the module with every node set enabled, without err, and every shipped type', async () => {
      const sets = await moduleSets(nr!);
      assert.ok(sets.length > 0, `${pkg.name} is not in GET /nodes`);
      for (const [name] of nodeSets) {
        const set = sets.find((s) => s.name === name);
        assert.ok(set, `node set ${name} is not listed; listed: ${sets.map((s) => s.name).join(', ')}`);
        assert.equal(set.enabled, true, `${name} is not enabled`);
        assert.equal(set.err, undefined, `${name} failed to load: ${typeof set.err === 'string' ? set.err : JSON.stringify(set.err)}`);
        assert.equal(set.version, pkg.version);
        assert.ok(set.types.length > 0, `${name} registered no node type`);
      }
      const registered = new Set(sets.flatMap((s) => s.types));
      assert.deepEqual(
        types.map((t) => t.type).filter((t) => !registered.has(t)),
        [],
        'types in our .html files that Node-RED did not register',
      );
    });

    it('logs no warning or error about the module at startup', () => {
      const ids = [pkg.name, ...types.map((t) => t.type)];
      const lines = startLog.split('\n').filter((l) => /\[(warn|error)\]/.test(l) && (ids.some((id) => l.includes(id)) || /Failed to register/.test(l)));
      assert.deepEqual(lines, [], startLog);
    });

    it("serves each type's editor template, help, message catalogue and icons to the editor", async () => {
      const html = (await nr!.api('GET', '/nodes', undefined, { Accept: 'text/html' })).text;
      const all = new Set([...types.map((t) => t.type), ...(await moduleSets(nr!)).flatMap((s) => s.types)]);
      for (const type of all) {
        assert.ok(html.includes(`data-template-name="${type}"`), `no edit template for ${type} (is its .html beside the .js?)`);
        assert.ok(html.includes(`data-help-name="${type}"`), `no help for ${type}`);
      }
      const messages = (await nr!.api('GET', '/nodes/messages?lng=en-US')).json() as Record<string, Record<string, unknown>>;
      for (const [name] of nodeSets) {
        const catalogue = messages[`${pkg.name}/${name}`];
        assert.ok(catalogue && Object.keys(catalogue).length > 0, `no en-US catalogue for ${name}; have: ${Object.keys(messages).filter((k) => k.startsWith(pkg.name)).join(', ')}`);
      }
      const icons = ((await nr!.api('GET', '/icons')).json() as Record<string, string[]>)[pkg.name] ?? [];
      for (const t of types) {
        if (!t.icon || isCoreIcon(t.icon, coreIcons)) continue;
        assert.ok(icons.includes(t.icon), `icon ${t.icon} of ${t.type} is not among the module's icons: ${icons.join(', ')}`);
        const res = await fetch(`${nr!.base}/icons/${pkg.name}/${encodeURIComponent(t.icon)}`);
        assert.equal(res.status, 200, `GET /icons/${pkg.name}/${t.icon}`);
        assert.match(res.headers.get('content-type') ?? '', /^image\//);
      }
    });

    it('deploys one node of every shipped type, built from its editor defaults', async () => {
      const tab = 'a0a0a0a0a0a0a0a0';
      const configIds = new Map(types.filter((t) => t.config).map((t, i) => [t.type, `c0c0c0c0c0c0c${String(i).padStart(3, '0')}`]));
      const flow: FlowNode[] = [{ id: tab, type: 'tab', label: 'pack: every type' }];
      types.forEach((t, i) => flow.push(nodeFromDefaults(t, t.config ? configIds.get(t.type)! : `b0b0b0b0b0b0b${String(i).padStart(3, '0')}`, tab, configIds)));
      await deployAndCheck(nr!, withFreshIds(flow), 'every-type flow');
    });

    it('finds the packaged examples in its library (Import > Examples)', async () => {
      const listed: string[] = [];
      const walk = async (rel: string): Promise<void> => {
        const route = `/library/examples/flows/${[...pkg.name.split('/'), ...rel.split('/').filter(Boolean)].map(encodeURIComponent).join('/')}`;
        const res = await nr!.api('GET', route);
        assert.equal(res.status, 200, `GET ${route}: ${res.text}`);
        for (const e of res.json() as Array<string | { fn: string }>) {
          if (typeof e === 'string') await walk(`${rel}${e}/`);
          else listed.push(`examples/${rel}${e.fn}.json`);
        }
      };
      const res = await nr!.api('GET', '/library/examples/flows/');
      assert.ok((res.json() as string[]).includes(pkg.name), `${pkg.name} has no examples in the library: ${res.text}`);
      await walk('');
      assert.deepEqual(listed.sort(), examples.map((e) => e.file).sort());
    });

    it('deploys every example flow with no missing types', async (t) => {
      assert.ok(examples.length > 0, 'no example flows to deploy');
      for (const { file } of examples) {
        await t.test(file, async () => {
          // Fetch it the way Import > Examples does, from the installed module.
          const route = `/library/examples/flows/${[...pkg.name.split('/'), ...file.replace(/^examples\//, '').replace(/\.json$/, '').split('/')].map(encodeURIComponent).join('/')}`;
          const res = await nr!.api('GET', route);
          assert.equal(res.status, 200, `GET ${route}: ${res.text}`);
          const flow = (typeof res.json() === 'string' ? JSON.parse(res.json()) : res.json()) as FlowNode[];
          await deployAndCheck(nr!, onTab(withFreshIds(flow), file), file);
        });
      }
    });
  });
}

interface NodeSet {
  id: string;
  name: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: unknown;
  version: string;
}

/** Our module's node sets, from GET /nodes. */
async function moduleSets(nr: NodeRed): Promise<NodeSet[]> {
  const res = await nr.api('GET', '/nodes');
  assert.equal(res.status, 200, res.text);
  return (res.json() as NodeSet[]).filter((s) => s.module === pkg.name);
}

/**
 * Full-deploys `flow` and asserts the runtime started it: Node-RED logs "Started flows" after a
 * deploy, or "Waiting for missing types to be registered:" and one " - <type>" line per missing
 * type instead (GET /flows/state says "start" either way, so the log is the signal).
 */
async function deployAndCheck(nr: NodeRed, flow: FlowNode[], what: string): Promise<void> {
  const from = nr.log.length;
  await nr.deploy(flow);
  const out = await nr.waitForLog(/\[info\] Started flows|Waiting for missing types to be registered/, from, 30_000);
  await new Promise((r) => setTimeout(r, 750)); // the " - type" lines, and anything a node does on start
  const log = nr.log.slice(from);
  if (/Waiting for missing types/.test(out)) {
    const missing = [...log.matchAll(/\[info\] {2}- (\S+)/g)].map((m) => m[1]);
    assert.fail(`${what}: Node-RED is waiting for missing types: ${missing.join(', ')}\n${log}`);
  }
  assert.ok(nr.alive, `Node-RED died after deploying ${what}:\n${log}`);
  const crashes = log.split('\n').filter((l) => /\[(error|warn)\]/.test(l) && CRASH.test(l));
  assert.deepEqual(crashes, [], `${what}: runtime errors after deploy:\n${log}`);
  const deployed = (await nr.api('GET', '/flows', undefined, { 'Node-RED-API-Version': 'v2' })).json().flows as FlowNode[];
  assert.deepEqual(deployed.map((n) => n.id).sort(), flow.map((n) => n.id).sort(), `${what}: GET /flows does not hold the deployed nodes`);
}
