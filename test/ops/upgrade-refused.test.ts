/**
 * WebSocket upgrades refused before routing (400 for a malformed handshake,
 * 404 when no route takes WebSockets there) are observed exactly like
 * refused plain requests: the catalogued JSON error, one access-log line
 * with route null, a count under route "" in the request metrics, and a span
 * named by the method with the catalog code as error.type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { upgradeRequest } from '../adversarial/ws-helpers.js';
import { attrs, metric, startCollector, type Collector } from './helpers.js';
import { captureLog } from '../helpers/log-capture.js';

/** exchange sends raw bytes and reads until the gateway closes the connection. */
function exchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(data);
  });
}

describe('WebSocket upgrades refused before routing', () => {
  let up: TestUpstream;
  let col: Collector;
  let gw: TestGateway;
  const logs = captureLog();

  beforeAll(async () => {
    up = await startUpstream('svc');
    col = await startCollector();
    gw = await startGateway({
      logger: logs.logger,
      gateway: { tracing: { otlp: { endpoint: col.url, flushInterval: '20ms' } } },
      routeFiles: {
        'r.yaml': {
          upstreams: { svc: { targets: [{ url: up.url }] } },
          routes: [
            { id: 'ws', match: { path: '/ws/*' }, upstream: 'svc' },
            { id: 'plain', match: { path: '/plain/*' }, upstream: 'svc', websocket: false },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    await col?.close();
  });

  it.each([
    ['an Upgrade other than websocket', upgradeRequest('/ws/a').replace('Upgrade: websocket', 'Upgrade: h2c'), '/ws/a', 400, 'SY_ERR_BAD_REQUEST'],
    ['two Host headers', upgradeRequest('/ws/b', 'Host: other.test\r\n'), '/ws/b', 400, 'SY_ERR_BAD_REQUEST'],
    ['an encoded slash in the path', upgradeRequest('/ws/x%2fc'), '/ws/x%2fc', 400, 'SY_ERR_BAD_REQUEST'],
    ['no route', upgradeRequest('/nowhere/d'), '/nowhere/d', 404, 'SY_ERR_ROUTE_NOT_FOUND'],
    ['a route without WebSockets', upgradeRequest('/plain/e'), '/plain/e', 404, 'SY_ERR_ROUTE_NOT_FOUND'],
  ])('%s: %i with the catalog body, one access line, counted, one span', async (_name, data, path, status, code) => {
    const before = metric(await gw.gateway.metricsText(), 'switchyard_requests_total', { route: '', method: 'GET', status_class: '4xx' }) ?? 0;
    const answer = await exchange(gw.port, data);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; status: number; requestId: string } };
    expect(body.error).toMatchObject({ code, status });
    const reqId = body.error.requestId;
    expect(answer.toLowerCase()).toContain(`x-request-id: ${reqId}`);

    const line = await waitFor(() => logs.lines.find((l) => l.kind === 'access' && l.reqId === reqId), { message: 'access line' });
    expect(line).toMatchObject({ method: 'GET', path, route: null, status });
    expect(logs.lines.filter((l) => l.kind === 'access' && l.reqId === reqId)).toHaveLength(1);
    const after = metric(await gw.gateway.metricsText(), 'switchyard_requests_total', { route: '', method: 'GET', status_class: '4xx' }) ?? 0;
    expect(after - before).toBe(1);

    const span = await waitFor(() => col.spans().find((s) => attrs(s)['switchyard.request_id'] === reqId), { message: 'span' });
    expect(span.name).toBe('GET');
    expect(attrs(span)['http.response.status_code']).toBe(status);
    expect(attrs(span)['error.type']).toBe(code);
    expect(attrs(span)['switchyard.route']).toBeUndefined();
    // The log line names the span's trace, like a refused plain request's.
    expect(line.trace).toBe(span.traceId);
    // Nothing reached the upstream.
    expect(up.requests.some((r) => r.url.includes(path.slice(1)))).toBe(false);
  });
});
