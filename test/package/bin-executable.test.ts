/**
 * Regression: `npm ci` built dist/src/cli/index.js without the execute bit.
 * `npm exec switchyard` links a checkout into npm's npx cache once per path
 * and sets the bit only then, so a fresh clone at a path used before failed
 * (`npm exec switchyard -- start` → "sh: 1: switchyard: Permission denied",
 * found following the README's walkthrough). `prepare` now marks the
 * package's bin executable after the build.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'sy-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('15: the checkout\'s own command is executable after npm ci', () => {
  it('prepare runs scripts/bin-executable.mjs after the build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.prepare).toMatch(/^tsc -p tsconfig\.json && node scripts\/bin-executable\.mjs$/);
    expect(pkg.bin).toEqual({ switchyard: './dist/src/cli/index.js' });
  });

  it('marks every bin of package.json executable, and skips one not built yet', () => {
    mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ bin: { switchyard: './dist/src/cli/index.js', other: './dist/missing.js' } }));
    writeFileSync(join(dir, 'dist/src/cli/index.js'), '#!/usr/bin/env node\n', { mode: 0o644 });
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/bin-executable.mjs')], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(statSync(join(dir, 'dist/src/cli/index.js')).mode & 0o777).toBe(0o755);
  });
});
