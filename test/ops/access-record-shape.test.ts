/**
 * Every record the access log encodes has one shape: every key of
 * AccessRecord, in the line's order. Records with the same keys in the same
 * order share one hidden class in V8, so the encoder's loads (writeFields)
 * stay monomorphic; a record with fewer keys per call site (the refusals'
 * used to be) gave them a shape to check per call site
 * (src/telemetry/access-log.ts, `unrouted`).
 */
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { HOSTILE, unrouted, type AccessLog, type AccessRecord } from '../../src/telemetry/access-log.js';
import { NO_METRICS, Observer } from '../../src/telemetry/observer.js';
import type { Exchange } from '../../src/proxy/exchange.js';
import type { Refusal } from '../../src/proxy/hooks.js';

/** KEYS is the line's order: the start-up sample holds every field. */
const KEYS = Object.keys(HOSTILE);

/** capturing is an Observer whose access log keeps the records it is handed. */
function capturing(): { observer: Observer; records: AccessRecord[] } {
  const records: AccessRecord[] = [];
  const access = { write: (r: AccessRecord) => void records.push(r), notice: () => {} } as unknown as AccessLog;
  return { observer: new Observer(access, NO_METRICS), records };
}

describe('17: one shape for every access record', () => {
  it('17: the sample lists every field of the line, in the order the line writes them', () => {
    expect(KEYS).toEqual(['reqId', 'method', 'path', 'route', 'upstream', 'split', 'target', 'status', 'ms', 'upstreamMs', 'attempts', 'bytes', 'ip', 'trace', 'code', 'plugin', 'mirrored', 'err']);
  });

  it('17: a routed request, a request refused at admission and one the parser refused give records of the same keys in the same order', () => {
    const { observer, records } = capturing();
    const ex = {
      id: 'r1', method: 'GET', path: '/api/x', routeId: 'api', upstream: 'users', split: undefined, target: { id: '127.0.0.1:9001' },
      status: 200, upstreamMs: 0.4, attempts: 1, sent: 12, clientIp: '127.0.0.1', traceId: undefined, code: undefined, plugin: undefined,
      mirrored: false, error: undefined, elapsedMs: () => 1.25,
    } as unknown as Exchange;
    observer.finished(ex);
    const refusal: Refusal = { req: { headers: {} } as IncomingMessage, method: 'GET', path: '/nowhere', status: 404, code: 'SY_ERR_ROUTE_NOT_FOUND', requestId: 'r2', ip: '127.0.0.1', ms: 0.5 };
    observer.rejected(refusal, true);
    observer.refused('GET', '/bad', 400, 'r3', '127.0.0.1', 'SY_ERR_BAD_REQUEST', false);
    expect(records).toHaveLength(3);
    for (const r of records) expect(Object.keys(r)).toEqual(KEYS);
    expect(records[1]).toMatchObject({ reqId: 'r2', path: '/nowhere', route: null, status: 404, ms: 0.5, code: 'SY_ERR_ROUTE_NOT_FOUND' });
    expect(records[1]!.trace).toMatch(/^[0-9a-f]{32}$/);
    expect(records[2]).toMatchObject({ reqId: 'r3', path: '/bad', route: null, status: 400, ms: 0, code: 'SY_ERR_BAD_REQUEST', trace: undefined });
  });

  it('17: unrouted leaves the upstream fields undefined (out of the line) and the route null', () => {
    const r = unrouted('r', 'GET', '/', 431, 0.2, '::1', undefined, 'SY_ERR_HEADERS_TOO_LARGE');
    expect(Object.keys(r)).toEqual(KEYS);
    expect(r).toEqual({ reqId: 'r', method: 'GET', path: '/', route: null, status: 431, ms: 0.2, ip: '::1', code: 'SY_ERR_HEADERS_TOO_LARGE' });
  });
});
