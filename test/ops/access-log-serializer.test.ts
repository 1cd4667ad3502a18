/**
 * The precompiled access-log line (src/telemetry/access-log.ts) is byte for
 * byte the line pino writes for the same record through the same logger:
 * table-driven hostile strings (quotes, backslashes, control characters,
 * U+2028, lone surrogates, long strings), then a seeded random sweep.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AccessLog, HOSTILE, type AccessRecord } from '../../src/telemetry/access-log.js';
import { jsonString } from '../../src/telemetry/line-writer.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { BatchDestination } from '../../src/telemetry/log-destination.js';
import { captureLog } from '../helpers/log-capture.js';

/** gatewayLogger is a pino logger with the gateway's options (base, redaction) over a stream that keeps the lines. */
function gatewayLogger(level: pino.Level = 'info'): { logger: pino.Logger; out: string[] } {
  const out: string[] = [];
  const redact = ['authorization', 'cookie'].flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]);
  const stream = { write: (s: string) => void out.push(s) };
  return { logger: pino({ level, base: { service: 'switchyard' }, redact: { paths: redact, censor: '[redacted]' } }, stream), out };
}

/**
 * written is the bytes pino writes for a line: its string, UTF-8 encoded (a lone surrogate becomes
 * U+FFFD), as a string again for a readable diff (decoding valid UTF-8 loses nothing).
 */
const written = (line: string): string => Buffer.from(line).toString();

/** base is in the order the gateway builds its records (pino writes keys in object order; so does the serializer, by the record's fixed order). */
const base: AccessRecord = { reqId: 'r1', method: 'GET', path: '/a', route: 'api', upstream: 'up', target: 't1', status: 200, ms: 1.5, upstreamMs: 1.2, attempts: 1, bytes: 100, ip: '127.0.0.1', trace: 'abc' };

/** Hostile values, one field at a time: each row is a record the line must render exactly as pino does. */
const rows: Array<[string, Partial<AccessRecord>]> = [
  ['quotes and backslashes', { path: '/a"b\\c"', reqId: '"' }],
  ['control characters (JSON.stringify path)', { path: '/\u0000\u0001\n\r\t\u001f' }],
  ['DEL and C1 controls pass through', { path: '/\u007f\u0085\u009f' }],
  ['line and paragraph separators', { upstream: '\u2028\u2029' }],
  ['non-ASCII: accents, CJK, emoji', { target: 'é漢字🙂' }],
  ['a lone surrogate', { code: '\udfff', err: 'x\ud800y' }],
  ['exactly 100 characters', { path: '/' + 'a'.repeat(98) + '"' }],
  ['101 characters (JSON.stringify path)', { path: '/' + 'a'.repeat(99) + '"' }],
  ['long with a lone surrogate', { path: '/' + '\ud800'.repeat(120) }],
  ['html and a closing script tag', { plugin: '</script><!--' }],
  ['empty strings', { reqId: '', path: '', ip: '' }],
  ['unrouted: route null, no upstream fields', { route: null, upstream: undefined, target: undefined, upstreamMs: undefined, attempts: undefined, bytes: undefined }],
  ['non-finite numbers are null', { ms: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY, bytes: -0 }],
  ['large and fractional numbers', { bytes: 2 ** 53, ms: 1e-7, status: 599 }],
  ['an error with code and plugin', { status: 401, code: 'SY_ERR_PLUGIN_REJECTED', plugin: 'jwt', err: 'Error ECONNRESET: socket hang up' }],
];

describe('17: the precompiled access-log line equals pino\'s, byte for byte (as written: UTF-8)', () => {
  it.each(rows)('17: %s', (_name, fields) => {
    const { logger } = gatewayLogger();
    const log = AccessLog.create(logger);
    expect(log.precompiled).toBe(true);
    const rec = { ...base, ...fields };
    const pinoLine = AccessLog.pinoLine(logger.child({ kind: 'access' }), rec, 1_700_000_000_123);
    expect(log.bytes(rec, 1_700_000_000_123).toString()).toBe(written(pinoLine));
    expect(log.bytes(rec, 1_700_000_000_123).equals(Buffer.from(pinoLine))).toBe(true);
  });

  it('17: the start-up sample itself, and through a worker child logger (its bindings come first)', () => {
    const { logger } = gatewayLogger();
    const worker = logger.child({ worker: 2 });
    const log = AccessLog.create(worker);
    expect(log.precompiled).toBe(true);
    const line = log.bytes(HOSTILE, 5).toString();
    expect(line).toBe(written(AccessLog.pinoLine(worker.child({ kind: 'access' }), HOSTILE, 5)));
    expect(line.startsWith('{"level":30,"time":5,"service":"switchyard","worker":2,"kind":"access","reqId":')).toBe(true);
  });

  it('17: 5,000 random records of hostile characters', () => {
    // A seeded generator: a failure names a record that can be replayed.
    let seed = 17;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pool = ['a', 'Z', '"', '\\', '/', '\u0000', '\n', '\u001f', '\u007f', '\u2028', 'é', '漢', '\ud83d\ude42', '\ud800', '\udc00', ' ', '{', '}'];
    const text = () => Array.from({ length: rand(130) }, () => pool[rand(pool.length)]).join('');
    const { logger } = gatewayLogger();
    const log = AccessLog.create(logger);
    const ref = logger.child({ kind: 'access' });
    for (let i = 0; i < 5000; i++) {
      const rec: AccessRecord = { ...base, reqId: text(), path: text(), route: rand(4) === 0 ? null : text(), upstream: text(), target: text(), ip: text(), trace: text(), err: rand(2) ? text() : undefined, plugin: rand(2) ? text() : undefined };
      const line = log.bytes(rec, i);
      const pinoLine = Buffer.from(AccessLog.pinoLine(ref, rec, i));
      if (!line.equals(pinoLine)) expect({ i, rec, line: line.toString() }).toEqual({ i, rec, line: pinoLine.toString() });
    }
  });

  it('17: every UTF-16 code unit, alone in a value and between plain characters', () => {
    // The copy path decides per code unit (a table of all 65,536) whether a value passes as it is: each one against pino's line.
    const { logger } = gatewayLogger();
    const log = AccessLog.create(logger);
    const ref = logger.child({ kind: 'access' });
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const rec: AccessRecord = { ...base, path: `/a${ch}b`, upstream: ch };
      const line = log.bytes(rec, c);
      const pinoLine = Buffer.from(AccessLog.pinoLine(ref, rec, c));
      if (!line.equals(pinoLine)) expect({ c, line: line.toString() }).toEqual({ c, line: pinoLine.toString() });
    }
  });

  it('17: the prefix kept per millisecond: repeated, changing and earlier times, two logs with different bindings in turn', () => {
    const { logger } = gatewayLogger();
    const worker = logger.child({ worker: 2 });
    const logs = [AccessLog.create(logger), AccessLog.create(worker)];
    const refs = [logger.child({ kind: 'access' }), worker.child({ kind: 'access' })];
    const times = [999, 999, 1000, 1000, 999, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 0, 10_000_000_000_000];
    for (const time of times) {
      for (const k of [0, 1]) expect(logs[k]!.bytes(base, time).toString()).toBe(written(AccessLog.pinoLine(refs[k]!, base, time)));
    }
  });

  it('17: jsonString parses back to the string for everything JSON can carry', () => {
    for (const s of ['', 'plain', 'a"b\\c', '\u0000\n', 'é🙂', 'x'.repeat(300)]) expect(JSON.parse(jsonString(s))).toBe(s);
  });

  it('17: the written line is the rendered one; a level above info writes none', () => {
    const { logger, out } = gatewayLogger();
    const log = AccessLog.create(logger);
    const before = Date.now();
    log.write(base);
    expect(out).toHaveLength(1);
    const time = (JSON.parse(out[0]!) as { time: number }).time;
    expect(time).toBeGreaterThanOrEqual(before);
    expect(out[0]).toBe(log.render(base, time));

    const quiet = gatewayLogger('warn');
    AccessLog.create(quiet.logger).write(base);
    expect(quiet.out).toEqual([]);
  });

  it('17: the gateway\'s own logger (batched JSON destination) takes the precompiled path', () => {
    const logger = createLogger({ log: { level: 'info', pretty: false, accessLog: true, refusalLinesPerSecond: 20, redact: ['authorization'] } } as Parameters<typeof createLogger>[0]);
    expect(AccessLog.create(logger).precompiled).toBe(true);
    // One shared stdout destination per process, whatever the number of loggers.
    const stream = (l: pino.Logger) => (l as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
    expect(stream(logger)).toBeInstanceOf(BatchDestination);
    expect(stream(createLogger({ log: { level: 'warn', pretty: false, accessLog: true, refusalLinesPerSecond: 20, redact: [] } } as Parameters<typeof createLogger>[0]))).toBe(stream(logger));
  });

  it('17: a logger whose formatters change the line falls back to pino\'s path (the check catches it)', () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, cb) => void (lines.push(c.toString()), cb()) });
    const logger = pino({ formatters: { log: (o: Record<string, unknown>) => ({ ...o, extra: 1 }) } }, stream);
    const log = AccessLog.create(logger);
    expect(log.precompiled).toBe(false);
    expect(log.render(base, 1)).toContain('"extra":1');
    // Another timestamp format is not what the precompiled line writes: pino's path too.
    expect(AccessLog.create(pino({ timestamp: pino.stdTimeFunctions.isoTime }, stream)).precompiled).toBe(false);
    // The tests' capture logger (a Writable) is a plain stream: precompiled.
    expect(AccessLog.create(captureLog().logger).precompiled).toBe(true);
  });
});
