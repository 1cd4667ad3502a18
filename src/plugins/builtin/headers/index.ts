/**
 * headers: changes request headers on their way upstream and response
 * headers on their way back, with fixed values from the route file (`${ENV}`
 * variables are substituted by the loader before the plugin sees them).
 *
 * Request: `set` replaces (client copies of these headers are always
 * removed, so a route can set identity-like headers such as `x-tenant`
 * safely), `add` appends to what the client sent (joined with ", ", or "; "
 * for Cookie), `remove` drops, `rename` moves a client header to another
 * name. Response: `set`, `add` (a separate header line, e.g. Set-Cookie) and
 * `remove`. Order: rename, remove, set, add.
 *
 * Configured values may not contain CR, LF or NUL (a schema error), and
 * headers the connection or the core owns (Host, Content-Length,
 * Transfer-Encoding, X-Forwarded-*, X-Request-Id, ...) cannot be touched.
 */
import { definePlugin } from '../../define.js';
import type { PluginHooks } from '../../types.js';
import { UNSAFE_VALUE, checkHeaderNames } from '../internal/http-names.js';
import { manifest } from './schema.js';

type Pairs = readonly (readonly [string, string])[];

/** lower lower-cases a record's keys into pairs, list values flattened. */
const lower = (r: Record<string, string | string[]>): Pairs => Object.entries(r).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k.toLowerCase(), x] as const));

export default definePlugin({
  ...manifest,
  create(opts) {
    const q = opts.request;
    const s = opts.response;
    checkHeaderNames([...Object.keys(q.set), ...Object.keys(q.add), ...q.remove, ...Object.keys(q.rename), ...Object.values(q.rename)], 'request', 'request');
    checkHeaderNames([...Object.keys(s.set), ...Object.keys(s.add), ...s.remove], 'response', 'response');
    const reqSet = lower(q.set);
    const reqRemove = q.remove.map((n) => n.toLowerCase());
    const rename = lower(q.rename);
    // Each added header is compiled to what it appends to: a value set by this plugin, nothing (removed), or the client's value.
    const setValue = new Map(reqSet);
    const added = new Map<string, string[]>();
    for (const [name, value] of lower(q.add)) added.set(name, [...(added.get(name) ?? []), value]);
    const reqAdd = [...added].map(([name, values]) => ({
      name,
      value: values.join(name === 'cookie' ? '; ' : ', '),
      base: setValue.get(name) ?? (reqRemove.includes(name) ? null : undefined),
    }));
    const resSet = lower(s.set);
    const resAdd = lower(s.add);
    const resRemove = s.remove.map((n) => n.toLowerCase());

    const hooks: PluginHooks = {};
    if (reqSet.length + reqAdd.length + reqRemove.length + rename.length > 0) {
      // Headers set, added to, or renamed to are written by this plugin: client copies under those names never pass.
      hooks.ownsHeaders = [...new Set([...reqSet.map(([n]) => n), ...rename.map(([, to]) => to)])];
      hooks.onRequest = (req) => {
        for (const [from, to] of rename) {
          const v = req.headers[from];
          req.removeUpstreamHeader(from);
          if (v === undefined) continue;
          const text = Array.isArray(v) ? v.join(', ') : v;
          // Node refuses control characters in incoming headers already; this keeps the invariant local.
          if (!UNSAFE_VALUE.test(text)) req.setUpstreamHeader(to, text);
        }
        for (const name of reqRemove) req.removeUpstreamHeader(name);
        for (const [name, value] of reqSet) req.setUpstreamHeader(name, value);
        for (const { name, value, base } of reqAdd) {
          const v = base === undefined ? req.headers[name] : base;
          const have = Array.isArray(v) ? v.join(', ') : v;
          req.setUpstreamHeader(name, have === undefined || have === null || have === '' ? value : `${have}${name === 'cookie' ? '; ' : ', '}${value}`);
        }
      };
    }
    if (resSet.length + resAdd.length + resRemove.length > 0) {
      hooks.onResponse = (_req, res) => {
        const h = res.headers;
        for (const name of resRemove) if (h[name] !== undefined) delete h[name];
        for (const [name, value] of resSet) h[name] = value;
        for (const [name, value] of resAdd) {
          const v = h[name];
          h[name] = v === undefined ? value : Array.isArray(v) ? [...v, value] : [v, value];
        }
      };
    }
    return hooks;
  },
});
