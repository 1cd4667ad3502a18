/**
 * The library defaults that make a poor front door (as shipped by fastify 5 +
 * @fastify/http-proxy 11), checked one by one against this gateway, which
 * proxies with node:http + undici and its own defaults:
 * - a body over the limit is forwarded          → 413 before any byte reaches the upstream
 * - a GET answered 503 is retried up to 10 times → never retried without a retry policy
 * - connection errors are a 500 naming the host  → generic 502/504 JSON
 * - a hung upstream holds the client for minutes → 504 after `timeouts.response` (30s by default)
 * - a slow request body is never timed out       → 408 after `limits.requestTimeout` (60s by default)
 * - slow headers (slowloris)                     → 408 after `limits.headerTimeout` (10s by default)
 * - upstream TLS is not verified                 → verified unless a pool opts out
 * Hop-by-hop headers, client X-Forwarded-* and absolute Location headers are
 * covered in headers.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LimitsSchema, UpstreamTimeoutsSchema } from '../../src/config/schema.js';
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import { INTERNAL_DETAIL, freePort, get, sendRaw, startRecorder, type Recorder } from './helpers.js';
import { portIn } from '../helpers/ports.js';

const LIMIT = 1000;

describe('bodies over the limit never reach the upstream', () => {
  let rec: Recorder;
  let gw: TestGateway;
  beforeAll(async () => {
    rec = await startRecorder();
    gw = await startGateway({
      gateway: {},
      routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'up', match: { path: '/*' }, upstream: 'rec', bodyLimit: LIMIT }] } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await rec?.close();
  });
  afterEach(() => rec.reset());

  async function expect413(payload: string | Buffer[] | string[]) {
    const r = await sendRaw(gw.port, payload, { deadline: 5000 });
    expect(r.responses.map((x) => x.status)).toEqual([413]);
    expect(r.responses[0]!.json().error.code).toBe('SY_ERR_BODY_TOO_LARGE');
    expect(r.closed).toBe(true);
    expect(rec.bytes().length).toBe(0);
  }

  it('with a Content-Length over the limit (refused from the header, body never read)', async () => {
    await expect413(`POST /x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: ${LIMIT + 1}\r\n\r\n${'a'.repeat(LIMIT + 1)}`);
  });

  it('with a huge Content-Length and no body sent at all', async () => {
    await expect413(`POST /x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 10000000000\r\n\r\n`);
  });

  it('chunked, in one chunk', async () => {
    await expect413(`POST /x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n${(LIMIT + 1).toString(16)}\r\n${'a'.repeat(LIMIT + 1)}\r\n0\r\n\r\n`);
  });

  it('chunked, in many small chunks that add up past the limit', async () => {
    const chunks = Array.from({ length: 20 }, () => `64\r\n${'a'.repeat(100)}\r\n`);
    await expect413([`POST /x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n`, ...chunks, '0\r\n\r\n']);
  });

  it('forwards a chunked body at the limit, once, re-framed with its length', async () => {
    const r = await sendRaw(gw.port, `POST /x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n${LIMIT.toString(16)}\r\n${'a'.repeat(LIMIT)}\r\n0\r\n\r\n`, { until: 1 });
    expect(r.responses[0]!.status).toBe(200);
    const seen = rec.requests();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body.length).toBe(LIMIT);
    expect(seen[0]!.header('content-length')).toBe(String(LIMIT));
  });
});

describe('retries and errors', () => {
  let a: Recorder;
  let b: Recorder;
  let gw: TestGateway;
  let dead: number;
  beforeAll(async () => {
    [a, b] = await Promise.all([startRecorder(), startRecorder()]);
    dead = await freePort();
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: {
            two: { targets: [{ url: a.url }, { url: b.url }] },
            refused: { targets: [{ url: `http://127.0.0.1:${dead}` }] },
            unresolvable: { targets: [{ url: 'http://no-such-host.invalid:8080' }] },
          },
          routes: [
            { id: 'two', match: { path: '/two/*' }, upstream: 'two' },
            { id: 'refused', match: { path: '/refused/*' }, upstream: 'refused' },
            { id: 'unresolvable', match: { path: '/unresolvable/*' }, upstream: 'unresolvable' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await a?.close();
    await b?.close();
  });

  it('passes an upstream 503 on a GET through without any retry when the route has no retry policy', async () => {
    for (const r of [a, b]) r.respond((_req, s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'));
    for (let i = 0; i < 4; i++) {
      const r = await sendRaw(gw.port, get(`/two/${i}`), { until: 1 });
      expect(r.responses[0]!.status).toBe(503);
    }
    expect(a.requests().length + b.requests().length).toBe(4);
  });

  it.each([
    ['refused', 'SY_ERR_UPSTREAM_CONNECT'],
    ['unresolvable', 'SY_ERR_UPSTREAM_CONNECT'],
  ])('answers a %s upstream with a generic 502 that names no address', async (name, code) => {
    const r = await sendRaw(gw.port, get(`/${name}/x`), { until: 1, deadline: 10_000 });
    const res = r.responses[0]!;
    expect(res.status).toBe(502);
    expect(res.json().error).toMatchObject({ code, upstream: name });
    expect(r.text).not.toMatch(INTERNAL_DETAIL);
    expect(r.text).not.toMatch(portIn(dead));
    expect(r.text).not.toContain('no-such-host');
  });
});

describe('timeouts', () => {
  it('ships bounded defaults', () => {
    const limits = Value.Default(LimitsSchema, {}) as Record<string, unknown>;
    expect(limits).toMatchObject({ headerTimeout: '10s', requestTimeout: '60s', keepAliveTimeout: '5s', maxHeaderSize: 16384, maxHeaders: 100, maxUrlLength: 8192, bodyLimit: 10485760 });
    expect(Value.Default(UpstreamTimeoutsSchema, {})).toMatchObject({ connect: '5s', response: '30s', idle: '60s' });
  });

  it('applies the response timeout to routes without one (a hung upstream cannot hold a client for minutes)', async () => {
    const rec = await startRecorder();
    const gw = await startGateway({ gateway: {}, routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'r', match: { path: '/*' }, upstream: 'rec' }] } } });
    try {
      const route = gw.gateway.runtime.routes[0]!;
      expect(route.responseTimeoutMs).toBe(30_000);
      expect(route.idleTimeoutMs).toBe(60_000);
    } finally {
      await gw.close();
      await rec.close();
    }
  });

  describe('slow clients', () => {
    let rec: Recorder;
    let gw: TestGateway;
    beforeAll(async () => {
      rec = await startRecorder();
      gw = await startGateway({
        gateway: { limits: { headerTimeout: '1s', requestTimeout: '2s' } },
        routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }] } }, routes: [{ id: 'r', match: { path: '/*' }, upstream: 'rec' }] } },
      });
    });
    afterAll(async () => {
      await gw?.close();
      await rec?.close();
    });
    afterEach(() => rec.reset());

    it('408 for headers that never finish (slowloris), while other clients are served', async () => {
      const slow = sendRaw(gw.port, 'GET /x HTTP/1.1\r\nHost: gw.test\r\nX-Slow: ', { deadline: 6000 });
      const fast = await sendRaw(gw.port, get('/fast'), { until: 1 });
      expect(fast.responses[0]!.status).toBe(200);
      const r = await slow;
      expect(r.responses.map((x) => x.status)).toEqual([408]);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(900);
      expect(r.ms).toBeLessThan(4000);
      expect(rec.requests().map((q) => q.target)).toEqual(['/fast']);
    });

    it.each([
      ['a small body with Content-Length', `POST /x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 100\r\n\r\nonly part of it`],
      ['a chunked body that stops mid-way', `POST /x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`],
    ])('408 for %s that never completes, and the upstream gets nothing', async (_name, payload) => {
      const r = await sendRaw(gw.port, payload, { deadline: 8000 });
      expect(r.responses.map((x) => x.status)).toEqual([408]);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(5000);
      expect(rec.requests()).toEqual([]);
      expect(rec.bytes().length).toBe(0);
    });
  });
});

describe('upstream TLS is verified', () => {
  let dir: string;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-adv-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => res.end('secret'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function through(tls: object | undefined): Promise<{ status: number; body: string }> {
    const gw = await startGateway({
      gateway: {},
      baseDir: dir,
      routeFiles: { 'r.yaml': { upstreams: { s: { targets: [{ url: `https://127.0.0.1:${port}` }], ...(tls ? { tls } : {}) } }, routes: [{ id: 'r', match: { path: '/*' }, upstream: 's' }] } },
    });
    try {
      const r = await sendRaw(gw.port, get('/x'), { until: 1 });
      return { status: r.responses[0]!.status, body: r.responses[0]!.body.toString() };
    } finally {
      await gw.close();
    }
  }

  it('refuses a self-signed upstream certificate by default, with a generic 502', async () => {
    const r = await through(undefined);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe('SY_ERR_UPSTREAM_CONNECT');
    expect(r.body).not.toMatch(INTERNAL_DETAIL);
    expect(r.body).not.toContain('secret');
  });

  it('refuses a certificate for another name even with the right CA', async () => {
    expect((await through({ ca: 'c.pem', servername: 'other.example' })).status).toBe(502);
  });

  it('accepts it once its CA is configured', async () => {
    expect(await through({ ca: 'c.pem', servername: 'localhost' })).toEqual({ status: 200, body: 'secret' });
  });

  it('accepts it only with an explicit verify: false', async () => {
    expect(await through({ verify: false })).toEqual({ status: 200, body: 'secret' });
  });
});
