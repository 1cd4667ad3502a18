/**
 * The Redis store's front-door behaviour against a real redis-server: fail
 * fast while Redis is down (no client-side queue), report unhealthy, log
 * errors without flooding, and recover by itself after a restart. Plus the
 * URL forms createRedis accepts.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRONT_DOOR_OPTIONS, RECONNECT_CAP_MS, createRedis, parseRedisUrl, reconnectDelay } from '../../src/stores/redis-client.js';
import { StoreUnavailableError } from '../../src/stores/store-error.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { SKIP_NEEDS_LOCAL_REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (!redis.external) await redis.stop();
});

describe('RedisStore with Redis going away', () => {
  it('fails fast while Redis is down, logs without flooding, and recovers after a restart', async (ctx) => {
    if (redis.external) ctx.skip(SKIP_NEEDS_LOCAL_REDIS);
    const { logger: log, lines } = captureLog('debug');
    const client = createRedis(redis.url, log);
    const store = new RedisStore(client, { ownsClient: true });
    try {
      await waitFor(() => store.healthy(), { message: 'client ready' });
      const k = `sy:test:${randomUUID()}`;
      expect((await store.incr(k, 60_000)).count).toBe(1);

      let errors = 0;
      client.on('error', () => errors++);
      await redis.stop();
      await waitFor(() => !store.healthy(), { message: 'store to report unhealthy' });

      for (const op of [() => store.get(k), () => store.set(k, 'v', 1000), () => store.incr(k, 1000), () => store.expire(k, 1000), () => store.del(k)]) {
        const t0 = performance.now();
        await expect(op()).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(performance.now() - t0).toBeLessThan(200); // no offline queue, no waiting for a reconnect
      }

      await waitFor(() => errors >= 3, { message: 'several reconnection errors' });
      const warnings = lines.filter((l) => l.msg.startsWith('redis unavailable'));
      expect(warnings.length).toBe(1);

      await redis.restart(); // empty data, and the INCR script is no longer loaded
      await waitFor(() => store.healthy(), { message: 'client to reconnect by itself', timeout: 10_000 });
      expect((await store.incr(k, 60_000)).count).toBe(1);
      expect(lines.some((l) => l.msg === 'redis reconnected')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('close() leaves a client it does not own open', async () => {
    const client = createRedis(redis.url, pino({ level: 'silent' }));
    const store = new RedisStore(client);
    await waitFor(() => store.healthy(), { message: 'client ready' });
    await store.close();
    expect(client.status).toBe('ready');
    await client.quit();
  });
});

describe('createRedis', () => {
  it('applies the front-door settings', () => {
    const client = createRedis(redis.url, pino({ level: 'silent' }), { lazyConnect: true }) as Redis;
    expect(client.options).toMatchObject(FRONT_DOOR_OPTIONS);
    client.disconnect();
  });

  it.each([1, 2, 5, 10, 100, 10_000])('reconnects forever with a capped backoff (attempt %i)', (times) => {
    const d = reconnectDelay(times);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThanOrEqual(RECONNECT_CAP_MS);
  });

  it.each([
    { url: 'redis://127.0.0.1:6380/2', want: { kind: 'single', url: 'redis://127.0.0.1:6380/2' } },
    { url: 'rediss://:p%40ss@cache.example.com:6380', want: { kind: 'single' } },
    {
      url: 'redis-sentinel://:secret@s1:26379,s2:26380/mymaster/3',
      want: { kind: 'sentinel', tls: false, password: 'secret', master: 'mymaster', db: 3, hosts: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }] },
    },
    { url: 'rediss-sentinel://s1:26379/main', want: { kind: 'sentinel', tls: true, master: 'main', db: 0 } },
    { url: 'redis-cluster://u:p@n1:7000,n2:7001,[::1]:7002', want: { kind: 'cluster', tls: false, username: 'u', password: 'p', hosts: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }, { host: '::1', port: 7002 }] } },
  ])('parses $url', ({ url, want }) => {
    expect(parseRedisUrl(url)).toMatchObject(want);
  });

  it.each([
    ['http://localhost:6379', /unsupported Redis URL/],
    ['redis-sentinel://s1:26379', /master name/],
    ['redis-cluster://n1', /host:port/],
    ['redis-cluster://n1:7000/x', /no path/],
    ['mongodb://u:hunter2@x', /\*\*\*@/],
  ])('rejects %s', (url, err) => {
    expect(() => parseRedisUrl(url)).toThrow(err);
  });

  it('builds a Sentinel client for redis-sentinel://', () => {
    const client = createRedis('redis-sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster', pino({ level: 'silent' }), { lazyConnect: true }) as Redis;
    expect(client.options).toMatchObject({ name: 'mymaster', password: 'pw', sentinelPassword: 'pw', enableOfflineQueue: false, sentinels: [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }] });
    client.disconnect();
  });

  it('builds a Cluster client for redis-cluster://', () => {
    const client = createRedis('redis-cluster://127.0.0.1:1', pino({ level: 'silent' }), { lazyConnect: true });
    expect(client).toBeInstanceOf(Cluster);
    expect((client as Cluster).options).toMatchObject({ enableOfflineQueue: false, redisOptions: { commandTimeout: FRONT_DOOR_OPTIONS.commandTimeout } });
    client.disconnect();
  });
});
