/**
 * Measuring rounds: every candidate once per round, the order rotated from
 * round to round (A B C, B C A, C A B, ...) so a disturbance that recurs at
 * the same point of every round (a neighbour's periodic job, the idle
 * release of a candidate that waited longest) does not always land on the
 * same candidate. Shared by the headline run and the scaling phases.
 *
 * By default each round after the first measures a fresh process of every
 * candidate that can be restarted (`c.restart`): two processes of the same
 * build can differ by several per cent, once by 14 % over five rounds
 * (bench/README.md journal "Issue 17 (2026-12-07)"), from what V8's JIT
 * happened to decide in each. With one process per candidate that luck
 * weighs on every round; with a process per round the median of the
 * per-round ratios outvotes it.
 */
import { rmSync } from 'node:fs';
import { treeCpuMs } from './procs.js';
import { mean, median, stdev } from './stats.js';

/** rotated is `list` starting at index `k` (mod its length). */
export function rotated(list, k) {
  if (list.length === 0) return [];
  const i = k % list.length;
  return [...list.slice(i), ...list.slice(0, i)];
}

/**
 * withCpu runs one measurement of a candidate ({ pid? }) and adds to its result
 * the CPU the proxy spent per request (`cpuUsPerRequest`, when it has a pid):
 * much less sensitive to a busy machine than req/s.
 */
export async function withCpu(c, run) {
  const cpuBefore = c.pid ? treeCpuMs(c.pid) : 0;
  const res = await run();
  if (c.pid) res.cpuUsPerRequest = ((treeCpuMs(c.pid) - cpuBefore) * 1000) / Math.max(1, res.requests);
  return res;
}

/**
 * runRounds measures each candidate ({ name, url, pid?, rounds: [], windows: [] })
 * `rounds` times with `measure(c, seconds)`, after `roundWarmup` unmeasured
 * seconds each time, and records req/s, latency and the proxy's CPU per
 * request in c.rounds (in round order, whatever the order within a round).
 * With `fresh` ({ stop, settleMs, warmup }), a candidate with `restart()` is
 * measured in a new process from its second round on (see the top of the file).
 */
export async function runRounds(candidates, { rounds, duration, roundWarmup, measure, fresh, log = (s) => process.stdout.write(s) }) {
  for (let r = 1; r <= rounds; r++) {
    log(`round ${r}/${rounds}:`);
    for (const c of rotated(candidates, r - 1)) {
      if (fresh !== undefined && r > 1 && c.restart !== undefined) {
        await restartCandidate(c, fresh);
        if (fresh.warmup > 0) await measure(c, fresh.warmup);
      }
      if (roundWarmup > 0) await measure(c, roundWarmup);
      const t0 = process.hrtime.bigint() / 1000n;
      const res = await withCpu(c, () => measure(c, duration));
      c.windows.push([Number(t0), Number(process.hrtime.bigint() / 1000n)]);
      c.rounds.push(res);
      log(` ${c.name} ${Math.round(res.rps).toLocaleString('en-US')}/s`);
    }
    log('\n');
  }
  const restarted = candidates.filter((c) => c.freshProcesses > 1);
  if (restarted.length) log(`  processes measured (a fresh one from round 2 on): ${restarted.map((c) => `${c.name} ${c.freshProcesses}`).join(', ')}\n`);
}

/**
 * restartCandidate replaces a candidate's process with a fresh one started
 * the same way (`c.restart()` returns the new { child, pid, url, dir, ... }),
 * then lets its start-up work settle; `c.freshProcesses` counts them.
 */
export async function restartCandidate(c, { stop, settleMs }) {
  await stop(c.child);
  if (c.dir) rmSync(c.dir, { recursive: true, force: true });
  const { name: _n, rounds: _r, windows: _w, notes: _notes, ...next } = await c.restart();
  Object.assign(c, next);
  c.freshProcesses = (c.freshProcesses ?? 1) + 1;
  if (settleMs > 0) await new Promise((res) => setTimeout(res, settleMs));
}

/** SATURATED is the share of its one CPU above which a candidate counts as the bottleneck of its run (below it, the load generator or the upstreams capped its req/s). */
export const SATURATED = 0.85;

/** cpuShare is the share of its one CPU a candidate used over its rounds (CPU µs per request × requests per second), or NaN without a CPU reading. */
export function cpuShare(summary) {
  return summary && summary.rps > 0 ? (summary.cpuUsPerRequest * summary.rps) / 1e6 : Number.NaN;
}

/** summarize is a candidate's means over its rounds. */
export function summarize(c) {
  const lat = (k) => mean(c.rounds.map((x) => x.latency[k]));
  return {
    rps: mean(c.rounds.map((x) => x.rps)),
    rpsStdev: stdev(c.rounds.map((x) => x.rps)),
    p50: lat('p50'),
    p99: lat('p99'),
    p999: lat('p999'),
    errors: c.rounds.reduce((a, x) => a + x.errors + x.timeouts, 0),
    non2xx: c.rounds.reduce((a, x) => a + x.non2xx, 0),
    cpuUsPerRequest: c.pid ? mean(c.rounds.map((x) => x.cpuUsPerRequest)) : NaN,
  };
}

/**
 * pairedRatio divides a candidate's req/s by a reference's round by round
 * (undefined without the reference): { rounds, median, ofMeans }. Within a
 * round the two ran close together, so the median of these ratios ignores
 * the one round a neighbour disturbed; `ofMeans` is the ratio of the means.
 */
export function pairedRatio(c, ref) {
  if (!c || !ref || ref.rounds.length !== c.rounds.length || c.rounds.length === 0) return undefined;
  const rounds = c.rounds.map((r, i) => r.rps / ref.rounds[i].rps);
  return { rounds, median: median(rounds), ofMeans: mean(c.rounds.map((r) => r.rps)) / mean(ref.rounds.map((r) => r.rps)) };
}
