#!/usr/bin/env node
/**
 * `prepare` hook, after the build: marks the package's command
 * (package.json `bin`, dist/src/cli/index.js) executable. tsc writes it
 * without the execute bit; npm sets the bit itself when it links the command
 * of an installed package, but not for the checkout's own command, so in a
 * fresh clone `npm exec switchyard -- ...` (and `npx switchyard`) failed with
 * "Permission denied". A bin that is not built yet is skipped.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd(); // npm runs lifecycle scripts in the package's folder
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of typeof bin === 'string' ? [bin] : Object.values(bin ?? {})) {
  const path = join(root, file);
  if (existsSync(path)) chmodSync(path, statSync(path).mode | 0o111);
}
