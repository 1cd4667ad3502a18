/**
 * A configuration on disk around real upstreams, for the tests of POST
 * /reload?dryRun=1 and the dashboard's last change: `app` serves /app/*, and
 * the change adds `app-new` on /app/new/* (a new route shadowing part of an
 * existing one: flagged).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** appTree writes gateway.yaml and routes/app.yaml; `change()` rewrites the route file with the new route. */
export function appTree(oldUrl: string, newUrl: string): { configFile: string; change: () => void; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-diff-app-'));
  mkdirSync(join(dir, 'routes'));
  const routes = (extra: string) => `upstreams:
  app: { targets: [ { url: "${oldUrl}" } ] }
  app-new: { targets: [ { url: "${newUrl}" } ] }
routes:
  - id: app
    match: { path: /app/* }
    upstream: app
${extra}`;
  const write = (text: string) => {
    writeFileSync(join(dir, 'routes', '.app.yaml.tmp'), text);
    renameSync(join(dir, 'routes', '.app.yaml.tmp'), join(dir, 'routes', 'app.yaml'));
  };
  write(routes(''));
  writeFileSync(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\nreload: { watch: false }\n');
  return {
    configFile: join(dir, 'gateway.yaml'),
    change: () => write(routes('  - id: app-new\n    match: { path: /app/new/* }\n    upstream: app-new\n')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
