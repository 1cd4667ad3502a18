/**
 * Memory in the benchmark report: the RSS of each proxy's process tree at
 * idle (after start-up settled; before any load) and after the last round.
 * Issue 7's idle bar (80 MB with 1,000 routes) was retired by issue 17 in
 * favour of RSS after load against the bare proxy's (headline.js) and the
 * per-connection figures of the scaling phases.
 */
import { mib } from './procs.js';

/** IDLE_RSS_TARGET is issue 7's retired bar (80 MB at idle with 1,000 routes): bench/memory.js's default route count. */
export const IDLE_RSS_TARGET = { routes: 1000, bytes: 80e6 };

/**
 * IDLE_SETTLE_MS is how long after start-up the idle RSS is read: start-up
 * work (first health checks, JIT of config loading) done. The gateway's idle
 * memory release is off by default (memory.releaseWhenIdle: 0), so there is
 * nothing else to wait for. --quick reads after 1 s.
 */
export const IDLE_SETTLE_MS = (quick) => (quick ? 1000 : 5000);

/**
 * memoryReport returns the report lines and the JSON block for every
 * candidate with a process of its own. `routesCandidate` is the name of the
 * gateway-routes-N candidate, when there is one.
 */
export function memoryReport(candidates, quick = false) {
  const measured = candidates.filter((c) => c.rssIdle);
  const width = Math.max(0, ...measured.map((c) => c.name.length));
  const when = `${IDLE_SETTLE_MS(quick) / 1000} s after start-up`;
  const lines = [`memory: RSS of the process tree, idle (${when}; before any load) -> after the last round`];
  const json = { candidates: {} };
  for (const c of measured) {
    const procs = c.workers > 1 ? `primary + ${c.workers} workers` : c.processes > 1 ? `${c.processes} processes` : '1 process';
    lines.push(`  ${c.name.padEnd(width)}  idle ${mib(c.rssIdle).padStart(10)}  after load ${mib(c.rssAfter).padStart(10)}  (${procs})`);
    json.candidates[c.name] = { idleBytes: c.rssIdle, afterLoadBytes: c.rssAfter, processes: c.processes ?? 1 };
  }
  return { lines, json };
}
