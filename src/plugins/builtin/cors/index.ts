/**
 * cors: Cross-Origin Resource Sharing for browser clients. Preflight
 * requests (OPTIONS with Access-Control-Request-Method and an Origin) are
 * answered here, 204 for an allowed origin and 403 otherwise, and never reach
 * the upstream. Other responses (upstream ones and the gateway's own, such
 * as a 401 from jwt) get the CORS headers when the Origin is allowed; the
 * plugin owns those headers, so whatever the upstream sent is replaced.
 *
 * An arbitrary Origin is never reflected together with credentials:
 * `origins: '*'` answers a literal `*` and cannot be combined with
 * `credentials: true` (a config error). Responses that depend on the Origin
 * carry `Vary: Origin`, so caches keep them apart.
 *
 * Put cors before authentication plugins in the chain: a preflight carries
 * no credentials.
 */
import { definePlugin } from '../../define.js';
import { parseDuration } from '../../duration.js';
import type { Answer, PluginRequest } from '../../types.js';
import { compileOrigins } from '../../../http/index.js';
import { manifest } from './schema.js';

const ACAO = 'access-control-allow-origin';
const ACAC = 'access-control-allow-credentials';
const ACEH = 'access-control-expose-headers';
/** OWNED lists the response headers this plugin decides (upstream copies are dropped). */
const OWNED = [ACAO, ACAC, ACEH, 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'];

/** REQUEST_HEADERS is what an Access-Control-Request-Headers value may be reflected as: a list of header names. */
const REQUEST_HEADERS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z, \t]{0,1024}$/;

/** VARY_HAS_ORIGIN tells whether a Vary value already covers Origin. */
const VARY_HAS_ORIGIN = /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i;

/** addVary appends a field to the Vary header unless it is already covered. */
function addVary(headers: Record<string, string | string[] | undefined>, field: string): void {
  const v = headers.vary;
  const text = Array.isArray(v) ? v.join(', ') : v;
  if (text === undefined || text === '') headers.vary = field;
  else if (!VARY_HAS_ORIGIN.test(text)) headers.vary = `${text}, ${field}`;
  else if (Array.isArray(v)) headers.vary = text;
}

const isPreflight = (req: PluginRequest) => req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined && req.headers.origin !== undefined;

export default definePlugin({
  ...manifest,
  create(opts) {
    const origins = compileOrigins(opts.origins);
    if (origins.any && opts.credentials) {
      throw new Error('credentials: true needs an explicit origins list: with "*" any site could make credentialed requests as your users');
    }
    const literalStar = origins.any;
    const methods = opts.methods.join(', ');
    const allowedHeaders = opts.allowedHeaders?.join(', ');
    const exposed = opts.exposedHeaders.length > 0 ? opts.exposedHeaders.join(', ') : undefined;
    const maxAge = String(Math.floor(parseDuration(opts.maxAge) / 1000));
    const rejected: Answer = Object.freeze({ status: 403, code: 'SY_ERR_CORS_REJECTED', headers: literalStar ? {} : { vary: 'Origin' } } as Answer);

    const preflight = (req: PluginRequest): Answer => {
      const origin = req.headers.origin!;
      if (!origins.allows(origin)) return rejected;
      const headers: Record<string, string> = {
        [ACAO]: literalStar ? '*' : origin,
        'access-control-allow-methods': methods,
        'access-control-max-age': maxAge,
        vary: literalStar ? 'Access-Control-Request-Headers' : 'Origin, Access-Control-Request-Headers',
      };
      if (opts.credentials) headers[ACAC] = 'true';
      const asked = req.headers['access-control-request-headers'];
      const allow = allowedHeaders ?? (typeof asked === 'string' && REQUEST_HEADERS.test(asked) ? asked : undefined);
      if (allow) headers['access-control-allow-headers'] = allow;
      return { status: 204, headers };
    };

    return {
      onRequest(req) {
        return isPreflight(req) ? preflight(req) : undefined;
      },
      onResponse(req, res) {
        if (isPreflight(req)) return; // answered by preflight() with its own headers
        const h = res.headers;
        for (const name of OWNED) if (h[name] !== undefined) delete h[name];
        if (!literalStar) addVary(h, 'Origin');
        const origin = req.headers.origin;
        if (origin === undefined || !origins.allows(origin)) return;
        h[ACAO] = literalStar ? '*' : origin;
        if (opts.credentials) h[ACAC] = 'true';
        if (exposed !== undefined) h[ACEH] = exposed;
      },
    };
  },
});
