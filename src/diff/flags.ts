/**
 * What a reviewer must not miss, flagged first in a diff ("!"): an auth
 * plugin removed from a route or the global chain, a protected route or
 * request made public, a new route shadowing an existing one, a target added
 * outside the usual address ranges (address-ranges.ts), and a body limit or
 * timeout raised above the gateway's default.
 */
import { parseDuration } from '../config/duration.js';
import { UsualRanges } from './address-ranges.js';
import type { ModelChanges } from './compare.js';
import type { ConfigModel, PluginModel, Where } from './model.js';
import { AUTH_PLUGINS, type Evaluator, type Move } from './moves.js';

/** Flag is one thing a reviewer must look at. */
export interface Flag {
  kind: 'auth-removed' | 'made-public' | 'shadows' | 'target-outside-ranges' | 'limit-raised';
  message: string;
  at: Where;
}

/** DEFAULT_TIMEOUTS are the upstream timeouts' schema defaults, in ms (what "above the default" means for a timeout). */
export const DEFAULT_TIMEOUTS: Readonly<Record<string, number>> = { connect: 5000, response: 30000, idle: 60000 };

const at = (w: Where) => `${w.file}:${w.line}`;
const auth = (plugins: readonly PluginModel[]) => plugins.map((p) => p.name).filter((n) => AUTH_PLUGINS.has(n));

/** reviewFlags lists the flags of a change. */
export function reviewFlags(before: ConfigModel, after: ConfigModel, changes: ModelChanges, moved: readonly Move[], afterEval: Evaluator): Flag[] {
  const flags: Flag[] = [];
  const globalBefore = auth(before.chain);
  const globalAfter = auth(after.chain);
  for (const name of globalBefore.filter((n) => !globalAfter.includes(n))) {
    flags.push({ kind: 'auth-removed', message: `global chain: ${name} removed (every route loses it)`, at: after.chain[0]?.at ?? { file: after.gatewayFile, line: 0 } });
  }
  const afterRoutes = new Map(after.routes.map((r) => [r.id, r]));
  for (const b of before.routes) {
    const a = afterRoutes.get(b.id);
    if (!a) continue;
    const own = auth(b.plugins).filter((n) => !auth(a.plugins).includes(n));
    for (const name of own) flags.push({ kind: 'auth-removed', message: `route ${b.id}: ${name} removed from its plugins (${at(a.at)})`, at: a.at });
    const had = [...globalBefore, ...auth(b.plugins)];
    if (had.length > 0 && globalAfter.length + auth(a.plugins).length === 0) {
      flags.push({ kind: 'made-public', message: `route ${b.id} is now public: it had ${had.join(', ')}, it has no auth plugin (${at(a.at)})`, at: a.at });
    }
  }
  for (const m of moved) {
    if (!m.before || !m.after || m.before.route === m.after.route) continue;
    if (m.before.auth && !m.after.auth) flags.push({ kind: 'made-public', message: `${m.request} is now public: it moves from ${m.before.route} (with ${m.before.chain.filter((n) => AUTH_PLUGINS.has(n)).join(', ')}) to ${m.after.route}, which has no auth plugin (${at(m.after.at)})`, at: m.after.at });
    const isNew = !before.routes.some((r) => r.id === m.after!.route);
    if (afterEval.takes(m.before.route, m.sample)) {
      flags.push({ kind: 'shadows', message: `${isNew ? 'new ' : ''}route ${m.after.route} (${at(m.after.at)}) shadows ${m.before.route} (${at(m.before.at)}) for ${m.request}`, at: m.after.at });
    }
  }
  flags.push(...targetFlags(before, after, changes));
  flags.push(...limitFlags(before, after));
  return dedupe(flags);
}

/** targetFlags flags targets added (to a new or an existing pool) outside the ranges of the targets before. */
function targetFlags(before: ConfigModel, after: ConfigModel, changes: ModelChanges): Flag[] {
  const ranges = new UsualRanges(before.upstreams.flatMap((u) => u.targets.map((t) => t.url)));
  const added = new Set(changes.items.filter((c) => (c.kind === 'target' || c.kind === 'upstream') && c.change === 'added').map((c) => c.name));
  const out: Flag[] = [];
  for (const u of after.upstreams) {
    for (const t of u.targets) {
      if (!added.has(u.name) && !added.has(`${u.name} ${t.url}`)) continue;
      const why = ranges.unusual(t.url);
      if (why) out.push({ kind: 'target-outside-ranges', message: `upstream ${u.name}: target ${t.url} added, ${why} (${at(t.at)})`, at: t.at });
    }
  }
  return out;
}

function ms(v: unknown): number | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}

function read(o: Record<string, unknown> | undefined, path: string[]): unknown {
  let v: unknown = o;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** limitFlags flags a body limit or timeout raised (compared with before) above the gateway default. */
function limitFlags(before: ConfigModel, after: ConfigModel): Flag[] {
  const out: Flag[] = [];
  const gwDefault = 10 * 1024 * 1024;
  if (after.bodyLimit > gwDefault && after.bodyLimit > before.bodyLimit) {
    out.push({ kind: 'limit-raised', message: `limits.bodyLimit raised to ${after.bodyLimit} bytes (was ${before.bodyLimit}; the default is ${gwDefault})`, at: { file: after.gatewayFile, line: 0 } });
  }
  const bRoutes = new Map(before.routes.map((r) => [r.id, r]));
  for (const r of after.routes) {
    const b = bRoutes.get(r.id);
    const limit = r.fields.bodyLimit;
    const was = b?.fields.bodyLimit ?? before.bodyLimit;
    if (typeof limit === 'number' && limit > after.bodyLimit && limit > (typeof was === 'number' ? was : 0)) {
      out.push({ kind: 'limit-raised', message: `route ${r.id}: bodyLimit ${limit} bytes, above the gateway's ${after.bodyLimit} (${at(r.at)})`, at: r.at });
    }
    for (const k of ['response', 'idle']) out.push(...timeoutFlag(`route ${r.id}`, k, read(r.fields, ['timeouts', k]), read(b?.fields, ['timeouts', k]), r.at));
  }
  const bUps = new Map(before.upstreams.map((u) => [u.name, u]));
  for (const u of after.upstreams) {
    const b = bUps.get(u.name);
    for (const k of ['connect', 'response', 'idle']) out.push(...timeoutFlag(`upstream ${u.name}`, k, read(u.fields, ['timeouts', k]), read(b?.fields, ['timeouts', k]), u.at));
  }
  return out;
}

function timeoutFlag(what: string, key: string, now: unknown, was: unknown, where: Where): Flag[] {
  const n = ms(now);
  const w = ms(was) ?? DEFAULT_TIMEOUTS[key]!;
  const d = DEFAULT_TIMEOUTS[key]!;
  if (n === undefined || n <= d || n <= w) return [];
  return [{ kind: 'limit-raised', message: `${what}: timeouts.${key} ${String(now)}, above the default ${d / 1000}s (was ${was === undefined ? 'the default' : String(was)}) (${at(where)})`, at: where }];
}

function dedupe(flags: Flag[]): Flag[] {
  const seen = new Set<string>();
  return flags.filter((f) => !seen.has(f.message) && seen.add(f.message) !== undefined);
}
