/**
 * The L4 benchmark's "what Node itself costs" reference (bench/streams.js):
 * the smallest correct TCP proxy Node can run — accept, connect to the one
 * upstream, pipe both ways with half-close — and nothing else (no routing,
 * balancing, health, limits, timeouts, metrics or log). The gap between it
 * and HAProxy is the runtime's; the gap between it and the gateway is ours.
 * Usage: node node-tcp-proxy.js LISTEN_PORT UPSTREAM_PORT
 */
import net from 'node:net';

const [listen, upstream] = process.argv.slice(2).map(Number);
const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => {
  const up = net.connect({ port: upstream, host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  const fail = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', fail);
  up.on('error', fail);
  up.once('connect', () => {
    client.pipe(up);
    up.pipe(client);
  });
});
server.listen(listen, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
