/**
 * `switchyard routes`: print the routing table as teams wrote it, resolved.
 */
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { printConfigErrors } from './output.js';
import { createGateway } from '../gateway/gateway.js';
import { routesView } from '../gateway/admin-views.js';
import type { Gateway } from '../gateway/gateway.js';

/** discoveredNotes says, per discovered pool, where its targets come from: the files list none. */
function discoveredNotes(gw: Gateway): string[] {
  const notes: string[] = [];
  for (const u of gw.runtime.upstreams.values()) {
    const state = u.discovery?.provider.state();
    if (state) notes.push(`upstream ${u.name}: targets discovered at run time from ${state.kind} ${state.subject}`);
  }
  const auto = gw.runtime.autoRoutes;
  if (auto) notes.push(`upstream auto:{APP}: targets discovered at run time from registry {APP} (each application registered with the gateway's registry, under ${auto.prefix}/{app}/*)`);
  return notes.length > 0 ? ['', ...notes] : [];
}

/** routes prints the routing table; returns the exit code. */
export async function routes(configFile: string): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const view = routesView(gw);
    const rows = view.routes.map((r) => [
      r.id,
      (r.methods?.join(',') ?? '*') + ' ' + (r.host ?? '') + r.path,
      r.upstream +
        (r.split ? ` (split: ${r.split.weights.map((w) => `${w.upstream} ${w.weight}%`).concat(r.split.overrides.length > 0 ? [`${r.split.overrides.length} override${r.split.overrides.length === 1 ? '' : 's'}`] : []).join(', ')})` : '') +
        (r.stripPrefix ? ' (strip)' : '') +
        (r.mirror ? ` (mirror ${r.mirror.percent}% → ${r.mirror.upstream})` : ''),
      r.chain.join(' → ') || '-',
      r.source,
    ]);
    // discovery.autoRoutes: one route per registered application, known only at run time; the mapping is shown as one row.
    const auto = view.autoRoutes;
    if (auto) rows.push(['auto:{APP}', `* ${auto.path}`, `${auto.upstream} (strip)`, auto.chain.join(' → ') || '-', auto.source]);
    const head = ['ROUTE', 'MATCH', 'UPSTREAM', 'CHAIN', 'SOURCE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(head), ...rows.map(line), ...discoveredNotes(gw)].join('\n') + '\n');
    await gw.close();
    return 0;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err);
      return 1;
    }
    throw err;
  }
}
