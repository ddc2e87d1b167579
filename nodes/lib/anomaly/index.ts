/** The anomaly core: pure TypeScript, no Node-RED; shared by pdm-anomaly, pdm-replay and the benchmarks. */
export * from './types';
export * from './model';
export * from './scorer';
export * from './defaults';
export * from './observation';
export { IsolationForest, averagePathLength, type IsolationForestOptions, type IsolationForestJSON } from './isolation-forest';
export { PcaModel, type PcaOptions } from './pca';
export { Prng } from './prng';
