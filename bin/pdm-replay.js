#!/usr/bin/env node
// pdm-replay launcher: runs the compiled CLI from this package (works from a checkout after
// `npm run build` and from an installed package, whose dist/ ships the compiled code).
'use strict';
const path = require('path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'nodes', 'lib', 'replay', 'cli.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('cli.js')) {
    process.stderr.write('pdm-replay: dist/ is missing; run `npm run build` in the package first\n');
    process.exit(1);
  }
  throw e;
}
process.exitCode = cli.main(process.argv.slice(2));
