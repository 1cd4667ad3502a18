/**
 * The dashboard shows the last applied change's diff summary (src/diff): the
 * version, what changed, the flags first (marked "!"), the requests that
 * moved and the files; "none since start" before any reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, WAIT } from './helpers.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { appTree } from '../diff/app-tree.js';

let browser: Browser;
let gw: TestGateway;
let ups: TestUpstream[];
let tree: ReturnType<typeof appTree>;

beforeAll(async () => {
  browser = await launchChromium();
  ups = [await startUpstream('old'), await startUpstream('new')];
  tree = appTree(ups[0]!.url, ups[1]!.url);
  gw = await startGateway({ configFile: tree.configFile });
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await Promise.all((ups ?? []).map((u) => u.close()));
  tree?.remove();
});

describe('dashboard: last applied change', () => {
  it('shows none before a reload, then the diff summary of the applied reload with its flags first', async () => {
    const { page, context, problems } = await openPage(browser, gw.adminUrl + '/');
    try {
      await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#config-last-change').textContent()).toBe('none since start');
      expect(await page.locator('#config-last-change').getAttribute('data-changed')).toBe('false');

      tree.change();
      const res = await request(gw.adminUrl + '/reload', { method: 'POST' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();

      await page.locator('#config-last-change[data-version="2"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#config-last-change').getAttribute('data-changed')).toBe('true');
      expect(await page.locator('#config-last-change').textContent()).toMatch(/^version 2, .*: routes \+1 -0 ~0; upstreams \+0 -0 ~0; 1 request move; 1 flag$/);
      const items = await page.locator('#config-last-change-list li').evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-kind'), li.textContent]));
      expect(items).toEqual([
        ['flag', '! new route app-new (routes/app.yaml:8) shadows app (routes/app.yaml:5) for GET /app/new/1'],
        ['move', 'GET /app/new/1: app → app-new (routes/app.yaml:8 now shadows routes/app.yaml:5)'],
        ['file', 'routes/app.yaml (changed)'],
      ]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
