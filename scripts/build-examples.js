#!/usr/bin/env node
// Turns the prebuilt deployment-pattern flows in flows/patterns/*.json (editor exports, with tabs)
// into Import > Examples files in examples/patterns/: "NN-some-name.json" with a tab labelled
// "Some name" becomes "examples/patterns/NN - Some name.json", a JSON array of nodes without the
// tab and without z (the editor puts them on the current tab). A flow with several tabs (an edge
// flow and a cloud flow) keeps all of them, each tab's nodes below the previous one's.
//
//   node scripts/build-examples.js           write examples/patterns/
//   node scripts/build-examples.js --check   exit 1 if examples/patterns/ is not up to date
//
// No dependencies and no network, so it runs in any offline build.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const from = path.join(root, 'flows', 'patterns');
const to = path.join(root, 'examples', 'patterns');
const GAP = 80; // vertical space between the flows of two tabs

/** A pattern flow as an example: its nodes without tabs and z, tab after tab from top to bottom. */
function toExample(flow, file) {
  if (!Array.isArray(flow)) throw new Error(`${file}: not a JSON array of nodes`);
  const tabs = flow.filter((n) => n.type === 'tab');
  if (tabs.length === 0) throw new Error(`${file}: has no tab (export the flow with its tab)`);
  const tabIds = new Set(tabs.map((t) => t.id));
  const stray = flow.filter((n) => n.z !== undefined && !tabIds.has(n.z));
  if (stray.length) throw new Error(`${file}: ${stray.length} node(s) on a tab or subflow that is not in the file (${stray[0].id})`);
  const out = [];
  let top = 0; // the first y free for the next tab
  for (const tab of tabs) {
    const nodes = flow.filter((n) => n.z === tab.id);
    const ys = nodes.filter((n) => typeof n.y === 'number').map((n) => n.y - (n.type === 'group' ? 0 : 20));
    const minY = ys.length ? Math.min(...ys) : 0;
    const shift = out.length === 0 ? 0 : top + GAP - minY;
    for (const n of nodes) {
      const copy = { ...n };
      delete copy.z;
      if (typeof copy.y === 'number') copy.y += shift;
      out.push(copy);
      const bottom = typeof copy.y === 'number' ? copy.y + (copy.type === 'group' && typeof copy.h === 'number' ? copy.h : 20) : top;
      top = Math.max(top, bottom);
    }
  }
  // Config nodes (no z) and the global-config that names partner modules stay as they are.
  for (const n of flow) if (n.type !== 'tab' && n.z === undefined) out.push({ ...n });
  return out;
}

/** "03-cloud-centric.json" + tab "Cloud-centric" → "03 - Cloud-centric.json". */
function exampleName(file, flow) {
  const num = (path.basename(file).match(/^(\d+)/) || [])[1];
  if (!num) throw new Error(`${file}: the file name must start with a number (it orders the examples)`);
  const label = String(flow.find((n) => n.type === 'tab').label).replace(/[\\/:*?"<>|]/g, '-').trim();
  return `${num} - ${label}.json`;
}

function build() {
  const files = fs.existsSync(from) ? fs.readdirSync(from).filter((f) => f.endsWith('.json')).sort() : [];
  const wanted = new Map();
  for (const file of files) {
    const flow = JSON.parse(fs.readFileSync(path.join(from, file), 'utf8'));
    wanted.set(exampleName(file, flow), `${JSON.stringify(toExample(flow, file), null, 2)}\n`);
  }
  return wanted;
}

const wanted = build();
const existing = fs.existsSync(to) ? fs.readdirSync(to).filter((f) => f.endsWith('.json')) : [];
if (process.argv.includes('--check')) {
  const stale = [...wanted].filter(([name, text]) => !existing.includes(name) || fs.readFileSync(path.join(to, name), 'utf8') !== text).map(([n]) => n);
  const extra = existing.filter((name) => !wanted.has(name));
  if (stale.length || extra.length) {
    console.error(`examples/patterns is out of date (run node scripts/build-examples.js): ${[...stale, ...extra].join(', ')}`);
    process.exit(1);
  }
  console.log(`examples/patterns: ${wanted.size} up to date`);
} else {
  fs.mkdirSync(to, { recursive: true });
  for (const name of existing) if (!wanted.has(name)) fs.rmSync(path.join(to, name));
  for (const [name, text] of wanted) fs.writeFileSync(path.join(to, name), text);
  // Silent on success: `npm pack --json` runs the build through `prepare` and parses stdout.
}
