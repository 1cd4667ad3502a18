/**
 * `switchyard init [DIR]`: a starting configuration that explains itself —
 * a commented gateway.yaml and one route file — and passes
 * `switchyard validate` as written. Existing files are never overwritten
 * unless --force is given, and then only the files init writes.
 */
import { resolve } from 'node:path';
import { relative } from './output.js';
import { writeScaffold } from './scaffold.js';

const GATEWAY_YAML = `# Switchyard gateway configuration. Check it with \`switchyard validate\`,
# start it with \`switchyard start\`. \`\${NAME}\` and \`\${NAME:-default}\` read
# the environment. Every key is optional; the values below are the defaults
# unless a comment says otherwise.

# The public listener. Add \`tls: { cert: cert.pem, key: key.pem }\` for HTTPS.
listen: { host: "\${SWITCHYARD_HOST:-0.0.0.0}", port: 8080 }

# The admin API and dashboard (/healthz, /readyz, /metrics, /reload, ...).
# Keep it on loopback or set a token: admin: { token: "\${ADMIN_TOKEN}" }.
admin: { host: 127.0.0.1, port: 9901 }

# Route files: a directory (every .yaml/.yml/.json in it) or a list of files.
# Changes are picked up without a restart.
routes: ./routes

# Custom plugins, one folder each (\`switchyard plugin new NAME\` writes one).
# The built-in plugins (jwt, session, rate-limit, cors, headers, request-id,
# ip-filter, body-limit) are always available.
plugins: ./plugins

# Plugins that run on every route, before the route's own, e.g.
#   chain: [request-id, { rate-limit: { max: 100, window: 1m } }]
chain: []

# Behind a load balancer, believe its X-Forwarded-For: a list of its addresses/CIDRs.
# trustProxy: [10.0.0.0/8]

# Behind an L4 balancer (HAProxy mode tcp with send-proxy-v2, a cloud NLB): take the
# client address from its PROXY protocol header; required from these peers, refused from others.
# proxyProtocol: { accept: { from: [10.0.0.0/8], versions: [v2] } }

# Share sessions and rate-limit counters between instances:
# redis: { url: "\${REDIS_URL}" }

# Logs: level fatal|error|warn|info|debug|trace|silent; one access-log line per request.
log: { level: info, accessLog: true }

# Longest wait for in-flight requests on SIGTERM.
shutdownTimeout: 30s
`;

const ROUTE_YAML = `# A route file: named upstream pools and the routes that send traffic to them.
# Teams can own one file each; \`switchyard routes\` prints the combined table.

upstreams:
  app:
    # round-robin | weighted-round-robin | least-connections | ip-hash | random
    balancer: round-robin
    targets:
      - url: http://127.0.0.1:3000
      # - url: http://127.0.0.1:3001
      #   weight: 2                  # for weighted-round-robin
    # Active health checks take a failing target out of rotation:
    # healthCheck: { path: /healthz, interval: 5s }

routes:
  - id: app
    match:
      path: /app/*                   # a prefix; /app itself matches too
      # methods: [GET, POST]
      # host: api.example.com
    upstream: app
    stripPrefix: true                # /app/users reaches the upstream as /users
    # plugins:                       # run after the global chain
    #   - jwt: { algorithms: [RS256], jwksUri: https://auth.example.com/.well-known/jwks.json }
`;

/** init writes the starter configuration into dir; returns the exit code. */
export async function init(dir: string, force: boolean): Promise<number> {
  const root = resolve(dir);
  const ok = await writeScaffold(
    [
      { path: resolve(root, 'gateway.yaml'), text: GATEWAY_YAML },
      { path: resolve(root, 'routes', 'example.yaml'), text: ROUTE_YAML },
    ],
    force,
  );
  if (!ok) return 1;
  const config = relative(resolve(root, 'gateway.yaml'));
  const flag = config === 'gateway.yaml' ? '' : ` --config ${config}`;
  process.stdout.write(`next: edit the upstream in ${relative(resolve(root, 'routes', 'example.yaml'))}, then\n  switchyard validate${flag}\n  switchyard start${flag}\n`);
  return 0;
}
