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
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { BODY } from './dashboard-markup.js';
import { SCRIPT } from './dashboard-script.js';
import { STYLE } from './dashboard-style.js';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** PAGE is the whole document, built once at load. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Switchyard admin</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

/** CSP lets the page talk to its own origin and run only its own inline script and style. */
const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** registerDashboard serves GET / on the admin app. */
export function registerDashboard(app: FastifyInstance): void {
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(PAGE),
  );
}
