/**
 * The routes of one tls-passthrough listener by server name, compiled once:
 * an exact name wins, then the longest `*.suffix` wildcard (one or more labels,
 * as host matches of HTTP routes), then the catch-all route (no match.sni),
 * which also takes clients that send no SNI. Per connection: one Map lookup
 * per label of the name.
 */

/** SniTable finds the route of a server name. */
export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  /** wildcards maps ".example.com" to the route of "*.example.com". */
  private readonly wildcards = new Map<string, T>();
  private catchAll: T | undefined = undefined;

  /** add registers a route under `sni` ("api.example.com", "*.example.com") or, undefined, as the catch-all; the first claim wins (validation reports a second). */
  add(sni: string | undefined, route: T): void {
    if (sni === undefined) {
      this.catchAll ??= route;
      return;
    }
    const name = sni.toLowerCase();
    const map = name.startsWith('*.') ? this.wildcards : this.exact;
    const key = name.startsWith('*.') ? name.slice(1) : name;
    if (!map.has(key)) map.set(key, route);
  }

  /** match returns the route for a (lowercase) server name, or the catch-all; undefined when none takes it. */
  match(sni: string | undefined): T | undefined {
    if (sni === undefined) return this.catchAll;
    const exact = this.exact.get(sni);
    if (exact !== undefined) return exact;
    if (this.wildcards.size > 0) {
      // Longest suffix first: "a.b.example.com" tries ".b.example.com", then ".example.com", then ".com".
      for (let dot = sni.indexOf('.'); dot !== -1; dot = sni.indexOf('.', dot + 1)) {
        const hit = this.wildcards.get(sni.slice(dot));
        if (hit !== undefined) return hit;
      }
    }
    return this.catchAll;
  }
}
