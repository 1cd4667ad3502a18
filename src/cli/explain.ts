/**
 * `switchyard explain METHOD URL [-H 'Name: value']...`: which route a request
 * takes and why the others do not, the chain it runs, the upstream, and the
 * target the balancer would pick now. Needs no network access to upstreams.
 * `switchyard explain --listener NAME [--sni NAME]` does the same for a
 * connection to a stream listener (src/streams/explain.ts).
 */
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { COMMANDS } from './commands.js';
import { printConfigErrors } from './output.js';
import { createGateway } from '../gateway/gateway.js';
import { explain as explainRoute } from '../routing/explain.js';

/** explain prints a routing explanation; returns the exit code. */
export async function explain(configFile: string, args: string[], headerLines: string[]): Promise<number> {
  const [method, url] = args;
  if (!method || !url) {
    // The parser admits no positional arguments for --listener; without it, METHOD and URL are required (same line as the parser's).
    process.stderr.write(`switchyard: missing arguments: switchyard explain ${COMMANDS.explain!.usage} (see "switchyard help explain")\n`);
    return 2;
  }
  const headers: Record<string, string> = {};
  let target = url;
  if (/^https?:\/\//i.test(url)) {
    const u = new URL(url);
    headers.host = u.host;
    target = u.pathname + u.search;
  }
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i === -1) {
      process.stderr.write(`bad header "${line}" (expected "Name: value")\n`);
      return 2;
    }
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const out = explainRoute(gw.runtime.router, method, target, headers);
    const w = (s: string) => process.stdout.write(s + '\n');
    if (out.error) {
      w(`request refused before routing (400): ${out.error}`);
      await gw.close();
      return 1;
    }
    w(`${method.toUpperCase()} ${out.path}${headers.host ? ` (host ${headers.host})` : ''}`);
    if (out.winner) {
      const r = out.winner;
      const t = r.upstream.pick(headers['x-forwarded-for'] ?? '127.0.0.1');
      w(`→ route ${r.id} (${r.file}:${r.line})`);
      w(`  chain:    ${r.pluginNames.join(' → ') || '(none)'}`);
      w(`  upstream: ${r.upstream.name} (${r.upstream.balancer.name}, ${r.upstream.eligible.length}/${r.upstream.targets.length} eligible)`);
      w(`  target:   ${t ? t.id : '(none eligible: 503)'}`);
      w(`  path sent upstream: ${r.stripLength > 0 ? out.path!.slice(r.stripLength) || '/' : out.path}`);
    } else w('→ no route matches (404)');
    const others = out.verdicts.filter((v) => v.route !== out.winner);
    if (others.length > 0) {
      w('other routes:');
      for (const v of others) w(`  ${v.route.id.padEnd(24)} ${v.reason}`);
    }
    await gw.close();
    return out.winner ? 0 : 1;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err);
      return 1;
    }
    throw err;
  }
}

/** explainStreamCommand prints which stream route a connection to `listener` (with SNI `sni`) takes; returns the exit code. */
export async function explainStreamCommand(configFile: string, listener: string, sni: string | undefined): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const out = gw.explainStream(listener, sni);
    await gw.close();
    const w = (s: string) => process.stdout.write(s + '\n');
    if (!out.ok) {
      process.stderr.write(`${out.error}\n`);
      return 2;
    }
    w(`connection to ${out.listener} (${out.protocol}, port ${out.port})${out.protocol === 'tls-passthrough' ? (out.sni ? ` with SNI ${out.sni}` : ' without SNI') : ''}`);
    const r = out.winner;
    if (r) {
      const t = r.upstream.pick('127.0.0.1');
      w(`→ stream route ${r.id} (${r.file}:${r.line})${r.sni ? `, match sni ${r.sni}` : ''}`);
      w(`  upstream: ${r.upstream.name} (${r.upstream.balancer.name}, ${r.upstream.eligible.length}/${r.upstream.targets.length} eligible)`);
      w(`  target:   ${t ? t.id : '(none eligible: the connection is closed)'}`);
      if (r.proxyProtocol) w(`  sends:    PROXY protocol ${r.proxyProtocol}`);
    } else w(out.protocol === 'tls-passthrough' ? '→ no stream route takes it (refused with a TLS unrecognized_name alert)' : '→ no stream route on this listener (the connection is closed)');
    if (out.others.length > 0) {
      w('other routes:');
      for (const o of out.others) w(`  ${o.route.id.padEnd(24)} ${o.reason}`);
    }
    return r ? 0 : 1;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err);
      return 1;
    }
    throw err;
  }
}
