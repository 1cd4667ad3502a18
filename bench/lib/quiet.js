/**
 * Was the run quiet? Two questions, because /proc/stat answers only the
 * first: did other processes (or the hypervisor) take CPU during the rounds
 * (ForeignLoad, procs.js), and did the machine's own speed hold — a host
 * that slows the whole VM shows in no counter of the guest, only as a
 * steady reference going faster or slower from round to round. On
 * 2026-12-07 a VM whose other processes took 0.0 % and whose hypervisor
 * stole 2.2 % had nginx's req/s move ±29 % between rounds and ran HAProxy
 * at two to ten times its usual CPU per short connection (bench/README.md
 * journal, fifth session). Shared by bench/run.js and bench/streams.js.
 */
import { mean, stdev } from './stats.js';

/** STEADY_LIMIT_PCT is the largest spread a steady reference's figure may have across rounds (standard deviation, % of its mean) in a quiet run. */
const STEADY_LIMIT_PCT = 5;

/** DISTURBED_PCT is the share of the machine's CPU other processes, or the hypervisor, may take in a quiet run. */
const DISTURBED_PCT = 5;

/**
 * steadinessOf reads references round by round (`[{ name, values }]`, e.g.
 * "nginx's req/s" and "nginx's CPU µs/req": references with no JIT and no
 * process luck of their own, so that their spread is the machine's) and
 * returns the largest spread, or undefined with fewer than two rounds.
 */
export function steadinessOf(series) {
  const spreads = series.filter((s) => s.values.length > 1).map((s) => ({ name: s.name, pct: (100 * stdev(s.values)) / mean(s.values) }));
  if (spreads.length === 0 || !spreads.every((s) => Number.isFinite(s.pct))) return undefined;
  const worst = spreads.reduce((a, b) => (b.pct > a.pct ? b : a));
  return { worst, spreads, limitPct: STEADY_LIMIT_PCT, steady: worst.pct <= STEADY_LIMIT_PCT };
}

/**
 * verdict is the run's quietness in one line: `disturbance` from
 * ForeignLoad.stop(), `steady` from steadinessOf, `unknown` what to say when
 * steadiness could not be read (one round, no reference). `quiet` is true only
 * when both questions are answered yes; `warned` when either is answered no.
 */
export function verdict(disturbance, steady, unknown) {
  const line = `other processes used ${disturbance.foreignPct.toFixed(1)}% of the machine's CPU during the rounds${disturbance.stealPct >= 0.5 ? `, the hypervisor stole ${disturbance.stealPct.toFixed(1)}%` : ''} (interrupts, mostly the run's own loopback traffic: ${disturbance.irqPct.toFixed(1)}%, not counted)`;
  const speed = steady ? `the machine's speed ${steady.steady ? 'held' : 'did NOT hold'}: ${steady.worst.name} moved ±${steady.worst.pct.toFixed(1)}% across rounds (limit ${steady.limitPct}%)` : undefined;
  const note = speed ? `${line}; ${speed}` : line;
  if (disturbance.foreignPct > DISTURBED_PCT || disturbance.stealPct > DISTURBED_PCT) {
    return { quiet: false, warned: true, note, text: `WARNING: ${line}: throughput and latencies are disturbed; CPU per request holds up best; rerun on a quiet machine for numbers to quote.` };
  }
  if (steady && !steady.steady) {
    return { quiet: false, warned: true, note, text: `WARNING: ${line}, but ${speed}: a host slowing the VM, which /proc/stat does not show; ratios within a round hold up best; rerun on a quiet machine for numbers to quote.` };
  }
  if (steady) return { quiet: true, warned: false, note, text: `${note} (a quiet run).` };
  return { quiet: false, warned: false, note, text: `${line} (quiet by /proc/stat; ${unknown}, whether the machine's speed held is not known).` };
}
