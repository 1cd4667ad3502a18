/**
 * The admin API: operations endpoints on their own listener (never the public
 * port), optionally behind a bearer token. Built on fastify, whose routing,
 * schema'd replies and logging suit a low-traffic control plane.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AdminBackend } from './backend.js';
import { registerDashboard } from './dashboard.js';
import { catalogErrors, sendError } from './errors.js';

/** AdminServer is a running admin listener. */
export interface AdminServer {
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** AdminOptions is gateway.yaml's `admin` block. */
export interface AdminOptions {
  host: string;
  port: number;
  token?: string;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** isDashboardUrl matches `/` with or without a query (the page reads `?token=` itself). */
function isDashboardUrl(url: string): boolean {
  return url === '/' || url.startsWith('/?');
}

/** startAdmin starts the admin listener for a gateway (or a cluster primary, through its backend). */
export async function startAdmin(backend: AdminBackend, opts: AdminOptions): Promise<AdminServer> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  catalogErrors(app);
  if (opts.token) {
    const token = opts.token;
    app.addHook('onRequest', async (req, reply) => {
      // Liveness stays open so orchestrators can probe without the secret; the
      // dashboard shell holds no data (it fetches with the token), so a browser can load it.
      if (req.url === '/healthz' || (req.method === 'GET' && isDashboardUrl(req.url))) return;
      if (!tokenMatches(req.headers.authorization, token)) {
        reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
        return sendError(req, reply, 'SY_ERR_AUTH_REQUIRED', 'admin token required');
      }
    });
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = await backend.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/routes', () => backend.routes());
  app.get('/upstreams', () => backend.upstreams());
  app.get('/config', () => backend.config());
  // The active configuration as `switchyard diff --against http://...` reads it: routes, upstreams, chain, settings with file:line and file hashes; secrets fingerprinted.
  app.get('/config/model', () => backend.model());
  app.get('/stats', () => backend.stats());
  app.post('/reload', async (req, reply) => {
    const dry = (req.query as { dryRun?: string }).dryRun;
    if (dry !== undefined && dry !== '0' && dry !== 'false') {
      // What the files on disk would change, applied to nothing.
      const diff = await backend.dryRun();
      return diff.ok ? diff : reply.code(422).send(diff);
    }
    const result = await backend.reload();
    if (result.ok) return result;
    return reply.code(422).send(result);
  });
  const drain = (draining: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { name, index } = req.params as { name: string; index: string };
    const result = /^\d{1,9}$/.test(index) ? await backend.drain(name, Number(index), draining) : undefined;
    if (!result) return sendError(req, reply, 'SY_ERR_ADMIN_NOT_FOUND', `no target ${index} in upstream ${name}`);
    return result;
  };
  app.post('/upstreams/:name/targets/:index/drain', drain(true));
  app.post('/upstreams/:name/targets/:index/undrain', drain(false));
  app.get('/metrics', async (_req, reply) => {
    const text = await backend.metrics();
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
  registerDashboard(app);
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { port, app, close: () => app.close() };
}
