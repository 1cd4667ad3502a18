/**
 * The mixed soak: traffic of every kind the gateway must survive for hours
 * (GETs, POSTs with bodies, client aborts mid-response, upstream 500s, a dead
 * upstream, slow responses, WebSocket sessions) plus config reloads, and the
 * gateway's resources sampled from outside: RSS and open fds / sockets from
 * /proc, heap used after a forced full GC through the inspector protocol (a
 * heap reading without GC mostly measures where the GC cycle happens to be).
 */
import { readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { rssOf, treeRss } from './procs.js';

/** KINDS are the traffic kinds with their weights and the outcome each must end in. */
export const KINDS = [
  { kind: 'get', weight: 35, expect: '200' },
  { kind: 'post', weight: 20, expect: '200' },
  { kind: 'slow', weight: 10, expect: '200' },
  { kind: 'abort', weight: 10, expect: 'aborted' },
  { kind: 'fail', weight: 8, expect: '500' },
  { kind: 'dead', weight: 7, expect: '502' },
  { kind: 'ws', weight: 10, expect: 'echoed' },
];
const TOTAL_WEIGHT = KINDS.reduce((s, k) => s + k.weight, 0);

/**
 * mixedRoutes is the route file the mixed traffic hits. `version` 0 and 1 are
 * both valid and differ where a reload does real work: the pool's targets
 * (one vs two), its connection pool settings, and an extra route.
 */
export function mixedRoutes({ ports, deadPort, version }) {
  const t = (p) => ({ url: `http://127.0.0.1:${p}` });
  // Passive health off: the 500s and refused connects are the point, not a reason to eject.
  const quiet = { outlierDetection: { enabled: false } };
  const upstreams = {
    mixed: { targets: version === 0 ? [t(ports[0])] : [t(ports[0]), t(ports[1])], keepAlive: { idle: version === 0 ? '4s' : '3s' }, ...quiet },
    failing: { targets: [t(ports[1])], ...quiet },
    dead: { targets: [t(deadPort)], timeouts: { connect: '1s' }, ...quiet },
  };
  const routes = [
    { id: 'mixed', match: { path: '/m/*' }, upstream: 'mixed' },
    { id: 'ws', match: { path: '/ws/*' }, upstream: 'mixed', websocket: true },
    { id: 'fail', match: { path: '/fail/*' }, upstream: 'failing' },
    { id: 'dead', match: { path: '/dead/*' }, upstream: 'dead' },
  ];
  if (version === 1) routes.push({ id: 'extra', match: { path: '/extra/*', methods: ['GET'] }, upstream: 'mixed' });
  return { upstreams, routes };
}

/** writeRoutes replaces routes/mixed.json atomically (a watcher never sees half a file). */
export function writeRoutes(dir, doc) {
  const file = join(dir, 'routes', 'mixed.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2));
  renameSync(`${file}.tmp`, file);
}

/** reload asks the admin API to reload; resolves with the status code. */
export function reload(adminPort) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: adminPort, path: '/reload', method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('reload timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** fdCounts returns { fds, sockets } open in a process (Linux /proc). */
export function fdCounts(pid) {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // Closed between readdir and readlink.
    }
  }
  return { fds, sockets };
}

/**
 * Inspector talks the DevTools protocol to the gateway (started with
 * --inspect=127.0.0.1:0; the port is read from its stderr) to force a full
 * GC and read process.memoryUsage() right after it.
 */
export class Inspector {
  static async connect(child, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let m;
    while (!(m = /Debugger listening on (ws:\/\/\S+)/.exec(child.stderrTail))) {
      if (Date.now() > deadline) throw new Error(`gateway printed no inspector URL:\n${child.stderrTail}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(m[1]);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }
  constructor(ws) {
    this.ws = ws;
    this.id = 0;
    this.pending = new Map();
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }
  call(method, params = {}) {
    const id = ++this.id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  /** heapAfterGc forces a full GC and returns process.memoryUsage().heapUsed in bytes. */
  async heapAfterGc() {
    await this.call('HeapProfiler.collectGarbage');
    const r = await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    return JSON.parse(r.result.value).heapUsed;
  }
  close() {
    this.ws.terminate();
  }
}

/** sampleGateway reads RSS, heap after GC, fds and sockets of the gateway process. */
export async function sampleGateway(pid, inspector) {
  const rss = treeRss(pid) || rssOf(pid);
  const { fds, sockets } = fdCounts(pid);
  const heap = await inspector.heapAfterGc();
  return { rss, heap, fds, sockets };
}

/**
 * MixedTraffic runs `concurrency` loops, each picking a kind by weight and
 * doing it, until stop(). Outcomes are counted per kind; an outcome other than
 * the kind's `expect` is unexpected and its first messages are kept.
 */
export class MixedTraffic {
  constructor({ port, concurrency, headers = {} }) {
    this.port = port;
    this.concurrency = concurrency;
    this.headers = headers;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.counts = new Map(KINDS.map((k) => [k.kind, new Map()]));
    this.unexpected = new Map();
    this.done = 0;
    this.running = false;
  }
  start() {
    this.running = true;
    this.loops = Array.from({ length: this.concurrency }, () => this.loop());
  }
  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }
  async loop() {
    while (this.running) {
      let r = Math.random() * TOTAL_WEIGHT;
      const k = KINDS.find((x) => (r -= x.weight) < 0) ?? KINDS[0];
      let outcome;
      try {
        outcome = await this[k.kind]();
      } catch (err) {
        outcome = `error ${err.code ?? err.message}`;
      }
      this.record(k, outcome);
    }
  }
  record(k, outcome) {
    this.done++;
    const c = this.counts.get(k.kind);
    c.set(outcome, (c.get(outcome) ?? 0) + 1);
    if (outcome !== k.expect) {
      const key = `${k.kind}: ${outcome}`;
      this.unexpected.set(key, (this.unexpected.get(key) ?? 0) + 1);
    }
  }
  /** request does one HTTP exchange and resolves with the status (and body when `keepBody`). */
  request({ method = 'GET', path, body, agent = this.agent, onResponse }) {
    return new Promise((resolve, reject) => {
      const headers = { ...this.headers };
      if (body) {
        headers['content-type'] = 'application/octet-stream';
        headers['content-length'] = String(body.length);
      }
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent }, (res) => {
        if (onResponse) return onResponse(req, res, resolve);
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('client timeout (10s)')));
      req.once('error', reject);
      req.end(body);
    });
  }
  async get() {
    return String((await this.request({ path: `/m/ok?n=${this.done}` })).status);
  }
  async post() {
    const size = 1024 + Math.floor(Math.random() * 31 * 1024);
    const r = await this.request({ method: 'POST', path: '/m/echo', body: Buffer.alloc(size, 'p') });
    if (r.status !== 200) return String(r.status);
    return JSON.parse(r.body).received === size ? '200' : `200 with a wrong echo (${r.body.slice(0, 60)})`;
  }
  async slow() {
    return String((await this.request({ path: `/m/slow?ms=${100 + Math.floor(Math.random() * 400)}` })).status);
  }
  async fail() {
    return String((await this.request({ path: '/fail/now' })).status);
  }
  async dead() {
    return String((await this.request({ path: '/dead/here' })).status);
  }
  /** abort reads the response head of a streamed body, then destroys the socket (a fresh one, not pooled). */
  async abort() {
    return this.request({
      path: '/m/stream',
      agent: false,
      onResponse: (req, res, resolve) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve(String(res.statusCode));
        }
        res.once('data', () => {
          req.destroy();
          resolve('aborted');
        });
      },
    });
  }
  /** ws opens a WebSocket through the gateway, echoes 3 messages and closes it. */
  ws() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws/echo`, { headers: this.headers });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('websocket timeout (10s)'));
      }, 10_000);
      let left = 3;
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        res.resume();
        resolve(`upgrade refused ${res.statusCode}`);
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.once('open', () => ws.send(`hello ${left}`));
      ws.on('message', (data) => {
        if (data.toString() !== `hello ${left}`) {
          clearTimeout(timer);
          ws.terminate();
          return resolve('wrong echo');
        }
        if (--left > 0) return ws.send(`hello ${left}`);
        ws.close(1000);
      });
      ws.once('close', (code) => {
        clearTimeout(timer);
        resolve(left === 0 && code === 1000 ? 'echoed' : `closed ${code} after ${3 - left} echoes`);
      });
    });
  }
}

/** slope is the least-squares slope of ys over xs (0 for fewer than 2 points). */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/**
 * judge decides, per resource, whether it keeps growing after warm-up (the
 * first third of the run). Memory (rss, heap): the least-squares slope over
 * the post-warm-up samples, projected over the whole run, must stay under
 * 20% of the post-warm-up mean. Counts (fds, sockets), which swing with the
 * connections in flight: growing only when both the projected slope and the
 * rise from the first to the last quarter of the post-warm-up samples exceed
 * `countTolerance`.
 */
export function judge(samples, durationS, countTolerance = 16) {
  const post = samples.filter((s) => s.t >= durationS / 3);
  const ts = post.map((s) => s.t);
  const span = ts.length ? ts.at(-1) - ts[0] : 0;
  const verdicts = [];
  for (const key of ['rss', 'heap']) {
    const ys = post.map((s) => s[key]);
    const level = ys.reduce((a, b) => a + b, 0) / (ys.length || 1);
    const projected = slope(ts, ys) * durationS;
    verdicts.push({ key, growing: post.length >= 3 && projected > 0.2 * level, projected, level, note: `${projected >= 0 ? '+' : ''}${(projected / 1048576).toFixed(1)} MiB projected over ${durationS}s (${((100 * projected) / (level || 1)).toFixed(1)}% of ${(level / 1048576).toFixed(1)} MiB; limit 20%)` });
  }
  for (const key of ['fds', 'sockets']) {
    const ys = post.map((s) => s[key]);
    const projected = slope(ts, ys) * span;
    const q = Math.max(1, Math.floor(ys.length / 4));
    const rise = median(ys.slice(-q)) - median(ys.slice(0, q));
    verdicts.push({ key, growing: post.length >= 3 && projected > countTolerance && rise > countTolerance, projected, note: `${projected >= 0 ? '+' : ''}${projected.toFixed(1)} by slope, ${rise >= 0 ? '+' : ''}${rise} first to last quarter (tolerance ${countTolerance})` });
  }
  return verdicts;
}
