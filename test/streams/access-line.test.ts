/**
 * The stream access line (src/streams/access-line.ts) takes the HTTP access
 * log's precompiled path and is byte for byte the line pino writes for the
 * same record: hostile SNI and reasons, refusals and closes, a worker's bindings.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AccessLog } from '../../src/telemetry/access-log.js';
import { STREAM_LINE, type StreamLine } from '../../src/streams/access-line.js';

const closed: StreamLine = {
  listener: 'pg',
  route: 'pg',
  upstream: 'pg',
  target: 'tcp://127.0.0.1:5432',
  client: '127.0.0.1',
  clientPort: 40000,
  peer: undefined,
  sni: undefined,
  durationMs: 3,
  bytesIn: 100,
  bytesOut: 200,
  end: 'closed',
  code: undefined,
  reason: undefined,
  msg: 'stream closed',
};

const rows: Array<[string, Partial<StreamLine>]> = [
  ['a plain close', {}],
  ['a refusal before any target', { route: undefined, upstream: undefined, target: undefined, end: 'refused', code: 'SY_ERR_STREAM_NO_ROUTE', reason: 'no route for SNI "evil"', msg: 'stream refused' }],
  ['a client-chosen SNI with quotes, backslashes and controls', { sni: 'a"b\\c\u0000\n.example.com' }],
  ['a 300-character SNI', { sni: 'x'.repeat(300) }],
  ['a PROXY-protocol peer and an IPv6 client', { peer: '10.0.0.8', client: '2001:db8::1' }],
  ['a lone surrogate in a reason', { reason: 'bad \udc00 header', end: 'refused', msg: 'stream refused' }],
  ['non-finite and huge numbers', { bytesIn: Number.POSITIVE_INFINITY, bytesOut: 2 ** 60, durationMs: 0 }],
];

/** logger is a pino logger with the gateway's base over a stream that keeps the lines. */
function logger(): { log: pino.Logger; out: string[] } {
  const out: string[] = [];
  return { log: pino({ base: { service: 'switchyard' } }, { write: (s: string) => void out.push(s) }), out };
}

describe('18: the stream access line is precompiled and equals pino\'s', () => {
  it.each(rows)('18: %s', (_name, fields) => {
    const { log, out } = logger();
    const access = AccessLog.of(log.child({ worker: 1 }), STREAM_LINE);
    expect(access.precompiled).toBe(true);
    const rec = { ...closed, ...fields };
    // Compared as written: bytes, UTF-8 (a lone surrogate is U+FFFD in both), read back for a readable diff.
    expect(access.bytes(rec, 1_700_000_000_000).toString()).toBe(Buffer.from(AccessLog.pinoLine(log.child({ worker: 1 }).child({ kind: 'access' }), rec, 1_700_000_000_000)).toString());
    access.write(rec);
    const parsed = JSON.parse(out[0]!);
    expect(parsed).toMatchObject({ kind: 'access', worker: 1, listener: rec.listener, end: rec.end, msg: rec.msg });
    expect(parsed.sni).toBe(rec.sni);
  });
});
