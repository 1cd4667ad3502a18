/**
 * Idle memory release (memory.releaseWhenIdle): once per idle period, never
 * while traffic comes or a request is in flight; the release itself really
 * shrinks V8's young generation; a gateway does it after its idle time and
 * not during a slow request.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { request } from 'undici';
import { IdleMemory, lowMemoryGc, releaseAvailable } from '../../src/process/idle-memory.js';
import { startGateway, startUpstream, waitFor, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';

const RELEASED = 'idle: unused memory returned to the OS';

/** Probe is a hand-driven IdleProbe. */
function probe() {
  const p = { count: 0, inFlight: false, activity: () => p.count, busy: () => p.inFlight };
  return p;
}

describe('IdleMemory (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(idleMs: number) {
    vi.useFakeTimers();
    const p = probe();
    const logs = captureLog('debug');
    const release = vi.fn(async () => {});
    const idle = new IdleMemory(p, logs.logger, release);
    idle.configure(idleMs);
    return { p, logs, release, idle };
  }

  it('releases once after start-up when no request comes, between 1 and 1.5 × the idle time', async () => {
    const { release, idle } = setup(1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(release).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(501);
    expect(release).toHaveBeenCalledTimes(1);
    // Still idle: nothing new to give back, so no second GC.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(release).toHaveBeenCalledTimes(1);
    expect(idle.releases).toBe(1);
    idle.stop();
  });

  it('never releases while requests keep coming, and once when they stop', async () => {
    const { p, release, idle } = setup(1000);
    for (let i = 0; i < 40; i++) {
      p.count++;
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(release).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1500);
    expect(release).toHaveBeenCalledTimes(1);
    // A new burst after the release earns one more release once it is over.
    p.count += 5;
    await vi.advanceTimersByTimeAsync(1500);
    expect(release).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(release).toHaveBeenCalledTimes(2);
    idle.stop();
  });

  it('waits for in-flight requests (a long download, an open WebSocket) to end', async () => {
    const { p, release, idle } = setup(1000);
    p.count = 1;
    p.inFlight = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(release).not.toHaveBeenCalled();
    p.inFlight = false;
    await vi.advanceTimersByTimeAsync(999);
    expect(release).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(501);
    expect(release).toHaveBeenCalledTimes(1);
    idle.stop();
  });

  it('0 turns it off; a new idle time restarts the watch; stop ends it', async () => {
    const { p, release, idle } = setup(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(release).not.toHaveBeenCalled();
    idle.configure(200);
    await vi.advanceTimersByTimeAsync(300);
    expect(release).toHaveBeenCalledTimes(1);
    idle.configure(200); // unchanged: the running watch goes on (no extra release)
    await vi.advanceTimersByTimeAsync(1000);
    expect(release).toHaveBeenCalledTimes(1);
    p.count++;
    idle.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('a failing release is logged as a warning, never thrown, and the watch goes on', async () => {
    vi.useFakeTimers();
    const p = probe();
    const logs = captureLog('debug');
    let calls = 0;
    const idle = new IdleMemory(p, logs.logger, async () => {
      calls++;
      throw new Error('inspector busy');
    });
    idle.configure(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(1);
    expect(logs.lines.find((l) => l.msg === 'idle memory release failed')).toMatchObject({ level: 40, err: { message: 'inspector busy' } });
    p.count++;
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(2);
    expect(idle.releases).toBe(0);
    idle.stop();
  });

  it('logs what a release gave back at debug level', async () => {
    const { logs, idle } = setup(100);
    await vi.advanceTimersByTimeAsync(200);
    const line = logs.lines.find((l) => l.msg === RELEASED);
    expect(line).toMatchObject({ level: 20 });
    expect(typeof line!.ms).toBe('number');
    expect(line!.rssBefore).toBeGreaterThan(0);
    expect(line!.rssAfter).toBeGreaterThan(0);
    idle.stop();
  });
});

describe('lowMemoryGc (real V8)', () => {
  it('shrinks a grown young generation back to its initial size', async () => {
    expect(releaseAvailable()).toBe(true);
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
    // Objects that survive a few scavenges make V8 grow the semi-spaces, as start-up and load do.
    let keep: object[] = [];
    for (let i = 0; i < 2_000_000 && newSpace() < 8 * 1024 * 1024; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 200_000) keep = [];
    }
    keep = [];
    const before = newSpace();
    expect(before).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    await lowMemoryGc();
    const after = newSpace();
    expect(after).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(after).toBeLessThan(before / 4);
  });
});

describe('the default (issue 17)', () => {
  it('17: no release unless configured: a gateway from a plain config never runs the idle GC', async () => {
    const up = await startUpstream('svc');
    const gw = await startGateway({
      gateway: { reload: { watch: false }, log: { level: 'silent' } },
      routeFiles: { 'r.yaml': { upstreams: { svc: { targets: [{ url: up.url }] } }, routes: [{ id: 'svc', match: { path: '/svc/*' }, upstream: 'svc' }] } },
    });
    try {
      expect(gw.gateway.config.memory.releaseWhenIdle).toBe(0);
      expect(gw.gateway.idleMemory.watching).toBe(false);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('start-up release (issue 17)', () => {
  const STARTUP = 'start-up: unused memory returned to the OS before listening';
  it('17: a gateway that owns its process (switchyard start, a worker) gives start-up garbage back before its port opens; an embedded one never', async () => {
    const up = await startUpstream('svc');
    const routeFiles = { 'r.yaml': { upstreams: { svc: { targets: [{ url: up.url }] } }, routes: [{ id: 'svc', match: { path: '/svc/*' }, upstream: 'svc' }] } };
    const owned = captureLog('debug');
    const embedded = captureLog('debug');
    const a = await startGateway({ gateway: { reload: { watch: false } }, routeFiles, logger: owned.logger, ownsProcess: true });
    const b = await startGateway({ gateway: { reload: { watch: false } }, routeFiles, logger: embedded.logger });
    try {
      const msgs = owned.lines.map((l) => l.msg);
      const released = msgs.indexOf(STARTUP);
      expect(released).toBeGreaterThanOrEqual(0);
      // Before the listener opens: no request could have waited for it.
      expect(released).toBeLessThan(msgs.indexOf('switchyard listening'));
      const line = owned.lines[released] as unknown as { rssBefore: number; rssAfter: number; ms: number };
      expect(line.rssAfter).toBeGreaterThan(0);
      expect(line.ms).toBeGreaterThanOrEqual(0);
      expect(embedded.lines.some((l) => l.msg === STARTUP)).toBe(false);
      expect((await request(a.url + '/svc/x')).statusCode).toBe(200);
    } finally {
      await a.close();
      await b.close();
      await up.close();
    }
  });
});

describe('a gateway with memory.releaseWhenIdle', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let release: () => void = () => {};
  let dir: string | undefined;
  const logs = captureLog('debug');

  afterEach(async () => {
    release();
    await gw?.close();
    await up?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function start(releaseWhenIdle: string) {
    up = await startUpstream('svc', (req, res) => {
      if (req.url === '/svc/slow') {
        // Held until the test lets it go: a request in flight for as long as the test needs.
        release = () => {
          if (!res.headersSent) res.writeHead(200).end('done');
        };
        return;
      }
      res.writeHead(200).end('ok');
    });
    gw = await startGateway({
      gateway: { memory: { releaseWhenIdle }, reload: { watch: false } },
      routeFiles: { 'r.yaml': { upstreams: { svc: { targets: [{ url: up.url }] } }, routes: [{ id: 'svc', match: { path: '/svc/*' }, upstream: 'svc' }] } },
      logger: logs.logger,
    });
  }

  it('gives memory back once it has been idle, not while a slow request is in flight', async () => {
    await start('200ms');
    // Start-up counts as activity: the first release follows it.
    await waitFor(() => logs.lines.some((l) => l.msg === RELEASED), { message: 'release after start-up' });
    expect(gw.gateway.idleMemory.releases).toBe(1);

    // A quick request, then a slow one: there is something to give back, but not while the slow one runs.
    expect((await request(gw.url + '/svc/quick')).statusCode).toBe(200);
    const slow = request(gw.url + '/svc/slow');
    await waitFor(() => up.hits((r) => r.url === '/svc/slow') === 1, { message: 'slow request at the upstream' });
    // Three idle periods (six checks, one every 100 ms) with the request held: no release.
    const checks = gw.gateway.idleMemory.checks;
    await waitFor(() => gw.gateway.idleMemory.checks >= checks + 6, { message: 'six idle checks with a request in flight' });
    expect(gw.gateway.idleMemory.releases).toBe(1);

    release();
    const res = await slow;
    expect(await res.body.text()).toBe('done');
    const done = Date.now();
    await waitFor(() => gw.gateway.idleMemory.releases === 2, { message: 'release after the slow request' });
    expect(Date.now() - done).toBeGreaterThanOrEqual(190);
  });

  it('follows a reload: 0 stops releasing, a new time starts again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-idle-memory-'));
    up = await startUpstream('svc');
    const writeConfig = (releaseWhenIdle: string) =>
      writeFileSync(join(dir, 'gateway.yaml'), `listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nroutes: [./r.yaml]\nreload: { watch: false }\nmemory: { releaseWhenIdle: ${releaseWhenIdle} }\n`);
    writeFileSync(join(dir, 'r.yaml'), `upstreams:\n  svc:\n    targets: [{ url: "${up.url}" }]\nroutes:\n  - id: svc\n    match: { path: /svc/* }\n    upstream: svc\n`);
    writeConfig('100ms');
    gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: logs.logger });
    const idle = gw.gateway.idleMemory;
    await waitFor(() => idle.releases === 1, { message: 'first release' });

    writeConfig('0');
    expect((await gw.gateway.reload()).ok).toBe(true);
    expect((await request(gw.url + '/svc/a')).statusCode).toBe(200);
    // Off: no watch runs at all, so nothing can release (the reload and the request would otherwise earn one).
    expect(idle.watching).toBe(false);

    writeConfig('100ms');
    expect((await gw.gateway.reload()).ok).toBe(true);
    expect(idle.watching).toBe(true);
    await waitFor(() => idle.releases === 2, { message: 'release after turning it back on' });
  });
});
