/**
 * The Prometheus scrape after a known sequence of requests holds the series
 * operators alert on, with exact counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { metricValue as value } from '../helpers/metrics.js';

async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('metrics', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let text: string;

  beforeAll(async () => {
    up = await startUpstream('api');
    const dead = await deadPort();
    gw = await startGateway({
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: { api: { targets: [{ url: up.url }] }, gone: { targets: [{ url: `http://127.0.0.1:${dead}` }], outlierDetection: { enabled: false } } },
          routes: [
            { id: 'api', match: { path: '/api/*' }, upstream: 'api' },
            { id: 'gone', match: { path: '/gone/*' }, upstream: 'gone' },
          ],
        },
      },
    });
    for (let i = 0; i < 3; i++) await (await request(gw.url + '/api/x')).body.text();
    await (await request(gw.url + '/api/y', { method: 'POST', body: 'x' })).body.text();
    await (await request(gw.url + '/nowhere')).body.text();
    await (await request(gw.url + '/gone/x')).body.text();
    await gw.gateway.reload();
    text = await (await request(gw.adminUrl + '/metrics')).body.text();
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  it('counts requests by route, method and status class, with latency histograms', () => {
    expect(value(text, 'switchyard_requests_total', { route: 'api', method: 'GET', status_class: '2xx' })).toBe(3);
    expect(value(text, 'switchyard_requests_total', { route: 'api', method: 'POST', status_class: '2xx' })).toBe(1);
    expect(value(text, 'switchyard_requests_total', { route: 'gone', method: 'GET', status_class: '5xx' })).toBe(1);
    expect(value(text, 'switchyard_request_duration_seconds_count', { route: 'api', method: 'GET', status_class: '2xx' })).toBe(3);
    expect(text).toMatch(/switchyard_requests_total\{[^}]*status_class="4xx"[^}]*\} 1/);
  });

  it('counts upstream attempts by upstream, target and outcome', () => {
    expect(value(text, 'switchyard_upstream_requests_total', { upstream: 'api', target: up.url, outcome: 'ok' })).toBe(4);
    expect(value(text, 'switchyard_upstream_requests_total', { upstream: 'gone', outcome: 'error' })).toBe(1);
    expect(value(text, 'switchyard_upstream_duration_seconds_count', { upstream: 'api', target: up.url })).toBe(4);
  });

  it('exposes target health and in-flight gauges, config reloads and the active version', () => {
    expect(value(text, 'switchyard_target_healthy', { upstream: 'api', target: up.url, state: 'healthy' })).toBe(1);
    expect(value(text, 'switchyard_target_inflight', { upstream: 'api', target: up.url })).toBe(0);
    expect(value(text, 'switchyard_events_total', { event: 'config_reload', result: 'ok' })).toBe(1);
    expect(value(text, 'switchyard_config_version', {})).toBe(2);
    expect(text).toContain('switchyard_process_resident_memory_bytes');
  });
});
