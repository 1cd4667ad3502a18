/**
 * The compiled field writer (src/telemetry/line-compiler.ts): what it writes
 * for each kind of field, that a buffer grown or moved in the middle of a
 * line loses nothing, and that nothing but a plain identifier becomes code.
 * Its bytes against pino's, for hostile values of every field, are in
 * access-log-serializer.test.ts.
 */
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { compileFields } from '../../src/telemetry/line-compiler.js';
import { LineWriter } from '../../src/telemetry/line-writer.js';
import { BatchDestination } from '../../src/telemetry/log-destination.js';
import { AccessLog, type AccessRecord } from '../../src/telemetry/access-log.js';

interface Rec {
  s?: string | null | undefined;
  n?: number | undefined;
  f?: boolean | undefined;
  t?: string | undefined;
}

const write = compileFields<Rec>([
  ['s', 'string'],
  ['n', 'number'],
  ['f', 'flag'],
  ['t', 'string'],
]);

/** fieldsOf is what `write` writes for `r` into a writer of `size` bytes (grown as needed). */
function fieldsOf(r: Rec, size = 256): string {
  const w = new LineWriter(size);
  write(w, r);
  return w.buf.toString('utf8', 0, w.len);
}

describe('17: compiled access-line fields', () => {
  it('17: strings as JSON (escaped where needed), null as null, undefined left out', () => {
    expect(fieldsOf({ s: 'plain', t: 'x' })).toBe(',"s":"plain","t":"x"');
    expect(fieldsOf({ s: '' })).toBe(',"s":""');
    expect(fieldsOf({ s: null })).toBe(',"s":null');
    expect(fieldsOf({})).toBe('');
    for (const hostile of ['a"b', 'back\\slash', 'nl\n', '\u0000', 'é漢字🙂', '\u007f', '"'.repeat(200)]) {
      expect(fieldsOf({ s: hostile })).toBe(`,"s":${JSON.stringify(hostile)}`);
    }
  });

  it('17: numbers as String() writes them; not finite as null', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [7, '7'],
      [10, '10'],
      [200, '200'],
      [999_999_999, '999999999'],
      [1e9, '1000000000'],
      [2 ** 53, '9007199254740992'],
      [-5, '-5'],
      [1.5, '1.5'],
      [0.07, '0.07'],
      [1e21, '1e+21'],
      [Number.NaN, 'null'],
      [Number.POSITIVE_INFINITY, 'null'],
    ];
    for (const [n, text] of cases) expect(fieldsOf({ n }), String(n)).toBe(`,"n":${text}`);
    expect(fieldsOf({ n: undefined })).toBe('');
  });

  it('17: a flag is written only when exactly true', () => {
    expect(fieldsOf({ f: true })).toBe(',"f":true');
    expect(fieldsOf({ f: false })).toBe('');
    expect(fieldsOf({ f: 'true' as unknown as boolean })).toBe('');
  });

  it('17: a writer grown in the middle of a line keeps every byte written before', () => {
    const r: Rec = { s: 'x'.repeat(40), n: 123456, f: true, t: 'y"'.repeat(30) };
    const expected = fieldsOf(r, 4096);
    for (let size = 1; size < 64; size++) expect(fieldsOf(r, size)).toBe(expected);
  });

  it('17: lines through a batch destination that writes out and moves a partial line, all intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-line-compiler-'));
    try {
      const file = join(dir, 'access.log');
      // 300-byte batches: every few lines the buffer is written out and the line being encoded moves to its front.
      const dest = new BatchDestination(openSync(file, 'w'), { batchBytes: 300 });
      const logger = pino({ level: 'info', base: { service: 'switchyard' } }, dest);
      const log = AccessLog.create(logger);
      expect(log.precompiled).toBe(true);
      const ref = logger.child({ kind: 'access' });
      const records: AccessRecord[] = [];
      for (let i = 0; i < 200; i++) {
        const r: AccessRecord = { reqId: `id-${i}`, method: 'GET', path: `/p/${'a'.repeat(i % 97)}"${i}`, route: 'api', status: 200 + (i % 3), ms: i / 4, ip: '127.0.0.1' };
        records.push(r);
        log.write(r);
      }
      dest.end();
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(200);
      lines.forEach((line, i) => {
        const parsed = JSON.parse(line) as { time: number };
        expect(line).toBe(AccessLog.pinoLine(ref, records[i]!, parsed.time).trimEnd());
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('17: only plain identifiers become code', () => {
    for (const name of ['a"b', 'x; process.exit(1)', '__proto__', '1st', 'a-b', '']) {
      expect(() => compileFields([[name, 'string']]), name).toThrow(/not a plain identifier/);
    }
  });
});
