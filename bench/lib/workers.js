/**
 * The `--workers N` candidate: the gateway in cluster mode (a primary plus N
 * worker processes sharing the port), measured in the same run as the
 * 1-process "gateway" so its scaling factor compares like with like.
 */
import { cpuShare, SATURATED } from './rounds.js';

/** workersNote says where the workers run and what they compete with (the honest caveat for the scaling factor). */
export function workersNote(n, plan) {
  if (!plan.pinned) return `gateway-workers-${n}: not pinned; its workers, the load generator and the upstreams share all ${plan.count} CPU(s), so the scaling factor is a lower bound`;
  const cpus = plan.proxyN(n);
  const shared = Math.min(n, plan.count) > 1;
  const base = `gateway-workers-${n}: primary + ${n} workers pinned to CPUs ${cpus} (not one CPU); the load generator and upstreams stay on CPU ${plan.rest}`;
  if (plan.count <= n + 1) {
    return `${base}: on this ${plan.count}-CPU machine they compete with the workers for the same CPUs, so the scaling factor understates what ${n} dedicated cores give (it is a lower bound)`;
  }
  const last = Math.min(n, plan.count) - 1;
  return shared ? `${base}, overlapping the workers' CPU ${last === 1 ? '1' : `1-${last}`}: the scaling factor is a lower bound` : base;
}

/**
 * scaling compares the N-worker candidate with the 1-process gateway of the
 * same run: req/s ratio (ideal: N) and CPU per request of each (the cluster's
 * includes the primary, which serves no traffic). Undefined when either is missing.
 */
export function scaling(one, many, n) {
  if (!one?.summary || !many?.summary || !(one.summary.rps > 0)) return undefined;
  return {
    workers: n,
    processes: many.workers,
    rps1: one.summary.rps,
    rpsN: many.summary.rps,
    factor: many.summary.rps / one.summary.rps,
    ideal: n,
    cpuUsPerRequest1: one.summary.cpuUsPerRequest,
    cpuUsPerRequestN: many.summary.cpuUsPerRequest,
    /** cpuShare1 is the share of its one CPU the 1-process gateway used (below ~0.85 it was not the bottleneck). */
    cpuShare1: cpuShare(one.summary),
  };
}

/**
 * scalingLines renders a scaling result for the report. When the 1-process
 * gateway did not use its whole CPU, something else (the load generator, the
 * upstreams) capped req/s, and more workers cannot show: say so.
 */
export function scalingLines(s) {
  const cpu = Number.isFinite(s.cpuUsPerRequest1) && Number.isFinite(s.cpuUsPerRequestN) ? `; CPU ${s.cpuUsPerRequest1.toFixed(0)} -> ${s.cpuUsPerRequestN.toFixed(0)} µs/req` : '';
  const lines = [`scaling with --workers ${s.workers}: ${s.factor.toFixed(2)}x the 1-process gateway (ideal ${s.ideal.toFixed(2)}x): ${Math.round(s.rps1).toLocaleString('en-US')} -> ${Math.round(s.rpsN).toLocaleString('en-US')} req/s${cpu}`];
  const busy = s.cpuShare1;
  if (Number.isFinite(busy) && busy < SATURATED) {
    lines.push(`  the 1-process gateway used ${(100 * busy).toFixed(0)}% of its CPU: the load generator and upstreams, not the gateway, limited req/s in this run, so more workers could not raise it`);
  }
  return lines;
}
