/**
 * `switchyard routes`: print the routing table as teams wrote it, resolved.
 */
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { printConfigErrors } from './output.js';
import { createGateway } from '../gateway/gateway.js';
import { routesView } from '../gateway/admin-views.js';

/** routes prints the routing table; returns the exit code. */
export async function routes(configFile: string): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const rows = routesView(gw).routes.map((r) => [
      r.id,
      (r.methods?.join(',') ?? '*') + ' ' + (r.host ?? '') + r.path,
      r.upstream + (r.stripPrefix ? ' (strip)' : ''),
      r.chain.join(' → ') || '-',
      r.source,
    ]);
    const head = ['ROUTE', 'MATCH', 'UPSTREAM', 'CHAIN', 'SOURCE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
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
