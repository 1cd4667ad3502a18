/**
 * The bare-fastify-proxy candidate (child process): fastify 5 with
 * @fastify/http-proxy at library defaults, one upstream target. This is what
 * "just put fastify in front" costs. Reports { type: 'ready', port } over IPC.
 * Usage: node fastify-proxy.js <targetUrl>
 */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const app = Fastify({ logger: false });
await app.register(proxy, { upstream: process.argv[2] });
await app.listen({ host: '127.0.0.1', port: 0 });
process.send({ type: 'ready', port: app.server.address().port });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
