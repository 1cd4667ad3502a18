/**
 * request-id: exposes the request id under another header name as well.
 *
 * The core already does the rest on every route, with or without this
 * plugin: it keeps a well-formed `x-request-id` from a trusted client (see
 * `trustRequestId` and `trustProxy`) or makes a UUID, sends it upstream as
 * `x-request-id`, returns it in the response's `x-request-id`, puts it in
 * every error body and access-log line, and gives it to plugins as `req.id`.
 *
 * This plugin adds the same id under `header` (e.g. `x-correlation-id`) on
 * the request sent upstream and on the response, replacing any copy the
 * client or the upstream sent, so one id follows the request everywhere
 * whatever name a service expects. It never reads an id from that header:
 * which incoming ids are trusted stays the core's decision.
 */
import { definePlugin } from '../../define.js';
import type { PluginHooks } from '../../types.js';
import { checkHeaderNames } from '../internal/http-names.js';
import { manifest } from './schema.js';

export default definePlugin({
  ...manifest,
  create(opts) {
    const header = opts.header.toLowerCase();
    // The core owns x-request-id already: nothing to add.
    if (header === 'x-request-id') return {};
    checkHeaderNames([header], 'request', 'header');
    checkHeaderNames([header], 'response', 'header');
    const hooks: PluginHooks = {};
    if (opts.upstream) {
      hooks.ownsHeaders = [header];
      hooks.onRequest = (req) => req.setUpstreamHeader(header, req.id);
    }
    if (opts.response) {
      hooks.onResponse = (req, res) => {
        res.headers[header] = req.id;
      };
    }
    return hooks;
  },
});
