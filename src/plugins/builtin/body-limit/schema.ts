/**
 * The body-limit plugin's options and manifest: what the registry knows of
 * the plugin before its code is loaded (src/plugins/builtins.ts).
 */
import { Type } from '@sinclair/typebox';
import { SIZE_PATTERN } from '../../size.js';

/** BodyLimitOptions is the schema of the body-limit plugin's options. */
export const BodyLimitOptions = Type.Object({
  max: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
    description: 'Largest request body accepted: bytes, or a size such as 512kb, 1mb (1024-based). Over it: 413.',
  }),
});

/** manifest names and describes the plugin and holds its options schema. */
export const manifest = {
  name: 'body-limit',
  description: 'Limit the request body size of a route (413 over the limit).',
  options: BodyLimitOptions,
};
