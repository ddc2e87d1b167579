/** Pure core of the pdm-retrofit node: no Node-RED imports, shared by the node, CLI, bench and tests. */
export * from './errors';
export * from './registers';
export * from './tags';
export * from './scaling';
export * from './bearing';
export * from './zones';
export * from './waveform';
export * from './detect';
