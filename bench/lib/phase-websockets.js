/**
 * Phase "websockets": 5,000 open WebSockets through the gateway as shipped
 * (each echoed one message, then idle), to one echo upstream. Figures: RSS
 * per WebSocket (gateway RSS with them open minus before, over the count),
 * and the echo round trip of one more, active socket meanwhile (p50/p99 of
 * 2,000 messages sent one after another), against the same socket before the
 * others were opened. Scales down to fit `ulimit -n` like the idle phase.
 */
import { startGateway } from './gateway.js';
import { launchNode, nextMessage, retire, stop, treeRss } from './procs.js';
import { fdLimit } from './phase-idle.js';
import { percentile } from './stats.js';
import { table } from './table.js';

/** wsPhase runs the phase; returns { lines, json }. */
export async function wsPhase(ctx) {
  const want = ctx.o.quick ? 500 : 5000;
  const limit = fdLimit();
  // The gateway holds two descriptors per WebSocket (client and upstream side).
  const count = Math.min(want, Math.floor((limit - 200) / 2));
  const messages = ctx.o.quick ? 300 : 2000;
  const up = ctx.track(launchNode(new URL('./ws-upstream.js', import.meta.url).pathname, [], { cpus: ctx.plan.rest, name: 'ws-upstream' }));
  const { port: upPort } = await nextMessage(up, 'ready');
  const holder = ctx.track(launchNode(new URL('./conn-holder.js', import.meta.url).pathname, [], { cpus: ctx.plan.rest, name: 'ws-holder' }));
  await nextMessage(holder, 'ready');
  const ask = async (msg, type, timeoutMs = 300_000) => {
    const reply = nextMessage(holder, type, timeoutMs);
    holder.send(msg);
    return reply;
  };
  let g;
  try {
    console.log(`websockets: ${count} open WebSockets through the gateway`);
    g = await startGateway({ targets: [`http://127.0.0.1:${upPort}`], cpus: ctx.plan.proxy, headers: ctx.headers });
    ctx.track(g.child);
    const url = `ws://127.0.0.1:${g.port}/api/ws`;
    await ask({ type: 'echo', url, messages: Math.min(500, messages) }, 'echo'); // unmeasured: warm the path first
    const before = (await ask({ type: 'echo', url, messages }, 'echo')).rtts;
    const rssBefore = treeRss(g.pid);
    const opened = await ask({ type: 'ws', url, count }, 'ws');
    const rssWith = treeRss(g.pid);
    const during = (await ask({ type: 'echo', url, messages }, 'echo')).rtts;
    const { open } = await ask({ type: 'count' }, 'count');
    const perSocket = (rssWith - rssBefore) / Math.max(1, opened.open);
    const pct = (xs, p) => percentile([...xs].sort((a, b) => a - b), p);
    const json = {
      sockets: opened.open,
      failed: opened.failed,
      stillOpen: open,
      rssBefore,
      rssWith,
      rssPerSocket: perSocket,
      echoBefore: { p50: pct(before, 50), p99: pct(before, 99) },
      echoDuring: { p50: pct(during, 50), p99: pct(during, 99) },
    };
    const rows = [[`${opened.open} (${opened.failed} failed; ${open} still open)`, (rssBefore / 1048576).toFixed(1), (rssWith / 1048576).toFixed(1), (perSocket / 1024).toFixed(1), `${json.echoBefore.p50.toFixed(2)} / ${json.echoBefore.p99.toFixed(2)}`, `${json.echoDuring.p50.toFixed(2)} / ${json.echoDuring.p99.toFixed(2)}`]];
    const notes = count < want ? [`  only ${count} WebSockets: ulimit -n is ${limit} (raise it to 65536 for ${want})`] : [];
    return {
      lines: [`open WebSockets through the gateway (one active socket: ${messages} echoes one after another, before and while they are open)`, table(['WebSockets', 'RSS before MiB', 'RSS with MiB', 'KiB per WebSocket', 'echo p50 / p99 ms before', 'echo p50 / p99 ms with'], rows), ...notes],
      json,
    };
  } finally {
    if (g) await retire(g);
    await stop(holder, 3000);
    await stop(up, 3000);
  }
}
