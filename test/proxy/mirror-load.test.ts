/**
 * The promise of shadow traffic, measured: under load (20 concurrent
 * clients), a shadow that hangs and a shadow that answers 500 change neither
 * the status nor the p99 latency of client requests. The three routes (no
 * mirror, mirror to a hung shadow, mirror to a failing shadow) are
 * interleaved in one run, so they share the machine's load, and compared by
 * ratio with a margin, never by absolute times.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Agent, request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 30_000 });

const ROUTES = ['plain', 'hung', 'failing'] as const;
const PER_ROUTE = 1500;
const CONCURRENCY = 20;

function p99(ms: number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

describe('a failing shadow never hurts the client', () => {
  let primary: TestUpstream, hung: TestUpstream, failing: TestUpstream;
  let gw: TestGateway;
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });

  beforeAll(async () => {
    [primary, hung, failing] = await Promise.all([
      startUpstream('primary'),
      startUpstream('hung', () => {
        /* never answers */
      }),
      startUpstream('failing', (_req, res) => res.writeHead(500, { 'set-cookie': 'x=1' }).end('boom')),
    ]);
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'load.yaml': {
          upstreams: {
            primary: { targets: [{ url: primary.url }], outlierDetection: { consecutiveFailures: 3, maxEjectionPercent: 100 } },
            hung: { targets: [{ url: hung.url }] },
            failing: { targets: [{ url: failing.url }], outlierDetection: { consecutiveFailures: 3, maxEjectionPercent: 100 } },
          },
          routes: [
            { id: 'plain', match: { path: '/plain/*' }, upstream: 'primary' },
            { id: 'hung', match: { path: '/hung/*' }, upstream: 'primary', mirror: { upstream: 'hung', timeout: '2s' } },
            { id: 'failing', match: { path: '/failing/*' }, upstream: 'primary', mirror: { upstream: 'failing' } },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await agent.close();
    // The hung shadow first: its open copies end at once instead of at their timeout.
    await hung.close();
    await gw.close();
    await Promise.all([primary.close(), failing.close()]);
  });

  it('keeps every status 200 and the p99 of mirrored routes within 1.5x (+3 ms) of the unmirrored one', async () => {
    // Warm up connections and JIT on every route.
    for (let i = 0; i < 60; i++) await request(`${gw.url}/${ROUTES[i % 3]}/w`, { dispatcher: agent }).then((r) => r.body.dump());
    const latency: Record<string, number[]> = { plain: [], hung: [], failing: [] };
    const statuses = new Map<number, number>();
    const total = PER_ROUTE * ROUTES.length;
    const gate = gw.gateway.runtime.routes.find((r) => r.id === 'hung')!.mirror!.gate;
    let maxInflight = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < total) {
          const i = next++;
          const route = ROUTES[i % 3]!;
          const t0 = performance.now();
          const r = await request(`${gw.url}/${route}/${i}`, { dispatcher: agent });
          await r.body.dump();
          latency[route]!.push(performance.now() - t0);
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          maxInflight = Math.max(maxInflight, gate.inflight);
          expect(r.headers['set-cookie']).toBeUndefined();
        }
      }),
    );
    expect([...statuses]).toEqual([[200, total]]);
    const p = Object.fromEntries(ROUTES.map((r) => [r, p99(latency[r]!)]));
    // Printed for the report: the measured p99s of one run.
    console.log(`mirror load: p99 ms ${JSON.stringify(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number(v.toFixed(2))])))}`);
    expect(p.hung).toBeLessThan(p.plain! * 1.5 + 3);
    expect(p.failing).toBeLessThan(p.plain! * 1.5 + 3);

    const rt = gw.gateway.runtime;
    const stats = (id: string) => rt.routes.find((r) => r.id === id)!.mirror!.stats;
    // The hung shadow holds at most limits.mirrorConcurrency (64) copies at once, each cut at 2 s; the rest were dropped and counted.
    expect(maxInflight).toBeLessThanOrEqual(64);
    const h = stats('hung');
    expect(h.dropped).toBeGreaterThan(0);
    expect(h.sent + h.dropped).toBe(PER_ROUTE + 20);
    expect(h.sent - h.timeouts).toBe(gate.inflight);
    // The failing shadow's 5xx ejected its only target (maxEjectionPercent 100); later copies found no target, counted.
    expect(stats('failing').shadow5xx).toBeGreaterThanOrEqual(3);
    expect(stats('failing').unavailable).toBeGreaterThan(0);
    // The shadow's failures ejected its own target, never the primary's (which could be ejected: maxEjectionPercent 100).
    const primaryTarget = rt.upstreams.get('primary')!.targets[0]!;
    expect(primaryTarget.ejectedUntil).toBe(0);
    expect(rt.upstreams.get('failing')!.targets[0]!.ejectedUntil).toBeGreaterThan(0);
  });
});
