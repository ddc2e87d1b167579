/** Asset classes, asset configuration and the fleet registry (issue 4, items 1–2). */
export * from './types';
export * from './classes';
export * from './schema';
export * from './resolve';
export * from './registry';
