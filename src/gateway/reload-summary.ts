/**
 * What a reload changed, for its log line and the reload result: which
 * source files changed (by content hash), and which routes and upstreams were
 * added, removed or changed (by their definition in the route files).
 */
import { relative } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { SourceFile } from '../proxy/runtime.js';
import type { Changes, ReloadSummary } from '../admin/backend.js';

export type { ReloadSummary };

/** summarizeReload compares the configuration before and after a reload. */
export function summarizeReload(before: { loaded: LoadedConfig; sources: readonly SourceFile[] }, after: { loaded: LoadedConfig; sources: readonly SourceFile[] }): ReloadSummary {
  const name = (f: string) => {
    const rel = relative(after.loaded.baseDir, f);
    return rel === '' || rel.startsWith('..') ? f : rel;
  };
  const hashes = (s: readonly SourceFile[]) => new Map(s.map((f) => [name(f.file), f.hash]));
  return {
    files: compare(hashes(before.sources), hashes(after.sources)),
    routes: compare(routeDefs(before.loaded), routeDefs(after.loaded)),
    upstreams: compare(upstreamDefs(before.loaded), upstreamDefs(after.loaded)),
  };
}

/** describeSummary renders a summary in one short line: `files: routes/app.yaml; routes +1 -0 ~2; upstreams +0 -0 ~1`. */
export function describeSummary(s: ReloadSummary): string {
  const files = [...s.files.added, ...s.files.removed, ...s.files.changed].sort();
  const n = (c: Changes) => `+${c.added.length} -${c.removed.length} ~${c.changed.length}`;
  return `files changed: ${files.length ? files.join(', ') : 'none'}; routes ${n(s.routes)}; upstreams ${n(s.upstreams)}`;
}

function routeDefs(l: LoadedConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of l.files) for (const r of f.doc.routes ?? []) out.set(r.id, JSON.stringify(r));
  return out;
}

function upstreamDefs(l: LoadedConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of l.files) for (const [k, u] of Object.entries(f.doc.upstreams ?? {})) out.set(k, JSON.stringify(u));
  return out;
}

function compare(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): Changes {
  const out: Changes = { added: [], removed: [], changed: [] };
  for (const [k, v] of b) {
    if (!a.has(k)) out.added.push(k);
    else if (a.get(k) !== v) out.changed.push(k);
  }
  for (const k of a.keys()) if (!b.has(k)) out.removed.push(k);
  for (const list of [out.added, out.removed, out.changed]) list.sort();
  return out;
}
