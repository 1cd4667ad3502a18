/**
 * The registry's REST listener: Eureka's endpoints on their own port, under
 * both /eureka/ and /eureka/v2/ (eureka-js-client's default servicePath is
 * /eureka/v2/apps/, Spring's /eureka/apps/), JSON only. Built on fastify, with
 * its defaults checked against hostile input:
 *
 * - bodyLimit: limits.maxBodyBytes (64 KiB) instead of 1 MiB; a bigger body is
 *   refused 413 while streaming, before it is parsed.
 * - prototype poisoning (`__proto__`, `constructor.prototype`): fastify's
 *   default is to refuse (400); kept.
 * - no route body schema: fastify's Ajv would strip unknown keys and coerce
 *   types (removeAdditional, coerceTypes); registration.ts validates strictly.
 * - routerOptions: a trailing slash is ignored (eureka-js-client fetches
 *   GET /apps/), path parameters are capped at 256 characters.
 * - requestTimeout 30 s and keep-alive 72 s: a slow client cannot hold a socket
 *   forever, while heartbeating clients reuse their connection.
 * Every error is the catalog's JSON body (src/errors.ts), fastify's never.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ERROR_HEADERS, ERRORS, errorBody, type ErrorCode } from '../errors.js';
import { AuthCheck } from './auth.js';
import { applicationJson, applicationsJson, deltaJson, oneInstanceJson } from './eureka-json.js';
import type { RegistryMetrics, RegistryRefusalReason } from './metrics.js';
import type { Registry, WriteResult } from './registry.js';

/** RegistryServer is a running registry listener. */
export interface RegistryServer {
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** PREFIXES are the service paths Eureka clients use. */
export const PREFIXES = ['/eureka', '/eureka/v2'] as const;

/** sendError answers with a catalog error; `detail` explains the client's own input (never server internals). */
function sendError(req: FastifyRequest, reply: FastifyReply, code: ErrorCode, detail?: string): FastifyReply {
  return reply
    .code(ERRORS[code].status)
    .headers(ERROR_HEADERS)
    .send(errorBody(code, String(req.id), detail === undefined ? undefined : { detail }));
}

/** acceptsJson tells whether an Accept header admits a JSON answer (absent = anything). */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase();
    return type === 'application/json' || type === 'application/*' || type === '*/*' || type.endsWith('+json');
  });
}

function json(reply: FastifyReply, body: string): FastifyReply {
  return reply.code(200).type('application/json').header('cache-control', 'no-store').send(body);
}

/** startRegistryServer serves `registry` on its own listener (options.host:options.port). */
export async function startRegistryServer(registry: Registry, metrics: RegistryMetrics): Promise<RegistryServer> {
  const opts = registry.options;
  const auth = new AuthCheck(opts.auth);
  const lease = { expiryMs: opts.expiryMs };
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBodyBytes,
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  });

  const refuse = (req: FastifyRequest, reply: FastifyReply, code: ErrorCode, reason: RegistryRefusalReason, detail?: string) => {
    metrics.refused(reason);
    return sendError(req, reply, code, detail);
  };
  const answer = (req: FastifyRequest, reply: FastifyReply, r: WriteResult, okStatus: number) =>
    r.ok ? reply.code(okStatus).send() : sendError(req, reply, r.code, r.detail);

  app.setNotFoundHandler((req, reply) => refuse(req, reply, 'SY_ERR_REGISTRY_NOT_FOUND', 'not-found', `${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`));
  app.setErrorHandler((err: { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return refuse(req, reply, 'SY_ERR_BODY_TOO_LARGE', 'too-large', `at most ${opts.maxBodyBytes} bytes`);
    if (status === 415) return refuse(req, reply, 'SY_ERR_REGISTRY_BAD_REQUEST', 'malformed', 'send Content-Type: application/json');
    if (status >= 400 && status < 500) return refuse(req, reply, 'SY_ERR_REGISTRY_BAD_REQUEST', 'malformed', 'the body is not valid JSON');
    return sendError(req, reply, 'SY_ERR_INTERNAL');
  });
  app.addHook('onRequest', async (req, reply) => {
    const verdict = auth.check(req.headers.authorization);
    if (!verdict.ok) {
      reply.header('www-authenticate', verdict.challenge);
      return refuse(req, reply, verdict.code, 'auth');
    }
    if (!acceptsJson(req.headers.accept)) return refuse(req, reply, 'SY_ERR_REGISTRY_NOT_ACCEPTABLE', 'not-acceptable', 'XML is not served');
  });

  type P = { app: string; id: string };
  for (const prefix of PREFIXES) {
    const base = `${prefix}/apps`;
    app.get(base, (_req, reply) => json(reply, applicationsJson(registry.list(), registry.delta().version, lease)));
    app.get(`${base}/delta`, (_req, reply) => {
      const d = registry.delta();
      return json(reply, deltaJson(d.entries, registry.list(), d.version, lease));
    });
    app.get(`${base}/:app`, (req, reply) => {
      const name = (req.params as P).app.toUpperCase();
      const list = registry.list(name);
      if (list.length === 0) return sendError(req, reply, 'SY_ERR_REGISTRY_NOT_FOUND', name.slice(0, 100));
      return json(reply, applicationJson(name, list, lease));
    });
    app.get(`${base}/:app/:id`, (req, reply) => {
      const p = req.params as P;
      const i = registry.get(p.app, p.id);
      return i ? json(reply, oneInstanceJson(i, lease)) : sendError(req, reply, 'SY_ERR_REGISTRY_NOT_FOUND');
    });
    app.post(`${base}/:app`, async (req, reply) => answer(req, reply, await registry.register((req.params as P).app, req.body), 204));
    app.put(`${base}/:app/:id`, async (req, reply) => {
      const p = req.params as P;
      const dirty = Number((req.query as Record<string, unknown>).lastDirtyTimestamp);
      return answer(req, reply, await registry.renew(p.app, p.id, Number.isFinite(dirty) ? dirty : undefined), 200);
    });
    app.delete(`${base}/:app/:id`, async (req, reply) => {
      const p = req.params as P;
      return answer(req, reply, await registry.cancel(p.app, p.id), 200);
    });
    app.put(`${base}/:app/:id/status`, async (req, reply) => {
      const p = req.params as P;
      const value = (req.query as Record<string, unknown>).value;
      if (typeof value !== 'string') return refuse(req, reply, 'SY_ERR_REGISTRY_BAD_REQUEST', 'malformed', 'give ?value=STATUS');
      return answer(req, reply, await registry.statusOverride(p.app, p.id, value), 200);
    });
    app.delete(`${base}/:app/:id/status`, async (req, reply) => {
      const p = req.params as P;
      const value = (req.query as Record<string, unknown>).value;
      if (value !== undefined && typeof value !== 'string') return refuse(req, reply, 'SY_ERR_REGISTRY_BAD_REQUEST', 'malformed', 'give ?value once');
      return answer(req, reply, await registry.removeOverride(p.app, p.id, value), 200);
    });
    app.put(`${base}/:app/:id/metadata`, async (req, reply) => {
      const p = req.params as P;
      const entries = req.query as Record<string, unknown>;
      if (Object.values(entries).some((v) => typeof v !== 'string')) return refuse(req, reply, 'SY_ERR_REGISTRY_BAD_REQUEST', 'malformed', 'each metadata key once');
      return answer(req, reply, await registry.metadata(p.app, p.id, entries as Record<string, string>), 200);
    });
  }

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { port, app, close: () => app.close() };
}
