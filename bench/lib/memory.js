/**
 * Memory in the benchmark report: the RSS of each proxy's process tree at
 * idle (after start-up settled and, in a full run, after the gateway's idle
 * memory release; before any load) and after the last round, judged against
 * issue 7's bar for the gateway with 1,000 routes.
 */
import { mib } from './procs.js';

/** IDLE_RSS_TARGET is the bar: at most 80 MB (decimal, 76.3 MiB) of RSS at idle with 1,000 routes. */
export const IDLE_RSS_TARGET = { routes: 1000, bytes: 80e6 };

/**
 * IDLE_SETTLE_MS is how long after start-up the idle RSS is read: past the
 * gateway's idle memory release at its default memory.releaseWhenIdle (10 s;
 * the release comes 10-15 s after the last request). --quick reads after 1 s,
 * before the release, and does not judge the target.
 */
export const IDLE_SETTLE_MS = (quick) => (quick ? 1000 : 17_000);

/** mb formats bytes as decimal megabytes. */
function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * memoryReport returns the report lines and the JSON block for every
 * candidate with a process of its own. `routesCandidate` is the name of the
 * gateway-routes-N candidate, when there is one.
 */
export function memoryReport(candidates, routesCandidate, quick = false) {
  const measured = candidates.filter((c) => c.rssIdle);
  const width = Math.max(0, ...measured.map((c) => c.name.length));
  const when = quick ? '1 s after start-up, before the idle memory release' : `${IDLE_SETTLE_MS(false) / 1000} s after start-up, after the idle memory release`;
  const lines = [`memory: RSS of the process tree, idle (${when}; before any load) -> after the last round`];
  const json = { target: { routes: IDLE_RSS_TARGET.routes, idleBytes: IDLE_RSS_TARGET.bytes }, candidates: {} };
  for (const c of measured) {
    const procs = c.workers > 1 ? `primary + ${c.workers} workers` : c.processes > 1 ? `${c.processes} processes` : '1 process';
    lines.push(`  ${c.name.padEnd(width)}  idle ${mib(c.rssIdle).padStart(10)}  after load ${mib(c.rssAfter).padStart(10)}  (${procs})`);
    json.candidates[c.name] = { idleBytes: c.rssIdle, afterLoadBytes: c.rssAfter, processes: c.processes ?? 1 };
  }
  const routes = candidates.find((c) => c.name === routesCandidate);
  if (routes?.rssIdle && routesCandidate === `gateway-routes-${IDLE_RSS_TARGET.routes}` && quick) {
    lines.push(`  idle RSS with ${IDLE_RSS_TARGET.routes} routes: ${mib(routes.rssIdle)} before the idle release (--quick: the target is judged by a full run or bench/memory.js)`);
  } else if (routes?.rssIdle && routesCandidate === `gateway-routes-${IDLE_RSS_TARGET.routes}`) {
    const met = routes.rssIdle <= IDLE_RSS_TARGET.bytes;
    const diff = routes.rssIdle - IDLE_RSS_TARGET.bytes;
    lines.push(`  idle RSS with ${IDLE_RSS_TARGET.routes} routes: ${mib(routes.rssIdle)} (${mb(routes.rssIdle)}); target <= ${mb(IDLE_RSS_TARGET.bytes)}: ${met ? 'met' : `NOT met (${mb(diff)} over)`}`);
    json.idleWithTargetRoutes = { bytes: routes.rssIdle, met };
  } else if (measured.some((c) => c.gateway)) {
    lines.push(`  (run with --routes ${IDLE_RSS_TARGET.routes} to check the idle RSS target with ${IDLE_RSS_TARGET.routes} routes)`);
  }
  return { lines, json };
}
