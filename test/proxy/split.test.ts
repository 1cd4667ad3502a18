/**
 * Canary splits (issue 19, section 1), end to end: a real gateway with the
 * real jwt plugin (HS256) in front of real upstreams, route files on disk,
 * reloads through the gateway itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { Agent, request } from 'undici';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { bucketOf } from '../../src/proxy/split-plan.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { metricValue } from '../helpers/metrics.js';

const SECRET = 'switchyard-split-test-secret-of-32-bytes!';
const SUBS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
const TOKENS = new Map(SUBS.map((s) => [s, jwt.sign({ sub: s }, SECRET, { algorithm: 'HS256', expiresIn: '1h' })]));

/** routesYaml is the route file: `orders` split by claim:sub at `weight`, `web` split by the default cohort cookie, and two routes onto a canary that can be stopped. */
function routesYaml(weight: number, v1: TestUpstream, v2: TestUpstream, v3: TestUpstream): string {
  return `upstreams:
  orders-v1: { targets: [ { url: "${v1.url}" } ] }
  orders-v2: { targets: [ { url: "${v2.url}" } ] }
  orders-sticky:
    targets: [ { url: "${v1.url}" }, { url: "${v2.url}" } ]
    sticky: { cookie: sy-target }
  orders-v3:
    targets: [ { url: "${v3.url}" } ]
    healthCheck: { interval: 100ms, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 1 }
routes:
  - id: orders
    match: { path: /api/orders/* }
    upstream: orders-v1
    plugins: [ { jwt: { algorithms: [HS256], secret: "${SECRET}" } } ]
    split:
      by: claim:sub
      to:
        - { upstream: orders-v2, weight: ${weight} }
        - { upstream: orders-v2, when: { headers: { x-canary: "1" } } }
        - { upstream: orders-v1, when: { cookies: { canary: "no" } } }
  - id: web
    match: { path: /web/* }
    upstream: orders-v1
    split:
      to: [ { upstream: orders-v2, weight: 50 } ]
  - id: sticky
    match: { path: /sticky/* }
    upstream: orders-v1
    split:
      to: [ { upstream: orders-sticky, weight: 100 } ]
  - id: canary-down
    match: { path: /down/* }
    upstream: orders-v1
    split:
      by: header:x-user
      to: [ { upstream: orders-v3, weight: 100 } ]
  - id: canary-down-503
    match: { path: /down503/* }
    upstream: orders-v1
    split:
      by: header:x-user
      fallback: 503
      to: [ { upstream: orders-v3, weight: 100 } ]
`;
}

describe('canary split', () => {
  let v1: TestUpstream, v2: TestUpstream, v3: TestUpstream;
  let gw: TestGateway;
  let dir: string;
  let logs: CapturedLog;
  const agent = new Agent({ connections: 64 });

  const write = (weight: number) => writeFileSync(join(dir, 'routes', 'orders.yaml'), routesYaml(weight, v1, v2, v3));

  beforeAll(async () => {
    [v1, v2, v3] = await Promise.all([startUpstream('v1'), startUpstream('v2'), startUpstream('v3')]);
    dir = mkdtempSync(join(tmpdir(), 'sy-split-'));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\n');
    write(10);
    logs = captureLog('info');
    gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: logs.logger });
  });
  afterAll(async () => {
    await gw.close();
    await agent.close();
    await Promise.all([v1, v2, v3].map((u) => u.close()));
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(gw.url + path, { headers, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as { upstream: string; error?: { code: string } } };
  };

  /** cohorts sends `perSub` requests for every sub (64 at a time) and returns each sub's upstream; a sub served by two upstreams fails. */
  async function cohorts(perSub: number): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    const jobs: string[] = [];
    for (let r = 0; r < perSub; r++) jobs.push(...SUBS);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const sub = jobs[next++]!;
        const res = await get(`/api/orders/${sub}`, { authorization: `Bearer ${TOKENS.get(sub)}` });
        expect(res.status).toBe(200);
        const up = res.json().upstream;
        const before = seen.get(sub);
        if (before !== undefined && before !== up) throw new Error(`${sub} was served by ${before} and ${up}`);
        seen.set(sub, up);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return seen;
  }
  const onV2 = (m: Map<string, string>) => new Set([...m].filter(([, u]) => u === 'v2').map(([s]) => s));
  const below = (line: number) => new Set(SUBS.filter((s) => bucketOf('orders', s) < line));

  let at10: Set<string>;
  let at20: Set<string>;

  it('10,000 requests from 1,000 subs at weight 10: 9-11 % of the cohorts on v2, each sub always on one leg', async () => {
    const m = await cohorts(10);
    expect(m.size).toBe(1000);
    at10 = onV2(m);
    expect(at10.size).toBeGreaterThanOrEqual(90);
    expect(at10.size).toBeLessThanOrEqual(110);
    // The leg is the bucket's: buckets 0-9 are v2's.
    expect(at10).toEqual(below(10));
  }, 120_000);

  it('raising the weight to 20 keeps every v2 cohort on v2 (and only adds cohorts)', async () => {
    write(20);
    const reloaded = await gw.gateway.reload();
    expect(reloaded.ok).toBe(true);
    // The reload says which route's split changed.
    expect(reloaded.ok && reloaded.changes.routes.changed).toEqual(['orders']);
    const m = await cohorts(1);
    at20 = onV2(m);
    for (const s of at10) expect(m.get(s), s).toBe('v2');
    expect(at20).toEqual(below(20));
    expect(at20.size).toBeGreaterThan(at10.size);
  }, 60_000);

  it('lowering the weight to 5 moves only the cohorts above the new line', async () => {
    write(5);
    expect((await gw.gateway.reload()).ok).toBe(true);
    const m = await cohorts(1);
    const at5 = onV2(m);
    expect(at5).toEqual(below(5));
    for (const s of at5) expect(at20.has(s)).toBe(true);
    // Who was on v1 at 20 is still on v1.
    for (const s of SUBS) if (!at20.has(s)) expect(m.get(s), s).toBe('v1');
  }, 60_000);

  it('overrides win over the cohort: the header always sends to v2, the cookie never', async () => {
    const v1Sub = SUBS.find((s) => bucketOf('orders', s) >= 50)!;
    const v2Sub = SUBS.find((s) => bucketOf('orders', s) < 5)!;
    const auth = (s: string) => ({ authorization: `Bearer ${TOKENS.get(s)}` });
    expect((await get('/api/orders/1', auth(v1Sub))).json().upstream).toBe('v1');
    expect((await get('/api/orders/1', { ...auth(v1Sub), 'x-canary': '1' })).json().upstream).toBe('v2');
    expect((await get('/api/orders/1', auth(v2Sub))).json().upstream).toBe('v2');
    expect((await get('/api/orders/1', { ...auth(v2Sub), cookie: 'canary=no' })).json().upstream).toBe('v1');
    // Listed first, the header override wins over the cookie one.
    expect((await get('/api/orders/1', { ...auth(v2Sub), cookie: 'canary=no', 'x-canary': '1' })).json().upstream).toBe('v2');
  });

  it('without `by`, a new client gets a cohort cookie and keeps its leg with it', async () => {
    const first = await get('/web/page');
    expect(first.status).toBe(200);
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^sy-cohort=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = /^sy-cohort=([^;]+)/.exec(setCookie)![1]!;
    const expected = bucketOf('web', id) < 50 ? 'v2' : 'v1';
    expect(first.json().upstream).toBe(expected);
    for (let i = 0; i < 5; i++) {
      const again = await get('/web/page', { cookie: `sy-cohort=${id}` });
      expect(again.json().upstream).toBe(expected);
      expect(again.headers['set-cookie']).toBeUndefined();
    }
    // Cohorts of both legs, by cookie value.
    const ids = Array.from({ length: 40 }, (_, i) => `client-${i}`);
    for (const c of ids) expect((await get('/web/x', { cookie: `sy-cohort=${c}` })).json().upstream).toBe(bucketOf('web', c) < 50 ? 'v2' : 'v1');
  });

  it('sticky sessions work within the leg: the cohort cookie and the leg pool\'s sticky cookie are both set, then both honoured', async () => {
    const first = await get('/sticky/a');
    const cookies = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    expect(cookies.map((c) => c.split('=')[0]).sort()).toEqual(['sy-cohort', 'sy-target']);
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    const pinned = first.json().upstream;
    for (let i = 0; i < 6; i++) {
      const again = await get('/sticky/a', { cookie: jar });
      expect(again.json().upstream).toBe(pinned);
      expect(again.headers['set-cookie']).toBeUndefined();
    }
  });

  it('writes the leg in the access log (`split`) and counts requests per route and leg', async () => {
    const sub = SUBS.find((s) => bucketOf('orders', s) < 5)!;
    const r = await get('/api/orders/log', { authorization: `Bearer ${TOKENS.get(sub)}` });
    const id = r.headers['x-request-id'];
    const line = await waitFor(() => logs.lines.find((l) => l.reqId === id && l.kind === 'access'));
    expect(line).toMatchObject({ route: 'orders', upstream: 'orders-v2', split: 'orders-v2', status: 200 });
    const plain = logs.lines.filter((l) => l.kind === 'access' && l.route === 'web');
    expect(plain.length).toBeGreaterThan(0);
    const text = await gw.gateway.metricsText();
    expect(metricValue(text, 'switchyard_split_requests_total', { route: 'orders', leg: 'orders-v2', status_class: '2xx' })).toBeGreaterThan(0);
    expect(metricValue(text, 'switchyard_split_requests_total', { route: 'orders', leg: 'orders-v1', status_class: '2xx' })).toBeGreaterThan(0);
  });

  it('GET /routes shows the split: key, weights, overrides, fallback and per-leg counts and rates', async () => {
    const res = await request(`${gw.adminUrl}/routes`, { dispatcher: agent });
    const body = (await res.body.json()) as { routes: Array<{ id: string; split: any }> };
    const orders = body.routes.find((r) => r.id === 'orders')!.split;
    expect(orders).toMatchObject({
      by: 'claim:sub',
      cookie: null,
      salt: 'orders',
      fallback: 'primary',
      primary: 'orders-v1',
      weights: [{ upstream: 'orders-v2', weight: 5, buckets: [0, 4] }],
      overrides: [
        { upstream: 'orders-v2', when: { headers: { 'x-canary': '1' } } },
        { upstream: 'orders-v1', when: { cookies: { canary: 'no' } } },
      ],
    });
    const legs = Object.fromEntries(orders.legs.map((l: { upstream: string }) => [l.upstream, l]));
    expect(legs['orders-v1']).toMatchObject({ primary: true, cohorts: 95, eligible: 1, errors5xx: 0 });
    expect(legs['orders-v2']).toMatchObject({ primary: false, cohorts: 5, eligible: 1, errors5xx: 0 });
    expect(legs['orders-v2'].requests).toBeGreaterThan(100);
    expect(legs['orders-v2'].rps).toBeGreaterThan(0);
    expect(body.routes.find((r) => r.id === 'web')!.split).toMatchObject({ by: null, cookie: 'sy-cohort', fallback: 'primary' });
    expect(body.routes.find((r) => r.id === 'canary-down-503')!.split.fallback).toBe('503');
  });

  it('a request without the key (no token claim) goes to the primary, counted', async () => {
    const r = await get('/down/x');
    expect(r.json().upstream).toBe('v1');
    const text = await gw.gateway.metricsText();
    expect(metricValue(text, 'switchyard_split_unkeyed_total', { route: 'canary-down' })).toBeGreaterThanOrEqual(1);
  });

  it('a canary pool with no healthy target: its cohort falls back to the primary (counted, logged), or gets 503', async () => {
    expect((await get('/down/x', { 'x-user': 'a' })).json().upstream).toBe('v3');
    await v3.close();
    const pool = gw.gateway.runtime.upstreams.get('orders-v3')!;
    await waitFor(() => pool.eligible.length === 0, { timeout: 5000, message: 'orders-v3 marked down by its health check' });
    const mark = logs.lines.length;
    for (let i = 0; i < 5; i++) {
      const r = await get('/down/x', { 'x-user': `u${i}` });
      expect(r.status).toBe(200);
      expect(r.json().upstream).toBe('v1');
    }
    const refused = await get('/down503/x', { 'x-user': 'a' });
    expect(refused.status).toBe(503);
    expect(refused.json().error).toMatchObject({ code: 'SY_ERR_UPSTREAM_UNAVAILABLE', upstream: 'orders-v3' });
    const text = await gw.gateway.metricsText();
    expect(metricValue(text, 'switchyard_split_fallbacks_total', { route: 'canary-down', leg: 'orders-v3', to: 'primary' })).toBe(5);
    expect(metricValue(text, 'switchyard_split_fallbacks_total', { route: 'canary-down-503', leg: 'orders-v3', to: '503' })).toBe(1);
    // Logged once a second at most: the warning names the route and the leg.
    const warned = logs.lines.filter((l) => String(l.msg).startsWith('split leg has no healthy target'));
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThan(6);
    expect(warned[0]).toMatchObject({ route: 'canary-down', leg: 'orders-v3', to: 'primary' });
    // The access log names the leg that served: the primary.
    const fell = logs.lines.slice(mark).filter((l) => l.kind === 'access' && l.route === 'canary-down');
    expect(fell.map((l) => l.split)).toEqual(Array(5).fill('orders-v1'));
  });
});
