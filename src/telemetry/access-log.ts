/**
 * The access log: one JSON line per request, written by a precompiled
 * serializer instead of pino's generic object path. pino walks the record's
 * keys, looks up serializers and redaction stringifiers per key and formats
 * each value by its type; the access record's keys and types are fixed, so
 * the line is built by straight concatenation. The line is byte for byte the
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
 * jsonString quotes a string as pino does (its `asString`): `"` and `\`
 * escaped by hand, JSON.stringify for anything longer than 100 characters
 * or holding a control character; everything else (unicode, U+2028, even a
 * lone surrogate) passes through as it is.
 */
export function jsonString(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  // The common case, without a loop: a per-character charCodeAt on strings of many internal kinds
  // (sliced URL parts, ropes, internalized ids) went megamorphic in the gateway (+11,000 instructions a line, callgrind).
  if (!NEEDS_ESCAPE.test(str)) return '"' + str + '"';
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += str.slice(last, i) + '\\';
      last = i;
      found = true;
    }
  }
  if (!found) result = str;
  else result += str.slice(last);
  return point < 32 ? JSON.stringify(str) : '"' + result + '"';
}

/** NEEDS_ESCAPE matches what pino's asString does not pass through as is: a quote, a backslash, a control character. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * str renders an optional string field: `key` is the key quoted with its comma and colon, `open` the same
 * with the value's opening quote. A string that needs no escape takes two concatenations instead of
 * jsonString's three: every piece is a node of the line's rope, which the batch buffer's write flattens
 * (callgrind, bench/README.md journal "Issue 17 (2026-12-06, evening)").
 */
const str = (key: string, open: string, v: string | null | undefined): string => {
  if (v === undefined) return '';
  if (v === null) return key + 'null';
  return v.length <= 100 && !NEEDS_ESCAPE.test(v) ? open + v + '"' : key + jsonString(v);
};

/** Field is one string field of the line, its quoted key built once. */
export class Field {
  protected readonly key: string;
  protected readonly open: string;
  constructor(name: string) {
    this.key = `,"${name}":`;
    this.open = `,"${name}":"`;
  }

  render(v: string | null | undefined): string {
    return str(this.key, this.open, v);
  }
}

/**
 * Repeating renders a low-cardinality field (method, route, upstream, target, client address, code,
 * plugin): a busy gateway writes the same few values line after line, so the last value and its
 * rendering are kept and a repeat costs one comparison instead of the escape check (a regular
 * expression run, about 600 instructions a field under callgrind). One entry: nothing grows.
 */
export class Repeating extends Field {
  private last: string | null | undefined = undefined;
  private out = '';

  override render(v: string | null | undefined): string {
    if (v === this.last) return this.out;
    this.out = str(this.key, this.open, v);
    this.last = v;
    return this.out;
  }
}

const REQ_ID = new Field('reqId');
const METHOD = new Repeating('method');
const PATH = new Field('path');
const ROUTE = new Repeating('route');
const UPSTREAM = new Repeating('upstream');
const SPLIT = new Repeating('split');
const TARGET = new Repeating('target');
const IP = new Repeating('ip');
const TRACE = new Field('trace');
const CODE = new Repeating('code');
const PLUGIN = new Repeating('plugin');
const ERR = new Field('err');

/** num renders an optional number field; non-finite numbers are null, as pino writes them. */
export const num = (key: string, v: number | undefined): string => (v === undefined ? '' : key + (Number.isFinite(v) ? decimal(v) : 'null'));

/**
 * decimal is String(v) for a finite number. The access line's `ms` and `upstreamMs` are rounded to
 * hundredths, and String() of such a double runs V8's shortest-round-trip conversion (FastDtoa),
 * the costliest part of the line in the gateway's profile (`num`). A number that is exactly an
 * integer count of hundredths (h / 100 === v) below 1e9 is written from its integer part and its two
 * decimals instead, with trailing zeros dropped: the same characters, as no decimal with fewer digits
 * lies within half an ulp of such a number (ulps there are below 2e-7, the next shorter decimal is
 * 0.01 away). Anything else (integers, other fractions, huge or negative numbers) goes to String().
 */
export function decimal(v: number): string {
  if (Number.isInteger(v) || !(v > 0 && v < 1e9)) return String(v);
  const h = Math.round(v * 100);
  if (h / 100 !== v) return String(v);
  const whole = Math.floor(h / 100);
  const frac = h - whole * 100;
  return frac % 10 === 0 ? whole + DOT_DIGIT[frac / 10]! : whole + (frac < 10 ? '.0' : '.') + frac;
}

/** DOT_DIGIT[d] is `.d`: a tenth's decimal, one concatenation less. */
const DOT_DIGIT = ['', '.1', '.2', '.3', '.4', '.5', '.6', '.7', '.8', '.9'];

/** serialize renders the fields of a record after the line's prefix (level, time, bindings). */
export function serializeFields(r: AccessRecord): string {
  return (
    REQ_ID.render(r.reqId) +
    METHOD.render(r.method) +
    PATH.render(r.path) +
    ROUTE.render(r.route) +
    UPSTREAM.render(r.upstream) +
    SPLIT.render(r.split) +
    TARGET.render(r.target) +
    num(',"status":', r.status) +
    num(',"ms":', r.ms) +
    num(',"upstreamMs":', r.upstreamMs) +
    num(',"attempts":', r.attempts) +
    num(',"bytes":', r.bytes) +
    IP.render(r.ip) +
    TRACE.render(r.trace) +
    CODE.render(r.code) +
    PLUGIN.render(r.plugin) +
    (r.mirrored === true ? ',"mirrored":true' : '') +
    ERR.render(r.err)
  );
}

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

/** LineFormat is one kind of precompiled line: its fields after the logger's prefix, in the record's order, and a sample of hostile values that `AccessLog.create` renders both ways. */
export interface LineFormat<R extends object> {
  fields(r: R): string;
  readonly sample: R;
}

/** REQUEST_LINE is the access line of an HTTP request. */
export const REQUEST_LINE: LineFormat<AccessRecord> = { fields: serializeFields, sample: HOSTILE };

/** Fast is the precompiled path: the stream, the line's constant prefix up to the time, the logger's bindings, the fields. */
interface Fast<R extends object> {
  readonly stream: Stream;
  readonly head: string;
  readonly bindings: string;
  readonly fields: (r: R) => string;
}

/** Stream is what pino writes lines to. */
interface Stream {
  write(line: string): unknown;
}

/** AccessLog writes access lines (of one LineFormat); `notice` writes the access logger's own warnings (suppressed lines) through pino. */
export class AccessLog<R extends object = AccessRecord> {
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
    let fast: Fast<R> | undefined;
    // The line's time is Date.now() in epoch ms, as pino's default timestamp writes it; any other timestamp option: pino's path.
    const epochTime = l[pino.symbols.timeSym] === pino.stdTimeFunctions.epochTime;
    if (epochTime && stream && typeof stream.write === 'function' && stream[pino.symbols.needsMetadataGsym] !== true && typeof head === 'string' && typeof bindings === 'string') {
      fast = { stream, head: head + ',"time":', bindings, fields: format.fields };
      if (AccessLog.pinoLine(logger, format.sample, 0) !== AccessLog.line(fast, format.sample, 0)) fast = undefined;
    }
    return new AccessLog<R>(logger, fast, on);
  }

  /** precompiled tells whether lines take the precompiled path (false: pino's, after a failed check). */
  get precompiled(): boolean {
    return this.fast !== undefined;
  }

  /** write logs one request. */
  write(r: R): void {
    if (!this.on) return;
    const fast = this.fast;
    if (fast === undefined) this.logger.info(r);
    else fast.stream.write(AccessLog.line(fast, r, Date.now()));
  }

  /** render is the line `write` would write for `r` at `time` (epoch ms), on whichever path this log takes. */
  render(r: R, time: number): string {
    return this.fast === undefined ? AccessLog.pinoLine(this.logger, r, time) : AccessLog.line(this.fast, r, time);
  }

  /** notice writes a warning of the access logger itself (pino's path: rare). */
  notice(obj: object, msg: string): void {
    this.logger.warn(obj, msg);
  }

  /** line is the precompiled line for `r` at `time` (epoch ms). */
  static line<R extends object>(fast: Omit<Fast<R>, 'stream'>, r: R, time: number): string {
    return fast.head + time + fast.bindings + fast.fields(r) + '}\n';
  }

  /** pinoLine is the line pino itself renders for `r` at `time` through `logger` (the reference the check compares with). */
  static pinoLine(logger: Logger, r: object, time: number): string {
    const asJson = (logger as unknown as Record<symbol, (obj: object, msg: undefined, num: number, time: string) => string>)[pino.symbols.asJsonSym];
    return asJson!.call(logger, r, undefined, 30, `,"time":${time}`);
  }
}
