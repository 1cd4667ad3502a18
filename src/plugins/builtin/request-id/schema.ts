/**
 * The request-id plugin's options and manifest: what the registry knows of
 * the plugin before its code is loaded (src/plugins/builtins.ts).
 */
import { Type } from '@sinclair/typebox';
import { HEADER_NAME_PATTERN } from '../internal/http-names.js';

/** RequestIdOptions is the schema of the request-id plugin's options. */
export const RequestIdOptions = Type.Object({
  header: Type.String({ pattern: HEADER_NAME_PATTERN, default: 'x-request-id', description: 'Header that carries the request id too, upstream and in the response (x-request-id itself is always set by the core).' }),
  upstream: Type.Boolean({ default: true, description: 'Send the header upstream.' }),
  response: Type.Boolean({ default: true, description: 'Return the header to the client.' }),
});

/** manifest names and describes the plugin and holds its options schema. */
export const manifest = {
  name: 'request-id',
  description: 'Expose the gateway request id under another header name, upstream and in responses.',
  options: RequestIdOptions,
};
