/**
 * Admin API errors in the catalog's JSON shape (src/errors.ts), the same body
 * the public port sends: fastify's own 404 and error bodies never go out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_HEADERS, ERRORS, errorBody, type ErrorCode } from '../errors.js';

/** sendError answers with a catalogued error; `detail` is admin-only context (the admin port is private). */
export function sendError(req: FastifyRequest, reply: FastifyReply, code: ErrorCode, detail?: string): FastifyReply {
  return reply
    .code(ERRORS[code].status)
    .headers(ERROR_HEADERS)
    .send(errorBody(code, String(req.id), detail === undefined ? undefined : { detail }));
}

/** catalogErrors routes unknown paths and fastify's own failures (bad JSON, body too large) through sendError. */
export function catalogErrors(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => sendError(req, reply, 'SY_ERR_ADMIN_NOT_FOUND', `${req.method} ${req.url.split('?')[0]}`));
  app.setErrorHandler((err: { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    const code: ErrorCode = status === 413 ? 'SY_ERR_BODY_TOO_LARGE' : status >= 400 && status < 500 ? 'SY_ERR_BAD_REQUEST' : 'SY_ERR_INTERNAL';
    return sendError(req, reply, code);
  });
}
