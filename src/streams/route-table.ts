/**
 * The stream routes of a configuration, compiled per listener: a tcp or udp
 * listener has one route; a tls-passthrough listener an SniTable. Built from
 * the loaded route files and the compiled runtime's pools (the same Upstream
 * objects HTTP routes use: balancers, health, drain), once per configuration.
 */
import type { LoadedConfig } from '../config/load.js';
import type { Upstream } from '../upstream/upstream.js';
import { SniTable } from './sni-table.js';

/** StreamRoute is one compiled stream route. */
export interface StreamRoute {
  readonly id: string;
  readonly listener: string;
  /** sni is the route's match.sni as written (undefined = catch-all). */
  readonly sni: string | undefined;
  readonly upstream: Upstream;
  /** proxyProtocol is the PROXY header its upstream is sent first (undefined = none). */
  readonly proxyProtocol: 'v1' | 'v2' | undefined;
  readonly file: string;
  readonly line: number;
}

/** ListenerRoutes are the routes of one listener. */
export interface ListenerRoutes {
  readonly routes: readonly StreamRoute[];
  readonly table: SniTable<StreamRoute>;
}

/** buildStreamRoutes compiles every streamRoutes entry against the runtime's pools (validation already checked the references). */
export function buildStreamRoutes(loaded: LoadedConfig, upstreams: ReadonlyMap<string, Upstream>): Map<string, ListenerRoutes> {
  const out = new Map<string, { routes: StreamRoute[]; table: SniTable<StreamRoute> }>();
  for (const name of Object.keys(loaded.gateway.streams ?? {})) out.set(name, { routes: [], table: new SniTable() });
  const docs = new Map(loaded.files.flatMap((f) => Object.entries(f.doc.upstreams ?? {})));
  for (const f of loaded.files) {
    (f.doc.streamRoutes ?? []).forEach((r, i) => {
      const listener = out.get(r.listener);
      const upstream = upstreams.get(r.upstream);
      if (listener === undefined || upstream === undefined) return;
      const route: StreamRoute = {
        id: r.id,
        listener: r.listener,
        sni: r.match?.sni,
        upstream,
        proxyProtocol: docs.get(r.upstream)?.proxyProtocol,
        file: f.file,
        line: f.locate(['streamRoutes', i]).line,
      };
      listener.routes.push(route);
      listener.table.add(route.sni, route);
    });
  }
  return out;
}
