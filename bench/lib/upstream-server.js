/**
 * A benchmark upstream (child process): node:http with keep-alive, answering
 * every request with the same pre-built JSON body, and /healthz with 200 for
 * the gateway's health checks. Reports { type: 'ready', port, ports } over IPC.
 * Usage: node upstream-server.js <bodyBytes> [listeners]: with listeners > 1
 * the same server listens on that many ports (many targets, few processes:
 * the bench's 100-target shape).
 */
import http from 'node:http';
import { jsonBody } from './body.js';

const body = jsonBody(Number(process.argv[2] ?? 100));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = http.createServer((req, res) => {
  // Drain any request body so the keep-alive connection can be reused.
  req.resume();
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-length': '2' }).end('ok');
    return;
  }
  res.writeHead(200, headers).end(body);
});
// Longer than any proxy's idle pool timeout, so proxies close first (no reset races).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
const count = Number(process.argv[3] ?? 1);
const ports = [];
for (let i = 0; i < count; i++) {
  // One handler, several listening sockets: every port is the same upstream.
  const l = i === 0 ? server : http.createServer(server.listeners('request')[0]);
  l.keepAliveTimeout = server.keepAliveTimeout;
  l.headersTimeout = server.headersTimeout;
  l.listen(0, '127.0.0.1', () => {
    ports.push(l.address().port);
    if (ports.length === count) process.send({ type: 'ready', port: ports[0], ports });
  });
}
process.on('SIGTERM', () => process.exit(0));
