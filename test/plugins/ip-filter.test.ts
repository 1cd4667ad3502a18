import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createGateway } from '../../src/gateway/gateway.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { isolatedDir, recordingMetrics, send } from './helpers.js';

describe('ip-filter plugin', () => {
  let up: TestUpstream;
  let behindProxy: TestGateway;
  let direct: TestGateway;
  const metrics = recordingMetrics();

  const routes = {
    'ip.yaml': {
      upstreams: { api: { targets: [{ url: '' }] } },
      routes: [
        { id: 'allow', match: { path: '/allow/*' }, upstream: 'api', plugins: [{ 'ip-filter': { allow: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] } }] },
        { id: 'deny', match: { path: '/deny/*' }, upstream: 'api', plugins: [{ 'ip-filter': { deny: ['203.0.113.0/24', '2001:db8:bad::/48'] } }] },
        { id: 'both', match: { path: '/both/*' }, upstream: 'api', plugins: [{ 'ip-filter': { allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] } }] },
        { id: 'loopback', match: { path: '/loopback/*' }, upstream: 'api', plugins: [{ 'ip-filter': { allow: ['127.0.0.1', '::1'] } }] },
        { id: 'no-loopback', match: { path: '/no-loopback/*' }, upstream: 'api', plugins: [{ 'ip-filter': { deny: ['127.0.0.0/8'] } }] },
      ],
    },
  };

  beforeAll(async () => {
    up = await startUpstream('api');
    routes['ip.yaml'].upstreams.api.targets[0]!.url = up.url;
    // Behind a trusted proxy (the test client on loopback), X-Forwarded-For names the client.
    behindProxy = await startGateway({ gateway: { trustProxy: ['127.0.0.1'] }, baseDir: isolatedDir(), metrics, routeFiles: routes });
    direct = await startGateway({ gateway: {}, baseDir: isolatedDir(), routeFiles: routes });
  });
  afterAll(async () => {
    await Promise.all([behindProxy.close(), direct.close()]);
    await up.close();
  });

  it.each([
    ['/allow/x', '10.1.2.3', 200],
    ['/allow/x', '192.168.1.7', 200],
    ['/allow/x', '192.168.1.8', 403],
    ['/allow/x', '2001:db8::1', 200],
    ['/allow/x', '2001:db9::1', 403],
    ['/allow/x', '11.0.0.1', 403],
    ['/deny/x', '203.0.113.9', 403],
    ['/deny/x', '203.0.114.9', 200],
    ['/deny/x', '2001:db8:bad::5', 403],
    ['/deny/x', '2001:db8:b00::5', 200],
    ['/both/x', '10.1.1.1', 200],
    ['/both/x', '10.6.6.6', 403],
    ['/both/x', '172.16.0.1', 403],
  ])('%s from %s → %i', async (path, ip, status) => {
    const hits = up.requests.length;
    const r = await send(behindProxy.url + path, { headers: { 'x-forwarded-for': ip } });
    expect(r.status).toBe(status);
    expect(up.requests.length).toBe(status === 200 ? hits + 1 : hits);
    if (status === 403) {
      expect(r.json().error).toMatchObject({ code: 'SY_ERR_FORBIDDEN', status: 403, requestId: r.headers['x-request-id'] });
      expect(r.text).not.toContain(ip);
    }
  });

  it('counts rejections', () => {
    expect(metrics.counts.some((c) => c.name === 'ip_rejected' && c.labels.reason === 'denied')).toBe(true);
    expect(metrics.counts.some((c) => c.name === 'ip_rejected' && c.labels.reason === 'not_allowed')).toBe(true);
  });

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    expect((await send(direct.url + '/allow/x', { headers: { 'x-forwarded-for': '10.1.2.3' } })).status).toBe(403);
    expect((await send(direct.url + '/no-loopback/x', { headers: { 'x-forwarded-for': '8.8.8.8' } })).status).toBe(403);
    expect((await send(direct.url + '/loopback/x', { headers: { 'x-forwarded-for': '203.0.113.1' } })).status).toBe(200);
  });

  it('takes the rightmost untrusted hop behind a trusted proxy, not a client-chosen leftmost one', async () => {
    // The client prepends 10.1.2.3; the trusted proxy appended the real address 11.0.0.1.
    expect((await send(behindProxy.url + '/allow/x', { headers: { 'x-forwarded-for': '10.1.2.3, 11.0.0.1' } })).status).toBe(403);
  });

  describe('configuration', () => {
    const load = async (options: object) => {
      try {
        const g = await createGateway({
          logger: pino({ level: 'silent' }),
          gateway: {},
          baseDir: isolatedDir(),
          offline: true,
          routeFiles: { 'c.yaml': { upstreams: { a: { targets: [{ url: 'http://127.0.0.1:9' }] } }, routes: [{ id: 'r', match: { path: '/' }, upstream: 'a', plugins: [{ 'ip-filter': options }] }] } },
        });
        await g.close();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };

    it.each([
      [{ allow: ['10.0.0.0/33'] }, /allow: "10\.0\.0\.0\/33" has an invalid prefix length/],
      [{ deny: ['not-an-ip'] }, /deny: "not-an-ip" is not an IP address or CIDR/],
      [{ allow: ['::1/129'] }, /invalid prefix length/],
      [{}, /give an allow list, a deny list, or both/],
      [{ alow: ['10.0.0.0/8'] }, /unknown key "alow"/],
    ])('refuses %j', async (options, message) => {
      expect(await load(options)).toMatch(message);
    });
  });
});
