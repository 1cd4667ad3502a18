import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { portIn } from '../helpers/ports.js';

/** a port with nothing listening: bind, read the port, close. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('upstream failures', () => {
  let hang: TestUpstream;
  let gw: TestGateway;
  let dead: number;

  beforeAll(async () => {
    dead = await deadPort();
    hang = await startUpstream('hang', () => {
      /* never answers */
    });
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: {
            refused: { targets: [{ url: `http://127.0.0.1:${dead}` }] },
            hung: { targets: [{ url: hang.url }], timeouts: { response: '200ms' } },
          },
          routes: [
            { id: 'refused', match: { path: '/refused/*' }, upstream: 'refused' },
            { id: 'hung', match: { path: '/hung/*' }, upstream: 'hung' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await hang.close();
  });

  it('answers 502 with a generic JSON body when the target refuses', async () => {
    const res = await request(gw.url + '/refused/x');
    const body = await res.body.text();
    expect(res.statusCode).toBe(502);
    const json = JSON.parse(body);
    expect(json.error).toMatchObject({ code: 'SY_ERR_UPSTREAM_CONNECT', status: 502, upstream: 'refused' });
    expect(json.error.requestId).toBe(res.headers['x-request-id']);
    expect(body).not.toContain('127.0.0.1');
    expect(body).not.toMatch(portIn(dead));
    expect(body).not.toContain('ECONNREFUSED');
  });

  it('answers 504 when the target does not answer within the response timeout', async () => {
    const t0 = Date.now();
    const res = await request(gw.url + '/hung/x');
    const json = (await res.body.json()) as { error: { code: string } };
    expect(res.statusCode).toBe(504);
    expect(json.error.code).toBe('SY_ERR_UPSTREAM_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
