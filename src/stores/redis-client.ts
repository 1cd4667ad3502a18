/**
 * The gateway's Redis client, configured for the front door: a request must
 * never wait on a Redis that is gone. So commands fail fast while
 * disconnected (no offline queue: nothing piles up client-side), each command
 * has a short timeout, and the client reconnects by itself forever with a
 * capped backoff. Connection errors are logged at most once per interval
 * (with a count of the ones suppressed), never once per request.
 *
 * Accepted URL forms:
 *   redis://[[user]:password@]host[:port][/db]         plain TCP (default port 6379)
 *   rediss://[[user]:password@]host[:port][/db]        TLS
 *   redis-sentinel://[[user]:password@]host:port[,host:port...]/<master>[/db]
 *   rediss-sentinel://...                              same, TLS to Redis and the Sentinels
 *   redis-cluster://[[user]:password@]host:port[,host:port...]
 *   rediss-cluster://...                               same, TLS
 * Passwords may be percent-encoded. For Sentinel the password is Redis's and
 * also the Sentinels' (the common setup).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** RedisClient is either kind of ioredis client the gateway may use. */
export type RedisClient = Redis | Cluster;

/** FRONT_DOOR_OPTIONS are the fail-fast settings every gateway Redis connection uses. */
export const FRONT_DOOR_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: 500,
} as const;

/** RECONNECT_CAP_MS is the longest wait between reconnection attempts. */
export const RECONNECT_CAP_MS = 2000;

/** reconnectDelay is the backoff before reconnection attempt `times` (1-based): doubling from 50ms, capped, never giving up. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 16), RECONNECT_CAP_MS);
}

/** ERROR_LOG_INTERVAL_MS is the least time between two logged connection errors. */
export const ERROR_LOG_INTERVAL_MS = 5000;

/** ParsedRedisUrl is a Redis URL taken apart. */
export type ParsedRedisUrl =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; tls: boolean; username?: string; password?: string; hosts: { host: string; port: number }[]; master: string; db: number }
  | { kind: 'cluster'; tls: boolean; username?: string; password?: string; hosts: { host: string; port: number }[] };

const MULTI_HOST = /^(rediss?)-(sentinel|cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^/?#]*))?(?:\/(\d+))?\/?$/;

/** parseRedisUrl checks a Redis URL and takes it apart; throws on a form it does not accept. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (/^rediss?:\/\//.test(url)) {
    new URL(url); // throws on a malformed URL
    return { kind: 'single', url };
  }
  const m = MULTI_HOST.exec(url);
  if (!m) throw new Error(`unsupported Redis URL: expected redis://, rediss://, redis-sentinel:// or redis-cluster:// (got "${url.replace(/\/\/[^@/]*@/, '//***@')}")`);
  const [, scheme, kind, user, pass, hostList, master, db] = m;
  const hosts = hostList!.split(',').map((h) => {
    const hm = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(h.trim());
    if (!hm) throw new Error(`Redis URL host "${h}" must be host:port`);
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port: Number(hm[2]) };
  });
  const auth = {
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(pass ? { password: decodeURIComponent(pass) } : {}),
  };
  const tls = scheme === 'rediss';
  if (kind === 'cluster') {
    if (master) throw new Error('a redis-cluster:// URL takes no path');
    return { kind: 'cluster', tls, hosts, ...auth };
  }
  if (!master) throw new Error('a redis-sentinel:// URL needs the master name as its path (redis-sentinel://host:26379/mymaster)');
  return { kind: 'sentinel', tls, hosts, master: decodeURIComponent(master), db: db ? Number(db) : 0, ...auth };
}

/**
 * createRedis builds a client for `url` with the front-door settings and
 * throttled error logging; `overrides` replace individual settings (tests).
 * The client connects in the background; commands fail fast until it is ready.
 */
export function createRedis(url: string, log: Logger, overrides: Partial<RedisOptions> = {}): RedisClient {
  const parsed = parseRedisUrl(url);
  const common: RedisOptions = { ...FRONT_DOOR_OPTIONS, retryStrategy: reconnectDelay, ...overrides };
  let client: RedisClient;
  switch (parsed.kind) {
    case 'single':
      client = new Redis(url, common);
      break;
    case 'sentinel': {
      const auth = { ...(parsed.username ? { username: parsed.username } : {}), ...(parsed.password ? { password: parsed.password, sentinelPassword: parsed.password } : {}) };
      client = new Redis({
        ...common,
        ...auth,
        sentinels: parsed.hosts,
        name: parsed.master,
        db: parsed.db,
        sentinelRetryStrategy: reconnectDelay,
        ...(parsed.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      });
      break;
    }
    case 'cluster': {
      const { enableOfflineQueue, retryStrategy: _r, ...redisOptions } = common;
      void _r;
      const options: ClusterOptions = {
        enableOfflineQueue,
        clusterRetryStrategy: reconnectDelay,
        redisOptions: {
          ...redisOptions,
          ...(parsed.username ? { username: parsed.username } : {}),
          ...(parsed.password ? { password: parsed.password } : {}),
          ...(parsed.tls ? { tls: {} } : {}),
        },
      };
      client = new Cluster(parsed.hosts, options);
      break;
    }
  }
  watchConnection(client, log);
  return client;
}

/** watchConnection logs connection errors at most once per ERROR_LOG_INTERVAL_MS and reports recovery once. */
function watchConnection(client: RedisClient, log: Logger): void {
  let lastLogged = 0;
  let suppressed = 0;
  let failing = false;
  // Without an 'error' listener ioredis would emit unhandled errors and crash the process.
  client.on('error', (err: Error) => {
    failing = true;
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, suppressed }, 'redis unavailable; retrying in the background');
    lastLogged = now;
    suppressed = 0;
  });
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    log.info('redis reconnected');
  });
}
