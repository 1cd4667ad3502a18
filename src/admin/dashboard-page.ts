/**
 * The dashboard page and its Content-Security-Policy (see dashboard.ts):
 * ~80 KiB of markup, style and script, imported at the first GET / so an
 * admin port nobody opens in a browser never holds them.
 */
import { createHash } from 'node:crypto';
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
export const CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
