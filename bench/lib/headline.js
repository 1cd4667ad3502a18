/**
 * The figures issue 17 asks the run to quote, from the headline candidates of
 * one run: gateway / bare @fastify/http-proxy, chain / bare, gateway / nginx
 * with its access log on, the access log's cost in the rounds (gateway
 * against gateway-nolog, and nginx against nginx-nolog; judged against its
 * target by the logcost phase, phase-logcost.js), p99s, and RSS after the
 * rounds against the bare proxy's. Each ratio is given as the median of the
 * per-round ratios and as the ratio of the means, with its target.
 */
import { cpuShare, pairedRatio, SATURATED } from './rounds.js';
import { fmtMs, fmtRatio } from './table.js';

const TARGETS = {
  'gateway/bare': 1.3,
  'gateway/nginx': 0.6,
  'chain/bare': 1.1,
};

/** verdict says met / NOT met for a ratio against a minimum. */
const verdict = (v, min) => (v >= min ? 'met' : 'NOT met');

/** headlineFigures returns { lines, json } for the candidates present (by name); `quiet` is the run's quietness verdict (quiet.js), repeated under the figures so that no one quotes them without it. */
export function headlineFigures(byName, quiet) {
  const lines = [];
  const json = {};
  const bare = byName['bare-fastify-proxy'];
  const ratio = (key, a, b, min) => {
    const p = pairedRatio(a, b);
    if (!p) return;
    json[key] = { median: p.median, ofMeans: p.ofMeans, rounds: p.rounds, target: min };
    lines.push(`  ${key.padEnd(26)} ${fmtRatio(p.median)} median of rounds, ${fmtRatio(p.ofMeans)} of means${min ? `  (target >= ${min}: ${verdict(p.median, min)})` : ''}`);
  };
  ratio('gateway/bare', byName.gateway, bare, TARGETS['gateway/bare']);
  ratio('gateway/nginx', byName.gateway, byName.nginx, TARGETS['gateway/nginx']);
  const busy = cpuShare(byName.nginx?.summary);
  if (Number.isFinite(busy) && json['gateway/nginx']) {
    json['gateway/nginx'].nginxBusy = busy;
    // On this harness the reference may not fill its core: its req/s is then what the load generator and the upstreams (on the other CPU) leave it, and the ratio against it an upper bound (bench/README.md journal, tenth session).
    if (busy < SATURATED) lines.push(`  ${''.padEnd(26)} (nginx used ${(100 * busy).toFixed(0)} % of its CPU: its req/s is what the load generator and the upstreams on the other CPU leave it, so the ratio is an upper bound and moves with them)`);
  }
  ratio('chain/bare', byName['gateway-chain'], bare, TARGETS['chain/bare']);
  ratio('gateway-nolog/bare', byName['gateway-nolog'], bare);
  // Access-log cost: the throughput the log takes, 1 - (with / without), same rounds. Three rounds cannot resolve a
  // few per cent on a drifting machine: the figure judged against the 5 % target is the logcost phase's (paired slices).
  for (const [key, on, off, judged] of [
    ['access-log cost (gateway)', byName.gateway, byName['gateway-nolog'], '  (against the 5 % target: the logcost phase, below)'],
    ['access-log cost (nginx)', byName.nginx, byName['nginx-nolog'], ''],
  ]) {
    const p = pairedRatio(on, off);
    if (!p) continue;
    const cost = 1 - p.median;
    const cpu = on.summary && off.summary ? on.summary.cpuUsPerRequest - off.summary.cpuUsPerRequest : NaN;
    json[key] = { median: cost, ofMeans: 1 - p.ofMeans, cpuUsPerRequest: cpu };
    lines.push(
      `  ${key.padEnd(26)} ${(100 * cost).toFixed(1)} % of throughput (median of rounds; ${(100 * (1 - p.ofMeans)).toFixed(1)} % of means)${Number.isFinite(cpu) ? `, ${cpu.toFixed(1)} CPU µs/req` : ''}${judged}`,
    );
  }
  if (byName.gateway?.summary && bare?.summary) {
    const g = byName.gateway.summary;
    const b = bare.summary;
    json.p99 = { gateway: g.p99, chain: byName['gateway-chain']?.summary.p99, bare: b.p99, nginx: byName.nginx?.summary.p99 };
    lines.push(`  ${'p99 ms'.padEnd(26)} gateway ${fmtMs(g.p99)}, chain ${fmtMs(byName['gateway-chain']?.summary.p99)}, bare ${fmtMs(b.p99)}, nginx ${fmtMs(byName.nginx?.summary.p99)}  (target gateway <= bare: ${g.p99 <= b.p99 ? 'met' : 'NOT met'})`);
  }
  if (byName.gateway?.rssAfter && bare?.rssAfter) {
    const mib = (b) => (b / 1048576).toFixed(1);
    const met = byName.gateway.rssAfter <= bare.rssAfter;
    json.rssAfter = { gateway: byName.gateway.rssAfter, chain: byName['gateway-chain']?.rssAfter, bare: bare.rssAfter, met };
    lines.push(`  ${'RSS after the rounds'.padEnd(26)} gateway ${mib(byName.gateway.rssAfter)} MiB, chain ${byName['gateway-chain']?.rssAfter ? mib(byName['gateway-chain'].rssAfter) : '-'} MiB, bare ${mib(bare.rssAfter)} MiB  (target gateway <= bare: ${met ? 'met' : 'NOT met'})`);
  }
  if (lines.length && quiet) {
    json.quiet = quiet.quiet;
    lines.push(`  ${'the run'.padEnd(26)} ${quiet.quiet ? 'quiet: figures to quote' : quiet.warned ? 'NOT quiet (see the warning above): not figures to quote' : 'not known to be quiet (see above): not figures to quote'}`);
  }
  if (lines.length) lines.unshift('headline (issue 17 targets), as shipped:');
  return { lines, json };
}
