/** Pure core of the pdm-simulate node: no Node-RED imports, shared by the node, benchmarks and tests. */
export * from './rng';
export * from './profiles';
export * from './faults';
export * from './config';
export * from './machine';
export * from './plant';
export * from './clock';
export * from './shapes';
export * from './settings';
