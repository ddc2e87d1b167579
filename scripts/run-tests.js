#!/usr/bin/env node
// Runs every suite on the runtime it targets and prints one closing "N passed, N failed" line:
//   Node 20 + Node-RED 4.1: unit, node, fuzz, integration (real services), pack, editor
//   Node 22 + Node-RED 5  : node (through `npx -y node@22`, never a devDependency)
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const NODE22 = process.env.PDM_NODE22 || 'node@22.23.3';
const only = process.argv.slice(2); // e.g. `npm test -- unit node`
const SUITE_TIMEOUT_MS = Number(process.env.PDM_SUITE_TIMEOUT_MIN || 30) * 60_000;

const suites = [
  { name: 'unit', dirs: ['unit'] },
  { name: 'node', dirs: ['node'] },
  { name: 'fuzz', dirs: ['fuzz'] },
  { name: 'node on Node-RED 5 / Node 22', key: 'nr5', dirs: ['node'], node22: true, env: { NR_PKG: 'node-red-5' } },
  { name: 'integration', dirs: ['integration'] },
  { name: 'pack', dirs: ['pack'] },
  { name: 'editor', dirs: ['editor'] },
];

function testFiles(dir) {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(rel);
    return entry.name.endsWith('.test.js') ? [rel] : [];
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSuites = [];
for (const suite of suites) {
  const key = suite.key || suite.name;
  if (only.length && !only.includes(key)) continue;
  // Files, not folders: Node 20 searches folders, Node 22 takes globs; both take file lists.
  const files = suite.dirs.flatMap((d) => testFiles(path.join('dist', 'test', d)));
  if (files.length === 0) continue;
  const tap = path.join(os.tmpdir(), `pdm-tap-${process.pid}-${key.replace(/\W/g, '')}.txt`);
  const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
  const [cmd, cmdArgs] = suite.node22 ? ['npx', ['-y', NODE22, ...args]] : [process.execPath, args];
  console.log(`\n=== ${suite.name} ===`);
  // A suite that hangs (a test file left a handle open after a failure) is stopped and failed
  // here rather than holding CI until its own time limit.
  const run = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...suite.env }, timeout: SUITE_TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (run.error) console.log(`\n${suite.name}: ${run.error.message} (stopped after ${SUITE_TIMEOUT_MS / 60000} min)`);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (label) => Number((text.match(new RegExp(`^# ${label} (\\d+)`, 'm')) || [])[1] || 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped');
  if (run.status !== 0 || count('pass') === 0) {
    failedSuites.push(suite.name);
    if (count('fail') + count('cancelled') === 0) totals.failed += 1; // the run itself broke
  }
  fs.rmSync(tap, { force: true });
}

if (failedSuites.length) console.log(`\nFailed suites: ${failedSuites.join(', ')}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSuites.length ? 1 : 0);
