/**
 * A benchmark upstream (child process): node:http with keep-alive, answering
 * every request with the same pre-built JSON body, and /healthz with 200 for
 * the gateway's health checks. Reports { type: 'ready', port } over IPC.
 * Usage: node upstream-server.js <bodyBytes>
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
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
