/**
 * The version the command line reports: package.json's, read from the
 * installation this module belongs to (src/cli/ from a checkout, dist/src/cli/
 * when built or installed), so it is right wherever the command runs from.
 */
import { readFileSync } from 'node:fs';

/** version is package.json's version, or "unknown" when no package.json of ours is found. */
export function version(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { version?: unknown; bin?: Record<string, unknown> };
      // Ours is the package that ships the `switchyard` command (whatever the npm name).
      if (typeof pkg.version === 'string' && pkg.bin?.switchyard !== undefined) return pkg.version;
    } catch {
      /* not there: try the next level */
    }
  }
  return 'unknown';
}
