/**
 * Holds many idle keep-alive client connections (child process of the
 * "idle" and "websockets" phases). Messages:
 *   { type: 'http', port, path, count }  opens `count` HTTP/1.1 connections, each
 *     makes one request, reads its response and then stays open, idle;
 *   { type: 'ws', url, count }  opens `count` WebSockets (each echoes one message first);
 *   { type: 'count' }  reports how many are still open;
 *   { type: 'echo', url, messages }  one extra WebSocket sends `messages` messages one
 *     after another and reports each echo's round trip (ms);
 * each answered with a message of the same type and the figures.
 */
import net from 'node:net';
import WebSocket from 'ws';

const open = new Set();
const CONCURRENCY = 100;

/** parallel runs `count` tasks, CONCURRENCY at a time; resolves with how many failed. */
async function parallel(count, task) {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        await task();
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  return failed;
}

function httpConn(port, path) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const fail = (err) => {
      s.destroy();
      reject(err);
    };
    s.once('error', fail);
    s.on('data', (d) => {
      got += d.toString('latin1');
      // One small response: the head and a body, then the connection idles.
      if (got.includes('\r\n\r\n') && got.length > 120) {
        s.removeAllListeners('data');
        s.removeListener('error', fail);
        s.on('error', () => {});
        open.add(s);
        s.once('close', () => open.delete(s));
        resolve();
      }
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
  });
}

function wsConn(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => ws.send('hello'));
    ws.once('message', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      open.add(ws);
      ws.once('close', () => open.delete(ws));
      resolve();
    });
  });
}

async function echo(url, messages) {
  const ws = await new Promise((resolve, reject) => {
    const w = new WebSocket(url);
    w.once('open', () => resolve(w));
    w.once('error', reject);
  });
  const rtts = [];
  for (let i = 0; i < messages; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(`ping ${i}`);
    });
    rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ws.close();
  return rtts;
}

process.on('message', async (m) => {
  if (m.type === 'http') {
    const failed = await parallel(m.count, () => httpConn(m.port, m.path));
    process.send({ type: 'http', open: open.size, failed });
  } else if (m.type === 'ws') {
    const failed = await parallel(m.count, () => wsConn(m.url));
    process.send({ type: 'ws', open: open.size, failed });
  } else if (m.type === 'count') {
    process.send({ type: 'count', open: open.size });
  } else if (m.type === 'echo') {
    process.send({ type: 'echo', rtts: await echo(m.url, m.messages) });
  }
});
process.on('SIGTERM', () => process.exit(0));
process.send({ type: 'ready' });
