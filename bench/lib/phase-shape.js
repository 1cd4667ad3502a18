/**
 * Phase "shape": does the cost per request depend on the size of the
 * configuration? The gateway as shipped with 1, 10 and 1,000 routes (3
 * targets; the hit route declared last) and with 1, 10 and 100 targets (10
 * routes), against 10 routes over 3 targets, same rounds. Target: every one
 * within 5 % of the reference. The 100 targets are 34 ports on each of the 3
 * upstream processes; with 1 target, one upstream process takes all the load
 * (it shares a CPU with the load generator), which can cap that row.
 * When nginx is installed, nginx over the same 3 and 100 targets runs in the
 * same rounds: what spreading 50 client connections over 100 upstream pools
 * costs any proxy (fewer requests per upstream connection, more sockets per
 * poll), as against what is the gateway's own. A second gateway process
 * with the reference configuration runs too: two processes of the same
 * build and configuration differ (JIT, heap and cache layout), and that
 * difference is the floor under which a shape's deviation says nothing.
 */
import { BENCH_PATH, startGateway } from './gateway.js';
import { startNginx } from './nginx.js';
import { miniRun, ratioCell, startUpstreams } from './phases.js';
import { table } from './table.js';

/** TWIN names the second process of the reference configuration (the noise floor, not a shape). */
const TWIN = '10 routes, 3 targets (second process)';

/** shapePhase runs the phase; returns { lines, json }. */
export async function shapePhase(ctx) {
  const ups = await startUpstreams(ctx, { bodySize: ctx.o.bodySize, listeners: 34 });
  // Targets spread over the three processes: 1 from the first, 3/10/100 round the processes.
  const spread = (n) => Array.from({ length: n }, (_, i) => ups.urls[(i % 3) * 34 + Math.floor(i / 3)]);
  const shapes = [
    ['10 routes, 3 targets (reference)', 10, 3],
    ['1 route', 1, 3],
    ['1,000 routes', 1000, 3],
    ['1 target', 10, 1],
    ['10 targets', 10, 10],
    ['100 targets', 10, 100],
    [TWIN, 10, 3],
  ];
  try {
    const cands = [];
    for (const [name, routes, targets] of shapes) {
      const start = () => startGateway({ targets: spread(targets), routes, cpus: ctx.plan.proxy, headers: ctx.headers }).then(ctx.tracked);
      const g = { ...(await start()), restart: start };
      cands.push({ name, ...g });
    }
    const refs = [];
    if (ctx.nginx) {
      for (const n of [3, 100]) {
        const start = () => startNginx({ nginx: ctx.nginx, targets: spread(n), cpus: ctx.plan.proxy, probePath: BENCH_PATH, headers: ctx.headers }).then(ctx.tracked);
        const ng = { ...(await start()), restart: start };
        refs.push({ name: `nginx, ${n} targets`, ...ng });
      }
    }
    console.log(`shape: ${cands.length} gateways${refs.length ? `, nginx over 3 and 100 targets` : ''}`);
    const all = await miniRun(ctx, [...cands, ...refs]);
    const done = all.slice(0, cands.length);
    const ref = done[0];
    const json = {};
    const nginxLine = [];
    if (refs.length) {
      const [n3, n100] = all.slice(cands.length);
      const r = ratioCell(n100, n3);
      json.nginx = { targets3: n3.summary, targets100: n100.summary, ratio: r.value, ratioOfMeans: r.ofMeans };
      const cpu = (c) => (Number.isFinite(c.summary.cpuUsPerRequest) ? `${c.summary.cpuUsPerRequest.toFixed(0)}` : '-');
      nginxLine.push(`  reference: nginx over 100 targets ${r.text} its 3-target req/s (CPU ${cpu(n3)} -> ${cpu(n100)} µs/req): the cost of spreading the same connections over 100 upstream pools, in any proxy`);
    }
    const rows = done.map((c) => {
      const r = c === ref ? { text: '1.00x', value: 1, ofMeans: 1 } : ratioCell(c, ref);
      json[c.name] = { summary: c.summary, ratio: r.value, ratioOfMeans: r.ofMeans };
      return [c.name, Math.round(c.summary.rps).toLocaleString('en-US'), r.text, Number.isFinite(c.summary.cpuUsPerRequest) ? c.summary.cpuUsPerRequest.toFixed(0) : '-', c.summary.p99.toFixed(2)];
    });
    const worst = Math.max(...done.filter((c) => c.name !== TWIN).map((c) => Math.abs(1 - json[c.name].ratio)));
    json.worstDeviation = worst;
    const floor = Math.abs(1 - json[TWIN].ratio);
    json.noiseFloor = floor;
    return {
      lines: [
        'configuration shape: the gateway as shipped, ratio to 10 routes over 3 targets (median of per-round ratios)',
        table(['shape', 'req/s', 'vs reference', 'CPU µs/req', 'p99 ms'], rows),
        `  largest deviation ${(100 * worst).toFixed(1)} % (target: within 5 %: ${worst <= 0.05 ? 'met' : 'NOT met'}; on a busy machine compare CPU µs/req too)`,
        `  noise floor: a second process of the reference configuration differs from the first by ${(100 * floor).toFixed(1)} %`,
        ...nginxLine,
      ],
      json,
    };
  } finally {
    await ups.stop();
  }
}
