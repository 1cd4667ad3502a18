/**
 * compileFields turns a line format's field list into one function that
 * writes a record's fields, compiled once at load (as fast-json-stringify
 * and ajv do). Each key is written by stores of constant bytes written out
 * in the code (`b[o] = 44; b[o + 1] = 34; …`), each string value checked
 * and copied in a loop of its own, numbers through `LineWriter.number`: no
 * arena to read keys from, no call per field or per key. Written field
 * by field through an object per field whose keys were copied from one
 * arena of constant bytes, a request line cost ~1.6 µs in one process
 * (`node bench/access-line.js`), and its encoding about 5 points of the
 * gateway's throughput; compiled, 0.81–0.86× of that in the same process
 * (bench/README.md journal, "Issue 17 (2026-12-08, tenth session)").
 *
 * A value that needs escaping takes the string path (`jsonString`, then the
 * native UTF-8 encoder): the bytes are pino's, which `AccessLog.of` checks at
 * start-up. Field names are checked to be plain identifiers before they
 * become code; values never do.
 */
import { jsonString, type LineWriter } from './line-writer.js';

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
 * CHAR_CODE_AT is called as `cca.call(v, i)`, not `v.charCodeAt(i)`, and a
 * value's length is read as `(v + '').length` (the compiled code): a line's
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
const CHAR_CODE_AT = String.prototype.charCodeAt;

/** FieldSpec is one field of a line, in the line's order: a string (undefined left out, null written null), a number (undefined left out, not finite written null), or a flag written `true` only when it is exactly true. */
export type FieldSpec = readonly [name: string, kind: 'string' | 'number' | 'flag'];

/** NAME is what a field name may be: it is written into the compiled code. */
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** stores is the code writing `text`'s bytes (ASCII) at b[o], b[o + 1], …; then `o` is past them. */
function stores(text: string): string {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) out.push(`b[o${i ? ` + ${i}` : ''}] = ${text.charCodeAt(i)};`);
  return `${out.join(' ')} o += ${text.length};`;
}

/** compileFields returns the function writing `fields` of a record after the line's prefix. */
export function compileFields<R extends object>(fields: readonly FieldSpec[]): (w: LineWriter, r: R) => void {
  const body: string[] = ['let v, b, o, n, bad;'];
  for (const [name, kind] of fields) {
    if (!NAME.test(name)) throw new Error(`line field "${name}": not a plain identifier`);
    const key = `,"${name}":`;
    const nul = `${key}null`;
    const open = `${key}"`;
    body.push(`v = r.${name};`);
    if (kind === 'flag') {
      const text = `${key}true`;
      body.push(`if (v === true) { w.ensure(${text.length}); b = w.buf; o = w.len; ${stores(text)} w.len = o; }`);
    } else if (kind === 'number') {
      body.push(
        `if (v !== undefined) {`,
        `  if (!Number.isFinite(v)) { w.ensure(${nul.length}); b = w.buf; o = w.len; ${stores(nul)} w.len = o; }`,
        `  else { w.ensure(${key.length}); b = w.buf; o = w.len; ${stores(key)} w.len = o; w.number(v); }`,
        `}`,
      );
    } else {
      body.push(
        `if (v !== undefined) {`,
        `  if (v === null) { w.ensure(${nul.length}); b = w.buf; o = w.len; ${stores(nul)} w.len = o; }`,
        `  else {`,
        // `+ ''` returns v itself and tells the compiler v is a string (see CHAR_CODE_AT).
        `    n = (v + '').length;`,
        `    w.ensure(${open.length} + n + 1); b = w.buf; o = w.len; ${stores(open)}`,
        // Copied while checked; on a miss nothing counts as written (w.len stays) and the string path writes key and value.
        `    bad = 0;`,
        `    for (let i = 0; i < n; i++) { const c = cca.call(v, i); bad |= esc[c]; b[o + i] = c; }`,
        `    if (bad === 0) { b[o + n] = 34; w.len = o + n + 1; }`,
        `    else w.utf8(${JSON.stringify(key)} + jsonString(v));`,
        `  }`,
        `}`,
      );
    }
  }
  // Compiled once at load from the constant field list above (names checked against NAME).
  const make = new Function('esc', 'cca', 'jsonString', `return function fields(w, r) {\n${body.join('\n')}\n};`) as (
    esc: Uint8Array,
    cca: typeof CHAR_CODE_AT,
    json: typeof jsonString,
  ) => (w: LineWriter, r: R) => void;
  return make(ESCAPED, CHAR_CODE_AT, jsonString);
}
