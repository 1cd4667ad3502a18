/**
 * LineWriter encodes JSON log lines straight into a byte buffer: the access
 * log's precompiled lines (access-log.ts) are written field by field into
 * the batch destination's buffer (log-destination.ts), with no string built
 * per line. Building the line as a string cost a rope of ~50 concatenations,
 * a regular-expression run per string field, the rope's flattening and its
 * UTF-8 encoding in `Buffer.write` (~11,900 instructions a line under
 * callgrind); encoded in place, a line costs 0.58× the CPU it did, measured
 * in one process against the string build (bench/README.md journal, "Issue
 * 17 (2026-12-07, third session)"). The common value — a string of printable
 * ASCII without a quote or a backslash — is copied character by character
 * while it is checked, numbers are written digit by digit, and keys come
 * from one arena of constant bytes (ARENA below: in the gateway, what a line
 * costs is mostly the separate places in memory it reads).
 *
 * Anything else takes the string path it always took (`jsonString`, then
 * the native UTF-8 encoder): the bytes are the ones pino writes for the same
 * record, which `AccessLog.of` checks at start-up on a hostile sample.
 */

/** QUOTE closes a string value. */
const QUOTE = 0x22;

/**
 * ESCAPED is 1 for every UTF-16 code unit that takes the string path — a
 * control character, a quote, a backslash, anything above U+007F — and 0
 * for those copied as they are. One entry per code unit, so a lookup by
 * `charCodeAt` is always in bounds; only the first two cache lines are read
 * for the common value.
 */
const ESCAPED = new Uint8Array(0x10000).fill(1);
ESCAPED.fill(0, 0x20, 0x80);
ESCAPED[0x22] = 1;
ESCAPED[0x5c] = 1;

/**
 * charCodeAt is called as `charCodeAt.call(v, i)`, not `v.charCodeAt(i)`,
 * and a value's length is read as `(v + '').length` (see `quoted`): a line's
 * values are strings of many internal kinds (a request id fresh from
 * randomUUID, an interned method, a sliced path, a concatenated target id,
 * ...), each with its own hidden class, and past four of them a property
 * load on `v` in the one shared loop goes megamorphic — a stub-cache lookup
 * (and for `charCodeAt` a generic call) per character. Through a constant
 * function, and on a value the compiler knows to be a string, both are
 * inlined for any kind. Measured: 1,340 against 790 ns a line with the
 * gateway's mix of string kinds, 750 with one kind (bench/README.md
 * journal, "Issue 17 (2026-12-07, seventh session)").
 */
const charCodeAt = String.prototype.charCodeAt;

/**
 * jsonString quotes a string as pino does (its `asString`): `"` and `\`
 * escaped by hand, JSON.stringify for anything longer than 100 characters
 * or holding a control character; everything else (unicode, U+2028, even a
 * lone surrogate) passes through as it is.
 */
export function jsonString(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
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

/**
 * ARENA holds the constant bytes of every line format (keys, null variants,
 * line ends) one after another, interned once at load: a line copies them
 * from a few adjacent cache lines. In the gateway a request's other work
 * runs between two lines and evicts what the last line touched from the
 * CPU's caches, so what a line costs there is mostly how many separate
 * places in memory it reads — with a typed array per key (and a kept
 * Uint8Array per repeated value) a line read ~60 of them, and cost 3× what
 * it does in a loop that keeps them cached (bench/README.md journal, "Issue
 * 17 (2026-12-07, fourth session)").
 */
let ARENA = new Uint8Array(2048);
let arenaUsed = 0;

/** intern adds ASCII `text` to the ARENA and returns its place: where it starts and where it ends. */
function intern(text: string): [start: number, end: number] {
  if (arenaUsed + text.length > ARENA.length) {
    const bigger = new Uint8Array(Math.max(2 * ARENA.length, arenaUsed + text.length));
    bigger.set(ARENA);
    ARENA = bigger;
  }
  const start = arenaUsed;
  ARENA.set(Buffer.from(text, 'latin1'), start);
  arenaUsed += text.length;
  return [start, arenaUsed];
}

/**
 * LineWriter is a byte cursor: `buf` holds what is written, `len` where the
 * next byte goes. `ensure` makes room; a subclass (the batch destination)
 * makes it by writing out the lines before the current one first.
 */
export class LineWriter {
  buf: Buffer;
  len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** ensure makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.len + n > this.buf.length) this.room(n);
  }

  /** room is ensure's slow path: here, a bigger buffer (the written bytes kept). */
  protected room(n: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** bytes writes bytes encoded beforehand (a logger's head and bindings). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** constant writes the ARENA's bytes from `start` to `end` (a Const). */
  constant(start: number, end: number): void {
    this.ensure(end - start);
    const buf = this.buf;
    const arena = ARENA;
    let o = this.len;
    // A byte loop, not TypedArray#set of a subarray: keys are ~10 bytes, and a subarray is an allocation.
    for (let i = start; i < end; i++) buf[o++] = arena[i]!;
    this.len = o;
  }

  /** utf8 writes a string as UTF-8 (the string path: escaped values, non-ASCII). */
  utf8(s: string): void {
    this.ensure(3 * s.length);
    this.len += this.buf.write(s, this.len);
  }

  /**
   * quoted writes the ARENA's `open` to `openEnd` (a key with its value's
   * opening quote), the string and its closing quote when every character
   * passes as it is; false, with nothing written, when one needs the string
   * path.
   */
  quoted(open: number, openEnd: number, v: string): boolean {
    // `+ ''` returns v itself; it tells the compiler v is a string, so the length is read inline (charCodeAt above).
    const n = (v + '').length;
    this.ensure(openEnd - open + n + 1);
    const buf = this.buf;
    const arena = ARENA;
    let o = this.len;
    for (let i = open; i < openEnd; i++) buf[o++] = arena[i]!;
    // Copied before it is known to pass, and checked by one table load per character instead of four comparisons (~10 % less time for the line's strings); on a miss nothing counts as written: `len` stays.
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const c = charCodeAt.call(v, i);
      bad |= ESCAPED[c]!;
      buf[o + i] = c;
    }
    if (bad !== 0) return false;
    o += n;
    buf[o] = QUOTE;
    this.len = o + 1;
    return true;
  }

  /**
   * number writes a finite number as String() does: non-negative integers
   * digit by digit, an exact count of hundredths as its integer part and
   * decimals (see `decimal`), anything else through String().
   */
  number(v: number): void {
    if (Number.isInteger(v)) {
      if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return this.digits(v);
    } else if (v > 0 && v < 1e9) {
      const h = Math.round(v * 100);
      if (h / 100 === v) {
        const whole = Math.floor(h / 100);
        const frac = h - whole * 100;
        this.digits(whole);
        this.ensure(3);
        const buf = this.buf;
        buf[this.len++] = 0x2e;
        const tens = Math.floor(frac / 10);
        buf[this.len++] = 0x30 + tens;
        if (frac !== tens * 10) buf[this.len++] = 0x30 + frac - tens * 10;
        return;
      }
    }
    this.latin1(String(v));
  }

  /** digits writes a non-negative safe integer. */
  private digits(v: number): void {
    // Below 1e9 in 32-bit arithmetic (V8 turns the division by 10 into a multiplication); above, two halves of nine digits and the rest.
    if (v < 1e9) return this.small(v, 0);
    const high = Math.floor(v / 1e9);
    this.digits(high);
    this.small(v - high * 1e9, 9);
  }

  /** small writes a non-negative integer below 1e9, zero-padded to `width` digits. */
  private small(v: number, width: number): void {
    let n = 1;
    for (let p = 10; p <= v; p *= 10) n++;
    if (n < width) n = width;
    this.ensure(n);
    const buf = this.buf;
    let o = this.len + n;
    this.len = o;
    let x = v | 0;
    for (let i = 0; i < n; i++) {
      const q = (x / 10) | 0;
      buf[--o] = 0x30 + x - q * 10;
      x = q;
    }
  }

  /** latin1 writes an ASCII string (String() of a number). */
  private latin1(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }
}

/**
 * decimal is String(v) for a finite number, by the rule `LineWriter.number`
 * writes: the access line's `ms` and `upstreamMs` are rounded to hundredths,
 * and String() of such a double runs V8's shortest-round-trip conversion
 * (FastDtoa). A number that is exactly an integer count of hundredths
 * (h / 100 === v) below 1e9 is its integer part and two decimals, trailing
 * zeros dropped: the same characters, as no decimal with fewer digits lies
 * within half an ulp of such a number (ulps there are below 2e-7, the next
 * shorter decimal is 0.01 away). Kept as a string function for the test that
 * proves the rule against String().
 */
export function decimal(v: number): string {
  const w = new LineWriter(32);
  w.number(v);
  return w.buf.toString('latin1', 0, w.len);
}

/**
 * Const is a run of constant ASCII bytes of a line (a key, a key with its
 * value's opening quote, a key with null, a line's end): its place in the
 * ARENA.
 */
export class Const {
  readonly start: number;
  readonly end: number;

  constructor(text: string) {
    [this.start, this.end] = intern(text);
  }

  /** write writes the bytes. */
  write(w: LineWriter): void {
    w.constant(this.start, this.end);
  }
}

/**
 * Field is one string field of the line. Its constants' places are plain
 * numbers on the field itself, not Const objects: one object read per field.
 */
export class Field {
  /** key is `,"name":` (for escaped values); open…openEnd is the same with the value's opening quote in the ARENA, nul…nulEnd with null. */
  private readonly key: string;
  private readonly open: number;
  private readonly openEnd: number;
  private readonly nul: number;
  private readonly nulEnd: number;

  constructor(name: string) {
    this.key = `,"${name}":`;
    [this.open, this.openEnd] = intern(`,"${name}":"`);
    [this.nul, this.nulEnd] = intern(`,"${name}":null`);
  }

  /** write writes the field; undefined leaves it out, null writes null, as pino does. */
  write(w: LineWriter, v: string | null | undefined): void {
    if (v === undefined) return;
    if (v === null) w.constant(this.nul, this.nulEnd);
    else if (!w.quoted(this.open, this.openEnd, v)) w.utf8(this.key + jsonString(v));
  }
}

/** Num is one number field: undefined leaves it out, a non-finite number is null, as pino writes them. */
export class Num {
  private readonly key: number;
  private readonly keyEnd: number;
  private readonly nul: number;
  private readonly nulEnd: number;

  constructor(name: string) {
    [this.key, this.keyEnd] = intern(`,"${name}":`);
    [this.nul, this.nulEnd] = intern(`,"${name}":null`);
  }

  write(w: LineWriter, v: number | undefined): void {
    if (v === undefined) return;
    if (!Number.isFinite(v)) return w.constant(this.nul, this.nulEnd);
    w.constant(this.key, this.keyEnd);
    w.number(v);
  }
}
