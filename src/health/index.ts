/**
 * The health building blocks: active checkers and their probes, passive
 * outlier detection, the retry budget and slow start. The pool wires them
 * in; they report only through HealthListener.
 */
export * from './types.js';
export * from './status-list.js';
export * from './http-probe.js';
export * from './tcp-probe.js';
export * from './probes.js';
export * from './active-checker.js';
export * from './outlier-detector.js';
export * from './retry-budget.js';
export * from './slow-start.js';
