/**
 * One error catalog (src/errors.ts): every SY_ERR_* code written anywhere in
 * src/ is catalogued, every catalogued code is sent somewhere, and the
 * gateway's own error classes are told apart with instanceof, never by
 * comparing a name string (a renamed class would silently stop matching).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const CATALOG = join(SRC, 'errors.ts');

/** sources lists every TypeScript file under src/ with its text. */
function sources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) out.push({ file: path, text: readFileSync(path, 'utf8') });
    }
  };
  walk(SRC);
  return out;
}

/** codesIn lists the SY_ERR_* literals of a text, once each (a family written `SY_ERR_UPSTREAM_*` in prose is not a code). */
function codesIn(text: string): string[] {
  return [...new Set(text.match(/SY_ERR_[A-Z_]*[A-Z](?![A-Z_]*\*)/g) ?? [])];
}

describe('the error catalog', () => {
  const files = sources();
  const catalogued = new Set(Object.keys(ERRORS));

  it('names every SY_ERR_* code that src/ writes', () => {
    const unknown = files.flatMap(({ file, text }) => codesIn(text).filter((c) => !catalogued.has(c)).map((c) => `${relative(SRC, file)}: ${c}`));
    expect(unknown, 'codes missing from src/errors.ts').toEqual([]);
  });

  it('has no code that nothing sends', () => {
    const used = new Set(files.filter(({ file }) => file !== CATALOG).flatMap(({ text }) => codesIn(text)));
    expect([...catalogued].filter((c) => !used.has(c)), 'catalogued codes used nowhere in src/').toEqual([]);
  });

  it('gives every code a status and a message for clients', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^SY_ERR_[A-Z]+(_[A-Z]+)*$/);
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.status, code).toBeLessThan(600);
      expect(e.message, code).toMatch(/^[A-Z].*\.$/);
    }
  });
});

describe("the gateway's error classes", () => {
  const files = sources();
  // A class's own name, and any name it gives its instances (`name = '...'`).
  const names = new Set<string>();
  for (const { text } of files) {
    for (const m of text.matchAll(/class (\w+) extends \w*Error\b[^{]*\{([\s\S]*?)\n\}/g)) {
      names.add(m[1]!);
      for (const n of m[2]!.matchAll(/name = '(\w+)'/g)) names.add(n[1]!);
    }
  }

  it('are found (the scan works)', () => {
    expect([...names]).toEqual(expect.arrayContaining(['GatewayError', 'ConfigInvalid', 'PluginFailure', 'BodyTooLarge', 'ProbeTimeoutError', 'TimeoutError']));
  });

  it('are matched with instanceof, never by comparing their name', () => {
    const byName = files.flatMap(({ file, text }) =>
      [...text.matchAll(/\.name\s*[!=]==?\s*'(\w+)'|'(\w+)'\s*[!=]==?\s*\w+\.name\b/g)]
        .map((m) => m[1] ?? m[2]!)
        .filter((n) => names.has(n))
        .map((n) => `${relative(SRC, file)}: compares a name with '${n}'`),
    );
    expect(byName).toEqual([]);
  });
});
