/**
 * Phase "sizes": streaming efficiency. For response bodies of 100 B, 64 KiB
 * and 1 MiB, the gateway as shipped against nginx with its access log on,
 * same upstreams, same rounds; the figure is gateway / nginx per size.
 * nginx keeps its defaults (proxy_buffering on: a 1 MiB body spills to its
 * temp files, as it does for its users).
 */
import { BENCH_PATH, startGateway } from './gateway.js';
import { startNginx } from './nginx.js';
import { miniRun, ratioCell, startUpstreams } from './phases.js';
import { table } from './table.js';

const SIZES = [
  ['100 B', 100],
  ['64 KiB', 65536],
  ['1 MiB', 1048576],
];

/** sizesPhase runs the phase; returns { lines, json }. */
export async function sizesPhase(ctx) {
  const rows = [];
  const json = {};
  for (const [label, bodySize] of SIZES) {
    console.log(`sizes: ${label} responses`);
    const ups = await startUpstreams(ctx, { bodySize });
    try {
      const cands = [];
      const start = () => startGateway({ targets: ups.urls, cpus: ctx.plan.proxy, headers: ctx.headers }).then(ctx.tracked);
      const g = { ...(await start()), restart: start };
      cands.push({ name: 'gateway', ...g });
      if (ctx.nginx) {
        const start = () => startNginx({ nginx: ctx.nginx, targets: ups.urls, cpus: ctx.plan.proxy, probePath: BENCH_PATH, headers: ctx.headers }).then(ctx.tracked);
        const n = { ...(await start()), restart: start };
        cands.push({ name: 'nginx', ...n });
      }
      const done = await miniRun(ctx, cands);
      const [gw, ng] = done;
      const r = ratioCell(gw, ng);
      json[label] = { bodySize, gateway: gw.summary, nginx: ng?.summary, ratio: r.value, ratioOfMeans: r.ofMeans };
      const mbps = (c) => (c ? ((c.summary.rps * bodySize) / 1048576).toFixed(1) : '-');
      rows.push([label, Math.round(gw.summary.rps).toLocaleString('en-US'), ng ? Math.round(ng.summary.rps).toLocaleString('en-US') : '-', mbps(gw), mbps(ng), r.text, gw.summary.p99.toFixed(2), ng ? ng.summary.p99.toFixed(2) : '-']);
    } finally {
      await ups.stop();
    }
  }
  const lines = ['response sizes: gateway (as shipped) vs nginx (access log on), median of per-round ratios', table(['body', 'gateway req/s', 'nginx req/s', 'gateway MiB/s', 'nginx MiB/s', 'gateway/nginx', 'gateway p99 ms', 'nginx p99 ms'], rows)];
  return { lines, json };
}
