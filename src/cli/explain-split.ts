/**
 * The `split:` lines of `switchyard explain` for a route with a canary
 * split: the key, the legs and their buckets, the overrides, the fallback,
 * and which leg this request takes when explain can tell (an override that
 * holds, or a cohort key read from the request's headers, cookies or
 * address). A claim or a session exists only once the chain ran on a real
 * request: then it says which key decides and how the buckets fall.
 */
import type { CompiledRoute } from '../proxy/runtime.js';
import { bucketOf, type CohortRequest } from '../proxy/split-plan.js';
import { chooseOverride } from '../proxy/split.js';
import { parseCookies, type RequestView } from '../routing/route-match.js';
import { conditionsOf } from '../gateway/split-view.js';

/** splitLines explains a route's split for a request (headers lower-cased, host without port); [] without a split. */
export function splitLines(route: CompiledRoute, method: string, rawQuery: string, headers: Record<string, string>, host: string, clientIp: string): string[] {
  const s = route.split;
  if (s === undefined) return [];
  const out: string[] = [];
  const by = s.by === '' ? `cookie ${s.cookie!.name} (a random id the gateway sets on a client's first request)` : s.by;
  out.push(`  split:    by ${by}; salt "${s.salt}"; fallback ${s.fallback === '503' ? '503' : `to the primary (${s.primary.name})`}`);
  for (const w of s.shares) out.push(`            ${w.upstream.name.padEnd(20)} weight ${w.weight}${w.to > w.from ? ` (buckets ${w.from}-${w.to - 1})` : ''}`);
  const rest = s.owner.filter((u) => u === s.primary).length;
  out.push(`            ${s.primary.name.padEnd(20)} primary, the other ${rest} bucket${rest === 1 ? '' : 's'}`);
  for (const o of s.overrides) out.push(`            ${o.upstream.name.padEnd(20)} override when ${JSON.stringify(conditionsOf(o.when))}`);

  const view: RequestView = { method: method.toUpperCase(), host, headers, rawQuery, memo: {} };
  const override = chooseOverride(s, view);
  if (override !== undefined) {
    out.push(`  this request: override ${JSON.stringify(conditionsOf(override.when))} → ${override.upstream.name}`);
    return out;
  }
  const cookies = parseCookies(headers.cookie);
  const req: CohortRequest = { clientIp, headers, locals: {}, extraHeaders: undefined, cookie: (n) => cookies.get(n) };
  const key = s.key(req);
  if (key === undefined) {
    if (s.cookie !== undefined) out.push(`  this request: no ${s.cookie.name} cookie: a new client; it gets one, and the bucket of that id picks its leg`);
    else if (s.by.startsWith('claim:') || s.by === 'session') out.push(`  this request: the leg follows ${s.by}, known once the chain runs (bucket = hash of "${s.salt}" and the key)`);
    else out.push(`  this request: no ${s.by.replace(':', ' ')}: the primary (${s.primary.name})`);
    return out;
  }
  const bucket = bucketOf(s.salt, key);
  out.push(`  this request: cohort key "${key}" → bucket ${bucket} → ${s.owner[bucket]!.name}`);
  return out;
}
