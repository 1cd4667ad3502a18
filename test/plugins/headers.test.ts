import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createGateway } from '../../src/gateway/gateway.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { isolatedDir, lastRequest, rawHeaderValues, rawRequest, send } from './helpers.js';

describe('headers plugin', () => {
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('api', (req, res) => {
      res.writeHead(200, [
        ['content-type', 'text/plain'],
        ['cache-control', 'public, max-age=600'],
        ['x-powered-by', 'LeakyFramework 1.2'],
        ['set-cookie', 'a=1; Path=/'],
      ].flat()).end('ok');
    });
    gw = await startGateway({
      gateway: {},
      baseDir: isolatedDir(),
      env: { TENANT: 'acme' },
      routeFiles: {
        'h.yaml': {
          upstreams: { api: { targets: [{ url: up.url }] }, dead: { targets: [{ url: 'http://127.0.0.1:9' }] } },
          routes: [
            {
              id: 'h',
              match: { path: '/h/*' },
              upstream: 'api',
              plugins: [
                {
                  headers: {
                    request: {
                      set: { 'X-Tenant': '${TENANT}', 'x-gateway': 'switchyard' },
                      add: { 'x-tags': 'gw', cookie: 'gw=1', 'x-via': ['one', 'two'] },
                      remove: ['X-Debug'],
                      rename: { 'x-old-name': 'x-new-name' },
                    },
                    response: {
                      set: { 'cache-control': 'no-store' },
                      add: { 'set-cookie': 'b=2; Path=/', 'x-served-by': 'edge' },
                      remove: ['x-powered-by'],
                    },
                  },
                },
              ],
            },
            { id: 'dead', match: { path: '/dead/*' }, upstream: 'dead', plugins: [{ headers: { response: { set: { 'x-frame-options': 'DENY' } } } }] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  describe('request', () => {
    it('sets headers (with ${ENV} values) and replaces client copies in any spelling', async () => {
      const r = await rawRequest(gw.port, ['GET /h/a HTTP/1.1', `Host: 127.0.0.1:${gw.port}`, 'x-tenant: evil', 'X-TENANT: evil2', 'X-Gateway: fake']);
      expect(r.status).toBe(200);
      const raw = lastRequest(up).rawHeaders;
      expect(rawHeaderValues(raw, 'x-tenant')).toEqual(['acme']);
      expect(rawHeaderValues(raw, 'x-gateway')).toEqual(['switchyard']);
    });

    it("appends to the client's value, joining cookies with '; ', and sends the value alone otherwise", async () => {
      await send(gw.url + '/h/a', { headers: { 'x-tags': 'a, b', cookie: 'sid=1', 'x-via': 'client' } });
      const h = lastRequest(up).headers;
      expect(h['x-tags']).toBe('a, b, gw');
      expect(h.cookie).toBe('sid=1; gw=1');
      expect(h['x-via']).toBe('client, one, two');
      await send(gw.url + '/h/a');
      const bare = lastRequest(up).headers;
      expect(bare['x-tags']).toBe('gw');
      expect(bare.cookie).toBe('gw=1');
      expect(bare['x-via']).toBe('one, two');
    });

    it('removes and renames client headers', async () => {
      await send(gw.url + '/h/a', { headers: { 'x-debug': '1', 'x-old-name': 'value', 'x-new-name': 'spoofed' } });
      const raw = lastRequest(up).rawHeaders;
      expect(rawHeaderValues(raw, 'x-debug')).toEqual([]);
      expect(rawHeaderValues(raw, 'x-old-name')).toEqual([]);
      expect(rawHeaderValues(raw, 'x-new-name')).toEqual(['value']);
    });

    it('drops a client copy of a rename target even when the source header is absent', async () => {
      await send(gw.url + '/h/a', { headers: { 'x-new-name': 'spoofed' } });
      expect(rawHeaderValues(lastRequest(up).rawHeaders, 'x-new-name')).toEqual([]);
    });
  });

  describe('response', () => {
    it('sets, adds and removes response headers', async () => {
      const r = await rawRequest(gw.port, ['GET /h/a HTTP/1.1', `Host: 127.0.0.1:${gw.port}`]);
      expect(r.headers.get('cache-control')).toEqual(['no-store']);
      expect(r.headers.get('set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(r.headers.get('x-served-by')).toEqual(['edge']);
      expect(r.headers.get('x-powered-by')).toBeUndefined();
    });

    it("applies to the gateway's own answers too", async () => {
      const r = await send(gw.url + '/dead/a');
      expect(r.status).toBe(502);
      expect(r.headers['x-frame-options']).toBe('DENY');
    });
  });

  describe('configuration', () => {
    const routeFile = (headersYaml: string) =>
      [
        'upstreams:',
        '  a:',
        '    targets:',
        '      - url: http://127.0.0.1:9',
        'routes:',
        '  - id: r',
        '    match: { path: /r/* }',
        '    upstream: a',
        '    plugins:',
        '      - headers:',
        ...headersYaml.split('\n').map((l) => `          ${l}`),
        '',
      ].join('\n');
    const load = async (yaml: string) => {
      try {
        const g = await createGateway({ logger: pino({ level: 'silent' }), gateway: {}, baseDir: isolatedDir(), offline: true, routeFiles: { 'h.yaml': routeFile(yaml) } });
        await g.close();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };

    it.each([
      ['a CR/LF in a set value', 'request:\n  set:\n    x-a: "ok\\r\\nx-admin: 1"', /h\.yaml:13:\d+: .*request\.set\.x-a/],
      ['a LF in an added response value', 'response:\n  add:\n    x-a: "a\\nb"', /h\.yaml:13:\d+: .*response\.add\.x-a/],
      ['a NUL in a value', 'request:\n  set:\n    x-a: "a\\0b"', /h\.yaml:13:\d+:/],
    ])('refuses %s at its line', async (_name, yaml, where) => {
      expect(await load(yaml)).toMatch(where);
    });

    it.each([
      ['Host', 'request:\n  set:\n    host: other', /"host" is set by the gateway/],
      ['Content-Length', 'request:\n  set:\n    content-length: "5"', /"content-length" is set by the gateway/],
      ['X-Forwarded-For', 'request:\n  add:\n    x-forwarded-for: 1.2.3.4', /"x-forwarded-for" is set by the gateway/],
      ['Transfer-Encoding', 'response:\n  set:\n    transfer-encoding: chunked', /hop-by-hop/],
      ['X-Request-Id', 'response:\n  remove: [x-request-id]', /"x-request-id" is set by the gateway/],
      ['a name with a space', 'request:\n  set:\n    "x a": v', /"x a" is not a valid header name/],
      ['a misspelt section', 'requests:\n  set:\n    x-a: v', /h\.yaml:11:\d+: .*unknown key "requests"/],
    ])('refuses touching %s', async (_name, yaml, message) => {
      expect(await load(yaml)).toMatch(message);
    });
  });
});
