/**
 * Hot reload under load: route files change while a client sends a steady
 * stream of requests. A valid change switches traffic atomically, an invalid
 * one is rejected and the previous configuration keeps serving, and no request
 * fails in between.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { watchConfig } from '../../src/gateway/watch.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function routeFile(upstream: string, targets: TestUpstream[], extra = ''): string {
  return `upstreams:
  blue:
    targets:
      - url: ${targets[0]!.url}
  green:
    targets:
      - url: ${targets[1]!.url}
routes:
  - id: app
    match: { path: /app/* }
    upstream: ${upstream}
${extra}`;
}

async function setup(): Promise<{ dir: string; gw: TestGateway; blue: TestUpstream; green: TestUpstream; write: (text: string) => void }> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const dir = mkdtempSync(join(tmpdir(), 'sy-reload-'));
  mkdirSync(join(dir, 'routes'));
  const write = (text: string) => {
    // Write-then-rename, as editors and deploy tools do: a reader never sees half a file.
    writeFileSync(join(dir, 'routes', '.app.yaml.tmp'), text);
    renameSync(join(dir, 'routes', '.app.yaml.tmp'), join(dir, 'routes', 'app.yaml'));
  };
  write(routeFile('blue', [blue, green]));
  writeFileSync(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\nreload: { debounce: 50ms }\n');
  const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => blue.close(), () => green.close(), () => gw.close());
  return { dir, gw, blue, green, write };
}

describe('hot reload', () => {
  it('switches to a valid change and ignores an invalid one, with zero failed requests under load', async () => {
    const { gw, blue, green, write } = await setup();
    const stopWatch = watchConfig(gw.gateway);
    cleanup.push(stopWatch);
    const agent = new Agent({ connections: 4 }); // keep-alive connections survive reloads
    cleanup.push(() => agent.close());

    const seen: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const client = async () => {
      while (!stop && seen.length < 5000) {
        try {
          const res = await request(gw.url + '/app/x', { dispatcher: agent });
          const text = await res.body.text();
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${text}`);
          else seen.push((JSON.parse(text) as { upstream: string }).upstream);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);

    await waitFor(() => seen.length > 50, { message: 'warm-up traffic' });
    write(routeFile('green', [blue, green]));
    await waitFor(() => seen.length > 0 && seen[seen.length - 1] === 'green', { timeout: 5000, message: 'traffic on green' });
    const switchedAt = seen.length;
    expect(gw.gateway.runtime.version).toBe(2);

    write(routeFile('greeen', [blue, green])); // a typo: unknown upstream
    await waitFor(() => gw.gateway.lastRejected !== undefined, { timeout: 5000, message: 'rejected reload' });
    const afterReject = seen.length;
    await waitFor(() => seen.length > afterReject + 200, { message: 'traffic after the rejected change' });
    stop = true;
    await load;

    expect(failures).toEqual([]);
    // Once green, always green: nothing half-applied, the invalid change did not revert or break anything.
    expect(seen.slice(switchedAt).every((u) => u === 'green')).toBe(true);
    expect(seen.slice(0, 50).every((u) => u === 'blue')).toBe(true);
    expect(gw.gateway.runtime.version).toBe(2);
    const rejected = gw.gateway.lastRejected!.errors.join('\n');
    expect(rejected).toMatch(/app\.yaml:\d+:\d+/);
    expect(rejected).toContain('greeen');
    expect(rejected).toContain('did you mean "green"');

    const config = (await (await request(gw.adminUrl + '/config')).body.json()) as Record<string, unknown>;
    expect(config).toMatchObject({ version: 2 });
    expect(JSON.stringify(config)).toContain('greeen');
  });

  it('debounces rapid successive saves into one reload', async () => {
    const { gw, blue, green, write } = await setup();
    const stopWatch = watchConfig(gw.gateway);
    cleanup.push(stopWatch);
    for (let i = 0; i < 5; i++) write(routeFile(i % 2 ? 'blue' : 'green', [blue, green], `    stripPrefix: ${i % 2 === 0}\n`));
    await waitFor(() => gw.gateway.runtime.version > 1, { timeout: 5000, message: 'reload' });
    // Give a second reload every chance to happen: wait until the debounce window has clearly passed by polling admin state.
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 300, { interval: 50 });
    expect(gw.gateway.runtime.version).toBe(2);
    const res = await request(gw.url + '/app/x');
    expect(JSON.parse(await res.body.text())).toMatchObject({ upstream: 'green', url: '/x' });
  });

  it('carries unchanged upstream state (balancer position, counters, pools) over a reload', async () => {
    const { gw, blue, green, write } = await setup();
    const before = gw.gateway.runtime.upstreams.get('green');
    for (let i = 0; i < 3; i++) await (await request(gw.url + '/app/x')).body.text();
    write(routeFile('green', [blue, green]));
    const result = await (await request(gw.adminUrl + '/reload', { method: 'POST' })).body.json();
    expect(result).toMatchObject({ ok: true, version: 2 });
    expect(gw.gateway.runtime.upstreams.get('green')).toBe(before);
    expect(gw.gateway.runtime.upstreams.get('blue')!.targets[0]!.requests).toBe(3);
  });
});
