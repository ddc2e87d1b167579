/**
 * The node-red-node-test-helper, initialised against the runtime named by NR_PKG
 * (`node-red` = 4.1 on Node 20 by default, `node-red-5` under Node 22).
 */
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');
helper.init(require.resolve(process.env.NR_PKG || 'node-red'));

/** Root of the repository, from dist/test/helpers. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Loads a compiled node module by its folder name, e.g. nodeModule('pdm-normalise'). */
export function nodeModule(name: string): unknown {
  return require(path.join(repoRoot, 'dist', 'nodes', name, `${name}.js`));
}

/** Resolves when `emitter` emits `event`, or rejects after `ms`. */
export function once<T = unknown>(emitter: { once(event: string, fn: (arg: T) => void): unknown }, event: string, ms = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), ms);
    emitter.once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}
