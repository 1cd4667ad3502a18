/**
 * The HTTP probe against a real node:http server on a loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProbe, type HttpProbeOptions } from '../../src/health/http-probe.js';
import { startUpstream } from '../../src/testing/index.js';
import { closedPort, subjectFor, type TestServer } from './helpers.js';

let server: TestServer;
const seenHosts: string[] = [];

beforeAll(async () => {
  server = await startUpstream('probed', (req, res) => {
    switch (req.url) {
      case '/ok':
        res.end('ok');
        return;
      case '/down':
        res.statusCode = 503;
        res.end('down');
        return;
      case '/redirect':
        res.writeHead(302, { location: '/down' }).end();
        return;
      case '/host':
        seenHosts.push(req.headers.host ?? '');
        res.end();
        return;
      case '/big':
        // 8 MiB: the probe must stop reading at its cap, not buffer it.
        res.writeHead(200, { 'content-length': String(8 << 20) });
        res.end(Buffer.alloc(8 << 20, 'x'));
        return;
      case '/hang':
        return; // never answers
      default:
        res.statusCode = 404;
        res.end();
    }
  }, { stream: true });
});
afterAll(() => server.close());

const opts = (over: Partial<HttpProbeOptions>): HttpProbeOptions => ({ path: '/ok', timeoutMs: 1000, ...over });

async function probeOnce(over: Partial<HttpProbeOptions>, url = server.url, signal = new AbortController().signal) {
  const probe = createHttpProbe(opts(over));
  try {
    return await probe(subjectFor(url), signal);
  } finally {
    await probe.close();
  }
}

describe('http probe', () => {
  it.each([
    { name: '200 is healthy', path: '/ok', expectedStatus: undefined, ok: true, reason: 'ok', status: 200 },
    { name: '503 fails', path: '/down', expectedStatus: undefined, ok: false, reason: 'status 503', status: 503 },
    { name: '404 fails', path: '/nope', expectedStatus: undefined, ok: false, reason: 'status 404', status: 404 },
    { name: 'a redirect is not followed; 3xx is in the default 200-399', path: '/redirect', expectedStatus: undefined, ok: true, reason: 'ok', status: 302 },
    { name: 'a redirect fails when only 200 is expected', path: '/redirect', expectedStatus: [200], ok: false, reason: 'status 302', status: 302 },
    { name: 'a range may accept 503', path: '/down', expectedStatus: ['500-503'], ok: true, reason: 'ok', status: 503 },
    { name: 'codes and ranges mix', path: '/nope', expectedStatus: [200, '400-404'], ok: true, reason: 'ok', status: 404 },
    { name: 'a big body is capped and still judged by status', path: '/big', expectedStatus: undefined, ok: true, reason: 'ok', status: 200 },
  ])('$name', async ({ path, expectedStatus, ok, reason, status }) => {
    const r = await probeOnce({ path, ...(expectedStatus ? { expectedStatus } : {}) });
    expect(r).toMatchObject({ ok, reason, status });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.at).toBeGreaterThan(0);
  });

  it('a hanging server times out with the configured timeout', async () => {
    const r = await probeOnce({ path: '/hang', timeoutMs: 100 });
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 100ms' });
    expect(r.status).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(90);
    expect(r.durationMs).toBeLessThan(1000);
  });

  it('a refused port fails fast with the error code', async () => {
    const port = await closedPort();
    const r = await probeOnce({ timeoutMs: 5000 }, `http://127.0.0.1:${port}`);
    expect(r).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
    expect(r.durationMs).toBeLessThan(1000);
  });

  it('the host header override arrives', async () => {
    const r = await probeOnce({ path: '/host', headers: { host: 'api.internal.example' } });
    expect(r.ok).toBe(true);
    expect(seenHosts.at(-1)).toBe('api.internal.example');
  });

  it('without an override the host is the target host:port', async () => {
    await probeOnce({ path: '/host' });
    expect(seenHosts.at(-1)).toBe(`127.0.0.1:${server.port}`);
  });

  it('an abort from the caller ends the probe with reason "aborted"', async () => {
    const ctl = new AbortController();
    const pending = probeOnce({ path: '/hang', timeoutMs: 5000 }, server.url, ctl.signal);
    ctl.abort();
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted' });
  });

  it('one probe checks several targets and can be reused', async () => {
    const other = await startUpstream('other', (_req, res) => res.end(), { stream: true });
    const probe = createHttpProbe(opts({}));
    try {
      const signal = new AbortController().signal;
      for (let i = 0; i < 3; i++) {
        expect((await probe(subjectFor(server.url), signal)).ok).toBe(true);
        expect((await probe(subjectFor(other.url), signal)).ok).toBe(true);
      }
    } finally {
      await probe.close();
      await other.close();
    }
  });

  it('https verifies certificates: a self-signed server fails with a tls reason', async (ctx) => {
    const { createServer } = await import('node:https');
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'sy-health-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    } catch {
      ctx.skip('openssl is not installed: nothing to make a certificate with');
    }
    const tlsServer = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end());
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    const { port } = tlsServer.address() as { port: number };
    try {
      const r = await probeOnce({}, `https://127.0.0.1:${port}`);
      expect(r.ok).toBe(false);
      expect(r.reason).toBe('tls DEPTH_ZERO_SELF_SIGNED_CERT');
      // Trusting the certificate as a CA makes the same server healthy.
      const trusted = await probeOnce({ tls: { ca: readFileSync(join(dir, 'c.pem')), servername: 'localhost' } }, `https://127.0.0.1:${port}`);
      expect(trusted).toMatchObject({ ok: true, status: 200 });
    } finally {
      tlsServer.closeAllConnections();
      await new Promise<void>((r) => tlsServer.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
