/**
 * The gateway's own version, from the package.json of the installation that
 * runs (src/ under tsx and vitest, dist/src/ when built), for the admin API,
 * the dashboard and OpenTelemetry's service.version.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** gatewayVersion reads the version once; "unknown" when no package.json of ours is found. */
export function gatewayVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { bin?: Record<string, string>; version?: string };
      // Ours is the package with the `switchyard` command (whatever its npm name).
      if (pkg.bin?.switchyard !== undefined && typeof pkg.version === 'string') {
        cached = pkg.version;
        break;
      }
    } catch {
      /* not there: try the next level */
    }
  }
  return cached;
}
