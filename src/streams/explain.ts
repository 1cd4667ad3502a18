/**
 * `switchyard explain --listener NAME [--sni NAME]`: which stream route a
 * connection to a listener takes and why the listener's other routes do not,
 * with the upstream and the target its balancer would pick now. Reads the
 * compiled configuration only; connects to nothing.
 */
import type { LoadedConfig } from '../config/load.js';
import { suggest } from '../config/suggest.js';
import type { Upstream } from '../upstream/upstream.js';
import { buildStreamRoutes, type StreamRoute } from './route-table.js';

/** StreamExplanation is the answer, or why there is none (unknown listener). */
export type StreamExplanation =
  | { ok: false; error: string }
  | {
      ok: true;
      listener: string;
      protocol: string;
      port: number;
      sni: string | undefined;
      winner: StreamRoute | undefined;
      /** others says, per other route of the listener, why it was not taken. */
      others: Array<{ route: StreamRoute; reason: string }>;
    };

/** how names how a route's SNI relates to the name asked about. */
function relation(route: StreamRoute, sni: string | undefined): 'exact' | 'wildcard' | 'catch-all' | 'none' {
  if (route.sni === undefined) return 'catch-all';
  if (sni === undefined) return 'none';
  const want = route.sni.toLowerCase();
  if (!want.startsWith('*.')) return want === sni ? 'exact' : 'none';
  return sni.endsWith(want.slice(1)) ? 'wildcard' : 'none';
}

/** explainStream answers for one listener and server name (lowercased; undefined = the client sends none). */
export function explainStream(loaded: LoadedConfig, upstreams: ReadonlyMap<string, Upstream>, listener: string, sniGiven: string | undefined): StreamExplanation {
  const doc = loaded.gateway.streams?.[listener];
  if (doc === undefined) {
    const names = Object.keys(loaded.gateway.streams ?? {});
    const hint = suggest(listener, names);
    return { ok: false, error: `unknown stream listener "${listener}"${hint ? `; did you mean "${hint}"?` : names.length ? ` (listeners: ${names.join(', ')})` : ' (gateway.yaml declares no streams)'}` };
  }
  const sni = sniGiven?.toLowerCase();
  const routes = buildStreamRoutes(loaded, upstreams).get(listener)!;
  const winner = routes.table.match(doc.protocol === 'tls-passthrough' ? sni : undefined);
  const others = routes.routes
    .filter((r) => r !== winner)
    .map((route) => {
      const rel = relation(route, sni);
      const reason =
        rel === 'none'
          ? sni === undefined
            ? `SNI ${route.sni}: the client sends no name`
            : `SNI ${route.sni} does not match ${sni}`
          : rel === 'catch-all'
            ? 'catch-all: taken only when no SNI route matches'
            : `SNI ${route.sni}: matches, but ${winner?.sni ?? ''} is more specific`;
      return { route, reason };
    });
  return { ok: true, listener, protocol: doc.protocol, port: doc.listen.port, sni, winner, others };
}
