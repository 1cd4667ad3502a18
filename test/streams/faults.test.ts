/**
 * Stream faults with real sockets: a target that dies mid-stream, a hung
 * target (connect timeout, then one retry elsewhere), a refused target (retry
 * and passive ejection), a dead target found by the active TCP check, half-close in both directions, a slow reader of
 * 100 MB (memory stays flat: backpressure, no buffering), and many
 * connections opened and closed (no file descriptor leak).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { openSocket, readAll, startStreamGateway, type StreamGateway } from './helpers.js';

const servers: Server[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const c of children) c.kill('SIGKILL');
});

/** startServer starts a loopback TCP server (allowHalfOpen) with a connection handler. */
async function startServer(handler: (s: Socket) => void): Promise<number> {
  // Health probes connect and leave at once: a write to such a socket resets, which is no test's business.
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    handler(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/**
 * startHung starts a listener that never accepts (backlog 0, queue filled): connects to it hang. Python, because a
 * Node server always accepts; the child holds the socket until the test closes its stdin (or kills it in cleanup).
 */
async function startHung(): Promise<number> {
  const child = spawn('python3', ['-c', "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"], { stdio: ['pipe', 'pipe', 'ignore'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  // Fill the accept queue so further SYNs are dropped.
  const { connect } = await import('node:net');
  for (let i = 0; i < 3; i++) connect({ host: '127.0.0.1', port }).on('error', () => undefined);
  return port;
}

function single(port: number, extra: Record<string, unknown> = {}) {
  return { 'routes/s.yaml': { upstreams: { s: { targets: [{ url: `tcp://127.0.0.1:${port}` }], ...extra } }, streamRoutes: [{ id: 's', listener: 's', upstream: 's' }] } };
}

async function withGateway<T>(gw: StreamGateway, fn: (port: number) => Promise<T>): Promise<T> {
  try {
    return await fn(gw.streamPort('s'));
  } finally {
    await gw.close();
  }
}

/** answer connects, reads until the far side ends, and closes: a short connection. */
async function answer(port: number): Promise<string> {
  const c = await openSocket(port);
  const text = (await readAll(c)).toString();
  c.destroy();
  return text;
}

const fds = () => readdirSync('/proc/self/fd').length;

describe('stream faults', () => {
  it('a target killed mid-stream: the client sees the close, the log says upstream-reset, nothing hangs', async () => {
    const port = await startServer((s) => {
      s.write('partial');
      s.once('data', () => s.resetAndDestroy());
    });
    const log = captureLog();
    const gw = await startStreamGateway({ s: {} }, single(port), { logger: log.logger });
    await withGateway(gw, async (p) => {
      const c = await openSocket(p);
      c.on('error', () => undefined);
      const got = readAll(c);
      await waitFor(() => c.bytesRead > 0);
      c.write('go');
      expect((await got).toString()).toBe('partial');
      const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream closed'));
      expect(line).toMatchObject({ end: 'upstream-reset', code: 'SY_ERR_UPSTREAM_RESET', bytesOut: 7 });
      expect(gw.gateway.runtime.upstreams.get('s')!.targets[0]!.inflight).toBe(0);
    });
  }, 30_000);

  it('a hung target: connect times out and the stream is retried once on the other target', async () => {
    const hung = await startHung();
    const good = await startServer((s) => s.end('good'));
    const log = captureLog();
    const gw = await startStreamGateway(
      { s: { connectTimeout: '300ms' } },
      { 'routes/s.yaml': { upstreams: { s: { targets: [{ url: `tcp://127.0.0.1:${hung}` }, { url: `tcp://127.0.0.1:${good}` }] } }, streamRoutes: [{ id: 's', listener: 's', upstream: 's' }] } },
      { logger: log.logger },
    );
    await withGateway(gw, async (p) => {
      for (let i = 0; i < 2; i++) expect(await answer(p)).toBe('good');
      expect(await gw.gateway.metricsText()).toMatch(new RegExp(`switchyard_stream_connect_failures_total\\{listener="s",upstream="s",target="tcp://127.0.0.1:${hung}"\\} [12]`));
    });
    // Alone in its pool, the hung target leaves the client closed after the timeout, logged as a timeout.
    const alone = captureLog();
    const gw2 = await startStreamGateway({ s: { connectTimeout: '300ms' } }, single(hung), { logger: alone.logger });
    await withGateway(gw2, async (p) => {
      const started = Date.now();
      await answer(p);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      const line = await waitFor(() => alone.lines.find((l) => l.msg === 'stream refused'));
      expect(line).toMatchObject({ end: 'refused', code: 'SY_ERR_UPSTREAM_TIMEOUT', reason: 'connect timeout after 300ms' });
    });
  }, 30_000);

  it('a refused target: every stream is retried on the other target, and passive health ejects it', async () => {
    const closed = await startServer(() => undefined);
    servers.pop()!.close();
    await waitFor(() => true);
    const good = await startServer((s) => s.end('good'));
    const gw = await startStreamGateway(
      { s: {} },
      {
        'routes/s.yaml': {
          upstreams: { s: { outlierDetection: { consecutiveFailures: 2 }, targets: [{ url: `tcp://127.0.0.1:${closed}` }, { url: `tcp://127.0.0.1:${good}` }] } },
          streamRoutes: [{ id: 's', listener: 's', upstream: 's' }],
        },
      },
    );
    await withGateway(gw, async (p) => {
      for (let i = 0; i < 6; i++) expect(await answer(p)).toBe('good');
      const bad = gw.gateway.runtime.upstreams.get('s')!.targets[0]!;
      expect(bad.state(Date.now())).toBe('ejected');
      const admin = (await (await fetch(`${gw.adminUrl}/upstreams`)).json()) as { upstreams: Array<{ name: string; targets: Array<{ url: string; state: string }> }> };
      expect(JSON.stringify(admin)).toContain(`tcp://127.0.0.1:${closed}`);
    });
  }, 30_000);

  it('an active TCP check takes a dead target out of the rotation before any stream tries it', async () => {
    const dead = await startServer(() => undefined);
    servers.pop()!.close();
    const good = await startServer((s) => s.end('good'));
    const gw = await startStreamGateway(
      { s: {} },
      {
        'routes/s.yaml': {
          upstreams: { s: { healthCheck: { type: 'tcp', interval: '100ms', unhealthyThreshold: 1, jitter: 0 }, targets: [{ url: `tcp://127.0.0.1:${dead}` }, { url: `tcp://127.0.0.1:${good}` }] } },
          streamRoutes: [{ id: 's', listener: 's', upstream: 's' }],
        },
      },
    );
    await withGateway(gw, async (p) => {
      const upstream = gw.gateway.runtime.upstreams.get('s')!;
      await waitFor(() => upstream.eligible.length === 1, { message: 'the dead target checked out' });
      for (let i = 0; i < 4; i++) expect(await answer(p)).toBe('good');
      expect(upstream.targets[0]!.requests).toBe(0);
      expect(upstream.targets[0]!.state(Date.now())).toBe('unhealthy');
    });
  }, 30_000);

  it('half-close: the client ends first and still gets the answer; the upstream ends first and still gets the client bytes', async () => {
    const received: string[] = [];
    const answerAfterEnd = await startServer((s) => {
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('end', () => s.end(`got ${text}`));
    });
    const bannerFirst = await startServer((s) => {
      let text = '';
      s.end('banner');
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('end', () => received.push(text));
    });
    const gw = await startStreamGateway({ s: {} }, single(answerAfterEnd));
    await withGateway(gw, async (p) => {
      const c = await openSocket(p);
      const all = readAll(c);
      c.end('ping');
      expect((await all).toString()).toBe('got ping');
    });
    const gw2 = await startStreamGateway({ s: {} }, single(bannerFirst));
    await withGateway(gw2, async (p) => {
      const c = await openSocket(p);
      const all = readAll(c);
      await once(c, 'end');
      // The upstream has said all it will: the client's direction is still open.
      c.end('late words');
      expect((await all).toString()).toBe('banner');
      await waitFor(() => received.length === 1);
      expect(received).toEqual(['late words']);
    });
  }, 30_000);

  it('a slow reader of 100 MB: backpressure holds the upstream, the process RSS stays flat', async () => {
    const TOTAL = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const port = await startServer((s) => {
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const gw = await startStreamGateway({ s: {} }, single(port));
    await withGateway(gw, async (p) => {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const c = await openSocket(p);
      let got = 0;
      let sinceNap = 0;
      await new Promise<void>((resolve) => {
        c.on('data', (d: Buffer) => {
          got += d.length;
          sinceNap += d.length;
          // Read 2 MB, then stall 10 ms: a reader far slower than loopback.
          if (sinceNap >= 2 * 1024 * 1024) {
            sinceNap = 0;
            c.pause();
            peak = Math.max(peak, process.memoryUsage().rss);
            setTimeout(() => c.resume(), 10);
          }
        });
        c.on('end', () => resolve());
      });
      expect(got).toBe(TOTAL);
      const growthMb = (peak - before) / 1024 / 1024;
      expect(growthMb, `RSS grew ${growthMb.toFixed(1)} MB while 100 MB passed`).toBeLessThan(48);
      // The client's side was left open (allowHalfOpen): without this the gateway's close waits shutdownTimeout (30 s) for the stream to finish.
      c.end();
    });
  }, 120_000);

  it('10,000 connections opened and closed leave no file descriptor behind', async () => {
    const port = await startServer((s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end());
    });
    const gw = await startStreamGateway({ s: {} }, single(port));
    await withGateway(gw, async (p) => {
      const upstream = gw.gateway.runtime.upstreams.get('s')!;
      // Warm up once so lazily opened descriptors (epoll, timers) are counted in the baseline.
      const w = await openSocket(p);
      w.end('x');
      await readAll(w);
      await waitFor(() => upstream.targets[0]!.inflight === 0);
      const before = fds();
      const N = 10_000;
      const PARALLEL = 50;
      let next = 0;
      const worker = async () => {
        while (next < N) {
          next++;
          const c = await openSocket(p);
          const all = readAll(c);
          c.end('ping');
          if ((await all).toString() !== 'ping') throw new Error('bad echo');
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      await waitFor(() => upstream.targets[0]!.inflight === 0, { timeout: 20_000, message: 'every stream closed' });
      await waitFor(() => fds() <= before + 2, { timeout: 20_000, message: `descriptors back to ${before} (now ${fds()})` });
      expect(upstream.targets[0]!.requests).toBe(N + 1);
    });
  }, 240_000);
});
