/**
 * The dashboard's stream listeners (issue 18), in headless Chromium against a
 * real gateway with a tcp and a udp listener: each row names the listener,
 * its protocol, bound address and routes, and counts open connections, the
 * connections ended since start and their bytes each way.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openPage, waitForValue, WAIT } from './helpers.js';
import { openSocket, readAll, startStreamGateway, type StreamGateway } from '../streams/helpers.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard: stream listeners', () => {
  let echo: net.Server;
  let gw: StreamGateway;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = (echo.address() as net.AddressInfo).port;
    const dns = createSocket('udp4');
    dns.bind(0, '127.0.0.1');
    await once(dns, 'listening');
    gw = await startStreamGateway(
      { db: { protocol: 'tcp' }, dns: { protocol: 'udp' } },
      {
        's.yaml': {
          upstreams: { echo: { targets: [{ url: `tcp://127.0.0.1:${port}` }] }, resolver: { targets: [{ url: `udp://127.0.0.1:${dns.address().port}` }] } },
          streamRoutes: [
            { id: 'db-route', listener: 'db', upstream: 'echo' },
            { id: 'dns-route', listener: 'dns', upstream: 'resolver' },
          ],
        },
      },
    );
    dns.close();
    ({ page, context, problems } = await openPage(browser, gw.adminUrl + '/'));
    await page.locator('#status[data-status="live"]').waitFor({ timeout: WAIT });
  });
  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await new Promise<void>((r) => echo?.close(() => r()));
  });

  it('lists each listener with its protocol, address and routes', async () => {
    const db = page.locator('#streams tr[data-listener="db"]');
    await db.waitFor({ timeout: WAIT });
    expect(await db.getAttribute('data-protocol')).toBe('tcp');
    expect(await db.locator('[data-field="address"]').textContent()).toBe(`127.0.0.1:${gw.streamPort('db')}`);
    expect(await db.locator('[data-field="routes"]').textContent()).toBe('db-route');
    const dns = page.locator('#streams tr[data-listener="dns"]');
    expect(await dns.getAttribute('data-protocol')).toBe('udp');
    expect(await dns.locator('[data-field="routes"]').textContent()).toBe('dns-route');
    expect(problems).toEqual([]);
  });

  it('counts open connections, ended connections and their bytes each way', async () => {
    const row = '#streams tr[data-listener="db"]';
    const held = await openSocket(gw.streamPort('db'));
    await waitForValue(page, `${row} [data-field="open"]`, '===', 1);
    // One finished exchange: 5 bytes in, the same 5 echoed out.
    const s = await openSocket(gw.streamPort('db'));
    const back = readAll(s);
    s.end('hello');
    expect((await back).toString()).toBe('hello');
    await waitForValue(page, `${row} [data-field="total"]`, '===', 1);
    await waitForValue(page, `${row} [data-field="bytes-in"]`, '===', 5);
    await waitForValue(page, `${row} [data-field="bytes-out"]`, '===', 5);
    expect(await page.locator(`${row} [data-field="bytes-in"]`).textContent()).toBe('5 B');
    held.destroy();
    await waitForValue(page, `${row} [data-field="open"]`, '===', 0);
    await waitForValue(page, `${row} [data-field="total"]`, '===', 2);
    expect(problems).toEqual([]);
  });
});
