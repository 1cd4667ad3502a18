/**
 * The floor for bench/registry.js --baseline: bare fastify answering the same
 * register and heartbeat paths with an empty 204/200, nothing stored, same
 * IPC protocol as registry-server.js. The registry's figure minus this one is
 * what the registry itself adds on top of receiving HTTP requests at all.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/eureka/apps/:app', (_req, reply) => reply.code(204).send());
app.put('/eureka/apps/:app/:id', (_req, reply) => reply.code(200).send());
await app.listen({ host: '127.0.0.1', port: 0 });
process.send({ port: app.server.address().port });
let base;
let t0 = 0;
process.on('message', async (m) => {
  if (m === 'start') {
    base = process.cpuUsage();
    t0 = performance.now();
  } else if (m === 'stop') {
    const cpu = process.cpuUsage(base);
    process.send({ cpu, wallMs: performance.now() - t0, state: { store: 'none (bare fastify)', instances: 0, selfPreservation: { active: false } }, rssMiB: Math.round(process.memoryUsage().rss / 1048576) });
  } else if (m === 'exit') {
    await app.close();
    process.exit(0);
  }
});
