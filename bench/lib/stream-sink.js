/**
 * The L4 benchmark's upstream (bench/streams.js): one TCP port, the first
 * byte of a connection picks the behaviour. `B` (bulk): discard everything,
 * and when the client half-closes answer the byte count (8 bytes) and close.
 * `E` (echo): echo everything back (the 100-byte exchanges and the idle
 * streams). Runs in its own process; tells the parent its port over IPC.
 */
import net from 'node:net';

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  let mode;
  let count = 0;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    if (mode === undefined) mode = chunk[0];
    if (mode === 0x42 /* B */) count += chunk.length;
    else socket.write(chunk); // echo, the mode byte included: the client gets back exactly what it sent
  });
  socket.on('end', () => {
    if (mode === 0x42) {
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(BigInt(count));
      socket.end(out);
    } else socket.end();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
