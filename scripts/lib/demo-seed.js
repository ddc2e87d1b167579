'use strict';
// Adapts flows/demo.json to this machine before scripts/start.js writes it as <userDir>/flows.json.
/** Whether a package resolves from the repository (the dashboard is an optional devDependency). */
function installed(name, root) {
  try {
    require.resolve(`${name}/package.json`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns {flows, notes}:
 * - without @flowfuse/node-red-dashboard, the dashboard tab and every ui-* node are left out
 *   (Node-RED would otherwise wait for the missing types and start nothing);
 * - `factor` (PDM_DEMO_FACTOR) replaces the simulators' acceleration;
 * - the local inbox's webhook target points at this Node-RED's port.
 */
function seedFlows(demo, { root, port, factor }) {
  const notes = [];
  let flows = demo.map((n) => ({ ...n }));
  if (!installed('@flowfuse/node-red-dashboard', root)) {
    const tabs = new Set(flows.filter((n) => n.type === 'tab' && n.env && n.env.some((e) => e.name === 'PDM_DASHBOARD_TAB')).map((n) => n.id));
    const drop = new Set(flows.filter((n) => tabs.has(n.id) || tabs.has(n.z) || /^ui[-_]/.test(n.type)).map((n) => n.id));
    flows = flows.filter((n) => !drop.has(n.id));
    for (const n of flows) if (Array.isArray(n.links)) n.links = n.links.filter((l) => !drop.has(l));
    if (drop.size) notes.push('@flowfuse/node-red-dashboard is not installed: the demo runs without its dashboard page');
  }
  if (factor !== undefined && factor !== '') {
    const f = Number(factor);
    if (!(f > 0 && f <= 100000)) throw new Error(`PDM_DEMO_FACTOR must be a number above 0 and at most 100000 (got "${factor}")`);
    for (const n of flows) if (n.type === 'pdm-simulate') n.factor = f;
    notes.push(`the simulators run ${f}× faster than the wall clock`);
  }
  for (const n of flows) {
    if (n.type === 'pdm-cmms-target' && typeof n.url === 'string' && n.url.startsWith('http://127.0.0.1:1880/')) {
      n.url = n.url.replace('127.0.0.1:1880', `127.0.0.1:${port}`);
    }
    if (n.type === 'pdm-cmms' && typeof n.linkTemplate === 'string') n.linkTemplate = n.linkTemplate.replace('127.0.0.1:1880', `127.0.0.1:${port}`);
  }
  return { flows, notes };
}

module.exports = { seedFlows };
