/**
 * Explaining a routing decision for people: for each route, whether its path
 * covers the request and which condition failed. Slow on purpose (it checks
 * every route); used by `switchyard explain`, never on the request path.
 */
import { normalizePath } from './normalize-path.js';
import { parseCookies, type CompiledMatch, type RequestView } from './route-match.js';
import type { Routable, Router } from './router.js';

/** Verdict is one route's result for a request. */
export interface Verdict<R> {
  route: R;
  /** reason is why the route did not match ('' for the winner). */
  reason: string;
}

/** pathCovers tells whether a compiled path covers a normalized request path. */
export function pathCovers(m: CompiledMatch, path: string): boolean {
  if (m.exact) return path === m.prefix;
  if (m.prefix === '/') return true;
  return path === m.prefix || path.startsWith(m.prefix + '/');
}

function failedCondition(m: CompiledMatch, req: RequestView): string | undefined {
  if (m.methods && !m.methods.has(req.method)) return `method ${req.method} not in [${[...m.methods].join(', ')}]`;
  if (m.host?.exact !== undefined && req.host !== m.host.exact) return `host "${req.host}" is not "${m.host.exact}"`;
  if (m.host?.suffix !== undefined && !(req.host.length > m.host.suffix.length && req.host.endsWith(m.host.suffix))) return `host "${req.host}" is not under "*${m.host.suffix}"`;
  for (const [k, v] of m.headers) if (req.headers[k] !== v) return `header ${k} is ${req.headers[k] === undefined ? 'missing' : `"${String(req.headers[k])}"`}, wanted "${v}"`;
  const q = new URLSearchParams(req.rawQuery);
  for (const [k, v] of m.query) if (q.get(k) !== v) return `query ${k} is ${q.get(k) === null ? 'missing' : `"${q.get(k)}"`}, wanted "${v}"`;
  const c = parseCookies(req.headers.cookie);
  for (const [k, v] of m.cookies) if (c.get(k) !== v) return `cookie ${k} is ${c.get(k) === undefined ? 'missing' : `"${c.get(k)}"`}, wanted "${v}"`;
  return undefined;
}

/**
 * explain returns the winning route (if any) and a verdict for every route.
 * `fallback` is asked when no route matches, as the request path asks the
 * automatic routes (discovery.autoRoutes); its winner is marked `fallback`.
 */
export function explain<R extends Routable>(
  router: Router<R>,
  method: string,
  target: string,
  headers: Record<string, string>,
  fallback?: (path: string) => R | undefined,
): { path: string | undefined; error?: string; winner: R | undefined; fallback?: boolean; verdicts: Verdict<R>[] } {
  const q = target.indexOf('?');
  const norm = normalizePath(q === -1 ? target : target.slice(0, q));
  if (!norm.ok) return { path: undefined, error: norm.reason, winner: undefined, verdicts: [] };
  const host = (headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const view: RequestView = { method: method.toUpperCase(), host, headers, rawQuery: q === -1 ? '' : target.slice(q + 1), memo: {} };
  const matched = router.match(norm.path, view);
  const winner = matched ?? fallback?.(norm.path);
  const verdicts = router.routes.map((route) => {
    if (route === winner) return { route, reason: '' };
    if (!pathCovers(route.match, norm.path)) return { route, reason: 'path does not match' };
    const failed = failedCondition(route.match, view);
    return { route, reason: failed ?? 'a more specific route matched first' };
  });
  return { path: norm.path, winner, ...(matched === undefined && winner !== undefined ? { fallback: true } : {}), verdicts };
}
