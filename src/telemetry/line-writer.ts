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
 * while it is checked, numbers are written digit by digit, and keys and
 * repeated values are copied from bytes encoded once.
 *
 * Anything else takes the string path it always took (`jsonString`, then
 * the native UTF-8 encoder): the bytes are the ones pino writes for the same
 * record, which `AccessLog.of` checks at start-up on a hostile sample.
 */

/** A quote and a backslash: with control characters and anything above U+007F, what takes the string path. */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** ascii is the bytes of a string known to be ASCII (keys, constants). */
export function ascii(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
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

  /** bytes writes bytes encoded beforehand (a key, a constant, a repeated value). */
  bytes(b: Uint8Array): void {
    // TypedArray#set even for a short key: a byte loop in JS costs ~12 instructions a byte, and measured slower (bench/access-line.js).
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** utf8 writes a string as UTF-8 (the string path: escaped values, non-ASCII). */
  utf8(s: string): void {
    this.ensure(3 * s.length);
    this.len += this.buf.write(s, this.len);
  }

  /**
   * quoted writes `open` (a key with its value's opening quote), the string
   * and its closing quote when every character passes as it is; false, with
   * nothing written, when one needs the string path.
   */
  quoted(open: Uint8Array, v: string): boolean {
    const n = v.length;
    this.ensure(open.length + n + 1);
    const buf = this.buf;
    let o = this.len;
    buf.set(open, o);
    o += open.length;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c > 0x7f || c === QUOTE || c === BACKSLASH) return false;
      buf[o + i] = c;
    }
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

/** Field is one string field of the line, its key encoded once. */
export class Field {
  /** key is `,"name":` (for null and escaped values), open the same with the value's opening quote. */
  protected readonly key: string;
  protected readonly open: Uint8Array;
  private readonly nul: Uint8Array;

  constructor(name: string) {
    this.key = `,"${name}":`;
    this.open = ascii(`,"${name}":"`);
    this.nul = ascii(`,"${name}":null`);
  }

  /** write writes the field; undefined leaves it out, null writes null, as pino does. */
  write(w: LineWriter, v: string | null | undefined): void {
    if (v === undefined) return;
    if (v === null) w.bytes(this.nul);
    else if (!w.quoted(this.open, v)) w.utf8(this.key + jsonString(v));
  }
}

/**
 * Repeating writes a low-cardinality field (method, route, upstream, target,
 * client address, code, plugin): a busy gateway writes the same few values
 * line after line, so each value's bytes are kept and a repeat is a lookup
 * and a copy. Bounded: past REPEATING_MAX values the kept ones are dropped
 * and the field starts over, so a field with many values costs what a plain
 * one does and nothing grows.
 */
export class Repeating extends Field {
  private last: string | null | undefined = undefined;
  private lastBytes: Uint8Array = new Uint8Array(0);
  private readonly seen = new Map<string | null, Uint8Array>();

  override write(w: LineWriter, v: string | null | undefined): void {
    if (v === this.last) return w.bytes(this.lastBytes);
    if (v === undefined) return;
    let encoded = this.seen.get(v);
    if (encoded === undefined) {
      encoded = kept((s) => super.write(s, v));
      if (this.seen.size >= REPEATING_MAX) this.seen.clear();
      this.seen.set(v, encoded);
    }
    w.bytes(encoded);
    this.last = v;
    this.lastBytes = encoded;
  }
}

/** REPEATING_MAX is how many values of one field Repeating keeps. */
const REPEATING_MAX = 64;

/** Num is one number field: undefined leaves it out, a non-finite number is null, as pino writes them. */
export class Num {
  protected readonly key: Uint8Array;
  private readonly nul: Uint8Array;

  constructor(name: string) {
    this.key = ascii(`,"${name}":`);
    this.nul = ascii(`,"${name}":null`);
  }

  write(w: LineWriter, v: number | undefined): void {
    if (v === undefined) return;
    if (!Number.isFinite(v)) return w.bytes(this.nul);
    w.bytes(this.key);
    w.number(v);
  }
}

/** RepeatingNum is a number field that mostly repeats (status, attempts): the last value's bytes are kept, as Repeating does for strings. */
export class RepeatingNum extends Num {
  private last: number | undefined = undefined;
  private lastBytes: Uint8Array = new Uint8Array(0);

  override write(w: LineWriter, v: number | undefined): void {
    if (v !== this.last) {
      this.lastBytes = kept((s) => super.write(s, v));
      this.last = v;
    }
    w.bytes(this.lastBytes);
  }
}

/** SCRATCH is where `kept` encodes. */
const SCRATCH = new LineWriter(1024);

/**
 * kept is the bytes `encode` writes, encoded apart and copied out, to be
 * written again and again. Apart, not in the line's own buffer: making room
 * there may move the line being written (the batch destination writes out
 * the lines before it and moves it to the front), so an offset taken before
 * a write is not where the bytes are after it.
 */
export function kept(encode: (w: LineWriter) => void): Uint8Array {
  SCRATCH.len = 0;
  encode(SCRATCH);
  return new Uint8Array(SCRATCH.buf.subarray(0, SCRATCH.len));
}
