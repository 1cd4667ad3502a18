/**
 * client.fetch with `lb://` URLs (fetch-compatible, WHATWG Request and
 * Response), and trace propagation from the request being handled: the same
 * trace id with a new span id, tracestate and X-Request-Id carried over.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from '../../src/testing/index.js';
import { createClient, UpstreamError, type Client } from '../../src/client/index.js';
import { parseLbUrl } from '../../src/client/fetch.js';
import { quiet, startNamed } from './helpers.js';

let instances: TestUpstream[] = [];
let client: Client;

afterEach(async () => {
  await client?.close();
  await Promise.all(instances.map((i) => i.close()));
  instances = [];
});

async function start(names = 'ab', options: Record<string, unknown> = {}): Promise<Client> {
  instances = await startNamed(names);
  client = createClient({ discovery: { targets: { USERS: instances.map((i) => ({ url: i.url })) } }, logger: quiet, ...options });
  return client;
}

describe('client.fetch', () => {
  it.each([
    ['lb://users/users/42', { app: 'USERS', path: '/users/42' }],
    ['lb://Users/users/42?full=1', { app: 'USERS', path: '/users/42?full=1' }],
    ['lb://users', { app: 'USERS', path: '/' }],
    ['LB://users?x=1', { app: 'USERS', path: '/?x=1' }],
    ['http://users/x', undefined],
  ])('parses %s', (url, want) => {
    expect(parseLbUrl(url)).toEqual(want);
  });

  it('GETs lb://app/path and answers a WHATWG Response with a streamed body', async () => {
    const c = await start();
    const res = await c.fetch('lb://users/users/42?full=1', { headers: { accept: 'application/json' } });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { url: string; method: string; headers: Record<string, string> };
    expect(body).toMatchObject({ method: 'GET', url: '/users/42?full=1' });
    expect(body.headers.accept).toBe('application/json');
  });

  it('POSTs a body, and takes a Request as input', async () => {
    const c = await start();
    const res = await c.fetch(new Request('lb://users/users', { method: 'POST', body: JSON.stringify({ name: 'ada' }), headers: { 'content-type': 'application/json' } }));
    expect(await res.json()).toMatchObject({ method: 'POST', url: '/users', bodyLength: 14 });
    expect(instances.flatMap((i) => i.requests).find((r) => r.method === 'POST')!.body.toString()).toBe('{"name":"ada"}');
  });

  it('does not retry a POST once it reached an instance, even on a reset', async () => {
    const c = await start('ab', { balancer: 'round-robin' });
    for (const i of instances) i.setHandler((req) => req.socket.destroy());
    const err = await c.fetch('lb://users/orders', { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'SY_ERR_UPSTREAM_RESET', attempts: 1, status: 502 });
    expect(instances.map((i) => i.hits())).toEqual([1, 0]);
  });

  it('retries a POST that never reached an instance (connection refused) on another one', async () => {
    const c = await start('ab', { balancer: 'round-robin' });
    await instances[0]!.close();
    const res = await c.fetch('lb://users/orders', { method: 'POST', body: 'x' });
    expect(await res.json()).toMatchObject({ upstream: instances[1]!.name, method: 'POST', bodyLength: 1 });
  });

  it('answers 204 and HEAD with a null body', async () => {
    const c = await start('a');
    instances[0]!.setHandler((_req, res) => res.writeHead(204).end());
    const res = await c.fetch('lb://users/x', { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it('passes other URLs to the global fetch', async () => {
    const c = await start('a');
    const res = await c.fetch(`${instances[0]!.url}/direct`);
    expect(await res.json()).toMatchObject({ url: '/direct' });
  });
});

describe('trace propagation', () => {
  const TRACE = '0af7651916cd43dd8448eb211c80319c';
  const incoming = { headers: { traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: 'vendor=1', 'x-request-id': 'req-7' } };

  it('continues the incoming trace with a new span id, and carries tracestate and X-Request-Id', async () => {
    const c = await start('a');
    const one = (await (await c.request('users', { path: '/', from: incoming })).body.json()) as { headers: Record<string, string> };
    const two = (await (await c.fetch('lb://users/', { from: incoming })).json()) as { headers: Record<string, string> };
    for (const h of [one.headers, two.headers]) {
      expect(h.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
      expect(h.traceparent).not.toContain('b7ad6b7169203331');
      expect(h.tracestate).toBe('vendor=1');
      expect(h['x-request-id']).toBe('req-7');
    }
    expect(one.headers.traceparent).not.toBe(two.headers.traceparent);
  });

  it('works from a real incoming request, drops an invalid traceparent, and never overrides the caller\'s headers', async () => {
    const c = await start('a');
    const seen: Array<Record<string, unknown>> = [];
    const front = http.createServer(async (req, res) => {
      const r = await c.request('users', { path: '/', from: req, headers: req.url === '/own' ? { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00` } : {} });
      seen.push(((await r.body.json()) as { headers: Record<string, unknown> }).headers);
      res.end();
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
    try {
      await fetch(`${base}/`, { headers: { traceparent: incoming.headers.traceparent, 'x-request-id': 'req-8' } });
      await fetch(`${base}/`, { headers: { traceparent: 'garbage', tracestate: 'vendor=1' } });
      await fetch(`${base}/own`, { headers: { traceparent: incoming.headers.traceparent } });
    } finally {
      front.close();
    }
    expect(seen[0]).toMatchObject({ traceparent: expect.stringMatching(new RegExp(`^00-${TRACE}-`)), 'x-request-id': 'req-8' });
    expect(seen[1]!.traceparent).toBeUndefined();
    expect(seen[1]!.tracestate).toBeUndefined();
    expect(seen[2]!.traceparent).toBe(`00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`);
  });
});
