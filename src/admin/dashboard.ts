/**
 * The dashboard: one self-contained HTML page on the admin port that polls
 * the admin JSON endpoints every second. No build step, no external assets.
 *
 * The page is a constant: the server never writes data (or the admin token)
 * into it, so it can be served without the token; the script then fetches the
 * data with the token from `?token=` or the form. A strict CSP allows exactly
 * the inline style and script below (by hash) and nothing else, so even a
 * rendering bug cannot run injected markup.
 */
import type { FastifyInstance } from 'fastify';

/** registerDashboard serves GET / on the admin app; the page is imported at the first request (dashboard-page.ts). */
export function registerDashboard(app: FastifyInstance): void {
  app.get('/', async (_req, reply) => {
    const { CSP, PAGE } = await import('./dashboard-page.js');
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(PAGE);
  });
}
