/**
 * The dashboard: one self-contained HTML page on the admin port that polls
 * the admin JSON endpoints. No build step, no external assets.
 */
import type { FastifyInstance } from 'fastify';

/** registerDashboard serves GET / on the admin app. */
export function registerDashboard(app: FastifyInstance): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Switchyard</title></head><body><h1>Switchyard</h1><p>Dashboard coming.</p></body></html>`;
