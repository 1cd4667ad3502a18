/**
 * The headers plugin's options and manifest: what the registry knows of the
 * plugin before its code is loaded (src/plugins/builtins.ts).
 */
import { Type } from '@sinclair/typebox';
import { HEADER_VALUE_PATTERN } from '../internal/http-names.js';

const Value = Type.String({ pattern: HEADER_VALUE_PATTERN, description: 'Header value (no CR, LF or NUL).' });
const Values = (description: string) => Type.Record(Type.String({ minLength: 1 }), Value, { default: {}, description });
const AddValues = (description: string) => Type.Record(Type.String({ minLength: 1 }), Type.Union([Value, Type.Array(Value, { minItems: 1 })]), { default: {}, description });
const Names = (description: string) => Type.Array(Type.String({ minLength: 1 }), { default: [], description });

/** HeadersOptions is the schema of the headers plugin's options. */
export const HeadersOptions = Type.Object({
  request: Type.Object(
    {
      set: Values('Headers sent upstream with these values, replacing any client copy.'),
      add: AddValues("Values appended to the client's header (or sent alone when the client sent none)."),
      remove: Names('Client headers not sent upstream.'),
      rename: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { default: {}, description: 'Client header → name it is sent upstream under.' }),
    },
    { default: {}, description: 'Changes to the request sent upstream.' },
  ),
  response: Type.Object(
    {
      set: Values('Response headers set to these values, replacing the upstream ones.'),
      add: AddValues('Response header lines added after the upstream ones.'),
      remove: Names('Response headers not sent to the client.'),
    },
    { default: {}, description: 'Changes to the response sent to the client.' },
  ),
});

/** manifest names and describes the plugin and holds its options schema. */
export const manifest = {
  name: 'headers',
  description: 'Set, add, remove and rename request and response headers.',
  options: HeadersOptions,
};
