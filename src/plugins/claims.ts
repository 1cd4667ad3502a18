/**
 * Reading a request's identity claims, for plugins and the request path
 * alike (rate-limit keys, canary-split cohorts): the verified JWT claims the
 * jwt plugin leaves in `locals.jwt`, else the session fields the session
 * plugin leaves in `locals.session`. One reader, so a claim means the same
 * thing to every feature that keys on it.
 */

/** claimValue reads a claim from verified JWT claims, else from the session (non-empty strings and finite numbers only). */
export function claimValue(locals: Record<string, unknown>, name: string): string | undefined {
  for (const source of [locals.jwt, locals.session]) {
    if (typeof source !== 'object' || source === null) continue;
    const v = (source as Record<string, unknown>)[name];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}
