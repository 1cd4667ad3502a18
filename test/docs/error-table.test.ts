/**
 * 13.8: the table of errors clients see (docs/security.md) is the catalog
 * (src/errors.ts), row for row: every catalog code appears once with its
 * status, and no row names a code the catalog does not have. One code per
 * row, so a reader can find a code by searching for it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

const DOC = new URL('../../docs/security.md', import.meta.url);

/** errorTable returns the rows of the table that follows "**Errors clients see**" as [status, code] pairs. */
function errorTable(markdown: string): Array<{ status: string; code: string; line: string }> {
  const lines = markdown.split('\n');
  const intro = lines.findIndex((l) => l.startsWith('**Errors clients see**'));
  expect(intro, 'docs/security.md has an "**Errors clients see**" paragraph').toBeGreaterThan(-1);
  const header = lines.findIndex((l, i) => i > intro && l.startsWith('| Status | Code |'));
  expect(header, 'the paragraph is followed by a "| Status | Code | When |" table').toBeGreaterThan(-1);
  const rows: Array<{ status: string; code: string; line: string }> = [];
  for (let i = header + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cells = lines[i]!.split('|').map((c) => c.trim());
    rows.push({ status: cells[1]!, code: cells[2]!, line: lines[i]! });
  }
  return rows;
}

describe('13.8: the error table in docs/security.md matches the catalog', () => {
  const rows = errorTable(readFileSync(DOC, 'utf8'));

  it('has one catalog code per row, with its status', () => {
    for (const r of rows) {
      expect(r.code, `one backquoted code per row: ${r.line}`).toMatch(/^`SY_ERR_[A-Z_]+`$/);
      const code = r.code.slice(1, -1);
      expect(Object.keys(ERRORS), `${code} is in src/errors.ts`).toContain(code);
      expect(r.status, `status of ${code}`).toBe(String(ERRORS[code as keyof typeof ERRORS].status));
    }
  });

  it('lists every catalog code exactly once', () => {
    const codes = rows.map((r) => r.code.slice(1, -1));
    expect([...codes].sort()).toEqual(Object.keys(ERRORS).sort());
  });
});
