/**
 * The cors plugin's options and manifest: what the registry knows of the
 * plugin before its code is loaded (src/plugins/builtins.ts).
 */
import { Type } from '@sinclair/typebox';
import { Duration } from '../../duration.js';
import { HEADER_NAME_PATTERN } from '../internal/http-names.js';

const HeaderList = (description: string, dflt?: string[]) =>
  Type.Array(Type.String({ pattern: `(${HEADER_NAME_PATTERN})|^\\*$` }), { ...(dflt ? { default: dflt } : {}), description });

/** CorsOptions is the schema of the cors plugin's options. */
export const CorsOptions = Type.Object({
  origins: Type.Union([Type.Literal('*'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    description: 'Allowed origins: a list of exact origins (https://app.example.com) and patterns (https://*.example.com, http://localhost:*), or "*" for any (never with credentials).',
  }),
  methods: Type.Array(Type.String({ pattern: '^[A-Z]+$' }), { default: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'], description: 'Methods allowed in preflight answers.' }),
  allowedHeaders: Type.Optional(HeaderList('Request headers allowed in preflight answers; when not set, the headers the browser asks for are allowed.')),
  exposedHeaders: HeaderList('Response headers scripts may read besides the safelisted ones.', []),
  credentials: Type.Boolean({ default: false, description: 'Allow cookies and Authorization on cross-origin requests (needs an explicit origin list).' }),
  maxAge: Duration({ default: '10m', description: 'How long browsers may cache a preflight answer (browsers cap it; Chrome at 2h).' }),
});

/** manifest names and describes the plugin and holds its options schema. */
export const manifest = {
  name: 'cors',
  description: 'Answer CORS preflights and add CORS headers to responses for allowed origins.',
  options: CorsOptions,
};
