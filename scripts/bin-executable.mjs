#!/usr/bin/env node
/**
 * `prepare` hook, after the build: marks the package's command
 * (package.json `bin`, dist/src/cli/index.js) executable. tsc writes it
 * without the execute bit. `npm exec switchyard` in a checkout links the
 * checkout into npm's npx cache and sets the bit when it makes that link,
 * once per path: a later fresh clone (or a deleted and rebuilt dist/) at the
 * same path reused the link and failed with "Permission denied". A bin that
 * is not built yet is skipped.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd(); // npm runs lifecycle scripts in the package's folder
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of typeof bin === 'string' ? [bin] : Object.values(bin ?? {})) {
  const path = join(root, file);
  if (existsSync(path)) chmodSync(path, statSync(path).mode | 0o111);
}
