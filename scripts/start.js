#!/usr/bin/env node
// `npm start`: a living plant on this machine, offline. It starts
//   - an embedded MQTT broker (aedes) on 127.0.0.1:1883, unless PDM_MQTT_URL names another broker;
//   - Node-RED 4 from the devDependencies on http://127.0.0.1:1880 with a project-local,
//     git-ignored userDir (.node-red/) that loads this package;
//   - on first start, the demo flow (flows/demo.json): six simulated assets through the whole pipeline.
//
// Environment (all optional):
//   PORT, HOST         where Node-RED listens (1880, 127.0.0.1)
//   PDM_MQTT_URL       an external broker, e.g. mqtt://broker.local:1883 (no embedded broker then)
//   PDM_MQTT_PORT      the embedded broker's port (1883); it listens on 127.0.0.1 only
//   PDM_USERDIR        the Node-RED userDir (.node-red)
//   PDM_DEMO_FACTOR    simulated seconds per wall-clock second, written into the demo when it is seeded
//   PDM_DEMO_RESET=1   seed the demo again, replacing <userDir>/flows.json (your edits are lost)
// Tests run it on free ports in a temporary userDir with a fast clock, e.g.
//   PORT=18880 PDM_MQTT_PORT=18883 PDM_USERDIR=/tmp/pdm-demo PDM_DEMO_FACTOR=600 node scripts/start.js
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { seedFlows } = require('./lib/demo-seed');

const root = path.resolve(__dirname, '..');
const env = process.env;
const userDir = path.resolve(root, env.PDM_USERDIR || '.node-red');
const port = Number(env.PORT || 1880);
const host = env.HOST || '127.0.0.1';
const mqttPort = Number(env.PDM_MQTT_PORT || 1883);

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
  lang: 'en-US',
  diagnostics: { enabled: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { palette: { allowInstall: false } },
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem' },
  },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] } },
};
`,
);

// First start (or PDM_DEMO_RESET=1): the demo flow, adapted to this machine (see scripts/lib/demo-seed.js).
const flowFile = path.join(userDir, 'flows.json');
if (!fs.existsSync(flowFile) || env.PDM_DEMO_RESET === '1') {
  const demo = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'demo.json'), 'utf8'));
  const { flows, notes } = seedFlows(demo, { root, port, factor: env.PDM_DEMO_FACTOR });
  fs.writeFileSync(flowFile, JSON.stringify(flows, null, 2));
  for (const note of notes) console.log(`PdM Twin: ${note}`);
}

/** The embedded broker: aedes (ESM-only, so imported) on 127.0.0.1; resolves with its URL. */
async function startBroker() {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(mqttPort, '127.0.0.1', resolve);
  });
  return { url: `mqtt://127.0.0.1:${server.address().port}` };
}

async function main() {
  let broker;
  if (env.PDM_MQTT_URL) {
    console.log(`PdM Twin: using the MQTT broker at ${env.PDM_MQTT_URL}`);
  } else {
    try {
      broker = await startBroker();
      console.log(`PdM Twin: embedded MQTT broker on ${broker.url}`);
    } catch (err) {
      if (err.code !== 'EADDRINUSE') throw err;
      // Something (often a mosquitto service) already listens there: use it rather than fail.
      console.warn(`PdM Twin: 127.0.0.1:${mqttPort} is taken; using it as the broker (set PDM_MQTT_URL or PDM_MQTT_PORT to change)`);
    }
  }
  // The demo's mqtt-broker node reads its URL from ${PDM_MQTT_URL} (Node-RED substitutes it).
  const mqttUrl = env.PDM_MQTT_URL || (broker ? broker.url : `mqtt://127.0.0.1:${mqttPort}`);

  const red = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(process.execPath, [red, '--settings', settingsFile, '--userDir', userDir], {
    stdio: 'inherit',
    env: { ...env, PDM_MQTT_URL: mqttUrl },
  });
  console.log(`PdM Twin: Node-RED is starting on http://${host}:${port}/ (userDir ${path.relative(root, userDir) || userDir}/)`);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => (child.exitCode === null && child.signalCode === null ? child.kill(signal) : process.exit(1)));
  }
  // The broker lives in this process: it ends with it, when Node-RED ends.
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((err) => {
  console.error(`PdM Twin: ${err.stack || err}`);
  process.exit(1);
});
