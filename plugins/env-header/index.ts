/**
 * env-header: an example custom plugin (the "Write your own plugin" guide in
 * docs/plugins.md walks through it). It sets a request header sent upstream from an
 * environment variable read once at load — e.g. a deployment region or a
 * shared secret an upstream checks — and strips any client copy of it, so a
 * client can never forge it.
 *
 *   chain:
 *     - env-header: { header: x-region, env: REGION }
 */
// The package's own name, as in any plugin: the gateway resolves it to the running installation (src/plugins/loader-hooks.ts).
import { definePlugin, Type } from 'switchyard-gateway';

export default definePlugin({
  name: 'env-header',
  description: 'Sets an upstream request header from an environment variable.',
  options: Type.Object({
    header: Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'Header name sent upstream.' }),
    env: Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'Environment variable to read (once, at load).' }),
    fallback: Type.Optional(Type.String({ description: 'Value when the variable is unset; without it, loading fails.' })),
  }),
  create(options, ctx) {
    // Everything that can be decided at load is decided here: the hook below only sets a header.
    const value = process.env[options.env] ?? options.fallback;
    if (value === undefined) throw new Error(`environment variable ${options.env} is not set and no fallback is given`);
    if (/[\r\n\0]/.test(value)) throw new Error(`environment variable ${options.env} contains a line break or NUL`);
    const header = options.header.toLowerCase();
    ctx.log.debug({ header }, 'env-header ready');
    return {
      ownsHeaders: [header], // client-sent copies are always stripped
      onRequest(req) {
        req.setUpstreamHeader(header, value);
      },
    };
  },
});
