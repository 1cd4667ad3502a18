import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { createGateway } from '../../src/gateway/gateway.js';
import { parseSize } from '../../src/plugins/builtin/body-limit/index.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { isolatedDir, send } from './helpers.js';

describe('body-limit plugin', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('api');
    gw = await startGateway({
      gateway: { chain: [{ 'body-limit': { max: '8kb' } }] },
      baseDir: isolatedDir(),
      routeFiles: {
        'b.yaml': {
          upstreams: { api: { targets: [{ url: up.url }] } },
          routes: [
            { id: 'kb', match: { path: '/kb/*' }, upstream: 'api', plugins: [{ 'body-limit': { max: '1kb' } }] },
            { id: 'route-smaller', match: { path: '/route-smaller/*' }, upstream: 'api', bodyLimit: 100, plugins: [{ 'body-limit': { max: '1kb' } }] },
            { id: 'global', match: { path: '/global/*' }, upstream: 'api' },
            { id: 'none', match: { path: '/none/*' }, upstream: 'api', plugins: [{ 'body-limit': { max: 0 } }] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const post = (path: string, body: string | Buffer | Readable) => send(gw.url + path, { method: 'POST', body: body as Buffer });
  const chunked = (size: number, chunk = 256) => {
    const parts: Buffer[] = [];
    for (let left = size; left > 0; left -= chunk) parts.push(Buffer.alloc(Math.min(chunk, left), 'x'));
    return Readable.from(parts);
  };

  it('passes a body of exactly the limit and refuses one byte more with 413, before the upstream sees it', async () => {
    const ok = await post('/kb/a', Buffer.alloc(1024, 'x'));
    expect(ok.status).toBe(200);
    expect(ok.json().bodyLength).toBe(1024);
    const hits = up.requests.length;
    const over = await post('/kb/a', Buffer.alloc(1025, 'x'));
    expect(over.status).toBe(413);
    expect(over.json().error).toMatchObject({ code: 'SY_ERR_BODY_TOO_LARGE', status: 413 });
    expect(up.requests.length).toBe(hits);
  });

  it('counts a chunked body as it streams: under the limit passes whole, over it is cut off with 413', async () => {
    const ok = await post('/kb/a', chunked(1000));
    expect(ok.status).toBe(200);
    expect(ok.json().bodyLength).toBe(1000);
    const over = await post('/kb/a', chunked(4000));
    expect(over.status).toBe(413);
    expect(over.json().error.code).toBe('SY_ERR_BODY_TOO_LARGE');
  });

  it('enforces the smallest limit of the route and its chain', async () => {
    expect((await post('/route-smaller/a', Buffer.alloc(100, 'x'))).status).toBe(200);
    expect((await post('/route-smaller/a', Buffer.alloc(101, 'x'))).status).toBe(413);
    // The global chain's 8kb applies to every route; the route's 1kb is smaller.
    expect((await post('/kb/a', Buffer.alloc(2048, 'x'))).status).toBe(413);
    expect((await post('/global/a', Buffer.alloc(8192, 'x'))).status).toBe(200);
    expect((await post('/global/a', Buffer.alloc(8193, 'x'))).status).toBe(413);
    expect((await post('/global/a', chunked(9000))).status).toBe(413);
  });

  it('max 0 allows only empty bodies', async () => {
    expect((await post('/none/a', '')).status).toBe(200);
    expect((await send(gw.url + '/none/a')).status).toBe(200);
    expect((await post('/none/a', 'x')).status).toBe(413);
  });

  it.each([
    [100, 100],
    ['10b', 10],
    ['512kb', 512 * 1024],
    ['1mb', 1024 * 1024],
    ['1.5MB', 1.5 * 1024 * 1024],
    [' 2 GB ', 2 * 1024 ** 3],
  ])('reads the size %j as %i bytes', (given, bytes) => {
    expect(parseSize(given)).toBe(bytes);
  });

  it('reports a malformed size at its line', async () => {
    const yaml = ['upstreams:', '  a:', '    targets:', '      - url: http://127.0.0.1:9', 'routes:', '  - id: r', '    match: { path: /r/* }', '    upstream: a', '    plugins:', '      - body-limit:', '          max: 1 megabyte', ''].join('\n');
    let message = '';
    try {
      const g = await createGateway({ logger: pino({ level: 'silent' }), gateway: {}, baseDir: isolatedDir(), offline: true, routeFiles: { 'b.yaml': yaml } });
      await g.close();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/b\.yaml:11:\d+: .*max/);
  });
});
