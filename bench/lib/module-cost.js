/**
 * What importing one module costs (child process, run with --expose-gc):
 * heap in use after a full GC and RSS, before and after the import, and the
 * import time. Prints one JSON line. Usage: node --expose-gc module-cost.js <specifier>
 * (a package name resolved from the repository, or a file URL).
 */
const settle = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage();
};
const before = settle();
const t0 = performance.now();
await import(process.argv[2]);
const ms = performance.now() - t0;
const after = settle();
process.stdout.write(`${JSON.stringify({ heapBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss, ms })}\n`);
