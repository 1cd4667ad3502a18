/**
 * Lists of peer addresses in gateway.yaml (`trustProxy`, `proxyProtocol.accept.from`)
 * decide whom the gateway believes about a client's address: an entry that is
 * not an address or CIDR must be an error at its line, never silently ignored
 * (an operator would think a load balancer trusted that is not, or the reverse).
 */
import { validateTrustProxy } from '../http/client-ip.js';
import { errorAt, type ConfigError, type DocSource } from './errors.js';

/** addressListErrors checks each string entry of the list at `path` in doc is an address or CIDR, at its file:line. */
export function addressListErrors(doc: unknown, source: DocSource, path: readonly string[]): ConfigError[] {
  let list: unknown = doc;
  for (const key of path) list = (list as Record<string, unknown> | null | undefined)?.[key];
  if (!Array.isArray(list)) return [];
  const errors: ConfigError[] = [];
  list.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') return; // the schema reports it
    const problem = validateTrustProxy(entry);
    if (problem) errors.push(errorAt(source, [...path, i], problem, { suggestion: 'an address (10.0.0.5) or a CIDR (10.0.0.0/8, fd00::/8)', prefer: 'value' }));
  });
  return errors;
}
