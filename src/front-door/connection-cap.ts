/**
 * The cap on open client connections of a public listener
 * (`limits.maxConnections`). Past it, a new connection is closed as it
 * arrives, before any byte is read, so a flood of idle or slow connections
 * cannot exhaust file descriptors and memory while the connections already
 * open keep being served. Each drop is reported (metrics).
 *
 * In a single process this is node's own `server.maxConnections`, which
 * closes the accepted handle before a socket object or a TLS session is
 * built ('drop' event). A cluster worker counts instead: node's cluster
 * primary answers a worker's refusal by handing the same connection to the
 * next worker, and when every worker is full it does so in a loop that
 * burns a CPU (measured on Node 20). A worker closes what it cannot take.
 */
import cluster from 'node:cluster';
import type { Server, Socket } from 'node:net';

/** CapMode picks the mechanism: node's 'native' maxConnections, or 'counted' in the 'connection' event. */
export type CapMode = 'native' | 'counted';

/** capConnections limits `server` to `max` open connections (0 = no limit); `onDrop` is told of each connection closed for it. */
export function capConnections(server: Server, max: number, onDrop: () => void, mode: CapMode = cluster.isWorker ? 'counted' : 'native'): void {
  if (max <= 0) return;
  if (mode === 'native') {
    server.maxConnections = max;
    server.on('drop', onDrop);
    return;
  }
  let open = 0;
  const closed = () => open--;
  // First in line: the socket is closed before TLS or the HTTP parser read from it (their listeners then see a closed socket).
  server.prependListener('connection', (socket: Socket) => {
    if (open >= max) {
      socket.destroy();
      onDrop();
      return;
    }
    open++;
    socket.once('close', closed);
  });
}
