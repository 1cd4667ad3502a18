/**
 * The HTTP helpers the plugin SDK shares with the core, published as
 * `switchyard-gateway/http`: hop-by-hop header names, header-name folding,
 * client-IP and trusted-proxy helpers, CORS origin matching and W3C trace
 * context parsing. Plugins (built-in ones included) import these from here
 * only, so the files behind it (and undici's internals in undici.ts, which
 * stay private) can move without breaking a plugin.
 */
export { HOP_BY_HOP, connectionListed, withoutHopByHop } from './hop-by-hop.js';
export { foldHeaderName, plainHeaderName } from './header-names.js';
export { createClientIpResolver, normalizeIp, validateTrustProxy, type ClientIpResolver } from './client-ip.js';
export { compileOrigins, type OriginMatcher } from './origins.js';
export { MAX_TRACESTATE, parseTraceparent, validTracestate, type ParsedParent } from './trace-context.js';
