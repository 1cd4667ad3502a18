/**
 * The soak test's upstream (child process): one node:http server listening on
 * two ports (so a reload can swap a pool between one and two targets) that
 * answers every kind of traffic the mixed soak sends:
 *   /m/ok            200 with a small JSON body
 *   /m/echo          200 with the request body's length
 *   /m/slow?ms=N     200 after N ms
 *   /m/stream        200 head at once, then 32 chunks over ~1.6s (clients abort mid-way)
 *   /fail/*          500
 *   /healthz         200
 * and WebSocket upgrades on any path (an echo server, `ws` package).
 * Reports { type: 'ready', ports: [a, b] } over IPC.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { jsonBody } from './body.js';

const ok = jsonBody(256);
const okHeaders = { 'content-type': 'application/json', 'content-length': String(ok.length) };
const chunk = Buffer.alloc(2048, 'x');

function handle(req, res) {
  const url = req.url ?? '/';
  if (url.startsWith('/m/echo')) {
    let n = 0;
    req.on('data', (c) => (n += c.length));
    req.on('end', () => {
      const body = JSON.stringify({ received: n });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
    });
    return;
  }
  req.resume();
  if (url.startsWith('/fail')) {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '4' }).end('boom');
  } else if (url.startsWith('/m/slow')) {
    const ms = Number(new URL(url, 'http://x').searchParams.get('ms') ?? 300);
    const timer = setTimeout(() => res.writeHead(200, okHeaders).end(ok), ms);
    res.once('close', () => clearTimeout(timer));
  } else if (url.startsWith('/m/stream')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(32 * chunk.length) });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(chunk);
      if (++sent === 32) {
        clearInterval(timer);
        res.end();
      }
    }, 50);
    // The gateway drops its upstream request when the client aborts: stop writing then.
    res.once('close', () => clearInterval(timer));
  } else if (url === '/healthz') {
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  } else {
    res.writeHead(200, okHeaders).end(ok);
  }
}

const ports = [];
for (let i = 0; i < 2; i++) {
  const server = http.createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  ports.push(server.address().port);
}
process.send({ type: 'ready', ports });
process.on('SIGTERM', () => process.exit(0));
