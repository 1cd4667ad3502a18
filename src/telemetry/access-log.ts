/**
 * The access log: one JSON line per request, written by a precompiled
 * serializer instead of pino's generic object path. pino walks the record's
 * keys, looks up serializers and redaction stringifiers per key and formats
 * each value by its type; the access record's keys and types are fixed, so
 * the line is encoded straight into the batch destination's buffer by a
 * function compiled for them at load (line-compiler.ts, into line-writer.ts's
 * buffer: no string per line). The line is byte for byte the
 * one pino writes for the same record through the same logger (level, time,
 * the logger's bindings, then the fields in order, undefined ones left out,
 * strings escaped exactly as pino escapes them): `AccessLog.create` checks
 * that on a sample of hostile strings when it is built and falls back to
 * pino's own path if the two ever differ (a pino upgrade, a logger with
 * formatters). No redaction pass: the record holds no headers. The same
 * machinery writes the stream listeners' line per connection
 * (src/streams/access-line.ts): a LineFormat is a record's fields and a
 * hostile sample for that check.
 */
import { pino, type Logger } from 'pino';
import { BatchDestination, type LineSource } from './log-destination.js';
import { LineWriter } from './line-writer.js';
import { compileFields } from './line-compiler.js';

/** AccessRecord is one access-log line's fields; the order here is the order in the line. */
export interface AccessRecord {
  reqId: string;
  method: string;
  path: string;
  /** route is null for a request answered before routing. */
  route: string | null;
  upstream?: string | undefined;
  /** split is the leg (its upstream) that served a request of a route with a canary split. */
  split?: string | undefined;
  target?: string | undefined;
  status: number;
  ms: number;
  upstreamMs?: number | undefined;
  attempts?: number | undefined;
  /** bytes is the body bytes actually sent to the client (counted chunk by chunk for chunked responses). */
  bytes?: number | undefined;
  ip: string;
  trace?: string | undefined;
  /** code is the SY_ERR_* code of an answer the gateway or a plugin made. */
  code?: string | undefined;
  /** plugin names the plugin that answered or failed. */
  plugin?: string | undefined;
  /** mirrored is true when a shadow copy of the request was sent (a route's mirror); left out otherwise. */
  mirrored?: true | undefined;
  err?: string | undefined;
}

/**
 * unrouted is the record of a request answered before it matched a route
 * (refused at admission, or by the HTTP/1 parser). It holds every key of
 * AccessRecord, in the line's order, as the routed request's record in
 * `Observer.finished` does: records with the same keys in the same order
 * share one hidden class, so `writeFields` reads one shape. With a literal
 * of its own per call site, the first refused request gave every one of
 * its loads a second and third shape to check (polymorphic), one step from
 * the megamorphic lookups the line's string values had fallen into
 * (line-compiler.ts, `CHAR_CODE_AT`).
 */
export function unrouted(reqId: string, method: string, path: string, status: number, ms: number, ip: string, trace: string | undefined, code: string | undefined): AccessRecord {
  return { reqId, method, path, route: null, upstream: undefined, split: undefined, target: undefined, status, ms, upstreamMs: undefined, attempts: undefined, bytes: undefined, ip, trace, code, plugin: undefined, mirrored: undefined, err: undefined };
}

/** writeFields writes a record's fields after the line's prefix (level, time, bindings), compiled once (line-compiler.ts). */
export const writeFields = compileFields<AccessRecord>([
  ['reqId', 'string'],
  ['method', 'string'],
  ['path', 'string'],
  ['route', 'string'],
  ['upstream', 'string'],
  ['split', 'string'],
  ['target', 'string'],
  ['status', 'number'],
  ['ms', 'number'],
  ['upstreamMs', 'number'],
  ['attempts', 'number'],
  ['bytes', 'number'],
  ['ip', 'string'],
  ['trace', 'string'],
  ['code', 'string'],
  ['plugin', 'string'],
  ['mirrored', 'flag'],
  ['err', 'string'],
]);

/** HOSTILE is the sample the start-up check serializes both ways: quotes, backslashes, control characters, unicode, long strings. */
export const HOSTILE: AccessRecord = {
  reqId: 'id"with\\quotes',
  method: 'GET',
  path: '/a\u0000b\nc\td\u001f\u007f?q="x"&r=\\',
  route: null,
  upstream: 'up\u2028\u2029',
  split: 'leg"\\\u0001',
  target: 'é漢字🙂',
  status: 200,
  ms: 1.25,
  upstreamMs: Number.NaN,
  attempts: 1,
  bytes: 0,
  ip: '::ffff:127.0.0.1',
  trace: 'x'.repeat(101) + '"',
  code: '\ud800lone',
  plugin: '</script>',
  mirrored: true,
  err: 'Error: "bad"\r\n\\',
};

/** LineFormat is one kind of precompiled line: its fields after the logger's prefix, in the record's order, and a sample of hostile values that `AccessLog.of` writes both ways. */
export interface LineFormat<R extends object> {
  fields(w: LineWriter, r: R): void;
  readonly sample: R;
}

/** REQUEST_LINE is the access line of an HTTP request. */
export const REQUEST_LINE: LineFormat<AccessRecord> = { fields: writeFields, sample: HOSTILE };

/**
 * Fast is the precompiled path: the line's constant prefix up to the time,
 * the logger's bindings, the fields; and where lines go: into the batch
 * destination's buffer, or (any other stream: a test's, a custom one) a
 * scratch buffer whose line is handed to the stream as a string.
 */
interface Fast<R extends object> {
  readonly head: Uint8Array;
  readonly bindings: Uint8Array;
  /** prefix is the encoded head, time and bindings of the millisecond `prefixTime` (the last line's). */
  prefix: Uint8Array;
  prefixTime: number;
  readonly fields: (w: LineWriter, r: R) => void;
  readonly batch: BatchDestination | undefined;
  readonly stream: Stream;
}

/** Stream is what pino writes lines to. */
interface Stream {
  write(line: string): unknown;
}

/** PREFIX is where a millisecond's prefix is encoded before it is kept (Fast.prefix). */
const PREFIX = new LineWriter(256);

/** AccessLog writes access lines (of one LineFormat); `notice` writes the access logger's own warnings (suppressed lines) through pino. */
export class AccessLog<R extends object = AccessRecord> implements LineSource {
  /** scratch is where lines for a stream other than the batch destination (and `bytes`) are encoded. */
  private readonly scratch = new LineWriter(1024);

  private constructor(
    /** logger is the access child logger (`kind: "access"`): notices, and the fallback path. */
    private readonly logger: Logger,
    /** fast is the precompiled path; undefined = pino's path. */
    private readonly fast: Fast<R> | undefined,
    /** on is false when the log level leaves out info lines. */
    private readonly on: boolean,
  ) {}

  /**
   * create builds the access log on `logger` (a child with `kind: "access"`
   * is made here). The precompiled path is used when the logger writes to a
   * plain stream and the check line matches pino's own, byte for byte.
   */
  static create(parent: Logger): AccessLog {
    return AccessLog.of(parent, REQUEST_LINE);
  }

  /** of builds an access log of another line format (stream connections), as create does. */
  static of<R extends object>(parent: Logger, format: LineFormat<R>): AccessLog<R> {
    const logger = parent.child({ kind: 'access' });
    const on = logger.isLevelEnabled('info');
    const l = logger as unknown as Record<symbol, unknown>;
    const stream = l[pino.symbols.streamSym] as (Stream & Record<symbol, unknown>) | undefined;
    const head = (l[pino.symbols.lsCacheSym] as Record<number, string> | undefined)?.[30];
    const bindings = l[pino.symbols.chindingsSym];
    // The line's time is Date.now() in epoch ms, as pino's default timestamp writes it; any other timestamp option: pino's path.
    const epochTime = l[pino.symbols.timeSym] === pino.stdTimeFunctions.epochTime;
    if (epochTime && stream && typeof stream.write === 'function' && stream[pino.symbols.needsMetadataGsym] !== true && typeof head === 'string' && typeof bindings === 'string') {
      const fast: Fast<R> = {
        head: new Uint8Array(Buffer.from(head + ',"time":')),
        bindings: new Uint8Array(Buffer.from(bindings)),
        prefix: new Uint8Array(0),
        prefixTime: Number.NaN,
        fields: format.fields,
        batch: stream instanceof BatchDestination ? stream : undefined,
        stream,
      };
      const log = new AccessLog<R>(logger, fast, on);
      // The check: the sample's bytes as written here and as pino writes them (its string, UTF-8 encoded) must be the same.
      if (log.bytes(format.sample, 0).equals(Buffer.from(AccessLog.pinoLine(logger, format.sample, 0)))) return log;
    }
    return new AccessLog<R>(logger, undefined, on);
  }

  /** precompiled tells whether lines take the precompiled path (false: pino's, after a failed check). */
  get precompiled(): boolean {
    return this.fast !== undefined;
  }

  /** write logs one request: into the batch destination, deferred to the end of the turn (`r` must not change after the call); to any other stream, at once. */
  write(r: R): void {
    if (!this.on) return;
    const fast = this.fast;
    if (fast === undefined) this.logger.info(r);
    else if (fast.batch !== undefined) fast.batch.defer(this, r, Date.now());
    else fast.stream.write(this.render(r, Date.now()));
  }

  /** encodeLine encodes a line `write` deferred (the batch destination calls it). */
  encodeLine(w: LineWriter, r: object, time: number): void {
    AccessLog.encode(this.fast!, w, r as R, time);
  }

  /** bytes is the line `write` would write for `r` at `time` (epoch ms), as bytes (a copy). */
  bytes(r: R, time: number): Buffer {
    if (this.fast === undefined) return Buffer.from(AccessLog.pinoLine(this.logger, r, time));
    const w = this.scratch;
    w.len = 0;
    AccessLog.encode(this.fast, w, r, time);
    return Buffer.from(w.buf.subarray(0, w.len));
  }

  /** render is the line `write` would write for `r` at `time` (epoch ms), as a string (what a stream other than the batch destination is given). */
  render(r: R, time: number): string {
    if (this.fast === undefined) return AccessLog.pinoLine(this.logger, r, time);
    const w = this.scratch;
    w.len = 0;
    AccessLog.encode(this.fast, w, r, time);
    return w.buf.toString('utf8', 0, w.len);
  }

  /** notice writes a warning of the access logger itself (pino's path: rare). */
  notice(obj: object, msg: string): void {
    this.logger.warn(obj, msg);
  }

  /** encode writes the precompiled line for `r` at `time` (epoch ms). */
  private static encode<R extends object>(fast: Fast<R>, w: LineWriter, r: R, time: number): void {
    // The lines of one turn mostly share their millisecond: its prefix is encoded once and copied.
    if (time !== fast.prefixTime) {
      const p = PREFIX;
      p.len = 0;
      p.bytes(fast.head);
      p.number(time);
      p.bytes(fast.bindings);
      fast.prefix = new Uint8Array(p.buf.subarray(0, p.len));
      fast.prefixTime = time;
    }
    w.bytes(fast.prefix);
    fast.fields(w, r);
    // Every line ends with `}` and a newline.
    w.ensure(2);
    w.buf[w.len] = 0x7d;
    w.buf[w.len + 1] = 0x0a;
    w.len += 2;
  }

  /** pinoLine is the line pino itself renders for `r` at `time` through `logger` (the reference the check compares with). */
  static pinoLine(logger: Logger, r: object, time: number): string {
    const asJson = (logger as unknown as Record<symbol, (obj: object, msg: undefined, num: number, time: string) => string>)[pino.symbols.asJsonSym];
    return asJson!.call(logger, r, undefined, 30, `,"time":${time}`);
  }
}
