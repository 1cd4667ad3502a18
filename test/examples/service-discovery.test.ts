/**
 * Issue 15's walkthrough, docs/service-discovery.md "Service discovery", run
 * as it is written: the example gateway (examples/gateway/gateway.yaml, on free
 * ports through PUBLIC_PORT/ADMIN_PORT/REGISTRY_PORT), two instances of
 * examples/users-service registering through eureka-js-client, the walkthrough's
 * curl commands (ports rewritten) — the pool fills (live on the dashboard in
 * headless Chromium, and in /upstreams), requests alternate over both, and
 * Ctrl-C on one instance while the walkthrough's 20-second loop runs costs no
 * request; neither does kill -9, and the killed one leaves at lease expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { waitFor } from '../../src/testing/index.js';
import { dataValue, launchChromium, openPage, WAIT } from '../admin/helpers.js';
import { command, DISCOVERY, killAll, onPorts, shell, startExampleGateway, startUsers, upstream, type ExampleGateway, type UsersInstance } from './helpers.js';

const SECTION = 'Service discovery';
let gw: ExampleGateway;
let users: UsersInstance[];

let browser: Browser;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startExampleGateway(), launchChromium()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await killAll();
});

describe('15: docs/service-discovery.md "Service discovery", word for word', () => {
  it('the pool fills with both instances: live on the dashboard, in /upstreams with their registry source, and in the walkthrough curl', async () => {
    // The dashboard is open before the instances start, as a reader following the walkthrough would have it.
    const { page, context, problems } = await openPage(browser, `http://127.0.0.1:${gw.adminPort}/`);
    await page.locator('section[data-upstream="users"]').waitFor({ timeout: WAIT });
    users = await Promise.all([startUsers(gw), startUsers(gw)]);
    for (const u of users) await page.locator(`tr[data-upstream="users"][data-target="${u.url}"][data-state="healthy"]`).waitFor({ timeout: WAIT });
    expect(await dataValue(page, 'section[data-upstream="users"] [data-field="eligible"]')).toBe(2);
    expect(problems).toEqual([]);
    await context.close();

    const urls = users.map((u) => u.url).sort();
    await waitFor(async () => (await upstream(gw, 'users')).targets.map((t) => t.url).sort().join() === urls.join(), { timeout: 5000, message: 'both instances in the users pool' });
    const view = await upstream(gw, 'users');
    expect(view.discovery).toMatchObject({ kind: 'registry', subject: 'USERS', instances: 2 });
    for (const u of users) expect(view.targets).toContainEqual(expect.objectContaining({ url: u.url, source: expect.stringMatching(new RegExp(`^registry USERS ${u.instanceId.replaceAll('.', '\\.')}, lease \\d+s$`)) }));

    const out = await shell(onPorts(command(SECTION, 'curl -s 127.0.0.1:9901/upstreams', DISCOVERY), gw));
    for (const u of users) expect(out).toContain(u.url);
  }, 60_000);

  it('requests balance over both (round-robin: the walkthrough loop alternates)', async () => {
    const out = await shell(onPorts(command(SECTION, 'for i in 1 2 3 4;', DISCOVERY), gw));
    const served = out.trim().split('\n').map((l) => (JSON.parse(l) as { servedBy: string }).servedBy);
    expect(served).toHaveLength(4);
    expect(new Set(served)).toEqual(new Set(users.map((u) => u.url.slice('http://'.length))));
    expect(served[0]).not.toBe(served[1]);
    expect(served[0]).toBe(served[2]);
    expect(served[1]).toBe(served[3]);
  }, 30_000);

  it('Ctrl-C on one instance while the walkthrough loop runs: it deregisters and leaves, and every request answers 200', async () => {
    const [leaving, staying] = users as [UsersInstance, UsersInstance];
    const accessLines = () => gw.proc.output().split('\n').filter((l) => l.includes('"kind":"access"')).length;
    const before = accessLines();
    const loop = shell(onPorts(command(SECTION, 'end=$((SECONDS+20));', DISCOVERY), gw));
    // Stop the instance once the loop has been running for a while (as a person would, a few seconds in).
    await waitFor(() => accessLines() >= before + 20, { timeout: 10_000, message: 'the loop to be under way' });
    leaving.child.kill('SIGINT');
    expect(await leaving.exited).toBe(0);
    expect(leaving.output()).toContain('deregistered');
    const atExit = accessLines();
    await waitFor(async () => (await upstream(gw, 'users')).targets.map((t) => t.url).join() === staying.url, { timeout: 5000, message: 'the stopped instance to leave the pool' });

    const out = await loop;
    // One line: every request of the loop answered 200.
    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^\s*\d+ 200$/)]);
    expect(accessLines()).toBeGreaterThan(atExit + 20); // the loop went on after the instance was gone
    const total = Number(out.trim().split(/\s+/)[0]);
    expect(total).toBeGreaterThan(40);
    // And the instance that stays answers the rest.
    const r = await fetch(`http://127.0.0.1:${gw.port}/api/users/9`);
    expect(((await r.json()) as { servedBy: string }).servedBy).toBe(staying.url.slice('http://'.length));
  }, 60_000);
});

describe('15: docs/service-discovery.md "Service discovery": an instance killed without deregistering', () => {
  it('kill -9 while requests flow: every request still answers 200 (refused connections retried on the other instance), and the dead one leaves the rotation, then the registry at lease expiry', async () => {
    const fresh = await startUsers(gw);
    const survivor = users[1]!;
    await waitFor(async () => (await upstream(gw, 'users')).targets.filter((t) => t.state === 'healthy').length === 2, { timeout: 5000, message: 'two healthy instances again' });

    const statuses = new Map<number, number>();
    let stop = false;
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        const r = await fetch(`http://127.0.0.1:${gw.port}/api/users/${i}`);
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    })();
    await waitFor(() => (statuses.get(200) ?? 0) >= 20, { timeout: 10_000, message: 'requests flowing' });
    fresh.child.kill('SIGKILL');
    const killedAt = Date.now();
    await fresh.exited;
    const atKill = statuses.get(200) ?? 0;
    // Out of rotation: ejected by outlier detection (3 refused connections), or marked unhealthy by the active check, whichever comes first.
    await waitFor(async () => ['ejected', 'unhealthy'].includes((await upstream(gw, 'users')).targets.find((t) => t.url === fresh.url)?.state ?? ''), { timeout: 10_000, message: 'the killed instance out of rotation' });
    await waitFor(() => (statuses.get(200) ?? 0) >= atKill + 50, { timeout: 20_000, message: '50 more requests after the kill' });
    stop = true;
    await loop;
    expect([...statuses.keys()]).toEqual([200]);
    // The registry drops it when its lease runs out (expiry 15 s, evictions every 5 s in the example config), and the pool follows.
    await waitFor(async () => (await upstream(gw, 'users')).targets.map((t) => t.url).join() === survivor.url, { timeout: 30_000, interval: 250, message: 'the killed instance evicted at lease expiry' });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(10_000); // not before its lease ran out (the last heartbeat was at most 5 s before the kill)
    const r = await fetch(`http://127.0.0.1:${gw.port}/api/users/1`);
    expect(((await r.json()) as { servedBy: string }).servedBy).toBe(survivor.url.slice('http://'.length));
  }, 90_000);
});
