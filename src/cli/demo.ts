/**
 * `switchyard demo`: small local upstreams for the shipped example routes, so
 * `npm start` plus curl shows balancing at once. Ports match routes/*.yaml.
 */
import http from 'node:http';

/**
 * DEMO_POOLS are the example pools and the loopback ports they listen on.
 * api-v2 and api-shadow are not in the shipped routes: README's "Changing
 * traffic safely" adds them as a canary and a shadow of the api pool.
 */
export const DEMO_POOLS: Record<string, number[]> = { api: [9001, 9002, 9003], static: [9011, 9012], 'api-v2': [9021, 9022], 'api-shadow': [9031] };

/**
 * demoServer is one demo upstream of `pool` (not yet listening): it answers
 * with the pool and address that served, and says each mirrored copy it gets
 * through `say` (a shadow's answers go nowhere, so its terminal is the only
 * place its traffic shows). Exported for the README walkthrough tests, which
 * run it on free ports.
 */
export function demoServer(pool: string, say: (line: string) => void = (line) => process.stdout.write(line)): http.Server {
  return http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const target = `127.0.0.1:${req.socket.localPort}`;
    const mirrored = req.headers['x-mirrored-from'];
    if (typeof mirrored === 'string') say(`${pool} ${target} got a copy of ${req.method} ${req.url} (route ${mirrored})\n`);
    const body = JSON.stringify({ pool, target, method: req.method, path: req.url, requestId: req.headers['x-request-id'], forwardedFor: req.headers['x-forwarded-for'] });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body + '\n');
  });
}

/** demo starts the demo upstreams and runs until interrupted. */
export async function demo(): Promise<number> {
  const servers: http.Server[] = [];
  for (const [pool, ports] of Object.entries(DEMO_POOLS)) {
    for (const port of ports) {
      const server = demoServer(pool);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', resolve);
        });
      } catch (err) {
        // The demo's ports are fixed (routes/*.yaml name them): say which one is taken, not a stack.
        for (const s of servers) s.close();
        const code = (err as { code?: string }).code ?? 'error';
        process.stderr.write(`switchyard demo: 127.0.0.1:${port} (pool ${pool}) cannot be used (${code}); is another demo running?\n`);
        return 1;
      }
      servers.push(server);
      process.stdout.write(`demo upstream ${pool} on http://127.0.0.1:${port}\n`);
    }
  }
  process.stdout.write('demo upstreams running; now run `npm start` in another terminal and try:\n  curl localhost:8080/api/users/42   (repeat: the pool rotates 9001 → 9002 → 9003)\n  curl localhost:8080/static/logo.png  (weighted 3:1 over 9011 and 9012)\n(api-v2 and api-shadow are for docs/changing-traffic.md)\nCtrl-C to stop.\n');
  const stop = () => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return -1;
}
