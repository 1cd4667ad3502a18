/**
 * Helpers of the diff tests: configuration trees written to temporary
 * directories (a gateway.yaml and route files), loaded into diff models.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** GATEWAY is the gateway.yaml of most trees: loopback listeners on port 0, a global request-id. */
export const GATEWAY = 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nchain:\n  - request-id\n';

/** ORDERS is a team file: the orders pool and its route behind jwt. */
export const ORDERS = `upstreams:
  orders:
    targets:
      - url: http://10.0.0.1:8080
      - url: http://10.0.0.2:8080
routes:
  - id: orders
    match: { path: /api/orders/* }
    upstream: orders
    plugins:
      - jwt: { algorithms: [HS256], secret: "0123456789abcdef0123456789abcdef" }
`;

/** USERS is another team file: the users pool and two routes. */
export const USERS = `upstreams:
  users:
    targets: [ { url: "http://10.0.1.1:8080" } ]
routes:
  - id: users
    match: { path: /api/users/* }
    upstream: users
  - id: users-admin
    match: { path: /api/users/admin, methods: [POST], headers: { x-admin: "1" } }
    upstream: users
`;

const made: string[] = [];

/** tree writes files (path → text) under a new temporary directory and returns its gateway.yaml's path. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-diff-'));
  made.push(dir);
  for (const [name, text] of Object.entries({ 'gateway.yaml': GATEWAY, ...files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, 'gateway.yaml');
}

/** removeTrees deletes every tree made so far. */
export function removeTrees(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
