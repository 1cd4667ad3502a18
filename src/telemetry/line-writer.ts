/**
 * LineWriter encodes JSON log lines straight into a byte buffer: the access
 * log's precompiled lines (access-log.ts) are written into the batch
 * destination's buffer (log-destination.ts), with no string built per line.
 * Building the line as a string cost a rope of ~50 concatenations, a
 * regular-expression run per string field, the rope's flattening and its
 * UTF-8 encoding in `Buffer.write` (~11,900 instructions a line under
 * callgrind); encoded in place, a line costs 0.58× the CPU it did, measured
 * in one process against the string build (bench/README.md journal, "Issue
 * 17 (2026-12-07, third session)"). The fields themselves are written by a
 * function compiled per line format (line-compiler.ts); here are the cursor,
 * numbers, and the string path for values that need escaping (`jsonString`,
 * then the native UTF-8 encoder): the bytes are the ones pino writes for the
 * same record, which `AccessLog.of` checks at start-up on a hostile sample.
 */

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

  /** bytes writes bytes encoded beforehand (a logger's head and bindings). */
  bytes(b: Uint8Array): void {
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
