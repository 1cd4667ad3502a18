/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time,
 * using the per-sample time deltas (more exact than hitCount × interval).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** shortUrl makes a profile URL readable: repo-relative for files, as-is for node: internals. */
function shortUrl(url, root) {
  if (!url) return '';
  if (url.startsWith('file://')) {
    const p = relative(root, decodeURIComponent(new URL(url).pathname));
    return p.replace(/^node_modules\//, 'nm/');
  }
  return url;
}

/** area puts a frame in a bucket: gateway code, a dependency, Node internals, or V8's own. */
function area(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('wasm://')) return 'wasm (undici llhttp)';
  if (url.includes('/node_modules/')) return `dep:${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]}`;
  if (url.includes('/dist/src/')) return 'switchyard';
  if (url.startsWith('node:')) return 'node-core';
  return 'other';
}

/**
 * summarizeProfile returns { totalMs, busyMs, top: [{ name, where, selfMs, pct }],
 * areas: [{ area, selfMs, pct }] }. `windows` ([startUs, endUs] pairs on the
 * monotonic clock, which V8's profile timestamps and process.hrtime share on
 * Linux) keeps only the samples taken under measured load, leaving out
 * start-up (module loading, schema compilation) and idle time between rounds.
 * Percentages are of busy (non-idle) time.
 */
export function summarizeProfile(file, { root, top = 20, windows } = {}) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const inWindow = (t) => !windows || windows.some(([a, b]) => t >= a && t <= b);
  let total = 0;
  let idle = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (!inWindow(t)) continue;
    total += dt;
    const id = prof.samples[i];
    if (byId.get(id).callFrame.functionName === '(idle)') idle += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const busy = total - idle;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url, root)}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const f = fns.get(key) ?? { name, where, selfUs: 0 };
    f.selfUs += us;
    fns.set(key, f);
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us) => (busy ? (100 * us) / busy : 0);
  fns.delete('(idle) ');
  areas.delete('(idle)');
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.selfUs / 1000, pct: pct(f.selfUs) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([a, us]) => ({ area: a, selfMs: us / 1000, pct: pct(us) })),
  };
}
