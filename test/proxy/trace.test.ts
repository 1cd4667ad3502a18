import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import type { IncomingHttpHeaders } from 'node:http';
import { parseTraceparent, randomHex, validTracestate, MAX_TRACESTATE } from '../../src/http/trace-context.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe('parseTraceparent', () => {
  it('accepts a version-00 header and splits it', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, parentId: SPAN, flags: '01' });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags).toBe('00');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['another version', `01-${TRACE}-${SPAN}-01`],
    ['the forbidden version ff', `ff-${TRACE}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long span id', `00-${TRACE}-${SPAN}0-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['a trailing field (not allowed in version 00)', `${VALID}-ab`],
    ['surrounding whitespace', ` ${VALID}`],
    ['two headers joined', `${VALID}, ${VALID}`],
    ['an array', [VALID, VALID]],
  ])('rejects %s', (_name, value) => {
    expect(parseTraceparent(value as string | string[] | undefined)).toBeUndefined();
  });
});

describe('validTracestate', () => {
  it.each([
    ['one member', 'congo=t61rcWkgMzE', true],
    ['several members and empty ones', 'rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE', true],
    ['a multi-tenant key', 'tenant1@vendor=abc', true],
    ['a key with allowed symbols', 'a_b-c*d/e=1', true],
    ['a value over 256 characters', 'k=' + 'v'.repeat(257), false],
    ['a duplicate key', 'a=1,a=2', false],
    ['a member without =', 'congo', false],
    ['an upper-case key', 'Congo=1', false],
    ['a value with =', 'a=b=c', false],
    ['a value ending in a space', 'a=b ', true], // trailing OWS is list syntax, trimmed
    ['only commas', ', ,', false],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), false],
  ])('%s → %s', (_name, value, ok) => {
    expect(validTracestate(value) !== undefined).toBe(ok);
  });

  it('keeps up to 512 characters and drops a longer list', () => {
    const members = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(10)}`);
    const full = members.join(',');
    expect(full.length).toBeLessThanOrEqual(MAX_TRACESTATE);
    expect(validTracestate(full)).toBe(full);
    const long = members.map((m) => m + 'vvvv').join(',');
    expect(long.length).toBeGreaterThan(MAX_TRACESTATE);
    expect(validTracestate(long)).toBeUndefined();
  });
});

describe('randomHex', () => {
  it('returns distinct lower-case ids of the asked size across pool refills', () => {
    const seen = new Set<string>();
    // 4096-byte pool: 1000 × 24 bytes crosses several refills.
    for (let i = 0; i < 1000; i++) {
      const t = randomHex(16);
      const s = randomHex(8);
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(1000);
  });
});

describe('trace propagation through the gateway', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let logs: ReturnType<typeof captureLog>;

  beforeAll(async () => {
    up = await startUpstream('traced');
    logs = captureLog();
    gw = await startGateway({
      logger: logs.logger,
      gateway: {},
      routeFiles: {
        'r.yaml': {
          upstreams: { svc: { targets: [{ url: up.url }] } },
          routes: [{ id: 'svc', match: { path: '/svc/*' }, upstream: 'svc' }],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
  });

  const call = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(gw.url + path, { headers });
    const body = (await res.body.json()) as { headers: Record<string, string> };
    const reqId = res.headers['x-request-id'] as string;
    const line = await waitFor(() => logs.lines.find((l) => l.kind === 'access' && l.reqId === reqId), { message: 'access log line' });
    return { sent: body.headers, line };
  };

  it('continues a valid incoming trace with a new parent id and keeps tracestate', async () => {
    const { sent, line } = await call('/svc/a', { traceparent: VALID, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    const m = TP.exec(sent.traceparent!)!;
    expect(m).not.toBeNull();
    expect(m[1]).toBe(TRACE);
    expect(m[2]).not.toBe(SPAN);
    expect(m[2]).not.toBe('0'.repeat(16));
    expect(m[3]).toBe('01');
    expect(sent.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(line.trace).toBe(TRACE);
  });

  it('keeps an unsampled flag as sent', async () => {
    const { sent } = await call('/svc/b', { traceparent: `00-${TRACE}-${SPAN}-00` });
    expect(TP.exec(sent.traceparent!)![3]).toBe('00');
  });

  it('uses a fresh parent id on every request of the same trace', async () => {
    const a = await call('/svc/c', { traceparent: VALID });
    const b = await call('/svc/c', { traceparent: VALID });
    expect(TP.exec(a.sent.traceparent!)![1]).toBe(TRACE);
    expect(TP.exec(a.sent.traceparent!)![2]).not.toBe(TP.exec(b.sent.traceparent!)![2]);
  });

  it('starts a new sampled trace when the request has none', async () => {
    const { sent, line } = await call('/svc/d');
    const m = TP.exec(sent.traceparent!)!;
    expect(m).not.toBeNull();
    expect(m[1]).not.toBe('0'.repeat(32));
    expect(m[3]).toBe('01');
    expect(sent.tracestate).toBeUndefined();
    expect(line.trace).toBe(m[1]);
  });

  it.each([
    ['a wrong version', `01-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['garbage', 'hello'],
  ])('replaces a traceparent with %s by a new trace and drops its tracestate', async (_name, bad) => {
    const { sent, line } = await call('/svc/e', { traceparent: bad, tracestate: 'congo=t61rcWkgMzE' });
    const m = TP.exec(sent.traceparent!)!;
    expect(m).not.toBeNull();
    expect(m[1]).not.toBe(TRACE);
    expect(sent.traceparent).not.toBe(bad);
    expect(sent.tracestate).toBeUndefined();
    expect(line.trace).toBe(m[1]);
  });

  it('drops an invalid tracestate but continues the trace', async () => {
    const { sent } = await call('/svc/f', { traceparent: VALID, tracestate: 'Not Valid' });
    expect(TP.exec(sent.traceparent!)![1]).toBe(TRACE);
    expect(sent.tracestate).toBeUndefined();
  });

  it('propagates the trace on WebSocket upgrades too', async () => {
    const wss = new WebSocketServer({ server: up.server });
    const upgraded = new Promise<IncomingHttpHeaders>((resolve) => wss.once('connection', (_s, req) => resolve(req.headers)));
    const ws = new WebSocket(gw.url.replace('http', 'ws') + '/svc/ws', { headers: { traceparent: VALID } });
    try {
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      const headers = await upgraded;
      expect(TP.exec(headers.traceparent as string)![1]).toBe(TRACE);
      expect(headers.traceparent).not.toBe(VALID);
    } finally {
      ws.terminate();
      wss.close();
    }
  });
});

describe('tracing turned off', () => {
  it('passes client trace headers through untouched and logs no trace id', async () => {
    const up = await startUpstream('plain');
    const logs = captureLog();
    const gw = await startGateway({
      logger: logs.logger,
      gateway: { tracing: { enabled: false } },
      routeFiles: { 'r.yaml': { upstreams: { p: { targets: [{ url: up.url }] } }, routes: [{ id: 'p', match: { path: '/*' }, upstream: 'p' }] } },
    });
    try {
      const res = await request(gw.url + '/x', { headers: { traceparent: 'anything', tracestate: 'k=v' } });
      const body = (await res.body.json()) as { headers: Record<string, string> };
      expect(body.headers.traceparent).toBe('anything');
      expect(body.headers.tracestate).toBe('k=v');
      const none = await request(gw.url + '/y');
      expect(((await none.body.json()) as { headers: Record<string, string> }).headers.traceparent).toBeUndefined();
      const line = await waitFor(() => logs.lines.find((l) => l.kind === 'access' && l.path === '/y'));
      expect(line.trace).toBeUndefined();
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
