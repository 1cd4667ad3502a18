/**
 * The checks of a route's `mirror` block no single file can make: the shadow
 * upstream exists (with a "did you mean"), it is not the route's own pool
 * (a copy to the primary doubles its load and feeds its passive health with
 * shadow failures), and it speaks HTTP (a tcp:// or udp:// pool serves stream
 * routes only); and a copy always has a deadline (timeout above 0). Documents are read defensively: a file with schema errors
 * still counts.
 */
import { errorAt, type ConfigError, type DocSource } from './errors.js';
import { didYouMean } from './suggest.js';
import { parseDuration } from './duration.js';

/** MirrorCheckedDoc is one parsed route file and where its text is. */
export interface MirrorCheckedDoc extends DocSource {
  value: unknown;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** streamScheme returns the first tcp:// or udp:// scheme among a pool's targets, if any. */
function streamScheme(pool: Record<string, unknown>): string | undefined {
  const targets = Array.isArray(pool.targets) ? pool.targets : [];
  for (const t of targets) {
    const url = obj(t).url;
    const m = typeof url === 'string' ? /^(tcp|udp):/i.exec(url) : null;
    if (m) return m[1]!.toLowerCase();
  }
  return undefined;
}

/** zeroDuration tells a valid duration of 0 (a malformed one is the schema's to report). */
function zeroDuration(value: number | string): boolean {
  try {
    return parseDuration(value) === 0;
  } catch {
    return false;
  }
}

/** mirrorErrors checks every route's `mirror.upstream` against the upstreams of all route files. */
export function mirrorErrors(files: readonly MirrorCheckedDoc[], checkReferences: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  const pools = new Map<string, Record<string, unknown>>();
  for (const f of files) for (const [name, doc] of Object.entries(obj(obj(f.value).upstreams))) if (!pools.has(name)) pools.set(name, obj(doc));
  for (const f of files) {
    const routes = obj(f.value).routes;
    if (!Array.isArray(routes)) continue;
    routes.forEach((raw, i) => {
      const r = obj(raw);
      const timeout = obj(r.mirror).timeout;
      if ((typeof timeout === 'number' || typeof timeout === 'string') && zeroDuration(timeout)) {
        errors.push(errorAt(f, ['routes', i, 'mirror', 'timeout'], 'mirror.timeout must be above 0: a copy without a deadline could hold its slot of limits.mirrorConcurrency forever'));
      }
      const shadow = obj(r.mirror).upstream;
      if (typeof shadow !== 'string') return;
      const at = ['routes', i, 'mirror', 'upstream'];
      if (shadow === r.upstream) {
        errors.push(errorAt(f, at, `mirror.upstream "${shadow}" is the route's own upstream: a shadow copy must go to another pool (a copy to the primary doubles its load, and shadow failures would eject its targets)`));
        return;
      }
      const pool = pools.get(shadow);
      if (pool === undefined) {
        if (!checkReferences) return;
        const names = [...pools.keys()];
        const suggestion = didYouMean(shadow, names);
        const known = names.length === 0 ? ' (no upstreams are defined)' : suggestion ? '' : ` (defined: ${names.sort().join(', ')})`;
        errors.push(errorAt(f, at, `unknown upstream "${shadow}"${known}`, { suggestion }));
        return;
      }
      const scheme = streamScheme(pool);
      if (scheme !== undefined) errors.push(errorAt(f, at, `upstream "${shadow}" has ${scheme}:// targets: a mirror copies HTTP requests and needs http:// or https:// targets`));
    });
  }
  return errors;
}
