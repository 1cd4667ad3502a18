/**
 * TCP streams with real parts: the machine's redis-cli through a `tcp`
 * stream listener to two throwaway redis-servers, balanced per connection
 * (round-robin), and least-connections counting held connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { captureLog } from '../helpers/log-capture.js';
import { waitFor } from '../../src/testing/index.js';
import { openSocket, redisCli, redisPortOverSocket, servedBy, startStreamGateway, type StreamGateway } from './helpers.js';

describe('tcp streams to two Redis servers', () => {
  let a: TestRedis;
  let b: TestRedis;
  beforeAll(async () => {
    [a, b] = await Promise.all([startRedis(), startRedis()]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const routes = (balancer: string) => ({
    'routes/redis.yaml': {
      upstreams: { redis: { balancer, targets: [{ url: `tcp://127.0.0.1:${a.port}` }, { url: `tcp://127.0.0.1:${b.port}` }] } },
      streamRoutes: [{ id: 'redis', listener: 'redis', upstream: 'redis' }],
    },
  });

  it('round-robin: each redis-cli connection goes to the next server', async () => {
    const log = captureLog();
    const gw = await startStreamGateway({ redis: { protocol: 'tcp' } }, routes('round-robin'), { logger: log.logger });
    try {
      const port = gw.streamPort('redis');
      expect(port).toBeGreaterThan(0);
      expect((await redisCli(port, 'PING')).trim()).toBe('PONG');
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) seen.push(await servedBy(port));
      expect(new Set(seen)).toEqual(new Set([a.port, b.port]));
      expect(seen[0]).not.toBe(seen[1]);
      expect(seen[0]).toBe(seen[2]);
      // A SET through one connection is read back through the server it went to.
      await redisCli(port, 'SET', 'k', 'v');
      const lines = await waitFor(() => {
        const l = log.lines.filter((x) => x.msg === 'stream closed');
        return l.length >= 6 && l;
      });
      expect(lines[0]).toMatchObject({ kind: 'access', listener: 'redis', route: 'redis', upstream: 'redis', client: '127.0.0.1', end: 'closed' });
      expect(lines[0]!.bytesIn).toBeGreaterThan(0);
      expect(lines[0]!.bytesOut).toBeGreaterThan(0);
      expect(log.duplicates).toEqual([]);
      expect(String(lines[0]!.target)).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const metrics = await gw.gateway.metricsText();
      expect(metrics).toMatch(/switchyard_stream_connections_total\{listener="redis",route="redis",end="closed"\} 6/);
      expect(metrics).toMatch(/switchyard_stream_bytes_total\{listener="redis",route="redis",direction="in"\} \d+/);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('least-connections: a held connection sends the next ones to the other server', async () => {
    const gw = await startStreamGateway({ redis: { protocol: 'tcp' } }, routes('least-connections'));
    try {
      const port = gw.streamPort('redis');
      const held = await openSocket(port);
      const heldOn = await redisPortOverSocket(held);
      const other = heldOn === a.port ? b.port : a.port;
      // While it is held, every short connection lands on the other server.
      for (let i = 0; i < 3; i++) expect(await servedBy(port)).toBe(other);
      const upstream = gw.gateway.runtime.upstreams.get('redis')!;
      // The short connections close a moment after redis-cli exits; the held one stays counted.
      await waitFor(() => upstream.targets.map((t) => t.inflight).sort().join() === '0,1', { message: 'only the held stream open' });
      held.end();
      await waitFor(() => upstream.targets.every((t) => t.inflight === 0), { message: 'held stream closed' });
      held.destroy();
    } finally {
      await gw.close();
    }
  }, 60_000);
});
