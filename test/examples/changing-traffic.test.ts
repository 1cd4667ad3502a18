/**
 * Issue 19's walkthrough, docs/changing-traffic.md "Changing traffic safely" (once
 * the README's section), run as it is written, command after command through bash in a temp folder holding a
 * copy of this checkout's gateway.yaml, routes and plugins: the demo pools
 * (the demo's own request handler, on free ports), the gateway started from
 * the copied live/gateway.yaml, then a canary at 10 % written with the
 * README's heredoc, `switchyard diff --against` the running gateway's admin
 * API, the change applied, raised to 50 % (nobody leaves api-v2) and a 5 %
 * mirror to the shadow. Every address in a command (the heredoc's and the
 * sed's too) is rewritten to this run's ports; nothing else is changed.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_POOLS, demoServer } from '../../src/cli/demo.js';
import { waitFor } from '../../src/testing/index.js';
import { fromSource, inOrder, killAll, onPorts, readmeCommands, ROOT, shell, startGateway, type Ports } from './helpers.js';

const SECTION = 'Changing traffic safely';

let dir: string;
let gw: Ports;
/** demoPorts maps each demo port the README names (9001 ...) to the one this run's demo upstream listens on. */
const demoPorts = new Map<number, number>();
const servers: http.Server[] = [];
/** said collects what the demo upstreams print (the shadow's copies). */
const said: string[] = [];

/** onDemoPorts rewrites the demo pools' addresses (127.0.0.1:9001 ...) to this run's, in one pass (a new port is never rewritten again). */
const onDemoPorts = (text: string): string => text.replace(/127\.0\.0\.1:(\d+)/g, (all, p: string) => (demoPorts.has(Number(p)) ? `127.0.0.1:${demoPorts.get(Number(p))}` : all));

/** The walk-through's commands, taken one after the other (inOrder). */
const { next, left } = inOrder(readmeCommands(SECTION, 'docs/changing-traffic.md'), `docs/changing-traffic.md "${SECTION}"`);

/** sh runs a README command in the temp folder, every address on this run's ports and `npm exec switchyard --` from source. */
const sh = (cmd: string, code = 0): Promise<string> => shell(fromSource(onDemoPorts(onPorts(cmd, gw))), { cwd: dir, code });

const version = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${gw.adminPort}/config`)).json()) as { version: number }).version;

/** applied runs the README's `cp next/... live/...` and waits for the gateway to load it (its /config version moves on). */
async function applied(cmd: string): Promise<void> {
  const before = await version();
  await sh(cmd);
  await waitFor(async () => (await version()) > before, { timeout: 10_000, message: `a reload after "${cmd}"` });
}

/** RouteView is the part of GET /routes the walkthrough looks at. */
interface RouteView {
  id: string;
  split: { legs: Array<{ upstream: string; primary: boolean; cohorts: number; requests: number; errors5xx: number }> } | null;
  mirror: { upstream: string; percent: number; counts: { sent: number; ok: number; dropped: number; errors: number; timeouts: number } } | null;
}

const pools = (out: string): string[] => out.trim().split('\n').filter(Boolean);

beforeAll(async () => {
  // `npm run demo &`: the demo's upstreams, each on a free port.
  expect(next('npm run demo')).toBe('npm run demo &');
  for (const [pool, ports] of Object.entries(DEMO_POOLS)) {
    for (const port of ports) {
      const server = demoServer(pool, (line) => said.push(line));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      demoPorts.set(port, (server.address() as AddressInfo).port);
    }
  }
  // "from this checkout": its gateway.yaml, routes and plugins, on this run's ports (the gateway's own: 0, read from its log; on loopback only).
  dir = mkdtempSync(join(tmpdir(), 'sy-traffic-'));
  for (const f of ['gateway.yaml', 'routes', 'plugins']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  for (const f of ['routes/api.yaml', 'routes/static.yaml']) writeFileSync(join(dir, f), onDemoPorts(readFileSync(join(dir, f), 'utf8')));
  const gatewayYaml = readFileSync(join(dir, 'gateway.yaml'), 'utf8');
  expect(gatewayYaml).toMatch(/port: 8080 }/);
  expect(gatewayYaml).toMatch(/port: 9901 }/);
  expect(gatewayYaml).toContain('${SWITCHYARD_HOST:-0.0.0.0}');
  writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml.replace('port: 8080 }', 'port: 0 }').replace('port: 9901 }', 'port: 0 }').replace('${SWITCHYARD_HOST:-0.0.0.0}', '127.0.0.1'));

  await shell(next('mkdir -p live next && cp -r gateway.yaml routes plugins live/'), { cwd: dir });
  const start = next('npm exec switchyard -- start --config ');
  const config = /--config (\S+) &$/.exec(start)![1]!;
  gw = await startGateway(join(dir, config));
}, 60_000);

afterAll(async () => {
  await killAll();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('19: docs/changing-traffic.md "Changing traffic safely", word for word', () => {
  it('1-2. a canary at 10 % in next/: the diff against the running gateway says what moves, and exits 1', async () => {
    await sh(next("cat > next/routes/api.yaml <<'EOF'"));
    const out = await sh(next('npm exec switchyard -- diff --config next/gateway.yaml --against http://127.0.0.1:9901'), 1);
    expect(out).toContain('What moves (1 request of 2):');
    expect(out).toContain('GET /api/1: api: split added: 10 % of cohorts (header:x-user) api → api-v2 (buckets 0-9); ');
    expect(out).toMatch(/\(routes\/api\.yaml:9\)/);
    expect(out).toContain('Routes (1 changed):');
    expect(out).toContain('~ api  routes/api.yaml:14 → routes/api.yaml:9');
    expect(out).toContain('split: (none) → {"by":"header:x-user","to":[');
    expect(out).toContain('Upstreams (1 added):');
    expect(out).toContain('+ api-v2  routes/api.yaml:5');
    expect(out).not.toContain('Gateway settings'); // live/ and next/ are copies of the same gateway.yaml
  }, 30_000);

  it('applied: about 10 % of 100 users on api-v2, each staying there; a tester (x-canary: 1) always on api-v2', async () => {
    await applied(next('cp next/routes/api.yaml live/routes/api.yaml'));
    const counts = Object.fromEntries(
      pools(await sh(next('for i in $(seq 100); do curl -s -H "x-user: user$i" localhost:8080/api/users/42 | grep -o'))).map((l) => {
        const [n, pool] = l.trim().split(/\s+/);
        return [pool!, Number(n)];
      }),
    );
    expect(Object.keys(counts).sort()).toEqual(['"pool":"api"', '"pool":"api-v2"']);
    expect(counts['"pool":"api"']! + counts['"pool":"api-v2"']!).toBe(100);
    // 100 users hash to 100 buckets independently: the count on api-v2 is binomial(100, 0.1), mean 10, sd 3;
    // 3-20 is more than ±2 sd (the hash is fixed, so the run is reproducible; this bounds "about 10 %").
    expect(counts['"pool":"api-v2"']).toBeGreaterThanOrEqual(3);
    expect(counts['"pool":"api-v2"']).toBeLessThanOrEqual(20);

    await sh(next('for i in $(seq 100); do curl -s -H "x-user: user$i" localhost:8080/api/users/42 | grep -q api-v2 && echo user$i; done | sort > v2-at-10.txt'));
    const at10 = pools(readFileSync(join(dir, 'v2-at-10.txt'), 'utf8'));
    expect(at10).toHaveLength(counts['"pool":"api-v2"']!); // the same users, asked again: each stays on its side

    const tester = JSON.parse(await sh(next("curl -s -H 'x-canary: 1' localhost:8080/api/users/42"))) as { pool: string; path: string };
    expect(tester).toMatchObject({ pool: 'api-v2', path: '/users/42' });
  }, 60_000);

  it('3. raised to 50 %: the diff says 40 % more move, none leaves api-v2; after it applies, every user of the 10 % is still on api-v2', async () => {
    await sh(next("sed -i 's/weight: 10 }/weight: 50 }/' next/routes/api.yaml"));
    const out = await sh(next('npm exec switchyard -- diff --config next/gateway.yaml --against http://127.0.0.1:9901'), 1);
    expect(out).toContain('GET /api/1: api: split changed: 40 % of cohorts (header:x-user) api → api-v2 (buckets 10-49); no cohort leaves api-v2 (');
    await applied(next('cp next/routes/api.yaml live/routes/api.yaml'));
    await sh(next('for i in $(seq 100); do curl -s -H "x-user: user$i" localhost:8080/api/users/42 | grep -q api-v2 && echo user$i; done | sort > v2-at-50.txt'));
    const at10 = pools(readFileSync(join(dir, 'v2-at-10.txt'), 'utf8'));
    const at50 = pools(readFileSync(join(dir, 'v2-at-50.txt'), 'utf8'));
    expect(at50.length).toBeGreaterThan(at10.length);
    expect(await sh(next('comm -23 v2-at-10.txt v2-at-50.txt'))).toBe('');
  }, 60_000);

  it('4. a 5 % mirror to the shadow: the diff says nothing moves; the shadow gets copies marked X-Mirrored-From: api; /routes shows the split legs and the mirror counts', async () => {
    await sh(next("sed -i 's|^routes:|  api-shadow: { targets: [ { url: \"http://127.0.0.1:9031\" } ] }\\nroutes:|' next/routes/api.yaml"));
    await sh(next("echo '    mirror: { upstream: api-shadow, percent: 5 }' >> next/routes/api.yaml"));
    const out = await sh(next('npm exec switchyard -- diff --config next/gateway.yaml --against http://127.0.0.1:9901'), 1);
    expect(out).toContain('What moves: nothing');
    await applied(next('cp next/routes/api.yaml live/routes/api.yaml'));
    expect(said).toEqual([]);
    await sh(next('for i in $(seq 200); do curl -s -o /dev/null localhost:8080/api/users/$i; done'));

    // The copies are sent after the clients' answers: wait until every one the gateway counted reached the shadow.
    const apiRoute = async (): Promise<RouteView> => ((await (await fetch(`http://127.0.0.1:${gw.adminPort}/routes`)).json()) as { routes: RouteView[] }).routes.find((r) => r.id === 'api')!;
    await waitFor(async () => {
      const m = (await apiRoute()).mirror!.counts;
      return m.ok === m.sent && said.length === m.sent;
    }, { timeout: 10_000, message: 'the mirrored copies to arrive' });

    const route = (JSON.parse(await sh(next('curl -s localhost:9901/routes'))) as { routes: RouteView[] }).routes.find((r) => r.id === 'api')!;
    const copies = said.filter((l) => l.startsWith('api-shadow '));
    expect(route.mirror).toMatchObject({ upstream: 'api-shadow', percent: 5, counts: { sent: copies.length, ok: copies.length, dropped: 0, errors: 0, timeouts: 0 } });
    expect(route.split!.legs).toEqual([
      expect.objectContaining({ upstream: 'api', primary: true, cohorts: 50 }),
      expect.objectContaining({ upstream: 'api-v2', primary: false, cohorts: 50 }),
    ]);
    for (const leg of route.split!.legs) expect(leg.requests).toBeGreaterThan(0);
    expect(route.split!.legs.reduce((n, l) => n + l.errors5xx, 0)).toBe(0);
    expect(copies).toEqual(said); // only the shadow is sent copies
    expect(copies.length).toBeGreaterThanOrEqual(1);
    expect(copies.length).toBeLessThanOrEqual(30);
    for (const l of copies) expect(l).toMatch(new RegExp(`^api-shadow 127\\.0\\.0\\.1:${demoPorts.get(9031)} got a copy of GET /users/\\d+ \\(route api\\)\\n$`));
    expect(left()).toBe(0); // every command of the section ran
  }, 60_000);
});
