/**
 * The undici-minimal candidate (child process): node:http in front of one
 * undici Pool per target, round robin, streaming the response through with
 * Pool#stream (no per-request Readable). It drops hop-by-hop headers and does
 * nothing else: no routing, no retries, no health, no logging. This is about
 * the practical ceiling of a proxy written in Node. Reports { type: 'ready',
 * port } over IPC. Usage: node undici-proxy.js <targetUrl> [<targetUrl>...]
 */
import http from 'node:http';
import { Pool } from 'undici';

const pools = process.argv.slice(2).map((url) => new Pool(url, { connections: 128, keepAliveTimeout: 4000 }));
let next = 0;

/** HOP lists hop-by-hop headers (RFC 9110 §7.6.1) that are not forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

const server = http.createServer((req, res) => {
  const pool = pools[next];
  next = (next + 1) % pools.length;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.stream(
    { path: req.url, method: req.method, headers: forwardHeaders(req.rawHeaders), body: hasBody ? req : undefined },
    ({ statusCode, headers }) => {
      const out = {};
      for (const [k, v] of Object.entries(headers)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(statusCode, out);
      return res;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      else res.destroy(err);
    },
  );
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
