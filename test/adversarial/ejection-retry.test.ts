/**
 * 13.5: the request whose failure ejects a target is retried like any other.
 * A pool of a port that refuses connections and a real upstream, no active
 * health check, passive outlier detection on: every request gets 200, the
 * one that brings the dead target to its failure threshold included (it used
 * to get 502 with `attempts: 1`, because the retry condition counted the
 * eligible set after the ejection had shrunk it to one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { freePort } from './helpers.js';

const THRESHOLDS = [1, 2, 3, 5] as const;
const BALANCERS = ['round-robin', 'least-connections', 'random'] as const;

let gw: TestGateway;
let live: TestUpstream;
let dead: number;

beforeAll(async () => {
  dead = await freePort();
  live = await startUpstream('live');
  const upstreams: Record<string, unknown> = {};
  const routes: unknown[] = [];
  for (const b of BALANCERS)
    for (const k of THRESHOLDS) {
      const name = `${b}-${k}`;
      // The dead target first, so round robin meets it on the very first request.
      upstreams[name] = {
        balancer: b,
        targets: [{ url: `http://127.0.0.1:${dead}` }, { url: live.url }],
        outlierDetection: { consecutiveFailures: k, baseEjectionTime: '60s', maxEjectionPercent: 50 },
      };
      routes.push({ id: name, match: { path: `/${name}/*` }, upstream: name });
    }
  gw = await startGateway({ gateway: {}, routeFiles: { 'r.yaml': { upstreams, routes } } });
});
afterAll(async () => {
  await gw?.close();
  await live?.close();
});

/** targetStates reads one pool's target states from the admin API. */
async function targetStates(name: string): Promise<string[]> {
  const view = (await (await request(gw.adminUrl + '/upstreams')).body.json()) as { upstreams: Array<{ name: string; targets: Array<{ state: string }> }> };
  return view.upstreams.find((u) => u.name === name)!.targets.map((t) => t.state);
}

describe('13.5: a connect failure that ejects its target is still retried on the healthy one', () => {
  for (const b of BALANCERS)
    for (const k of THRESHOLDS)
      it(`${b}, consecutiveFailures ${k}: every one of ${2 * k + 4} sequential requests gets 200`, async () => {
        const name = `${b}-${k}`;
        const statuses: number[] = [];
        for (let i = 0; i < 2 * k + 4; i++) {
          const res = await request(`${gw.url}/${name}/x${i}`);
          await res.body.dump();
          statuses.push(res.statusCode);
        }
        expect(statuses).toEqual(statuses.map(() => 200));
        // Random may never have met the dead target; the others meet it until it is ejected.
        if (b !== 'random') expect(await targetStates(name)).toEqual(['ejected', 'healthy']);
        // Each request reached the live upstream exactly once.
        expect(live.requests.filter((r) => r.url.startsWith(`/${name}/`)).map((r) => r.url)).toEqual(statuses.map((_, i) => `/${name}/x${i}`));
      });
});
