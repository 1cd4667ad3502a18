/**
 * Shared parts of the issue 15 end-to-end tests: a gateway running its own
 * registry (FAST leases) with one route per application whose pool is
 * `discover: { registry }`, a reader of the Prometheus exposition, and a
 * steady GET stream that records every answer.
 */
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import { FAST } from '../registry/helpers.js';
export { metricValue } from '../helpers/metrics.js';

/** discoveryGateway starts a gateway whose route /<app lower>/* goes to a pool discovered from registry app <APP>. */
export async function discoveryGateway(o: { apps?: string[]; registry?: Record<string, unknown>; gateway?: Record<string, unknown>; upstream?: Record<string, unknown> } = {}): Promise<TestGateway> {
  const apps = o.apps ?? ['ORDERS'];
  const routes = apps.map((app) => ({ id: app.toLowerCase(), match: { path: `/${app.toLowerCase()}/*` }, upstream: app.toLowerCase() }));
  const upstreams = Object.fromEntries(apps.map((app) => [app.toLowerCase(), { discover: { registry: app }, ...o.upstream }]));
  return startGateway({
    gateway: { discovery: { registry: { ...FAST, ...o.registry } }, ...o.gateway },
    routeFiles: { 'apps.yaml': { routes, upstreams } },
  });
}

/** scrape fetches /metrics from the admin port. */
export async function scrape(gw: TestGateway): Promise<string> {
  return (await fetch(`${gw.adminUrl}/metrics`)).text();
}

/** upstreamsDoc fetches GET /upstreams from the admin port. */
export async function upstreamsDoc(gw: TestGateway): Promise<any> {
  return (await fetch(`${gw.adminUrl}/upstreams`)).json();
}

/** Stream is a steady GET loop through the gateway that keeps every answer. */
export interface Stream {
  /** answers lists "status body" per request, in order. */
  readonly answers: string[];
  /** failures lists answers that were not 200. */
  failures(): string[];
  /** stop ends the loop and waits for the request in flight. */
  stop(): Promise<void>;
}

/** stream sends GET url back to back (with `gapMs` between) until stopped. */
export function stream(url: string, gapMs = 5): Stream {
  const answers: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const r = await fetch(url);
        answers.push(`${r.status} ${await r.text()}`);
      } catch (err) {
        answers.push(`error ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return {
    answers,
    failures: () => answers.filter((a) => !a.startsWith('200 ')),
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
