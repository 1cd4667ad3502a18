/**
 * `switchyard explain METHOD URL [-H 'Name: value']...`: which route a request
 * takes and why the others do not, the chain it runs, the upstream, and the
 * target the balancer would pick now. Needs no network access to upstreams.
 * A discovered pool's targets exist only in the running gateway: explain asks
 * its admin API (live-pool.ts) and, when none answers, says where they would
 * come from instead of printing an empty pool.
 * `switchyard explain --listener NAME [--sni NAME]` does the same for a
 * connection to a stream listener (src/streams/explain.ts).
 */
import { pino } from 'pino';
import { AutoRoutes } from '../compile/auto-routes.js';
import { explainMirror } from '../compile/mirror.js';
import { ConfigInvalid } from '../config/errors.js';
import { COMMANDS } from './commands.js';
import { printConfigErrors } from './output.js';
import { livePool } from './live-pool.js';
import { splitLines } from './explain-split.js';
import { createGateway } from '../gateway/gateway.js';
import { explain as explainRoute } from '../routing/explain.js';
import type { Upstream } from '../upstream/upstream.js';

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
    const auto = gw.runtime.autoRoutes instanceof AutoRoutes ? gw.runtime.autoRoutes : undefined;
    const out = explainRoute(gw.runtime.router, method, target, headers, auto ? (p) => auto.preview(p) : undefined);
    const w = (s: string) => process.stdout.write(s + '\n');
    if (out.error) {
      w(`request refused before routing (400): ${out.error}`);
      await gw.close();
      return 1;
    }
    w(`${method.toUpperCase()} ${out.path}${headers.host ? ` (host ${headers.host})` : ''}`);
    let code = out.winner ? 0 : 1;
    if (out.winner) {
      const r = out.winner;
      const live = r.upstream.discovery ? await livePool(gw.config.admin, r.upstream.name) : undefined;
      if (out.fallback) w(`→ automatic route ${r.id} (discovery.autoRoutes, prefix ${auto!.prefix})`);
      else w(`→ route ${r.id} (${r.file}:${r.line})`);
      w(`  chain:    ${r.pluginNames.join(' → ') || '(none)'}`);
      if (live?.kind === 'found') seed(r.upstream, live.instances);
      w(`  upstream: ${r.upstream.name} (${r.upstream.balancer.name}, ${r.upstream.eligible.length}/${r.upstream.targets.length} eligible)${r.split !== undefined ? '; the primary (the split below says which leg this request takes)' : ''}`);
      const state = r.upstream.discovery?.provider.state();
      const from = state ? `${state.kind} ${state.subject}` : '';
      if (live === undefined) {
        const t = r.upstream.pick(headers['x-forwarded-for'] ?? '127.0.0.1');
        w(`  target:   ${t ? t.id : '(none eligible: 503)'}`);
      } else if (live.kind === 'found') {
        const t = r.upstream.pick(headers['x-forwarded-for'] ?? '127.0.0.1');
        w(`  target:   ${t ? `${t.id} (${t.source ?? 'configured'})` : `(none eligible: 503; ${r.upstream.targets.length} discovered, none up)`}`);
        w(`            discovered by the running gateway (${live.admin})`);
      } else if (live.kind === 'unknown' && out.fallback) {
        w(`  target:   (none: ${from} is not registered with the running gateway (${live.admin}), so this request gets 404 now)`);
        code = 1;
      } else {
        w(`  target:   targets discovered at run time from ${from}`);
        w(`            (${live.kind === 'unknown' ? `the gateway at ${live.admin} runs no pool ${r.upstream.name}` : `no running gateway answered at ${live.admin}: ${live.reason}`})`);
      }
      // A split's legs, and the one this request takes when explain can tell (explain-split.ts).
      const q = target.indexOf('?');
      for (const line of splitLines(r, method, q === -1 ? '' : target.slice(q + 1), headers, (headers.host ?? '').replace(/:\d+$/, '').toLowerCase(), headers['x-forwarded-for'] ?? '127.0.0.1')) w(line);
      w(`  path sent upstream: ${r.stripLength > 0 ? out.path!.slice(r.stripLength) || '/' : out.path}`);
      if (r.mirror !== undefined) w(`  mirror:   ${explainMirror(r.mirror, method)}`);
      // A previewed automatic pool belongs to no runtime: its seeded targets are closed here.
      if (out.fallback) await Promise.all(r.upstream.targets.map((t) => t.close()));
    } else w('→ no route matches (404)');
    const others = out.verdicts.filter((v) => v.route !== out.winner);
    if (others.length > 0) {
      w('other routes:');
      for (const v of others) w(`  ${v.route.id.padEnd(24)} ${v.reason}`);
    }
    await gw.close();
    return code;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err);
      return 1;
    }
    throw err;
  }
}

/** seed fills an offline pool with the running gateway's targets, so its own balancer names the pick. */
function seed(upstream: Upstream, instances: Parameters<Upstream['replaceTargets']>[0]): void {
  // The pool's own factory: undici pools connect lazily, and nothing here sends a request.
  if (upstream.discovery) upstream.replaceTargets(instances, upstream.discovery.makeTarget);
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
