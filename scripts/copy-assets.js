#!/usr/bin/env node
// Node-RED loads a node's .html, locales/ and icons/ only from beside its .js, so the build
// copies them next to each compiled node in dist/nodes/<name>/. No dependencies on purpose.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const srcNodes = path.join(root, 'nodes');
const distNodes = path.join(root, 'dist', 'nodes');
const icons = path.join(root, 'icons');

function copyTree(from, to, keep) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, keep);
    else if (keep(src)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

for (const entry of fs.readdirSync(srcNodes, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === 'lib') continue;
  const from = path.join(srcNodes, entry.name);
  const to = path.join(distNodes, entry.name);
  copyTree(from, to, (file) => file.endsWith('.html') || file.includes(`${path.sep}locales${path.sep}`));
  // Node-RED searches all of a module's icon folders, so each node ships only its own icon.
  copyTree(icons, path.join(to, 'icons'), (file) => path.basename(file).startsWith(`${entry.name}.`));
}
