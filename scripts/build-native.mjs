#!/usr/bin/env node
/**
 * `npm ci` / `npm install` hook: builds native/malloc-trim.c, the optional
 * helper the idle memory release uses to give glibc's freed arena pages back
 * (src/process/idle-memory.ts). Linux only: elsewhere malloc_trim does not
 * exist or is not needed. A failed build (no C toolchain, no Node headers)
 * never fails the install: the gateway works without the helper and only its
 * idle memory is a few MiB higher, so this prints one line saying so.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.platform !== 'linux' || process.env.SWITCHYARD_SKIP_NATIVE === '1') process.exit(0);

const root = fileURLToPath(new URL('..', import.meta.url));
// npm gives lifecycle scripts the path of its bundled node-gyp; outside npm, one on PATH.
const nodeGyp = process.env.npm_config_node_gyp;
const [cmd, args] = nodeGyp ? [process.execPath, [nodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (r.status !== 0) {
  const why = r.error?.message ?? (r.stderr || r.stdout).split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  process.stdout.write(`switchyard: native malloc_trim helper not built (${why.trim()}); the gateway runs without it, idle memory is a few MiB higher. Needs python3, make and a C compiler.\n`);
}
