/**
 * Comparing two configuration models item by item: routes by id, upstreams
 * by name, targets by URL, the global chain and the gateway settings. Each
 * change carries where the item is written before and after, and the fields
 * that changed with both values (fields are compared generically, so a key
 * this code does not know, such as a route's `split`, still shows).
 */
import type { ConfigModel, PluginModel, RouteModel, TargetModel, UpstreamModel, Where } from './model.js';
import { isSecret } from './redact.js';

/** FieldChange is one changed field: its path in the item, and the values (undefined: absent). */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
  /** secret is true when either value is a secret's fingerprint: only the fact of the change is shown. */
  secret?: boolean;
}

/** ItemChange is one route, upstream or target added, removed or changed. */
export interface ItemChange {
  kind: 'route' | 'stream-route' | 'upstream' | 'target' | 'chain' | 'settings';
  /** name is the route id, upstream name, `upstream target-url`, `chain` or `gateway`. */
  name: string;
  change: 'added' | 'removed' | 'changed';
  before?: Where;
  after?: Where;
  /** file is the file the change was made in (the after side's, else the before side's). */
  file: string;
  fields?: FieldChange[];
}

/** FileChange is a source file added, removed or changed (by content hash). */
export interface FileChange {
  file: string;
  change: 'added' | 'removed' | 'changed';
}

/** ModelChanges is everything that differs between two models. */
export interface ModelChanges {
  files: FileChange[];
  items: ItemChange[];
}

/** compareModels lists what differs between `before` and `after`. */
export function compareModels(before: ConfigModel, after: ConfigModel): ModelChanges {
  const items: ItemChange[] = [];
  items.push(...keyed('route', before.routes, after.routes, (r) => r.id, routeFields));
  items.push(...keyed('stream-route', before.streamRoutes ?? [], after.streamRoutes ?? [], (r) => r.id, (r) => r.fields));
  items.push(...keyed('upstream', before.upstreams, after.upstreams, (u) => u.name, (u) => u.fields));
  // Targets by URL within upstreams that exist on both sides (a new pool's targets are part of it).
  const afterUps = new Map(after.upstreams.map((u) => [u.name, u]));
  for (const b of before.upstreams) {
    const a = afterUps.get(b.name);
    if (a) items.push(...keyed('target', b.targets, a.targets, (t) => t.url, (t) => t.fields, (t) => `${b.name} ${t.url}`));
  }
  const chain = fieldChanges(chainFields(before.chain), chainFields(after.chain));
  if (chain.length > 0) {
    const at = after.chain[0]?.at ?? before.chain[0]?.at ?? { file: after.gatewayFile, line: 0 };
    items.push({ kind: 'chain', name: 'chain', change: 'changed', ...(before.chain[0] ? { before: before.chain[0].at } : {}), ...(after.chain[0] ? { after: after.chain[0].at } : {}), file: at.file, fields: chain });
  }
  const settings = fieldChanges(before.settings, after.settings);
  if (settings.length > 0) items.push({ kind: 'settings', name: 'gateway', change: 'changed', file: after.gatewayFile, fields: settings });
  return { files: fileChanges(before.files, after.files), items };
}

/** routeFields is what a route is compared on: its whole document. */
function routeFields(r: RouteModel): Record<string, unknown> {
  return r.fields;
}

/** chainFields shows a chain as its plugin names and their options, so a reorder or an option change both show. */
function chainFields(chain: PluginModel[]): Record<string, unknown> {
  const options = chain.filter((p) => !same(p.options, {})).map((p) => [`options.${p.name}`, p.options]);
  return { plugins: chain.map((p) => p.name), ...Object.fromEntries(options) };
}

function keyed<T extends { at: Where }>(
  kind: ItemChange['kind'],
  before: readonly T[],
  after: readonly T[],
  key: (t: T) => string,
  fields: (t: T) => Record<string, unknown>,
  name: (t: T) => string = key,
): ItemChange[] {
  const out: ItemChange[] = [];
  const b = new Map(before.map((t) => [key(t), t]));
  const a = new Map(after.map((t) => [key(t), t]));
  for (const [k, t] of a) {
    const old = b.get(k);
    if (!old) out.push({ kind, name: name(t), change: 'added', after: t.at, file: t.at.file });
    else {
      const f = fieldChanges(fields(old), fields(t));
      if (f.length > 0) out.push({ kind, name: name(t), change: 'changed', before: old.at, after: t.at, file: t.at.file, fields: f });
    }
  }
  for (const [k, t] of b) if (!a.has(k)) out.push({ kind, name: name(t), change: 'removed', before: t.at, file: t.at.file });
  return out;
}

/**
 * fieldChanges compares two documents: maps key by key and lists of the same
 * length item by item (recursively), any other value as a whole, so
 * `plugins: [jwt, cors] → [cors]` reads as one change. Secrets show as
 * "(secret)"; a change in nothing but a secret is marked `secret`.
 */
export function fieldChanges(before: unknown, after: unknown, at = ''): FieldChange[] {
  if (isMap(before) && isMap(after)) {
    const out: FieldChange[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const k of keys) out.push(...fieldChanges(before[k], after[k], at === '' ? k : `${at}.${k}`));
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => fieldChanges(b, after[i], `${at}[${i}]`));
  }
  if (same(before, after)) return [];
  const change: FieldChange = { path: at };
  const b = masked(before);
  const a = masked(after);
  if (same(b, a)) return [{ path: at, secret: true }];
  if (b !== undefined) change.before = b;
  if (a !== undefined) change.after = a;
  return [change];
}

/** SECRET_SHOWN is how a secret appears in a change. */
export const SECRET_SHOWN = '(secret)';

/** masked replaces every secret fingerprint in a value by "(secret)". */
function masked(v: unknown): unknown {
  if (isSecret(v)) return SECRET_SHOWN;
  if (Array.isArray(v)) return v.map(masked);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** same compares plain data (key order does not matter). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return false;
}

function fileChanges(before: ConfigModel['files'], after: ConfigModel['files']): FileChange[] {
  const b = new Map(before.map((f) => [f.file, f.hash]));
  const a = new Map(after.map((f) => [f.file, f.hash]));
  const out: FileChange[] = [];
  for (const [f, h] of a) {
    if (!b.has(f)) out.push({ file: f, change: 'added' });
    else if (b.get(f) !== h) out.push({ file: f, change: 'changed' });
  }
  for (const f of b.keys()) if (!a.has(f)) out.push({ file: f, change: 'removed' });
  return out.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
}

/** upstreamNamed finds an upstream of a model. */
export function upstreamNamed(m: ConfigModel, name: string): UpstreamModel | undefined {
  return m.upstreams.find((u) => u.name === name);
}

/** targetsOf lists an upstream's targets (none when it does not exist). */
export function targetsOf(m: ConfigModel, name: string): TargetModel[] {
  return upstreamNamed(m, name)?.targets ?? [];
}
