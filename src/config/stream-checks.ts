/**
 * The checks of layer-4 configuration no single file can make: a stream route
 * names a listener of gateway.yaml and an upstream of the right kind (tcp://
 * or udp:// targets, never http://), HTTP routes never use a stream pool, SNI
 * claims on one listener do not collide, and settings that only make sense on
 * one side (sticky cookies, HTTP health checks, PROXY protocol out) are where
 * they apply. Documents are read defensively: a file with schema errors still counts.
 */
import { errorAt, type ConfigError, type DocPath, type DocSource } from './errors.js';
import { didYouMean } from './suggest.js';

/** CheckedDoc is one parsed document and where its text is. */
export interface CheckedDoc extends DocSource {
  value: unknown;
}

/** PoolKind is what an upstream's targets speak: http(s), tcp or udp; undefined when mixed or unknown. */
type PoolKind = 'http' | 'tcp' | 'udp';

const KIND_OF_SCHEME: Record<string, PoolKind> = { 'http:': 'http', 'https:': 'http', 'tcp:': 'tcp', 'udp:': 'udp' };

/** LISTENER_WANTS is the pool kind each stream protocol forwards to. */
const LISTENER_WANTS: Record<string, PoolKind> = { tcp: 'tcp', 'tls-passthrough': 'tcp', udp: 'udp' };

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function where(source: DocSource, p: DocPath): string {
  const { line, col } = source.locate(p);
  return line > 0 ? `${source.file}:${line}:${col}` : source.file;
}

interface Pool {
  source: CheckedDoc;
  name: string;
  kind: PoolKind | undefined;
  doc: Record<string, unknown>;
}

/** poolsOf reads every upstream's kind; a pool mixing kinds is reported here (and its kind left undefined). */
function poolsOf(files: readonly CheckedDoc[], errors: ConfigError[]): Map<string, Pool> {
  const pools = new Map<string, Pool>();
  for (const f of files) {
    for (const [name, raw] of Object.entries(obj(obj(f.value).upstreams))) {
      const doc = obj(raw);
      // `discover:` finds http(s) instances only.
      let kind: PoolKind | undefined = doc.discover !== undefined ? 'http' : undefined;
      let first: PoolKind | undefined;
      list(doc.targets).forEach((t, i) => {
        const url = obj(t).url;
        const scheme = typeof url === 'string' ? /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase() : undefined;
        const k = scheme !== undefined ? KIND_OF_SCHEME[scheme] : undefined;
        if (k === undefined) return;
        if (first === undefined) first = kind = k;
        else if (k !== first) {
          kind = undefined;
          errors.push(errorAt(f, ['upstreams', name, 'targets', i, 'url'], `a pool mixes ${first}:// and ${k}:// targets: an upstream serves either HTTP routes (http/https) or stream routes (tcp or udp)`));
        }
      });
      if (!pools.has(name)) pools.set(name, { source: f, name, kind, doc });
    }
  }
  return pools;
}

/** poolSettingErrors reports settings of a pool that do not apply to its kind. */
function poolSettingErrors(pool: Pool): ConfigError[] {
  const { source, name, kind, doc } = pool;
  const out: ConfigError[] = [];
  if (kind === 'http' && doc.proxyProtocol !== undefined) {
    out.push(errorAt(source, ['upstreams', name, 'proxyProtocol'], 'proxyProtocol is for stream upstreams (tcp:// targets): HTTP upstreams get the client address in X-Forwarded-For', { prefer: 'key' }));
  }
  if (kind === 'udp' && doc.proxyProtocol !== undefined) {
    out.push(errorAt(source, ['upstreams', name, 'proxyProtocol'], 'proxyProtocol is sent on tcp:// streams only, not on udp:// datagrams', { prefer: 'key' }));
  }
  if ((kind === 'tcp' || kind === 'udp') && doc.sticky !== undefined) {
    out.push(errorAt(source, ['upstreams', name, 'sticky'], 'sticky cookies do not apply to stream upstreams (there are no cookies below HTTP); use balancer: ip-hash to keep a client on one target', { prefer: 'key' }));
  }
  const check = obj(doc.healthCheck);
  if ((kind === 'tcp' || kind === 'udp') && doc.healthCheck !== undefined && check.type !== 'tcp') {
    out.push(errorAt(source, ['upstreams', name, 'healthCheck', 'type'], `a stream upstream is checked with healthCheck.type: tcp (a plain connect), not ${String(check.type ?? 'http')}`));
  }
  return out;
}

/** streamErrors checks stream routes and listeners across gateway.yaml and the route files. */
export function streamErrors(gateway: CheckedDoc, files: readonly CheckedDoc[], checkReferences: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  const listeners = obj(obj(gateway.value).streams);
  const pools = poolsOf(files, errors);
  for (const pool of pools.values()) errors.push(...poolSettingErrors(pool));

  // HTTP routes never take a stream pool.
  for (const f of files) {
    list(obj(f.value).routes).forEach((r, i) => {
      const upstream = obj(r).upstream;
      const pool = typeof upstream === 'string' ? pools.get(upstream) : undefined;
      if (pool?.kind === 'tcp' || pool?.kind === 'udp') {
        errors.push(errorAt(f, ['routes', i, 'upstream'], `upstream "${pool.name}" has ${pool.kind}:// targets (${where(pool.source, ['upstreams', pool.name])}): HTTP routes need http:// or https:// targets; attach it with streamRoutes instead`));
      }
    });
  }

  const ids = new Map<string, string>();
  /** claims holds, per listener, who took each SNI (lowercase) or the catch-all (""). */
  const claims = new Map<string, Map<string, string>>();
  for (const f of files) {
    list(obj(f.value).streamRoutes).forEach((raw, i) => {
      const r = obj(raw);
      const at = (...p: (string | number)[]) => ['streamRoutes', i, ...p];
      if (typeof r.id === 'string') {
        const first = ids.get(r.id);
        if (first !== undefined) errors.push(errorAt(f, at('id'), `duplicate stream route id "${r.id}" (also defined at ${first})`));
        else ids.set(r.id, where(f, at('id')));
      }
      const listenerName = r.listener;
      if (typeof listenerName !== 'string') return;
      const listener = obj(listeners[listenerName]);
      if (listeners[listenerName] === undefined) {
        const names = Object.keys(listeners);
        const suggestion = didYouMean(listenerName, names);
        const known = names.length === 0 ? ' (gateway.yaml declares no streams)' : suggestion ? '' : ` (declared: ${names.sort().join(', ')})`;
        errors.push(errorAt(f, at('listener'), `unknown stream listener "${listenerName}"${known}`, { suggestion }));
        return;
      }
      const protocol = typeof listener.protocol === 'string' ? listener.protocol : 'tcp';
      const sni = obj(r.match).sni;
      if (sni !== undefined && protocol !== 'tls-passthrough') {
        errors.push(errorAt(f, at('match', 'sni'), `listener "${listenerName}" is ${protocol}: only tls-passthrough listeners read an SNI (remove match, or route on a tls-passthrough listener)`));
        return;
      }
      const key = typeof sni === 'string' ? sni.toLowerCase() : '';
      const taken = claims.get(listenerName) ?? new Map<string, string>();
      claims.set(listenerName, taken);
      const first = taken.get(key);
      const here = `stream route "${String(r.id)}" (${where(f, at('id'))})`;
      if (first !== undefined) {
        const what = key === '' ? (protocol === 'tls-passthrough' ? 'the catch-all (no match.sni)' : `every connection (a ${protocol} listener takes one route)`) : `SNI "${key}"`;
        errors.push(errorAt(f, key === '' ? at('listener') : at('match', 'sni'), `${what} on listener "${listenerName}" is claimed twice: by ${first} and here; a connection could take either (give one route another ${key === '' ? 'match.sni or listener' : 'name or listener'})`));
      } else taken.set(key, here);

      const upstream = r.upstream;
      const pool = typeof upstream === 'string' ? pools.get(upstream) : undefined;
      if (pool === undefined) {
        if (checkReferences && typeof upstream === 'string') {
          const suggestion = didYouMean(upstream, pools.keys());
          errors.push(errorAt(f, at('upstream'), `unknown upstream "${upstream}"`, { suggestion }));
        }
        return;
      }
      const wants = LISTENER_WANTS[protocol];
      if (pool.kind !== undefined && pool.kind !== wants) {
        errors.push(errorAt(f, at('upstream'), `upstream "${pool.name}" has ${pool.kind === 'http' ? 'http(s)' : pool.kind}:// targets (${where(pool.source, ['upstreams', pool.name])}): a ${protocol} listener forwards to ${wants}://host:port targets`));
      }
    });
  }
  return errors;
}
