/**
 * 13.7: requests node's HTTP/1 parser refuses (ambiguous framing, a bad chunk,
 * oversized headers, a too-long request line, a header timeout) are answered
 * on the raw socket, and still leave the trace every request leaves: a request
 * id in the body and in X-Request-Id, one access-log line, and a count in
 * switchyard_requests_total under route "" (as 404s are counted). A flood of
 * them writes a bounded number of log lines and says how many it left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { metric } from '../ops/helpers.js';
import { sendRaw, startRecorder, type Recorder } from './helpers.js';

const H = 'Host: gw.test\r\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let rec: Recorder;
let gw: TestGateway;
const logs = captureLog();

beforeAll(async () => {
  rec = await startRecorder();
  gw = await startGateway({
    logger: logs.logger,
    gateway: { limits: { maxHeaderSize: 4096, maxUrlLength: 512, headerTimeout: '1s' }, log: { refusalLinesPerSecond: 5 } },
    routeFiles: {
      'r.yaml': {
        upstreams: { rec: { targets: [{ url: rec.url }] } },
        routes: [{ id: 'all', match: { path: '/*' }, upstream: 'rec' }],
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await rec?.close();
});

/** count reads switchyard_requests_total for `labels` (0 when the series does not exist yet). */
async function count(labels: Record<string, string>): Promise<number> {
  return metric(await gw.gateway.metricsText(), 'switchyard_requests_total', labels) ?? 0;
}

const access = () => logs.lines.filter((l) => l.kind === 'access');

describe('13.7: requests refused by the HTTP/1 parser are visible', () => {
  it.each([
    ['CL+TE', `POST /smuggle HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, 400, 'SY_ERR_BAD_REQUEST', 'POST', '/smuggle'],
    ['oversized headers', `GET /big-headers HTTP/1.1\r\n${H}X-Fill: ${'a'.repeat(6000)}\r\n\r\n`, 431, 'SY_ERR_HEADERS_TOO_LARGE', 'GET', '/big-headers'],
    ['request line over the URL limit', `GET /${'u'.repeat(5000)} HTTP/1.1\r\n${H}\r\n`, 414, 'SY_ERR_URL_TOO_LONG', 'GET', `/${'u'.repeat(255)}`],
    ['no valid request line', `\x16\x03\x01 not http at all\r\n\r\n`, 400, 'SY_ERR_BAD_REQUEST', '-', '-'],
  ])('13.7: %s gets a request id in body and header, one access-log line and a metrics count', async (_name, payload, status, code, method, path) => {
    const labels = { route: '', method, status_class: '4xx' };
    const before = await count(labels);
    const lines = access().length;
    const r = await sendRaw(gw.port, payload);
    expect(r.responses.map((x) => x.status)).toEqual([status]);
    const res = r.responses[0]!;
    const id = res.header('x-request-id')!;
    expect(id).toMatch(UUID);
    expect(res.json().error).toMatchObject({ code, requestId: id });
    await waitFor(() => access().length > lines, { message: 'access-log line' });
    const mine = access().filter((l) => l.reqId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ method, path, route: null, status, code, ip: '127.0.0.1' });
    expect(mine[0]!.trace).toMatch(/^[0-9a-f]{32}$/);
    expect(await count(labels)).toBe(before + 1);
    expect(rec.requests()).toEqual([]);
  });

  it('13.7: a bad chunk in a routed request is that request\'s answer: its id, one line, counted under its route', async () => {
    const labels = { route: 'all', method: 'POST', status_class: '4xx' };
    const before = await count(labels);
    const refusedBefore = await count({ route: '', method: 'POST', status_class: '4xx' });
    const r = await sendRaw(gw.port, `POST /chunky HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`);
    expect(r.responses.map((x) => x.status)).toEqual([400]);
    const id = r.responses[0]!.header('x-request-id')!;
    expect(id).toMatch(UUID);
    expect(r.responses[0]!.json().error).toMatchObject({ code: 'SY_ERR_BAD_REQUEST', requestId: id });
    await waitFor(() => access().some((l) => l.reqId === id), { message: 'access-log line' });
    expect(await count(labels)).toBe(before + 1);
    expect(await count({ route: '', method: 'POST', status_class: '4xx' })).toBe(refusedBefore);
    // The client's close that follows the refusal adds no second line (a 499) for the same request.
    await waitFor(() => gw.gateway.runtime.upstreams.get('rec')!.targets.every((t) => t.inflight === 0), { message: 'attempt released' });
    const mine = access().filter((l) => l.path === '/chunky');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ reqId: id, route: 'all', status: 400, code: 'SY_ERR_BAD_REQUEST' });
  });

  it('13.7: a header timeout (408) is logged and counted', async () => {
    const labels = { route: '', method: '-', status_class: '4xx' };
    const before = await count(labels);
    const r = await sendRaw(gw.port, `GET /slow HTTP/1.1\r\n${H}`, { deadline: 5000 });
    expect(r.responses.map((x) => x.status)).toEqual([408]);
    const id = r.responses[0]!.header('x-request-id')!;
    expect(id).toMatch(UUID);
    await waitFor(() => access().some((l) => l.reqId === id), { message: 'access-log line' });
    expect(access().find((l) => l.reqId === id)).toMatchObject({ status: 408, code: 'SY_ERR_REQUEST_TIMEOUT', route: null });
    expect(await count(labels)).toBe(before + 1);
  });

  it('13.7: a flood of 1,000 bad requests writes a bounded number of lines and reports the rest as suppressed', async () => {
    const labels = { route: '', method: 'POST', status_class: '4xx' };
    const before = await count(labels);
    const suppressedBefore = metric(await gw.gateway.metricsText(), 'switchyard_events_total', { event: 'access_log_suppressed' }) ?? 0;
    const start = logs.lines.length;
    const probe = `POST /flood HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`;
    const t0 = performance.now();
    for (let batch = 0; batch < 20; batch++) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => sendRaw(gw.port, probe)));
      for (const r of rs) expect(r.responses[0]?.status).toBe(400);
    }
    const seconds = Math.ceil((performance.now() - t0) / 1000) + 1;
    expect(await count(labels)).toBe(before + 1000);
    // Lines left out are reported once their second ends.
    await waitFor(
      async () => {
        const written = logs.lines.slice(start).filter((l) => l.path === '/flood').length;
        const suppressed = logs.lines.slice(start).reduce((n, l) => n + (typeof l.suppressed === 'number' ? l.suppressed : 0), 0);
        return written + suppressed === 1000;
      },
      { message: 'every refusal either logged or counted as suppressed' },
    );
    const written = logs.lines.slice(start).filter((l) => l.path === '/flood').length;
    expect(written).toBeLessThanOrEqual(5 * seconds);
    const report = logs.lines.slice(start).filter((l) => typeof l.suppressed === 'number');
    expect(report.length).toBeGreaterThan(0);
    expect(report.length).toBeLessThanOrEqual(seconds);
    expect(report[0]).toMatchObject({ level: 40, kind: 'access' });
    const suppressedMetric = metric(await gw.gateway.metricsText(), 'switchyard_events_total', { event: 'access_log_suppressed' });
    expect(suppressedMetric! - suppressedBefore).toBe(1000 - written);
  });

  it('13.7: log lines carry no duplicate keys', () => {
    expect(logs.duplicates).toEqual([]);
  });
});
