/**
 * The L4 benchmark's load generator (bench/streams.js), driven over IPC:
 * `bulk` pushes N bytes through one stream (backpressure respected) and
 * times it until the upstream acknowledged the count; `short` runs C loops of
 * connect → 100 B → 100 B back → close for D seconds, recording
 * connect-to-first-byte (closed loop: each loop starts its next connection
 * when the last one closed, so at saturation the figure is queueing); `rate`
 * starts connections on a fixed schedule, R per second whatever the proxy
 * does (open loop: latency at a load the proxy can carry, as an operator
 * sizes a box); `open`/`close` hold N idle streams for the RSS reading. Each
 * answer goes back as an IPC message.
 */
import net from 'node:net';

const HOST = '127.0.0.1';
let held = [];

/** connect resolves with a connected socket. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** bulk sends `bytes` through one stream and resolves with { ms, acked }. */
async function bulk(port, bytes) {
  const s = await connect(port);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const t0 = performance.now();
  const reply = new Promise((resolve, reject) => {
    const parts = [];
    s.on('data', (c) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
  s.write('B');
  let sent = 0;
  while (sent < bytes) {
    const n = Math.min(chunk.length, bytes - sent);
    sent += n;
    if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await new Promise((r) => s.once('drain', r));
  }
  s.end();
  const out = await reply;
  const ms = performance.now() - t0;
  s.destroy();
  return { ms, acked: out.length === 8 ? Number(out.readBigUInt64BE(0)) - 1 : -1 }; // minus the mode byte
}

/** one runs a single short connection; resolves with connect-to-first-byte ms (rejects on failure). */
function one(port, payload) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let got = 0;
    const s = net.connect({ port, host: HOST, noDelay: true });
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.once('connect', () => s.write(payload));
    s.on('data', (c) => {
      if (got === 0) first = performance.now() - t0;
      got += c.length;
      if (got >= payload.length) s.end();
    });
    s.once('close', () => (got >= payload.length ? resolve(first) : reject(new Error(`short read ${got}`))));
    s.once('error', () => {});
  });
}

/** short runs `concurrency` loops for `seconds`; resolves with { done, errors, ttfb: number[] }. */
async function short(port, seconds, concurrency) {
  const payload = Buffer.alloc(100, 0x62);
  payload[0] = 0x45; // E
  const end = performance.now() + seconds * 1000;
  const ttfb = [];
  let errors = 0;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        ttfb.push(await one(port, payload));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { done: ttfb.length, errors, ttfb };
}

/**
 * rate starts `rate` connections per second for `seconds`, on a fixed
 * schedule (connection i is due at i / rate s), and resolves with
 * { done, errors, ttfb: number[], lateP99 } — ttfb from each connection's
 * actual start, as `short` measures it; lateP99 is how late the starts were
 * against the schedule (the generator kept up when it is small).
 */
async function rate(port, seconds, perSecond) {
  const payload = Buffer.alloc(100, 0x62);
  payload[0] = 0x45; // E
  const total = Math.round(seconds * perSecond);
  const ttfb = [];
  const late = [];
  let errors = 0;
  const running = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    late.push(Math.max(0, performance.now() - due));
    running.push(one(port, payload).then((ms) => void ttfb.push(ms), () => void errors++));
  }
  await Promise.all(running);
  late.sort((a, b) => a - b);
  return { done: ttfb.length, errors, ttfb, lateP99: late[Math.floor(late.length * 0.99)] ?? 0 };
}

/** open holds `n` streams, each proven end to end by one echoed byte. */
async function open(port, n) {
  for (let i = 0; i < n; i++) {
    const s = await connect(port);
    s.on('error', () => {});
    await new Promise((resolve) => {
      s.once('data', resolve);
      s.write('Ex');
    });
    held.push(s);
  }
  return { open: held.length };
}

process.on('message', async (m) => {
  try {
    if (m.type === 'bulk') process.send({ type: 'bulk', ...(await bulk(m.port, m.bytes)) });
    else if (m.type === 'short') process.send({ type: 'short', ...(await short(m.port, m.seconds, m.concurrency)) });
    else if (m.type === 'rate') process.send({ type: 'rate', ...(await rate(m.port, m.seconds, m.rate)) });
    else if (m.type === 'open') process.send({ type: 'open', ...(await open(m.port, m.n)) });
    else if (m.type === 'close') {
      for (const s of held) s.destroy();
      held = [];
      process.send({ type: 'close' });
    }
  } catch (err) {
    process.send({ type: 'error', message: String(err?.message ?? err) });
  }
});
process.send?.({ type: 'ready' });
