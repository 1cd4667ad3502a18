/**
 * The dashboard for an operator (issue 13, items 13, 14 and 19), in headless
 * Chromium against a real gateway started from files on disk: TLS on the
 * public listener, Redis, an admin token. It shows the gateway version,
 * uptime, Redis status and certificate expiry in UTC; per-route latency,
 * 4xx/401/429 counts and a 5-minute history; drains and undrains a target
 * with the token (seen through /upstreams); raises the restart-required
 * banner after a listen change and drops it when changed back; and greys out
 * a rejected reload once a later one succeeded.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dataValue, launchChromium, openPage, waitForValue, WAIT } from './helpers.js';
import { echoHandler, startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = `tok-${process.pid}-${Date.now()}`;
const bearer = { authorization: `Bearer ${TOKEN}` };
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** statuses answers /s/NNN with status NNN, /slow after 60ms, and echoes otherwise. */
const statuses: UpstreamHandler = (req, res, body, self) => {
  const m = /\/s\/(\d{3})$/.exec(req.url ?? '');
  if (m) {
    res.writeHead(Number(m[1]), { 'content-type': 'text/plain' }).end('x');
    return;
  }
  if (req.url?.endsWith('/slow')) {
    setTimeout(() => echoHandler(req, res, body, self), 60);
    return;
  }
  echoHandler(req, res, body, self);
};

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard for an operator', () => {
  let dir: string;
  let a1: TestUpstream;
  let a2: TestUpstream;
  let redis: TestRedis;
  let gw: TestGateway;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];
  const tls = new Agent({ connect: { rejectUnauthorized: false, servername: 'gw.test' } });

  const gatewayYaml = (port = 0, host = '127.0.0.1') =>
    [
      `listen: { host: '${host}', port: ${port}, tls: { cert: ./c.pem, key: ./k.pem } }`,
      `admin: { host: 127.0.0.1, port: 0, token: "${TOKEN}" }`,
      `redis: { url: "${redis.url}" }`,
      'routes: ./routes',
      'reload: { watch: false }',
      'log: { level: silent }',
      '',
    ].join('\n');
  const routeFile = (upstream = 'api') =>
    [
      'upstreams:',
      '  api:',
      '    targets:',
      `      - url: ${a1.url}`,
      `      - url: ${a2.url}`,
      'routes:',
      '  - id: api',
      '    match: { path: /api/* }',
      `    upstream: ${upstream}`,
      '  - id: tricky',
      `    match: { path: /tricky, headers: { x-note: '${HOSTILE}' } }`,
      '    upstream: api',
      '',
    ].join('\n');
  const reload = async () => {
    const res = await request(gw.adminUrl + '/reload', { method: 'POST', headers: bearer });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    [a1, a2, redis] = await Promise.all([startUpstream('a1', statuses), startUpstream('a2', statuses), startRedis()]);
    dir = await mkdtemp(join(tmpdir(), 'switchyard-dashboard-op-'));
    await mkdir(join(dir, 'routes'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '3', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml());
    await writeFile(join(dir, 'routes', 'api.yaml'), routeFile());
    gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    ({ page, context, problems } = await openPage(browser, gw.adminUrl + '/'));
    await page.locator('#status[data-status="unauthorized"]').waitFor({ timeout: WAIT });
    await page.locator('#token').fill(TOKEN);
    await page.locator('#auth button[type="submit"]').click();
    await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
  });
  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await tls.close();
    await Promise.all([a1?.close(), a2?.close(), redis?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => (await request(`https://127.0.0.1:${gw.port}${path}`, { dispatcher: tls })).body.text();

  it('19: shows the gateway version, uptime, Redis status and certificate expiry, every time in UTC', async () => {
    expect(await page.locator('#gateway-version').textContent()).toBe(VERSION);
    const up = await dataValue(page, '#gateway-uptime');
    await waitForValue(page, '#gateway-uptime', '>', up);
    expect(await page.locator('#gateway-started').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(await page.locator('#config-loaded-at').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(await page.locator('#refreshed').textContent()).toMatch(/UTC$/);
    await page.locator('#store[data-kind="redis"][data-healthy="true"]').waitFor({ timeout: WAIT });
    expect(await page.locator('#store').textContent()).toBe('Redis connected');
    const cert = page.locator('#certificates tr[data-cert]');
    expect(await cert.count()).toBe(1);
    expect(await cert.locator('[data-field="names"]').textContent()).toBe('gw.test');
    expect(await cert.locator('[data-field="not-after"]').textContent()).toMatch(/ UTC$/);
    // Three days left: flagged as expiring.
    expect(await dataValue(page, '#certificates [data-field="days-left"]')).toBe(2);
    expect(await cert.locator('[data-field="not-after"]').getAttribute('class')).toBe('cert-expiring');
  });

  it('19: shows 4xx, 401 and 429 next to 5xx, p50/p99 latency and a 5-minute history per route and upstream; counts unrouted requests', async () => {
    for (const p of ['/api/x', '/api/slow', '/api/s/401', '/api/s/401', '/api/s/429', '/api/s/404', '/api/s/503', '/nowhere', '/nowhere']) await get(p);
    await waitForValue(page, 'tr[data-route="api"] [data-field="requests"]', '===', 7);
    const route = (f: string) => dataValue(page, `tr[data-route="api"] [data-field="${f}"]`);
    expect(await route('errors4xx')).toBe(4);
    expect(await route('status401')).toBe(2);
    expect(await route('status429')).toBe(1);
    expect(await route('errors')).toBe(1);
    const p50 = await route('p50');
    const p99 = await route('p99');
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(50); // the 60ms /slow request
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(await page.locator('tr[data-route="api"] [data-field="p99"]').textContent()).toMatch(/ ms$/);
    // The history: 30 ten-second slots, this minute's requests in the newest ones.
    const history = page.locator('tr[data-route="api"] [data-field="history"]');
    const slots = (await history.getAttribute('data-requests'))!.split(',').map(Number);
    expect(slots).toHaveLength(30);
    expect(slots.reduce((a, b) => a + b, 0)).toBe(7);
    expect((await history.getAttribute('data-errors'))!.split(',').map(Number).reduce((a, b) => a + b, 0)).toBe(1);
    expect(await history.locator('svg polyline').count()).toBe(2);
    const upstream = page.locator('section[data-upstream="api"]');
    expect(await upstream.locator('[data-field="errors4xx"]').getAttribute('data-value')).toBe('4');
    expect(Number(await upstream.locator('[data-field="p99"]').getAttribute('data-value'))).toBeGreaterThanOrEqual(50);
    expect(await upstream.locator('[data-field="history"] svg').count()).toBe(1);
    // Unrouted requests count as /metrics counts them.
    await waitForValue(page, '#traffic-unrouted', '===', 2);
    expect(await page.locator('#traffic-total').getAttribute('data-requests')).toBe('9');
  });

  it('19: drains and undrains a target with the admin token, as /upstreams shows', async () => {
    const target = () => page.locator(`tr[data-upstream="api"][data-target="${a2.url}"]`);
    await target().locator('button[data-action="drain"]').click();
    await page.locator(`tr[data-upstream="api"][data-target="${a2.url}"][data-state="draining"]`).waitFor({ timeout: WAIT });
    const view = async () => ((await (await request(gw.adminUrl + '/upstreams', { headers: bearer })).body.json()) as { upstreams: Array<{ name: string; targets: Array<{ url: string; draining: boolean }> }> }).upstreams[0]!.targets;
    expect((await view()).find((t) => t.url === a2.url)!.draining).toBe(true);
    expect((await view()).find((t) => t.url === a1.url)!.draining).toBe(false);
    await target().locator('button[data-action="undrain"]').click();
    await page.locator(`tr[data-upstream="api"][data-target="${a2.url}"][data-state="healthy"]`).waitFor({ timeout: WAIT });
    expect((await view()).find((t) => t.url === a2.url)!.draining).toBe(false);
    // The token never went into a URL: the page's address is still bare.
    expect(page.url()).toBe(gw.adminUrl + '/');
  });

  it('13.13: shows a restart-required banner after a listen change, naming running and configured values, until changed back', async () => {
    expect(await page.locator('#restart-required').isVisible()).toBe(false);
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(18443, HOSTILE));
    expect((await reload()).status).toBe(200);
    await page.locator('#restart-required').waitFor({ state: 'visible', timeout: WAIT });
    expect(await page.locator('#restart-required li[data-key="listen.port"]').textContent()).toBe('listen.port: running 0, configured 18443');
    // Configured values are rendered as text.
    expect(await page.locator('#restart-required li[data-key="listen.host"]').textContent()).toBe(`listen.host: running 127.0.0.1, configured ${HOSTILE}`);
    expect(await page.locator('#restart-required img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // The old listener keeps serving.
    expect(JSON.parse(await get('/api/x'))).toMatchObject({ upstream: expect.stringMatching(/^a[12]$/) });

    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml());
    expect((await reload()).status).toBe(200);
    await page.locator('#restart-required').waitFor({ state: 'hidden', timeout: WAIT });
  });

  it('13.14: shows a rejected reload in red, then grey and "superseded" once a later reload succeeded', async () => {
    await writeFile(join(dir, 'routes', 'api.yaml'), routeFile('nope'));
    expect((await reload()).status).toBe(422);
    const rejected = page.locator('#config-rejected[data-rejected="true"][data-superseded="false"]');
    await rejected.waitFor({ timeout: WAIT });
    expect(await rejected.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(207, 34, 46)');
    expect(await page.locator('#config-rejected-errors li').first().textContent()).toContain('nope');

    await writeFile(join(dir, 'routes', 'api.yaml'), routeFile());
    const good = await reload();
    expect(good.status).toBe(200);
    const superseded = page.locator('#config-rejected[data-rejected="true"][data-superseded="true"]');
    await superseded.waitFor({ timeout: WAIT });
    expect(await superseded.textContent()).toContain(`superseded by version ${good.body.version as number}`);
    expect(await superseded.evaluate((e) => getComputedStyle(e).color)).toBe('rgb(110, 119, 129)');
    expect(await page.locator('#config-rejected-errors').evaluate((e) => getComputedStyle(e).color)).toBe('rgb(110, 119, 129)');
    expect(problems).toEqual([]);
  });
});

describe('dashboard without TLS or Redis', () => {
  it('19: says the store is embedded and no certificate is loaded', async () => {
    let cleanupContext: BrowserContext | undefined;
    const up = await startUpstream('u');
    const gw = await startGateway({ gateway: {}, routeFiles: { 'r.yaml': { upstreams: { u: { targets: [{ url: up.url }] } }, routes: [{ id: 'u', match: { path: '/u/*' }, upstream: 'u' }] } } });
    try {
      const { page, context } = await openPage(browser, gw.adminUrl + '/');
      cleanupContext = context;
      await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
      await waitFor(async () => (await page.locator('#store').getAttribute('data-kind')) === 'memory');
      expect(await page.locator('#store').textContent()).toMatch(/^embedded/);
      expect(await page.locator('#certificates tbody').textContent()).toBe('no TLS on the public listener');
    } finally {
      await cleanupContext?.close();
      await gw.close();
      await up.close();
    }
  });
});
