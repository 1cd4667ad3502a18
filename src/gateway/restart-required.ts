/**
 * Which configuration changes a reload cannot apply. Some gateway.yaml keys
 * are read once, when the gateway starts (the listeners, the admin API, the
 * Redis connection, the logger, the front-door limits baked into the HTTP
 * server); a reload that changes them still swaps in everything else, and
 * says which keys keep their old value until a restart instead of pretending
 * they took effect. Every key of the schema is classified here, START_ONLY or
 * LIVE, and a test keeps it that way when keys are added.
 *
 * Other parts of the gateway with changes only a restart applies (plugin code
 * already imported, say) add a RestartCheck with Gateway.addRestartCheck: it
 * runs on every successful reload and its notices join the list.
 */
import type { LoadedConfig } from '../config/load.js';
import type { GatewayDoc } from '../config/schema.js';
import type { RestartNotice } from '../admin/backend.js';

export type { RestartNotice };

/**
 * RestartCheck is asked, on each successful reload, which changes of `next`
 * (against what the process started with) need a restart. It recomputes its
 * whole list each time: a change reverted in the files drops its notice.
 */
export type RestartCheck = (next: LoadedConfig) => RestartNotice[] | Promise<RestartNotice[]>;

/** START_ONLY lists the gateway.yaml keys (and key prefixes) read only when the gateway starts. */
export const START_ONLY: readonly string[] = [
  'listen', // the public listener, its TLS settings (certificate files are re-read, their list is not) and the redirect listener
  'admin',
  'redis', // one store connection, shared by every plugin instance
  'trustProxy', // compiled into the request handler at listen()
  'trustRequestId',
  'limits.headerTimeout', // options of the node:http server
  'limits.requestTimeout',
  'limits.keepAliveTimeout',
  'limits.maxHeaderSize',
  'limits.maxHeaders',
  'limits.maxUrlLength',
  'limits.maxWebSocketMessage',
  'limits.maxConnections',
  'log.level', // the logger is built once (so is each access log's level check)
  'log.pretty',
  'log.redact',
  'workers', // the cluster primary forks its workers once
  'reload', // the file watch is set up once
  'discovery.registry', // the registry's listener and store are started once, at listen()
  'proxyProtocol', // compiled into the public listeners' connection gate when they are built
];

/** LIVE lists the keys a reload applies (documented here so a new key is classified on purpose). */
export const LIVE: readonly string[] = ['$schema', 'routes', 'plugins', 'chain', 'stickySecret', 'limits.bodyLimit', 'limits.sendTimeout', 'limits.invalidHeaders', 'limits.mirrorConcurrency', 'log.accessLog', 'log.refusalLinesPerSecond', 'shutdownTimeout', 'memory', 'tracing', 'discovery.dns', 'discovery.autoRoutes', 'streams'];
// `log.accessLog`: Gateway.applied switches the observer's access log (Observer.useAccessLog); stream lines read the active configuration's value per line (StreamHost).
// `streams`: listeners are added, changed and removed by a reload; a changed listen address or protocol waits for a restart, which the streams' own restart check reports (Streams.restartNotices).

/** SECRET matches key names whose values are never shown. */
const SECRET = /token|secret|password/i;

/** configRestartCheck compares the start-only keys of the document the process started with to `next`'s. */
export function configRestartCheck(started: GatewayDoc): RestartCheck {
  return (next) => restartNotices(started, next.gateway);
}

/** restartNotices lists every start-only leaf key whose value differs between the two documents. */
export function restartNotices(running: GatewayDoc, configured: GatewayDoc): RestartNotice[] {
  const out: RestartNotice[] = [];
  for (const key of START_ONLY) diff(key, at(running, key), at(configured, key), out);
  return out;
}

function at(doc: unknown, key: string): unknown {
  let v: unknown = doc;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** diff walks objects down to their leaves (arrays are leaves) and records each leaf that changed. */
function diff(key: string, a: unknown, b: unknown, out: RestartNotice[]): void {
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(`${key}.${k}`, a[k], b[k], out);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ key, running: shown(key, a), configured: shown(key, b) });
}

/** shown hides secrets: secret-named keys entirely, and the password of a URL (redis://user:pass@host), at any depth. */
function shown(key: string, v: unknown): unknown {
  if (v === undefined) return null;
  return JSON.parse(JSON.stringify(v, (k: string, x: unknown) => (SECRET.test(k || (key.split('.').pop() ?? '')) ? '(hidden)' : typeof x === 'string' ? maskUrl(x) : x))) as unknown;
}

const maskUrl = (s: string) => s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
