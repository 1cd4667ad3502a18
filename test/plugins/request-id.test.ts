import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { isolatedDir, lastRequest, rawHeaderValues, rawRequest, send } from './helpers.js';

describe('request-id plugin', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let trusting: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('api', (req, res) => {
      // An upstream that sets its own correlation id: the gateway's must win.
      res.writeHead(200, { 'content-type': 'text/plain', 'x-correlation-id': 'upstream-made' }).end('ok');
    });
    const routes = {
      'ids.yaml': {
        upstreams: { api: { targets: [{ url: up.url }] }, dead: { targets: [{ url: 'http://127.0.0.1:9' }] } },
        routes: [
          { id: 'corr', match: { path: '/corr/*' }, upstream: 'api', plugins: [{ 'request-id': { header: 'X-Correlation-Id' } }] },
          { id: 'resp-only', match: { path: '/resp-only/*' }, upstream: 'api', plugins: [{ 'request-id': { header: 'x-trace-ref', upstream: false } }] },
          { id: 'default', match: { path: '/default/*' }, upstream: 'api', plugins: ['request-id'] },
          { id: 'dead', match: { path: '/dead/*' }, upstream: 'dead', plugins: [{ 'request-id': { header: 'x-correlation-id' } }] },
        ],
      },
    };
    gw = await startGateway({ gateway: {}, baseDir: isolatedDir(), routeFiles: routes });
    trusting = await startGateway({ gateway: { trustRequestId: true }, baseDir: isolatedDir(), routeFiles: routes });
  });
  afterAll(async () => {
    await Promise.all([gw.close(), trusting.close()]);
    await up.close();
  });

  it('sends the request id upstream and to the client under the extra header too', async () => {
    const r = await send(gw.url + '/corr/a');
    expect(r.status).toBe(200);
    const id = r.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-correlation-id']).toBe(id);
    const seen = lastRequest(up);
    expect(seen.headers['x-request-id']).toBe(id);
    expect(seen.headers['x-correlation-id']).toBe(id);
  });

  it('replaces a client-sent copy of the header, in any spelling, and never takes the id from it', async () => {
    const r = await rawRequest(gw.port, ['GET /corr/spoof HTTP/1.1', `Host: 127.0.0.1:${gw.port}`, 'x-correlation-id: chosen-by-client', 'X-CORRELATION-ID: again']);
    expect(r.status).toBe(200);
    const id = r.headers.get('x-request-id')![0]!;
    expect(id).not.toBe('chosen-by-client');
    expect(r.headers.get('x-correlation-id')).toEqual([id]);
    expect(rawHeaderValues(lastRequest(up).rawHeaders, 'x-correlation-id')).toEqual([id]);
  });

  it('follows the core: a trusted client x-request-id becomes the id under both names', async () => {
    const r = await send(trusting.url + '/corr/a', { headers: { 'x-request-id': 'client-id-123' } });
    expect(r.headers['x-request-id']).toBe('client-id-123');
    expect(r.headers['x-correlation-id']).toBe('client-id-123');
    expect(lastRequest(up).headers['x-correlation-id']).toBe('client-id-123');
  });

  it('can expose the id in responses only', async () => {
    const r = await send(gw.url + '/resp-only/a', { headers: { 'x-trace-ref': 'client-value' } });
    expect(r.headers['x-trace-ref']).toBe(r.headers['x-request-id']);
    // Not owned upstream: the client's header passes untouched.
    expect(lastRequest(up).headers['x-trace-ref']).toBe('client-value');
  });

  it('is a no-op under the default name, which the core sets already', async () => {
    const r = await send(gw.url + '/default/a');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(rawHeaderValues(lastRequest(up).rawHeaders, 'x-request-id')).toEqual([r.headers['x-request-id']]);
  });

  it("labels the gateway's own error answers too", async () => {
    const r = await send(gw.url + '/dead/a');
    expect(r.status).toBe(502);
    expect(r.headers['x-correlation-id']).toBe(r.headers['x-request-id']);
    expect(r.json().error.requestId).toBe(r.headers['x-correlation-id']);
  });
});
