/**
 * The admin dashboard in a real headless Chromium against a real gateway and
 * real upstreams with active health checks: it lists every route and target,
 * follows a target going unhealthy and back, shows traffic moving, renders
 * config data as text (never markup), and works behind the admin token
 * without the server ever writing the token into the page.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dataValue, launchChromium, openPage as open, waitForValue, WAIT } from './helpers.js';
import { echoHandler, startGateway, startUpstream, type TestGateway, type TestUpstream, type UpstreamHandler } from '../../src/testing/index.js';

const HOSTILE = '<img src=x onerror="window.__pwned=1">';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** upstreamHandler answers 500 on /boom and echoes otherwise (health checks included). */
const upstreamHandler: UpstreamHandler = (req, res, body, self) => {
  if (req.url?.endsWith('/boom')) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    return;
  }
  echoHandler(req, res, body, self);
};

/** failingHealth answers 503 on /healthz and echoes everything else. */
const failingHealth: UpstreamHandler = (req, res, body, self) => {
  if (req.url === '/healthz') {
    res.writeHead(503).end('down');
    return;
  }
  upstreamHandler(req, res, body, self);
};

const healthCheck = { path: '/healthz', interval: '50ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 1, jitter: 0 };

/** openPage opens the dashboard in a fresh context of the shared browser. */
const openPage = (url: string) => open(browser, url);

describe('dashboard', () => {
  let a1: TestUpstream;
  let a2: TestUpstream;
  let w1: TestUpstream;
  let gw: TestGateway;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    a1 = await startUpstream('a1', upstreamHandler);
    a2 = await startUpstream('a2', upstreamHandler);
    w1 = await startUpstream('w1', upstreamHandler);
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: {
            api: { balancer: 'round-robin', targets: [{ url: a1.url }, { url: a2.url }], healthCheck },
            web: { targets: [{ url: w1.url }], healthCheck },
          },
          routes: [
            { id: 'api', match: { path: '/api/*' }, upstream: 'api', plugins: ['request-id'] },
            { id: 'web', match: { path: '/web/*', methods: ['GET'] }, upstream: 'web' },
            { id: 'tricky', match: { path: '/tricky', headers: { 'x-note': HOSTILE } }, upstream: 'web' },
          ],
        },
      },
    });
    ({ page, context, problems } = await openPage(gw.adminUrl + '/'));
    await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
  });
  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await Promise.all([a1?.close(), a2?.close(), w1?.close()]);
  });

  it('lists every route with its match, source file:line, chain and upstream', async () => {
    const rows = page.locator('#routes tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await page.locator('#routes tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-route')))).toEqual(['api', 'web', 'tricky']);
    const api = page.locator('tr[data-route="api"]');
    expect(await api.locator('[data-field="match"]').textContent()).toBe('/api/*');
    expect(await api.locator('[data-field="source"]').textContent()).toMatch(/r\.yaml:\d+$/);
    expect(await api.locator('[data-field="chain"]').textContent()).toBe('request-id');
    expect(await api.locator('[data-field="upstream"]').textContent()).toBe('api');
    const web = page.locator('tr[data-route="web"]');
    expect(await web.locator('[data-field="match"]').textContent()).toBe('GET  /web/*');
    expect(await web.locator('[data-field="chain"]').textContent()).toBe('\u2014');
  });

  it('renders config values as text, never as markup', async () => {
    const match = page.locator('tr[data-route="tricky"] [data-field="match"]');
    expect(await match.textContent()).toBe(`/tricky  header x-note: ${HOSTILE}`);
    expect(await page.locator('#routes img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows every upstream and target healthy, with its last check, and the config version', async () => {
    expect(await page.locator('section[data-upstream]').evaluateAll((s) => s.map((x) => x.getAttribute('data-upstream')))).toEqual(['api', 'web']);
    for (const [name, target] of [['api', a1], ['api', a2], ['web', w1]] as const) {
      const row = page.locator(`tr[data-upstream="${name}"][data-target="${target.url}"]`);
      await row.locator('[data-field="last-check"][data-ok="true"]').waitFor({ timeout: WAIT });
      expect(await row.getAttribute('data-state')).toBe('healthy');
      expect(await row.locator('[data-field="state"]').textContent()).toBe('healthy');
      expect(await row.locator('[data-field="last-check"]').textContent()).toMatch(/^ok 200 · \d+ms · /);
      expect(await dataValue(page, `tr[data-target="${target.url}"] [data-field="consecutive-failures"]`)).toBe(0);
      expect(await dataValue(page, `tr[data-target="${target.url}"] [data-field="inflight"]`)).toBe(0);
    }
    expect(await dataValue(page, 'section[data-upstream="api"] [data-field="eligible"]')).toBe(2);
    expect(await page.locator('#config-version').textContent()).toBe('1');
    expect(await page.locator('#config-rejected').getAttribute('data-rejected')).toBe('false');
    // Healthy is green (the stylesheet is allowed by the CSP and applied).
    // Polled: the dashboard re-renders its rows, and a row replaced mid-read has no computed style ('').
    await expect.poll(() => page.locator(`tr[data-target="${a1.url}"] .state`).evaluate((e) => getComputedStyle(e).color), { timeout: WAIT }).toBe('rgb(26, 127, 55)');
  });

  it('follows a target going unhealthy when its health endpoint fails, and back', async () => {
    a2.setHandler(failingHealth);
    const row = page.locator(`tr[data-upstream="api"][data-target="${a2.url}"]`);
    await page.locator(`tr[data-upstream="api"][data-target="${a2.url}"][data-state="unhealthy"]`).waitFor({ timeout: WAIT });
    expect(await row.locator('[data-field="state"]').textContent()).toBe('unhealthy');
    expect(await row.locator('[data-field="last-check"]').getAttribute('data-ok')).toBe('false');
    expect(await row.locator('[data-field="last-check"]').textContent()).toMatch(/^failed 503/);
    expect(await dataValue(page, `tr[data-target="${a2.url}"] [data-field="consecutive-failures"]`)).toBeGreaterThanOrEqual(2);
    expect(await row.locator('.state').evaluate((e) => getComputedStyle(e).color)).toBe('rgb(207, 34, 46)');
    expect(await page.locator(`tr[data-target="${a1.url}"]`).getAttribute('data-state')).toBe('healthy');
    await waitForValue(page, 'section[data-upstream="api"] [data-field="eligible"]', '===', 1);

    a2.setHandler(upstreamHandler);
    await page.locator(`tr[data-upstream="api"][data-target="${a2.url}"][data-state="healthy"]`).waitFor({ timeout: WAIT });
    await waitForValue(page, 'section[data-upstream="api"] [data-field="eligible"]', '===', 2);
  });

  it('counts requests and 5xx per route and upstream, and shows non-zero rates while traffic flows', async () => {
    for (let i = 0; i < 4; i++) await (await request(gw.url + '/web/ok')).body.text();
    for (let i = 0; i < 2; i++) expect((await request(gw.url + '/web/boom')).statusCode).toBe(500);
    await waitForValue(page, 'tr[data-route="web"] [data-field="requests"]', '===', 6);
    expect(await dataValue(page, 'tr[data-route="web"] [data-field="errors"]')).toBe(2);
    await waitForValue(page, 'section[data-upstream="web"] [data-field="requests"]', '===', 6);
    expect(await dataValue(page, 'section[data-upstream="web"] [data-field="errors"]')).toBe(2);
    expect(await dataValue(page, `tr[data-target="${w1.url}"] [data-field="requests"]`)).toBe(6);
    expect(await dataValue(page, 'tr[data-route="api"] [data-field="requests"]')).toBe(0);
    expect(await page.locator('#traffic-total').getAttribute('data-requests')).toBe('6');

    // Rates are deltas between two refreshes, so keep traffic flowing until the page has seen some.
    let flowing = true;
    const pump = (async () => {
      let n = 0;
      while (flowing) {
        const res = await request(gw.url + (n++ % 2 === 0 ? '/api/x' : '/api/boom'));
        await res.body.text();
      }
    })();
    try {
      await waitForValue(page, 'tr[data-route="api"] [data-field="rps"]', '>', 0);
      await waitForValue(page, 'tr[data-route="api"] [data-field="eps"]', '>', 0);
      await waitForValue(page, 'section[data-upstream="api"] [data-field="rps"]', '>', 0);
    } finally {
      flowing = false;
      await pump;
    }
    expect(await dataValue(page, 'tr[data-route="web"] [data-field="rps"]')).toBe(0);
    expect(problems).toEqual([]);
  });
});

describe('dashboard behind admin.token', () => {
  const TOKEN = `tok-${process.pid}-${Date.now()}`;
  let dir: string;
  let up: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    up = await startUpstream('one');
    dir = await mkdtemp(join(tmpdir(), 'switchyard-dashboard-'));
    await mkdir(join(dir, 'routes'));
    await writeFile(
      join(dir, 'gateway.yaml'),
      ['listen: { host: 127.0.0.1, port: 0 }', `admin: { host: 127.0.0.1, port: 0, token: "${TOKEN}" }`, 'routes: ./routes', 'log: { level: silent }', ''].join('\n'),
    );
    await writeFile(join(dir, 'routes', 'one.yaml'), routeFile(up.url));
    gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function routeFile(url: string): string {
    return ['upstreams:', '  one:', '    targets:', `      - url: ${url}`, 'routes:', '  - id: one', '    match: { path: /one/* }', '    upstream: one', ''].join('\n');
  }
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('refuses the API without the token and serves it with the token', async () => {
    for (const path of ['/routes', '/upstreams', '/config', '/stats', '/metrics']) {
      const res = await request(gw.adminUrl + path);
      await res.body.text();
      expect(res.statusCode, path).toBe(401);
      const ok = await request(gw.adminUrl + path, { headers: bearer });
      await ok.body.text();
      expect(ok.statusCode, path).toBe(200);
    }
    const stats = (await (await request(gw.adminUrl + '/stats', { headers: bearer })).body.json()) as { now: number; total: { requests: number; errors5xx: number } };
    expect(stats.total).toEqual({ requests: 0, errors5xx: 0, errors4xx: 0, status401: 0, status429: 0 });
    expect(typeof stats.now).toBe('number');
    const health = await request(gw.adminUrl + '/healthz');
    expect(health.statusCode).toBe(200);
    await health.body.text();
  });

  it('serves the page shell without the token, never containing it, under a strict CSP', async () => {
    for (const path of ['/', `/?token=${TOKEN}`]) {
      const res = await request(gw.adminUrl + path, { headers: bearer });
      const html = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(html).not.toContain(TOKEN);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
    }
  });

  it('asks for the token after a 401 and goes live once it is entered', async () => {
    const { page, context, problems } = await openPage(gw.adminUrl + '/');
    try {
      await page.locator('#status[data-status="unauthorized"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#auth').isVisible()).toBe(true);
      expect(await page.locator('#routes tbody tr').count()).toBe(0);
      await page.locator('#token').fill(TOKEN);
      await page.locator('#auth button[type="submit"]').click();
      await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#auth').isVisible()).toBe(false);
      await page.locator(`tr[data-upstream="one"][data-target="${up.url}"][data-state="healthy"]`).waitFor({ timeout: WAIT });
      expect(await page.locator('tr[data-route="one"] [data-field="source"]').textContent()).toMatch(/one\.yaml:\d+$/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('takes ?token=, drops it from the address bar, and shows a rejected reload and the next version', async () => {
    const { page, context, problems } = await openPage(`${gw.adminUrl}/?token=${encodeURIComponent(TOKEN)}`);
    try {
      await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
      expect(page.url()).toBe(gw.adminUrl + '/');
      expect(await page.locator('tr[data-route="one"]').count()).toBe(1);

      await writeFile(join(dir, 'routes', 'one.yaml'), routeFile(up.url).replace('upstream: one', 'upstream: nope'));
      const bad = await request(gw.adminUrl + '/reload', { method: 'POST', headers: bearer });
      await bad.body.text();
      expect(bad.statusCode).toBe(422);
      await page.locator('#config-rejected[data-rejected="true"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#config-rejected-errors li').first().textContent()).toContain('one.yaml');
      expect(await page.locator('#config-version').textContent()).toBe('1');

      await writeFile(join(dir, 'routes', 'one.yaml'), routeFile(up.url));
      const good = await request(gw.adminUrl + '/reload', { method: 'POST', headers: bearer });
      await good.body.text();
      expect(good.statusCode).toBe(200);
      await page.waitForFunction(() => document.getElementById('config-version')?.textContent === '2', undefined, { timeout: WAIT });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reports a wrong token and asks again', async () => {
    const { page, context } = await openPage(`${gw.adminUrl}/?token=wrong`);
    try {
      await page.locator('#status[data-status="unauthorized"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#auth-message').textContent()).toBe('The token was rejected.');
    } finally {
      await context.close();
    }
  });
});
