/**
 * A WebSocket echo upstream (child process of the "websockets" phase): every
 * message comes back as sent; plain GETs (the gateway's start-up probe) get
 * a small JSON body. Reports { type: 'ready', port, ports } over IPC.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { jsonBody } from './body.js';

const body = jsonBody(100);
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).end(body);
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port, ports: [server.address().port] }));
process.on('SIGTERM', () => process.exit(0));
