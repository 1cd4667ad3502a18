import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createGateway } from '../../src/gateway/gateway.js';
import { ConfigInvalid } from '../../src/config/errors.js';
import { pino } from 'pino';
import jwtPlugin from '../../src/plugins/builtin/jwt/index.js';
import { compileOptions } from '../../src/plugins/options.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';
import { isolatedDir, lastRequest, rawHeaderValues, rawRequest, recordingMetrics, send } from './helpers.js';

const SECRET = 'switchyard-test-secret-of-at-least-32-bytes';
const ISSUER = 'https://issuer.test';
const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** forge builds a compact JWS by hand (for tokens jsonwebtoken refuses to sign). */
function forge(header: object, payload: object, sign: (data: string) => string): string {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${sign(data)}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const jwk = (k: KeyObject, kid: string, alg = 'RS256') => ({ ...k.export({ format: 'jwk' }), kid, alg, use: 'sig' });

/** defaults are the jwt options' defaults, as the loader would apply them. */
const defaults = (compileOptions(jwtPlugin.options)({ algorithms: ['HS256'] }) as { options: any }).options;
const hs = (payload: object, opts: jwt.SignOptions = {}) => jwt.sign(payload, SECRET, { algorithm: 'HS256', ...opts });
/** good is a payload every HS route accepts. */
const good = (extra: object = {}) => ({ sub: 'user-1', iss: ISSUER, aud: 'api', exp: nowS() + 300, ...extra });

describe('jwt plugin', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let jwksServer: TestUpstream;
  let jwksUrl: string;
  let jwksFetches = 0;
  let jwksDoc: { keys: object[] };
  const attackerHits: string[] = [];
  let attackerServer: TestUpstream;
  let attackerUrl: string;
  const metrics = recordingMetrics();

  beforeAll(async () => {
    jwksDoc = { keys: [jwk(rsa.publicKey, 'k1'), jwk(rsa.publicKey, 'k512', 'RS512')] };
    const jwks: UpstreamHandler = (req, res) => {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksDoc));
    };
    jwksServer = await startUpstream('jwks', jwks, { stream: true });
    jwksUrl = jwksServer.url;
    const attackerJwks: UpstreamHandler = (req, res) => {
      attackerHits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk(attacker.publicKey, 'k1')] }));
    };
    attackerServer = await startUpstream('attacker', attackerJwks, { stream: true });
    attackerUrl = attackerServer.url;
    const deadJwks = await startUpstream('dead-jwks');
    const deadUrl = deadJwks.url;
    await deadJwks.close();

    const dir = mkdtempSync(join(tmpdir(), 'sy-jwt-'));
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'es.pem'), pem(ec.publicKey));

    up = await startUpstream('api');
    const hsOpts = { algorithms: ['HS256'], secret: '${JWT_SECRET}' };
    const route = (id: string, plugin: object) => ({ id, match: { path: `/${id}/*` }, upstream: 'api', plugins: [{ jwt: plugin }] });
    gw = await startGateway({
      gateway: {},
      baseDir: dir,
      env: { JWT_SECRET: SECRET },
      metrics,
      routeFiles: {
        'jwt.yaml': {
          upstreams: { api: { targets: [{ url: up.url }] } },
          routes: [
            route('hs', { ...hsOpts, issuer: ISSUER, audience: ['api', 'api2'], forward: { sub: 'x-user-id', tenant: 'X-Tenant-Id' } }),
            route('rs', { algorithms: ['RS256'], publicKey: pem(rsa.publicKey) }),
            route('es', { algorithms: ['ES256'], publicKeyFile: 'keys/es.pem' }),
            route('claims', { ...hsOpts, requiredClaims: ['exp', 'sub'], claims: { role: ['admin', 'ops'], tier: 'gold' } }),
            route('opt', { ...hsOpts, optional: true }),
            route('proto', { ...hsOpts, requiredClaims: ['exp', 'constructor'] }),
            route('small', { ...hsOpts, maxTokenLength: 200 }),
            route('jwks', { algorithms: ['RS256', 'RS512'], jwksUri: `${jwksUrl}/.well-known/jwks.json` }),
            route('limited', { algorithms: ['RS256'], jwksUri: `${jwksUrl}/limited`, jwks: { requestsPerMinute: 2 } }),
            route('down', { algorithms: ['RS256'], jwksUri: `${deadUrl}/jwks`, jwks: { timeout: '1s' } }),
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    await jwksServer.close();
    await attackerServer.close();
  });

  const call = (path: string, token?: string, headers: Record<string, string> = {}) =>
    send(gw.url + path, { headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` } });
  const rejectedFor = (reason: string) => metrics.counts.some((c) => c.name === 'auth_rejected' && c.labels.plugin === 'jwt' && c.labels.reason === reason);

  describe('valid tokens', () => {
    it('accepts HS256, forwards sub as x-user-id and sees the secret from ${ENV}', async () => {
      const r = await call('/hs/a', hs(good({ tenant: 't-9' })));
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBe('user-1');
      expect(r.json().headers['x-tenant-id']).toBe('t-9');
    });

    it('accepts a token naming any configured audience, including in an aud list', async () => {
      expect((await call('/hs/a', hs(good({ aud: 'api2' })))).status).toBe(200);
      expect((await call('/hs/a', hs(good({ aud: ['elsewhere', 'api'] })))).status).toBe(200);
    });

    it('accepts RS256 with a PEM public key', async () => {
      const token = jwt.sign({ sub: 'rs-user', exp: nowS() + 60 }, rsa.privateKey, { algorithm: 'RS256' });
      const r = await call('/rs/a', token);
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBe('rs-user');
    });

    it('accepts ES256 with a key file resolved against baseDir', async () => {
      const token = jwt.sign({ sub: 'es-user', exp: nowS() + 60 }, ec.privateKey, { algorithm: 'ES256' });
      const r = await call('/es/a', token);
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBe('es-user');
    });

    it('accepts a lower-case scheme and forwards numeric claims as text', async () => {
      const r = await send(gw.url + '/hs/a', { headers: { authorization: `bearer ${hs(good({ sub: 42 }))}` } });
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBe('42');
    });

    it('keeps the Authorization header for the upstream', async () => {
      const token = hs(good());
      await call('/hs/keep', token);
      expect(lastRequest(up).headers.authorization).toBe(`Bearer ${token}`);
    });
  });

  describe('time claims', () => {
    it('rejects an expired token with 401 invalid_token', async () => {
      const r = await call('/hs/a', hs(good({ exp: nowS() - 120 })));
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(r.json().error).toMatchObject({ code: 'SY_ERR_AUTH_INVALID', status: 401 });
      expect(r.json().error.requestId).toBe(r.headers['x-request-id']);
      expect(rejectedFor('expired')).toBe(true);
    });

    it('rejects a token that is not valid yet', async () => {
      const r = await call('/hs/a', hs(good({ nbf: nowS() + 120 })));
      expect(r.status).toBe(401);
      expect(rejectedFor('not_before')).toBe(true);
    });

    it('tolerates clock skew within clockSkew (default 30s) on exp and nbf', async () => {
      expect((await call('/hs/a', hs(good({ exp: nowS() - 10 })))).status).toBe(200);
      expect((await call('/hs/a', hs(good({ nbf: nowS() + 10 })))).status).toBe(200);
    });

    it('requires exp by default: a token that never expires is refused', async () => {
      const { exp: _exp, ...noExp } = good();
      const r = await call('/hs/a', hs(noExp));
      expect(r.status).toBe(401);
      expect(rejectedFor('claim_missing')).toBe(true);
    });
  });

  describe('forged and mismatched tokens', () => {
    it('rejects a wrong signature', async () => {
      const token = jwt.sign(good(), 'another-secret-that-is-also-32-bytes-long', { algorithm: 'HS256' });
      const r = await call('/hs/a', token);
      expect(r.status).toBe(401);
      expect(rejectedFor('signature')).toBe(true);
      // A genuine signature over a payload the client then changed.
      const [h, , sig] = hs(good()).split('.');
      const tampered = `${h}.${b64({ ...good(), sub: 'admin' })}.${sig}`;
      expect((await call('/hs/a', tampered)).status).toBe(401);
    });

    it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg %s, unsigned or with a made-up signature', async (alg) => {
      const unsigned = forge({ alg, typ: 'JWT' }, good(), () => '');
      const signed = forge({ alg, typ: 'JWT' }, good(), () => 'c2lnbmF0dXJl');
      for (const path of ['/hs/a', '/rs/a', '/jwks/a']) {
        expect((await call(path, unsigned)).status).toBe(401);
        expect((await call(path, signed)).status).toBe(401);
      }
      const hits = up.requests.length;
      expect((await call('/opt/a', unsigned)).status).toBe(401);
      expect(up.requests.length).toBe(hits);
    });

    it('rejects an HS256 token signed with the RSA public key as HMAC secret (key confusion)', async () => {
      const token = forge({ alg: 'HS256', typ: 'JWT' }, { sub: 'admin', exp: nowS() + 60 }, (d) => createHmac('sha256', pem(rsa.publicKey)).update(d).digest('base64url'));
      expect((await call('/rs/a', token)).status).toBe(401);
      const withKid = forge({ alg: 'HS256', kid: 'k1' }, { sub: 'admin', exp: nowS() + 60 }, (d) => createHmac('sha256', pem(rsa.publicKey)).update(d).digest('base64url'));
      expect((await call('/jwks/a', withKid)).status).toBe(401);
      expect(rejectedFor('algorithm')).toBe(true);
    });

    it('rejects an RS256 token on an HS256 route', async () => {
      const token = jwt.sign(good(), rsa.privateKey, { algorithm: 'RS256' });
      expect((await call('/hs/a', token)).status).toBe(401);
    });

    it('rejects a wrong issuer and a wrong audience', async () => {
      expect((await call('/hs/a', hs(good({ iss: 'https://evil.test' })))).status).toBe(401);
      expect(rejectedFor('issuer')).toBe(true);
      expect((await call('/hs/a', hs(good({ aud: 'other' })))).status).toBe(401);
      expect(rejectedFor('audience')).toBe(true);
      const { aud: _aud, ...noAud } = good();
      expect((await call('/hs/a', hs(noAud))).status).toBe(401);
    });

    it('rejects malformed tokens and a critical header extension', async () => {
      for (const t of ['abc', 'a.b', 'a.b.c.d', '%%%.x.y', `${b64({ alg: 'HS256' })}.bm90IGpzb24.sig`]) {
        expect((await call('/hs/a', t)).status).toBe(401);
      }
      const crit = forge({ alg: 'HS256', crit: ['exp-ext'], 'exp-ext': 1 }, good(), (d) => createHmac('sha256', SECRET).update(d).digest('base64url'));
      expect((await call('/hs/a', crit)).status).toBe(401);
      expect(rejectedFor('crit')).toBe(true);
    });
  });

  describe('claims', () => {
    it('401s a missing required claim but 403s a failed claim requirement', async () => {
      const missing = await call('/claims/a', hs({ exp: nowS() + 60, role: 'admin', tier: 'gold' }));
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer error="invalid_token"');

      const forbidden = await call('/claims/a', hs({ sub: 'u', exp: nowS() + 60, role: 'guest', tier: 'gold' }));
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
      expect(forbidden.json().error).toMatchObject({ code: 'SY_ERR_FORBIDDEN', status: 403 });

      expect((await call('/claims/a', hs({ sub: 'u', exp: nowS() + 60, role: 'ops' }))).status).toBe(403);
      expect((await call('/claims/a', hs({ sub: 'u', exp: nowS() + 60, role: 'ops', tier: 'gold' }))).status).toBe(200);
    });

    it('passes an array claim that contains an accepted value', async () => {
      expect((await call('/claims/a', hs({ sub: 'u', exp: nowS() + 60, role: ['reader', 'admin'], tier: 'gold' }))).status).toBe(200);
      expect((await call('/claims/a', hs({ sub: 'u', exp: nowS() + 60, role: ['reader'], tier: 'gold' }))).status).toBe(403);
    });

    it('never takes an inherited property for a claim', async () => {
      const hmac = (d: string) => createHmac('sha256', SECRET).update(d).digest('base64url');
      expect((await call('/proto/a', hs({ sub: 'u', exp: nowS() + 60 }))).status).toBe(401);
      expect((await call('/proto/a', forge({ alg: 'HS256' }, { sub: 'u', exp: nowS() + 60, constructor: 'own' }, hmac))).status).toBe(200);
    });

    it('refuses a forwarded claim with CR, LF or NUL, or of a type that cannot be a header', async () => {
      for (const sub of ['a\r\nx-admin: 1', 'a\nb', 'a\u0000b', { id: 1 }, ['a'], true]) {
        const r = await call('/hs/a', hs(good({ sub })));
        expect(r.status).toBe(401);
      }
      expect(rejectedFor('claim_value')).toBe(true);
    });
  });

  describe('identity headers', () => {
    it('strips spoofed forwarded headers in every spelling and sends only the verified claim', async () => {
      const token = hs(good({ sub: 'real-user' }));
      const r = await rawRequest(gw.port, [
        'GET /hs/spoof HTTP/1.1',
        `Host: 127.0.0.1:${gw.port}`,
        `Authorization: Bearer ${token}`,
        'x-user-id: admin',
        'X-User-Id: admin2',
        'X-USER-ID: admin3',
        'x-tenant-id: evil-tenant',
      ]);
      expect(r.status).toBe(200);
      const seen = lastRequest(up);
      expect(rawHeaderValues(seen.rawHeaders, 'x-user-id')).toEqual(['real-user']);
      // The token has no tenant claim: the client's tenant is removed, not passed on.
      expect(rawHeaderValues(seen.rawHeaders, 'x-tenant-id')).toEqual([]);
    });

    it('strips spoofed identity headers on an optional route without a token too', async () => {
      const r = await call('/opt/a', undefined, { 'x-user-id': 'admin' });
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBeUndefined();
      const authed = await call('/opt/a', hs(good({ sub: 'u2' })), { 'x-user-id': 'admin' });
      expect(authed.json().headers['x-user-id']).toBe('u2');
    });
  });

  describe('the Authorization header', () => {
    it('answers 401 with a bare Bearer challenge when the token is missing', async () => {
      const r = await call('/hs/a');
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.json().error.code).toBe('SY_ERR_AUTH_REQUIRED');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(rejectedFor('missing')).toBe(true);
    });

    it('rejects other schemes, even on an optional route', async () => {
      for (const path of ['/hs/a', '/opt/a']) {
        const r = await send(gw.url + path, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
        expect(r.status).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer');
      }
      expect((await send(gw.url + '/hs/a', { headers: { authorization: `Bearerx ${hs(good())}` } })).status).toBe(401);
      expect(rejectedFor('scheme')).toBe(true);
    });

    it('rejects duplicate Authorization headers (400 invalid_request), whatever their spelling', async () => {
      const token = hs(good());
      const hits = up.requests.length;
      for (const second of [`Authorization: Bearer ${token}`, `authorization: Bearer ${hs(good({ sub: 'admin' }))}`, 'AUTHORIZATION: Basic eDp5']) {
        const r = await rawRequest(gw.port, ['GET /hs/dup HTTP/1.1', `Host: 127.0.0.1:${gw.port}`, `Authorization: Bearer ${token}`, second]);
        expect(r.status).toBe(400);
        expect(r.headers.get('www-authenticate')).toEqual(['Bearer error="invalid_request"']);
      }
      expect(up.requests.length).toBe(hits);
      expect(rejectedFor('duplicate')).toBe(true);
    });

    it('rejects an oversized token before decoding it', async () => {
      const big = hs(good({ pad: 'x'.repeat(300) }));
      expect(big.length).toBeGreaterThan(200);
      expect((await call('/small/a', big)).status).toBe(401);
      expect(rejectedFor('too_long')).toBe(true);
      expect((await call('/small/a', hs({ exp: nowS() + 60 }))).status).toBe(200);
    });

    it('runs no upstream request for any rejected token', async () => {
      const hits = up.requests.length;
      await call('/hs/a', 'garbage.garbage.garbage');
      await call('/hs/a');
      expect(up.requests.length).toBe(hits);
    });
  });

  describe('JWKS', () => {
    const rs = (kid: string | undefined, key: KeyObject, extra: object = {}, alg: jwt.Algorithm = 'RS256') =>
      jwt.sign({ sub: `user-${kid}`, exp: nowS() + 60, ...extra }, key, { algorithm: alg, ...(kid === undefined ? {} : { keyid: kid }) });

    it('verifies by kid, caches the key, and fetches again for a new kid after rotation', async () => {
      const before = jwksFetches;
      const r = await call('/jwks/a', rs('k1', rsa.privateKey));
      expect(r.status).toBe(200);
      expect(r.json().headers['x-user-id']).toBe('user-k1');
      expect(jwksFetches).toBe(before + 1);
      expect((await call('/jwks/a', rs('k1', rsa.privateKey))).status).toBe(200);
      expect(jwksFetches).toBe(before + 1);

      jwksDoc = { keys: [jwk(rsa.publicKey, 'k1'), jwk(rsa2.publicKey, 'k2')] };
      const rotated = await call('/jwks/a', rs('k2', rsa2.privateKey));
      expect(rotated.status).toBe(200);
      expect(rotated.json().headers['x-user-id']).toBe('user-k2');
      expect(jwksFetches).toBe(before + 2);
      // A token signed by another key under a known kid still fails.
      expect((await call('/jwks/a', rs('k2', rsa.privateKey))).status).toBe(401);
    });

    it('refuses a key published for another algorithm', async () => {
      jwksDoc = { keys: [jwk(rsa.publicKey, 'k1'), jwk(rsa.publicKey, 'k512', 'RS512')] };
      expect((await call('/jwks/a', rs('k512', rsa.privateKey))).status).toBe(401);
      expect((await call('/jwks/a', rs('k512', rsa.privateKey, {}, 'RS512'))).status).toBe(200);
    });

    it('answers 401 for an unknown kid', async () => {
      const r = await call('/jwks/a', rs('nope', rsa.privateKey));
      expect(r.status).toBe(401);
      expect(rejectedFor('unknown_kid')).toBe(true);
    });

    it.each([
      ['a very long kid', 'k'.repeat(200)],
      ['CR/LF', 'k1\r\nx-injected: 1'],
      ['spaces and quotes', 'k1" or "1"="1'],
      ['markup', '<script>alert(1)</script>'],
      ['a template', '${jndi:ldap://x/a}'],
      ['a number', 12],
      ['an object', { $ne: null }],
    ])('rejects a hostile kid (%s) without fetching anything', async (_name, kid) => {
      const before = jwksFetches;
      const token = forge({ alg: 'RS256', kid }, { sub: 'x', exp: nowS() + 60 }, () => 'c2ln');
      const r = await call('/jwks/a', token);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(jwksFetches).toBe(before);
      expect(rejectedFor('kid')).toBe(true);
    });

    it("never follows a token's jku or x5u", async () => {
      const token = jwt.sign({ sub: 'evil', exp: nowS() + 60 }, attacker.privateKey, {
        algorithm: 'RS256',
        keyid: 'k1',
        header: { alg: 'RS256', kid: 'k1', jku: `${attackerUrl}/jwks.json`, x5u: `${attackerUrl}/cert.pem` } as jwt.JwtHeader,
      });
      const r = await call('/jwks/a', token);
      expect(r.status).toBe(401);
      expect(attackerHits).toEqual([]);
    });

    it('rate-limits fetches caused by unknown kids', async () => {
      const before = jwksFetches;
      for (let i = 0; i < 6; i++) expect((await call('/limited/a', rs(`unknown-${i}`, rsa.privateKey))).status).toBe(401);
      expect(jwksFetches - before).toBe(2);
      expect(rejectedFor('jwks_rate_limited')).toBe(true);
    });

    it('answers 503 when the JWKS endpoint cannot be reached', async () => {
      const r = await call('/down/a', rs('k1', rsa.privateKey));
      expect(r.status).toBe(503);
      expect(r.json().error.code).toBe('SY_ERR_AUTH_UNAVAILABLE');
    });
  });
});

describe('jwt plugin hook', () => {
  it('verifies HMAC and PEM tokens synchronously (no promise, no microtask) and JWKS tokens asynchronously', async () => {
    const ctx = { log: pino({ level: 'silent' }), store: undefined as never, redis: undefined, metrics: { count() {} }, clock: { now: Date.now }, routeId: 'r', baseDir: '.' };
    const request = (token: string) => {
      const headers = { authorization: `Bearer ${token}` };
      const up: Record<string, string> = {};
      return { id: '1', method: 'GET', path: '/', rawQuery: '', headers, rawHeaders: ['Authorization', headers.authorization], clientIp: '127.0.0.1', secure: false, routeId: 'r', upstream: 'u', locals: {} as Record<string, unknown>, cookie: () => undefined, setUpstreamHeader: (n: string, v: string) => void (up[n] = v), removeUpstreamHeader: () => {}, up };
    };
    const hsHooks = await jwtPlugin.create({ ...defaults, algorithms: ['HS256'], secret: SECRET }, ctx);
    const req = request(hs({ sub: 's', exp: nowS() + 60 }));
    const out = hsHooks.onRequest!(req);
    expect(out).toBeUndefined();
    expect(req.locals.jwt).toMatchObject({ sub: 's' });
    expect(req.up['x-user-id']).toBe('s');
    const rsHooks = await jwtPlugin.create({ ...defaults, algorithms: ['RS256'], publicKey: pem(rsa.publicKey) }, ctx);
    expect(rsHooks.onRequest!(request(jwt.sign({ exp: nowS() + 60 }, rsa.privateKey, { algorithm: 'RS256' })))).toBeUndefined();
    const jwksHooks = await jwtPlugin.create({ ...defaults, algorithms: ['RS256'], jwksUri: 'http://127.0.0.1:9/jwks' }, ctx);
    const pending = jwksHooks.onRequest!(request(jwt.sign({ exp: nowS() + 60 }, rsa.privateKey, { algorithm: 'RS256', keyid: 'k' })));
    expect(pending).toBeInstanceOf(Promise);
    await pending;
  });
});

describe('jwt plugin verified-token cache', () => {
  const request = (token: string) => {
    const headers = { authorization: `Bearer ${token}` };
    return { id: '1', method: 'GET', path: '/', rawQuery: '', headers, rawHeaders: ['Authorization', headers.authorization], clientIp: '127.0.0.1', secure: false, routeId: 'r', upstream: 'u', locals: {} as Record<string, unknown>, cookie: () => undefined, setUpstreamHeader: () => {}, removeUpstreamHeader: () => {} };
  };
  const setup = async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now, set: (t: number) => void (now = t) };
    const ctx = { log: pino({ level: 'silent' }), store: undefined as never, redis: undefined, metrics: { count() {} }, clock, routeId: 'r', baseDir: '.' };
    // Default clockSkew 30s: jsonwebtoken accepts until exp + 30s.
    const hooks = await jwtPlugin.create({ ...defaults, algorithms: ['HS256'], secret: SECRET }, ctx);
    return { hooks, clock, t0: now };
  };

  it('reuses a verified token but still refuses it once it expires (exp + clockSkew)', async () => {
    const { hooks, clock, t0 } = await setup();
    const exp = t0 / 1000 + 10;
    const token = hs({ sub: 's', exp });
    const first = request(token);
    expect(hooks.onRequest!(first)).toBeUndefined();
    const second = request(token);
    expect(hooks.onRequest!(second)).toBeUndefined();
    // Served from the cache: the same (frozen) claims object, not a fresh verification.
    expect(second.locals.jwt).toBe(first.locals.jwt);
    expect(Object.isFrozen(second.locals.jwt)).toBe(true);
    clock.set((exp + 30) * 1000 - 1);
    expect(hooks.onRequest!(request(token))).toBeUndefined();
    clock.set((exp + 30) * 1000);
    expect(hooks.onRequest!(request(token))).toMatchObject({ status: 401, code: 'SY_ERR_AUTH_INVALID' });
    // An expired token is never put back: still refused later.
    expect(hooks.onRequest!(request(token))).toMatchObject({ status: 401 });
  });

  it('re-verifies a long-lived token after 60s and never caches a refused one', async () => {
    const { hooks, clock, t0 } = await setup();
    const token = hs({ sub: 's', exp: t0 / 1000 + 3600 });
    const first = request(token);
    expect(hooks.onRequest!(first)).toBeUndefined();
    clock.set(t0 + 59_999);
    const cached = request(token);
    hooks.onRequest!(cached);
    expect(cached.locals.jwt).toBe(first.locals.jwt);
    clock.set(t0 + 60_000);
    const fresh = request(token);
    expect(hooks.onRequest!(fresh)).toBeUndefined();
    expect(fresh.locals.jwt).not.toBe(first.locals.jwt);
    expect(fresh.locals.jwt).toEqual(first.locals.jwt);
    // Not valid yet at first sight: refused, and refused again once valid would need a real verification (nothing cached).
    const early = hs({ sub: 's', exp: t0 / 1000 + 3600, nbf: (t0 + 60_000) / 1000 + 100 });
    expect(hooks.onRequest!(request(early))).toMatchObject({ status: 401 });
    clock.set(t0 + 60_000 + 130_000);
    const later = request(early);
    expect(hooks.onRequest!(later)).toBeUndefined();
    clock.set(t0 + 60_000 + 10_000);
    // The clock went back before nbf - clockSkew: the cached entry is not used, the token is refused again.
    expect(hooks.onRequest!(request(early))).toMatchObject({ status: 401 });
  });
});

describe('jwt plugin configuration errors', () => {
  const routeFile = (pluginYaml: string) =>
    [
      'upstreams:',
      '  api:',
      '    targets:',
      '      - url: http://127.0.0.1:9',
      'routes:',
      '  - id: api',
      '    match: { path: /api/* }',
      '    upstream: api',
      '    plugins:',
      '      - jwt:',
      ...pluginYaml.split('\n').map((l) => `          ${l}`),
      '',
    ].join('\n');
  const load = async (pluginYaml: string): Promise<string> => {
    try {
      const gw = await createGateway({ logger: pino({ level: 'silent' }), gateway: {}, baseDir: isolatedDir(), routeFiles: { 'api.yaml': routeFile(pluginYaml) }, offline: true });
      await gw.close();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigInvalid);
      return (err as Error).message;
    }
    throw new Error('the configuration loaded');
  };
  const secret = `secret: ${SECRET}`;

  it('points at the line of a misspelt option', async () => {
    const msg = await load(`algorithms: [HS256]\n${secret}\nclockskew: 10s`);
    expect(msg).toMatch(/api\.yaml:13:\d+: .*unknown key "clockskew"; did you mean "clockSkew"\?/);
  });

  it('requires an explicit algorithm list and never accepts none', async () => {
    expect(await load(secret)).toMatch(/api\.yaml:10:\d+: .*missing key "algorithms"/);
    expect(await load(`algorithms: [none]\n${secret}`)).toMatch(/api\.yaml:11:\d+: .*expected one of HS256/);
    expect(await load(`algorithms: []\n${secret}`)).toMatch(/api\.yaml:11/);
  });

  it.each([
    ['a public key with HS256', `algorithms: [HS256]\npublicKey: "${pem(rsa.publicKey).replace(/\n/g, '\\n')}"`, /a secret is required for HS256/],
    ['a secret with RS256', `algorithms: [RS256]\n${secret}`, /a secret verifies only HS256/],
    ['a JWKS with HS512', `algorithms: [HS512]\njwksUri: https://idp.test/jwks`, /a secret is required for HS512/],
    ['two key sources', `algorithms: [RS256]\njwksUri: https://idp.test/jwks\npublicKeyFile: k.pem`, /exactly one key source/],
    ['no key source', `algorithms: [RS256]`, /give one key source/],
    ['a short secret', `algorithms: [HS256]\nsecret: short`, /requires at least 32/],
    ['ES256 with an RSA key', `algorithms: [ES256]\npublicKey: "${pem(rsa.publicKey).replace(/\n/g, '\\n')}"`, /ES256 cannot be verified with this key/],
    ['ES384 with a P-256 key', `algorithms: [ES384]\npublicKey: "${pem(ec.publicKey).replace(/\n/g, '\\n')}"`, /ES384 cannot be verified/],
    ['a private key', `algorithms: [RS256]\npublicKey: "${(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).replace(/\n/g, '\\n')}"`, /private key/],
    ['a missing key file', `algorithms: [RS256]\npublicKeyFile: ./nope.pem`, /cannot read publicKeyFile/],
    ['forwarding to Host', `algorithms: [HS256]\n${secret}\nforward: { sub: host }`, /"host" is set by the gateway/],
  ])('refuses %s at load, at the plugin line', async (_name, yaml, message) => {
    const msg = await load(yaml);
    expect(msg).toMatch(/api\.yaml:1[01]:\d+:/);
    expect(msg).toMatch(message);
  });
});
