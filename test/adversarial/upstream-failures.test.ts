/**
 * Failing upstreams: refused, reset, hung, garbage, killed mid-body, an
 * early answer to a large upload, stale pooled connections. The client always
 * gets a catalogued 502/504 with a generic JSON body (or, once the head went
 * out, a cut connection), never an address, errno or stack; retries stay
 * within the configured count and the retry budget; a burst of 1,000
 * failures leaves the process up with no leaked sockets or in-flight counts.
 */
import { getActiveResourcesInfo } from 'node:process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { INTERNAL_DETAIL, freePort, get, okResponse, sendRaw, startRecorder, type Recorder, type RawResult, type Responder } from './helpers.js';
import { portIn } from '../helpers/ports.js';

let gw: TestGateway;
let dead: number;
const rec: Record<string, Recorder> = {};
const NAMES = ['reset', 'hung', 'garbage', 'midbody', 'nobody', 'stall', 'upload', 'stale', 'staleA', 'staleB', 'r1', 'r2', 'r3', 'ok'] as const;

beforeAll(async () => {
  dead = await freePort();
  for (const n of NAMES) rec[n] = await startRecorder();
  const pool = (...names: string[]) => ({ targets: names.map((n) => ({ url: rec[n]!.url })), outlierDetection: { enabled: false } });
  gw = await startGateway({
    gateway: {},
    routeFiles: {
      'r.yaml': {
        upstreams: {
          refused: { targets: [{ url: `http://127.0.0.1:${dead}` }], outlierDetection: { enabled: false } },
          reset: pool('reset'),
          hung: { ...pool('hung'), timeouts: { response: '300ms' } },
          garbage: pool('garbage'),
          midbody: pool('midbody'),
          nobody: pool('nobody'),
          stall: { ...pool('stall'), timeouts: { idle: '300ms' } },
          upload: pool('upload'),
          stale: pool('stale'),
          stale2: pool('staleA', 'staleB'),
          three: { ...pool('r1', 'r2', 'r3'), retryBudget: { percent: 100, minPerSecond: 1000 } },
          ok: pool('ok'),
        },
        routes: [
          ...['refused', 'reset', 'hung', 'garbage', 'midbody', 'nobody', 'stall', 'upload', 'stale', 'stale2', 'ok'].map((u) => ({ id: u, match: { path: `/${u}/*` }, upstream: u })),
          { id: 'three', match: { path: '/three/*' }, upstream: 'three', retry: { attempts: 2, on: [503] }, timeouts: { response: '300ms' } },
          { id: 'three-noretry', match: { path: '/three-noretry/*' }, upstream: 'three' },
        ],
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all(Object.values(rec).map((r) => r.close()));
});
afterEach(() => {
  for (const r of Object.values(rec)) r.reset();
});

/** expectGeneric checks a catalogued JSON error with nothing internal in it. */
function expectGeneric(r: RawResult, status: number, code: string): void {
  expect(r.responses).toHaveLength(1);
  const res = r.responses[0]!;
  expect(res.status).toBe(status);
  expect(res.header('content-type')).toMatch(/^application\/json/);
  const body = res.json();
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.header('x-request-id'));
  expect(r.text).not.toMatch(INTERNAL_DETAIL);
  for (const port of [...Object.values(rec).map((n) => n.port), dead]) expect(r.text).not.toMatch(portIn(port));
}

describe('each failure is a generic 502/504', () => {
  it('502 SY_ERR_UPSTREAM_CONNECT when the target refuses connections', async () => {
    expectGeneric(await sendRaw(gw.port, get('/refused/x'), { until: 1 }), 502, 'SY_ERR_UPSTREAM_CONNECT');
  });

  it('502 SY_ERR_UPSTREAM_RESET when the target resets at accept', async () => {
    rec.reset!.onConnection((s) => s.resetAndDestroy());
    expectGeneric(await sendRaw(gw.port, get('/reset/x'), { until: 1 }), 502, 'SY_ERR_UPSTREAM_RESET');
  });

  it('502 SY_ERR_UPSTREAM_RESET when the target resets after reading the request', async () => {
    rec.reset!.respond((_req, s) => s.resetAndDestroy());
    expectGeneric(await sendRaw(gw.port, `POST /reset/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2\r\n\r\nhi`, { until: 1 }), 502, 'SY_ERR_UPSTREAM_RESET');
    expect(rec.reset!.requests()).toHaveLength(1); // a POST that reached the upstream is never repeated
  });

  it('504 SY_ERR_UPSTREAM_TIMEOUT within the response timeout when the target never answers', async () => {
    rec.hung!.respond(() => undefined);
    const r = await sendRaw(gw.port, get('/hung/x'), { until: 1 });
    expectGeneric(r, 504, 'SY_ERR_UPSTREAM_TIMEOUT');
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.ms).toBeLessThan(2000);
    // The timed-out upstream connection is not reused for the next request.
    await waitFor(() => rec.hung!.connections.every((c) => c.closed), { message: 'hung upstream connection closed' });
  });

  it.each([
    ['garbage instead of a status line', 'this is not http\r\n\r\n'],
    ['an HTTP/0.9-style bare body', 'hello'],
    ['a status line only, then close', 'HTTP/1.1 200 OK\r\n'],
    ['a huge header block', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`],
    ['an invalid status code', 'HTTP/1.1 999 Nope\r\nContent-Length: 0\r\n\r\n'],
    ['a NUL in a header', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n'],
  ])('502 on %s', async (_name, raw) => {
    rec.garbage!.respond((_req, s) => s.end(raw));
    const r = await sendRaw(gw.port, get('/garbage/x'), { until: 1 });
    expect(r.responses).toHaveLength(1);
    expect(r.responses[0]!.status).toBe(502);
    expect(['SY_ERR_UPSTREAM_BAD_RESPONSE', 'SY_ERR_UPSTREAM_RESET']).toContain(r.responses[0]!.json().error.code);
    expect(r.text).not.toMatch(INTERNAL_DETAIL);
  });

  it('502 when the target dies after the head and before any body byte', async () => {
    rec.nobody!.respond((_req, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'));
    const r = await sendRaw(gw.port, get('/nobody/x'), { until: 1 });
    expectGeneric(r, 502, 'SY_ERR_UPSTREAM_RESET');
  });

  it('cuts the client connection when the target dies mid-body (no fake success)', async () => {
    rec.midbody!.respond((_req, s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10));
      setImmediate(() => s.destroy());
    });
    const r = await sendRaw(gw.port, get('/midbody/x'));
    expect(r.closed).toBe(true);
    expect(r.responses).toEqual([]);
    expect(r.error).toBe('truncated response');
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.text).not.toMatch(INTERNAL_DETAIL);
  });

  it('cuts the client connection when a body stalls past the idle timeout', async () => {
    rec.stall!.respond((_req, s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'));
    const r = await sendRaw(gw.port, get('/stall/x'));
    expect(r.closed).toBe(true);
    expect(r.error).toBe('truncated response');
    expect(r.ms).toBeLessThan(2000);
  });

  it('passes an early 413 to a large upload through, without waiting for the body', async () => {
    rec.upload!.onConnection((s) => s.once('data', () => s.end('HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!')));
    const size = 5 * 1024 * 1024;
    const head = `POST /upload/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: ${size}\r\n\r\n`;
    const r = await sendRaw(gw.port, [head, Buffer.alloc(size, 'a')], { until: 1, deadline: 5000 });
    expect(r.responses).toHaveLength(1);
    const res = r.responses[0]!;
    // The upstream's own answer when it arrived intact; otherwise a generic 502.
    if (res.status === 413) expect(res.body.toString()).toBe('too big!');
    else expectGeneric(r, 502, res.json().error.code);
    expect(r.ms).toBeLessThan(4000);
  });
});

describe('retries are bounded', () => {
  it('an upstream 503 on a GET is tried at most 1 + retry.attempts times, each on another target', async () => {
    for (const n of ['r1', 'r2', 'r3'] as const) rec[n]!.respond((_req, s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'));
    const r = await sendRaw(gw.port, get('/three/x'), { until: 1 });
    expect(r.responses[0]!.status).toBe(503);
    const hits = (['r1', 'r2', 'r3'] as const).map((n) => rec[n]!.requests().length);
    expect(hits.reduce((a, b) => a + b, 0)).toBe(3);
    expect(hits).toEqual([1, 1, 1]);
  });

  it('a route without a retry policy never retries an upstream 503', async () => {
    for (const n of ['r1', 'r2', 'r3'] as const) rec[n]!.respond((_req, s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'));
    const r = await sendRaw(gw.port, get('/three-noretry/x'), { until: 1 });
    expect(r.responses[0]!.status).toBe(503);
    expect((['r1', 'r2', 'r3'] as const).map((n) => rec[n]!.requests().length).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('a POST answered 503 is never retried', async () => {
    for (const n of ['r1', 'r2', 'r3'] as const) rec[n]!.respond((_req, s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'));
    const r = await sendRaw(gw.port, `POST /three/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2\r\n\r\nhi`, { until: 1 });
    expect(r.responses[0]!.status).toBe(503);
    expect((['r1', 'r2', 'r3'] as const).map((n) => rec[n]!.requests().length).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('a hung target is never retried (a slow upstream must not get the same work twice)', async () => {
    for (const n of ['r1', 'r2', 'r3'] as const) rec[n]!.respond(() => undefined);
    const r = await sendRaw(gw.port, get('/three/x'), { until: 1 });
    expect(r.responses[0]!.status).toBe(504);
    expect((['r1', 'r2', 'r3'] as const).map((n) => rec[n]!.requests().length).reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('keep-alive races with upstreams that close idle connections', () => {
  /** staleAfterFirst answers the first request of a connection, then closes it on the next without answering. */
  const staleAfterFirst: Responder = (req, s, conn) => {
    if (conn.requests.length === 1) s.write(okResponse(req));
    else s.destroy();
  };

  it('a GET on a stale pooled connection of a one-target pool is retried on a fresh connection', async () => {
    rec.stale!.respond(staleAfterFirst);
    const first = await sendRaw(gw.port, get('/stale/one'), { until: 1 });
    expect(first.responses[0]!.status).toBe(200);
    const second = await sendRaw(gw.port, get('/stale/two'), { until: 1 });
    expect(second.responses[0]!.status).toBe(200);
    expect(second.responses[0]!.json().target).toBe('/stale/two');
    // Exactly one repeat, on a new connection.
    expect(rec.stale!.requests().map((q) => q.target)).toEqual(['/stale/one', '/stale/two', '/stale/two']);
  });

  it('a GET on a stale pooled connection of a two-target pool is served', async () => {
    rec.staleA!.respond(staleAfterFirst);
    for (let i = 0; i < 6; i++) {
      const r = await sendRaw(gw.port, get(`/stale2/${i}`), { until: 1 });
      expect(r.responses[0]!.status).toBe(200);
      expect(r.responses[0]!.json().target).toBe(`/stale2/${i}`);
    }
    // Every request was answered once; those that met a stale connection were repeated once.
    const answered = [...rec.staleA!.requests(), ...rec.staleB!.requests()].map((q) => q.target);
    for (let i = 0; i < 6; i++) expect(answered.filter((t) => t === `/stale2/${i}`).length).toBeLessThanOrEqual(2);
  });

  it('a GET that resets every connection is tried twice at most, then a generic 502', async () => {
    rec.stale!.respond((_req, s) => s.destroy());
    const r = await sendRaw(gw.port, get('/stale/always'), { until: 1 });
    expectGeneric(r, 502, 'SY_ERR_UPSTREAM_RESET');
    expect(rec.stale!.requests()).toHaveLength(2);
  });

  it('a POST on a stale pooled connection is not repeated: a generic 502', async () => {
    rec.stale!.respond(staleAfterFirst);
    await sendRaw(gw.port, get('/stale/warm'), { until: 1 });
    const r = await sendRaw(gw.port, `POST /stale/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 2\r\n\r\nhi`, { until: 1 });
    expectGeneric(r, 502, 'SY_ERR_UPSTREAM_RESET');
    expect(rec.stale!.requests().filter((q) => q.method === 'POST')).toHaveLength(1);
  });
});

describe('a burst of failures', () => {
  function tcpHandles(): number {
    return getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  }

  it('survives 1,000 mixed failures with every answer generic and nothing leaked', async () => {
    rec.reset!.onConnection((s) => s.resetAndDestroy());
    rec.garbage!.respond((_req, s) => s.end('garbage\r\n\r\n'));
    rec.nobody!.respond((_req, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'));
    const baseline = tcpHandles();
    const rssBefore = process.memoryUsage().rss;
    const paths = ['/refused/x', '/reset/x', '/garbage/x', '/nobody/x'];
    const statuses = new Map<number, number>();
    let leaked = 0;
    let next = 0;
    const worker = async () => {
      while (next < 1000) {
        const i = next++;
        const r = await sendRaw(gw.port, get(paths[i % paths.length]!), { until: 1, deadline: 5000 });
        const s = r.responses[0]?.status ?? 0;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        if (INTERNAL_DETAIL.test(r.text)) leaked++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect([...statuses.keys()]).toEqual([502]);
    expect(statuses.get(502)).toBe(1000);
    expect(leaked).toBe(0);
    // Still serving.
    const ok = await sendRaw(gw.port, get('/ok/x'), { until: 1 });
    expect(ok.responses[0]!.status).toBe(200);
    // Nothing in flight, and the sockets of the burst are gone.
    for (const u of gw.gateway.runtime.upstreams.values()) for (const t of u.targets) expect(t.inflight, u.name).toBe(0);
    await waitFor(() => tcpHandles() <= baseline + 4, { timeout: 10_000, message: `TCP handles back near ${baseline} (now ${tcpHandles()})` });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  }, 60_000);
});
