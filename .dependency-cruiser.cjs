/**
 * The dependency rule of src/ (run by `npm test` as `npm run deps`): imports
 * point one way, down this list of layers, never up and never in a cycle.
 *
 *   cli                                   the command line
 *   cluster                               the multi-process primary and its workers
 *   gateway                               composes the rest: start, reload, shutdown
 *   front-door | admin | telemetry | registry | streams | diff   public listeners | admin API | logs, metrics, spans | the Eureka registry | layer-4 listeners | the semantic diff of two configurations
 *                                         (diff: models of validated docs evaluated with the Router; it reads config and routing, never
 *                                         compile or proxy, so a diff never builds a pool, starts a health check or opens a socket)
  *   compile                               compiles configuration into what the proxy serves
 *   proxy | client                        the request path | the client library (switchyard-gateway/client)
 *   routing | balancing | health | upstream | discovery | plugins (SDK)
 *   config | http | stores | process | errors | proxy-protocol   (proxy-protocol: a leaf, the PROXY protocol wire format)
 *
 * A layer may import any layer below it, and itself. Siblings on one line
 * do not import each other, with the exceptions written below as rules
 * (each with its reason). Built-in plugins are written like third-party
 * ones: they import only the plugin SDK and src/http/index.ts. The admin API sees only
 * the AdminBackend interface (src/admin/backend.ts), never the gateway.
 * The client library is a product of its own on the building blocks below
 * it: it shares no code with the request path, and nothing imports it.
 */
const LAYERS = [
  ['cli'],
  ['cluster'],
  ['gateway'],
  ['front-door', 'admin', 'telemetry', 'registry', 'streams', 'diff'],
  ['compile'],
  ['proxy', 'client'],
  ['routing', 'balancing', 'health', 'upstream', 'discovery', 'plugins'],
  ['config', 'http', 'stores', 'process', 'errors\\.ts', 'proxy-protocol'],
];

// Sibling imports that are part of the design (from → to, and why).
const SIBLINGS = {
  'front-door': ['telemetry'], // listeners log and count their refusals through the observer
  telemetry: [],
  streams: ['telemetry'], // stream listeners count connections and bytes through the telemetry's stream metrics
  admin: [],
  diff: [],
  proxy: [],
  client: [],
  routing: [],
  balancing: [],
  health: ['upstream'], // checkers report to a pool's targets (types only)
  upstream: ['balancing', 'health', 'discovery'], // a pool balances over its targets, applies slow start, and applies discovered sets (types only)
  discovery: [],
  plugins: [],
  registry: [],
  config: ['http'], // validates address/CIDR lists with the parser trustProxy and ip-filter use (src/http imports nothing)
  http: [],
  stores: [],
  process: [],
  'proxy-protocol': ['http'], // the wire format, shared by listeners and streams; peer addresses read with src/http's helpers (which import nothing)
};

const folder = (name) => (name.endsWith('.ts') ? `^src/${name}$` : `^src/${name}/`);
const forbidden = [
  {
    name: 'no-circular',
    comment: 'A cycle makes two modules one: break it by moving the shared piece down.',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  for (const name of layer) {
    const siblings = layer.filter((s) => s !== name && !(SIBLINGS[name] ?? []).includes(s));
    if (above.length + siblings.length === 0) continue; // the top layer may import anything
    forbidden.push({
      name: `layers: ${name.replace('\\.ts', '.ts')} imports only layers below it`,
      comment: `src/${name.replace('\\.ts', '.ts')} may not import ${[...above, ...siblings].join(', ') || 'nothing above'} (see the layer list at the top of .dependency-cruiser.cjs).`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: [...above, ...siblings].map(folder) },
    });
  }
});
forbidden.push(
  {
    name: 'diff: models, never runtime',
    comment: 'A diff (CLI, POST /reload?dryRun=1) must not build pools, start health checks, instantiate plugins or dial stores: it reads validated docs (src/config) and routes with src/routing.',
    severity: 'error',
    from: { path: '^src/diff/' },
    to: { path: ['^src/compile/', '^src/proxy/', '^src/upstream/', '^src/health/', '^src/stores/', '^src/discovery/', '^src/plugins/', '^src/balancing/'] },
  },
  {
    name: 'client: nothing imports the client library',
    comment: 'src/client/ is published as switchyard-gateway/client for services; the gateway does not depend on it (move what both need below both).',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/client/' },
    to: { path: '^src/client/' },
  },
  {
    name: 'plugins: built-ins import only the plugin SDK',
    comment: 'Built-in plugins are written like third-party ones: the SDK (src/plugins/*.ts), src/http/index.ts (published as switchyard-gateway/http) and their own folder.',
    severity: 'error',
    from: { path: '^src/plugins/builtin/' },
    to: { path: '^src/', pathNot: ['^src/plugins/', '^src/http/index\\.ts$', '^src/errors\\.ts$', '^src/stores/store(-error)?\\.ts$'] },
  },
  {
    name: 'plugins: the SDK never imports a built-in',
    comment: 'The SDK is the interface; only the registry of built-ins (src/plugins/builtins.ts) names them.',
    severity: 'error',
    from: { path: '^src/plugins/[^/]+\\.ts$', pathNot: '^src/plugins/builtins\\.ts$' },
    to: { path: '^src/plugins/builtin/' },
  },
  {
    name: 'core: nothing outside src/plugins depends on a built-in plugin',
    comment: 'The core may not depend on a plugin: move what both need to src/http/.',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/plugins/' },
    to: { path: '^src/plugins/builtin/' },
  },
);

module.exports = {
  forbidden,
  options: {
    // TypeScript 7 has no JavaScript compiler API for dependency-cruiser to use: swc parses the sources, type-only imports included.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
  },
};
