/**
 * Per-listener limits and per-client balancing of streams: maxConnections
 * closes connections over the cap as they arrive (logged SY_ERR_STREAM_LIMIT),
 * idleTimeout closes a quiet stream, and ip-hash keeps each client address on one target, connection after connection.
 */
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { openSocket, readAll, startStreamGateway } from './helpers.js';

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** startNamed answers every connection with its name and closes. */
async function startNamed(name: string): Promise<number> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** from connects from a loopback source address and returns what the server said. */
async function from(localAddress: string, port: number): Promise<string> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  await once(s, 'connect');
  const text = (await readAll(s)).toString();
  s.destroy();
  return text;
}

describe('stream limits and ip-hash', () => {
  it('maxConnections: connections over the cap are closed on arrival and logged', async () => {
    const held = createServer(() => undefined); // accepts and says nothing: the streams stay open
    held.listen(0, '127.0.0.1');
    await once(held, 'listening');
    servers.push(held);
    const log = captureLog();
    const gw = await startStreamGateway(
      { s: { maxConnections: 2 } },
      { 'routes/s.yaml': { upstreams: { s: { targets: [{ url: `tcp://127.0.0.1:${(held.address() as { port: number }).port}` }] } }, streamRoutes: [{ id: 's', listener: 's', upstream: 's' }] } },
      { logger: log.logger },
    );
    const open = [await openSocket(gw.streamPort('s')), await openSocket(gw.streamPort('s'))];
    try {
      const upstream = gw.gateway.runtime.upstreams.get('s')!;
      await waitFor(() => upstream.targets[0]!.inflight === 2, { message: 'two streams open' });
      const third = await openSocket(gw.streamPort('s'));
      third.on('error', () => undefined);
      await readAll(third);
      const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream refused'));
      expect(line).toMatchObject({ listener: 's', code: 'SY_ERR_STREAM_LIMIT', reason: 'connection limit reached' });
      expect(await gw.gateway.metricsText()).toMatch(/switchyard_stream_dropped_total\{listener="s",reason="limit"\} 1/);
    } finally {
      for (const s of open) s.destroy();
      await gw.close();
    }
  }, 30_000);

  it('idleTimeout: a stream quiet both ways is closed and logged as idle-timeout', async () => {
    const quiet = createServer((s) => s.on('error', () => undefined));
    quiet.listen(0, '127.0.0.1');
    await once(quiet, 'listening');
    servers.push(quiet);
    const log = captureLog();
    const gw = await startStreamGateway(
      { s: { idleTimeout: '300ms' } },
      { 'routes/s.yaml': { upstreams: { s: { targets: [{ url: `tcp://127.0.0.1:${(quiet.address() as { port: number }).port}` }] } }, streamRoutes: [{ id: 's', listener: 's', upstream: 's' }] } },
      { logger: log.logger },
    );
    try {
      const c = await openSocket(gw.streamPort('s'));
      c.on('error', () => undefined);
      const started = Date.now();
      await readAll(c);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream closed'));
      expect(line).toMatchObject({ listener: 's', end: 'idle-timeout' });
      c.destroy();
    } finally {
      await gw.close();
    }
  }, 30_000);

  it('ip-hash: each client address stays on one target', async () => {
    const [a, b] = await Promise.all([startNamed('a'), startNamed('b')]);
    const gw = await startStreamGateway(
      { s: {} },
      { 'routes/s.yaml': { upstreams: { s: { balancer: 'ip-hash', targets: [{ url: `tcp://127.0.0.1:${a}` }, { url: `tcp://127.0.0.1:${b}` }] } }, streamRoutes: [{ id: 's', listener: 's', upstream: 's' }] } },
    );
    try {
      for (const client of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
        const first = await from(client, gw.streamPort('s'));
        for (let i = 0; i < 3; i++) expect(await from(client, gw.streamPort('s')), client).toBe(first);
      }
    } finally {
      await gw.close();
    }
  }, 30_000);
});
