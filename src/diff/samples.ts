/**
 * Sample requests for "what moves": one derived from each route's match (the
 * request that route was written for), and those a team lists in a file
 * (`--requests FILE`: one `METHOD URL [Name: value]...` per line).
 */
import type { MatchSpec } from '../routing/route-match.js';

/** Sample is one request to evaluate against both configurations. */
export interface Sample {
  method: string;
  /** target is the path and query (`/api/orders/1?x=1`). */
  target: string;
  /** headers are lower-cased; `host` when the request names one. */
  headers: Record<string, string>;
  /** from says where the sample comes from: `route orders` or `samples.txt:3`. */
  from: string;
}

/** SAMPLE_SEGMENT fills a route's trailing `/*`; SAMPLE_LABEL fills a host's leading `*.`. */
export const SAMPLE_SEGMENT = '1';
export const SAMPLE_LABEL = 'sample';

/**
 * sampleFor derives a route's representative request: its path with `/*`
 * replaced by one segment, its first method (GET when it names none), its
 * host with the wildcard filled, and every header, query parameter and
 * cookie it requires.
 */
export function sampleFor(id: string, m: MatchSpec): Sample {
  const path = m.path === '/*' ? `/${SAMPLE_SEGMENT}` : m.path.endsWith('/*') ? `${m.path.slice(0, -2)}/${SAMPLE_SEGMENT}` : m.path;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k.toLowerCase()] = v;
  if (m.host !== undefined) headers.host = m.host.startsWith('*.') ? `${SAMPLE_LABEL}${m.host.slice(1)}` : m.host;
  const cookies = Object.entries(m.cookies ?? {});
  if (cookies.length > 0) headers.cookie = cookies.map(([k, v]) => `${k}=${v}`).join('; ');
  const query = new URLSearchParams(Object.entries(m.query ?? {})).toString();
  return { method: (m.methods?.[0] ?? 'GET').toUpperCase(), target: query ? `${path}?${query}` : path, headers, from: `route ${id}` };
}

/** sampleKey identifies a request, so the same one is evaluated once. */
export function sampleKey(s: Sample): string {
  const h = Object.entries(s.headers).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([s.method, s.target, h]);
}

/** describeSample renders a request for people: `GET /api/orders/1 (host api.example.com, x-canary: 1)`. */
export function describeSample(s: Sample): string {
  const extra = Object.entries(s.headers).map(([k, v]) => (k === 'host' ? `host ${v}` : `${k}: ${v}`));
  return `${s.method} ${s.target}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}

/** SampleFileError is a line of a samples file that is not a request. */
export class SampleFileError extends Error {
  override readonly name = 'SampleFileError';
}

/**
 * parseSamples reads a samples file: one `METHOD URL [Name: value]...` per
 * line, where URL is a path or a full http(s) URL (its host becomes the Host
 * header) and each header is separated from the next by whitespace before a
 * `Name:`. Blank lines and `#` comments are skipped; a bad line throws with
 * its line number.
 */
export function parseSamples(text: string, file: string): Sample[] {
  const out: Sample[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const m = /^([A-Za-z]+)\s+(\S+)(.*)$/.exec(line);
    if (!m) throw new SampleFileError(`${where}: expected "METHOD URL [Name: value]...", got "${line}"`);
    const [, method, url, rest] = m as unknown as [string, string, string, string];
    const headers: Record<string, string> = {};
    let target = url;
    if (/^https?:\/\//i.test(url)) {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        throw new SampleFileError(`${where}: invalid URL "${url}"`);
      }
      headers.host = u.host;
      target = u.pathname + u.search;
    } else if (!url.startsWith('/')) throw new SampleFileError(`${where}: URL "${url}" must be a path (/x) or an http(s):// URL`);
    // Headers: `Name: value` pairs; a value runs until the next `Name:`.
    const parts = rest.trim() === '' ? [] : rest.trim().split(/\s+(?=[A-Za-z0-9!#$%&'*+.^_`|~-]+:)/);
    for (const p of parts) {
      const c = p.indexOf(':');
      const name = c > 0 ? p.slice(0, c).trim() : '';
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new SampleFileError(`${where}: bad header "${p}" (expected "Name: value")`);
      headers[name.toLowerCase()] = p.slice(c + 1).trim();
    }
    out.push({ method: method.toUpperCase(), target, headers, from: where });
  });
  return out;
}
