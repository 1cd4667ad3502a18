/**
 * A preload (`node --import ./module-census.js …`) that records what a process
 * loads: every ES module through a module-loading hook (its messages come
 * back over a MessagePort) and every CommonJS file from require's cache. On
 * SIGUSR2 it runs two full GCs (when started with --expose-gc) and writes
 * { esm, cjs, heapUsed } as JSON to $MODULE_CENSUS_OUT. Used by
 * bench/start-cost.js; it changes nothing the process does otherwise.
 */
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) {
  const out = await next(url, context);
  port.postMessage({ url, format: out.format });
  return out;
}`;

const esm = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', ({ url, format }) => {
  if (format === 'module') esm.add(url);
});
port1.unref();
register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { port: port2 }, transferList: [port2] });

const Module = createRequire(import.meta.url)('node:module');

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const report = { esm: [...esm], cjs: Object.keys(Module._cache), heapUsed: process.memoryUsage().heapUsed };
  writeFileSync(process.env.MODULE_CENSUS_OUT, JSON.stringify(report));
});
