/**
 * Phase "idle": 10,000 idle keep-alive client connections (each made one
 * request, then stays open). For the gateway as shipped and for nginx (access
 * log on): RSS per idle connection, and the latency of an active client (wrk,
 * 10 connections) before and while they are open. Both get room for them:
 * the gateway `limits: { maxConnections: 20000, keepAliveTimeout: 300s }`
 * (its defaults, 10,000 and 5 s, would refuse the active client and close
 * the idle ones), nginx `worker_connections 20000; keepalive_timeout 300s`.
 * Every process needs 10,000+ file descriptors: the phase scales the count
 * down to fit `ulimit -n` and says so (raise it with `ulimit -n 65536`
 * before `npm run bench`).
 */
import { spawnSync } from 'node:child_process';
import { BENCH_PATH, startGateway } from './gateway.js';
import { startNginx } from './nginx.js';
import { launchNode, nextMessage, retire, stop, treeRss } from './procs.js';
import { startUpstreams } from './phases.js';
import { table } from './table.js';

/** fdLimit is the soft open-files limit the harness (and its children) run with. */
export function fdLimit() {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : Infinity; // "unlimited"
}

/** idlePhase runs the phase; returns { lines, json }. */
export async function idlePhase(ctx) {
  const want = ctx.o.quick ? 1000 : 10_000;
  const limit = fdLimit();
  const count = Math.min(want, limit - 200);
  const notes = count < want ? [`  only ${count} idle connections: ulimit -n is ${limit} (raise it to 65536 for ${want})`] : [];
  const seconds = ctx.o.quick ? 2 : 5;
  const ups = await startUpstreams(ctx, { bodySize: 100 });
  const holder = ctx.track(launchNode(new URL('./conn-holder.js', import.meta.url).pathname, [], { cpus: ctx.plan.rest, name: 'conn-holder' }));
  await nextMessage(holder, 'ready');
  const rows = [];
  const json = { connections: count };
  const active = (url) => ctx.load({ url, connections: 10, duration: seconds });
  try {
    const proxies = [['gateway', () => startGateway({ targets: ups.urls, cpus: ctx.plan.proxy, headers: ctx.headers, extra: { limits: { maxConnections: 20_000, keepAliveTimeout: '300s' } } })]];
    if (ctx.nginx) proxies.push(['nginx', () => startNginx({ nginx: ctx.nginx, targets: ups.urls, cpus: ctx.plan.proxy, probePath: BENCH_PATH, headers: ctx.headers, connections: 20_000, keepaliveTimeout: '300s' })]);
    for (const [name, start] of proxies) {
      console.log(`idle: ${name}, ${count} idle keep-alive connections`);
      const p = await start();
      ctx.track(p.child);
      try {
        // Unmeasured first: a cold process (JIT, pools) would make "before" look worse than "with".
        await ctx.load({ url: p.url, connections: 10, duration: 1 });
        const before = await active(p.url);
        const rssBefore = treeRss(p.pid);
        const port = Number(new URL(p.url).port);
        const reply = nextMessage(holder, 'http', 300_000);
        holder.send({ type: 'http', port, path: BENCH_PATH, count });
        const opened = await reply;
        const rssWith = treeRss(p.pid);
        const during = await active(p.url);
        const still = nextMessage(holder, 'count');
        holder.send({ type: 'count' });
        const { open } = await still;
        const perConn = (rssWith - rssBefore) / Math.max(1, opened.open);
        json[name] = { opened: opened.open, failed: opened.failed, stillOpen: open, rssBefore, rssWith, rssPerConnection: perConn, before: before.latency, during: during.latency, rpsBefore: before.rps, rpsDuring: during.rps };
        rows.push([name, `${opened.open} (${opened.failed} failed; ${open} still open)`, (rssBefore / 1048576).toFixed(1), (rssWith / 1048576).toFixed(1), (perConn / 1024).toFixed(1), `${before.latency.p50.toFixed(2)} / ${before.latency.p99.toFixed(2)}`, `${during.latency.p50.toFixed(2)} / ${during.latency.p99.toFixed(2)}`]);
      } finally {
        await retire(p);
        // The proxy closed the idle connections; the holder's sockets close with them.
      }
    }
  } finally {
    await stop(holder, 3000);
    await ups.stop();
  }
  return {
    lines: [
      `idle keep-alive connections (active client: 10 connections, ${seconds}s, before and while they are open)`,
      table(['proxy', 'idle connections', 'RSS before MiB', 'RSS with MiB', 'KiB per connection', 'active p50 / p99 ms before', 'active p50 / p99 ms with'], rows),
      ...notes,
    ],
    json,
  };
}
