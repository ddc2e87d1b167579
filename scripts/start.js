#!/usr/bin/env node
// `npm start`: Node-RED 4 from the devDependencies on http://127.0.0.1:1880 with a project-local,
// git-ignored userDir (.node-red/) that loads this package and opens on the getting-started flow.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const userDir = path.join(root, '.node-red');
const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';
const firstFlow = path.join(root, 'examples', 'getting-started', '01 - Normalise gateway readings.json');

if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
  console.error('The package is not built yet: run `npm install` (it builds) or `npm run build`.');
  process.exit(1);
}

// Node-RED finds installed packages under <userDir>/node_modules: link this checkout there.
const link = path.join(userDir, 'node_modules', '@pdm-twin', 'node-red-pdm');
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  fs.lstatSync(link);
} catch {
  fs.symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
}

const settingsFile = path.join(userDir, 'settings.js');
fs.writeFileSync(
  settingsFile,
  `// Written by scripts/start.js on every start; edit that script instead.
module.exports = {
  uiHost: ${JSON.stringify(host)},
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: false,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  externalModules: { palette: { allowInstall: false } },
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem' },
  },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
};
`,
);

// First start: open on the getting-started example, on its own tab.
const flowFile = path.join(userDir, 'flows.json');
if (!fs.existsSync(flowFile)) {
  const nodes = JSON.parse(fs.readFileSync(firstFlow, 'utf8'));
  const tab = { id: 'pdm-getting-started', type: 'tab', label: 'PdM Twin: getting started', info: '' };
  fs.writeFileSync(flowFile, JSON.stringify([tab, ...nodes.map((n) => ({ ...n, z: tab.id }))], null, 2));
}

const red = require.resolve('node-red/red.js', { paths: [root] });
const child = spawn(process.execPath, [red, '--settings', settingsFile, '--userDir', userDir], { stdio: 'inherit' });
console.log(`PdM Twin: Node-RED is starting on http://${host}:${port}/ (userDir ${path.relative(root, userDir)}/)`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
