/**
 * The registry alone in its own process, for bench/registry.js: started from
 * the built module (dist/) or, when there is none, from the sources through
 * tsx. Reports its port over IPC, then its own CPU time (process.cpuUsage)
 * between a 'start' and a 'stop' message, so the figure is the registry's
 * and never the load generator's.
 */
import { pino } from 'pino';

const mod = await import(process.env.REGISTRY_MODULE);
const running = await mod.startRegistry({
  options: JSON.parse(process.env.REGISTRY_OPTIONS ?? '{}'),
  log: pino({ level: 'error' }),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
});
process.send({ port: running.port });
let base;
let t0 = 0;
process.on('message', async (m) => {
  if (m === 'start') {
    base = process.cpuUsage();
    t0 = performance.now();
  } else if (m === 'stop') {
    const cpu = process.cpuUsage(base);
    process.send({ cpu, wallMs: performance.now() - t0, state: running.registry.state(), rssMiB: Math.round(process.memoryUsage().rss / 1048576) });
  } else if (m === 'exit') {
    await running.close();
    process.exit(0);
  }
});
