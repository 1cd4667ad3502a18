/**
 * The batched log destination (src/telemetry/log-destination.ts): lines are
 * written in batches, a quiet gateway's lines still show up within the flush
 * interval, and nothing is lost on exit — process.exit, or SIGTERM to the
 * real CLI with a burst of access lines still buffered.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startUpstream, waitFor } from '../../src/testing/index.js';
import { pino } from 'pino';
import { AccessLog } from '../../src/telemetry/access-log.js';
import { BatchDestination } from '../../src/telemetry/log-destination.js';
import { startCli } from '../helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function tempFile(): { path: string; fd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-logdest-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'out.log');
  const fd = openSync(path, 'w');
  cleanup.push(() => closeSync(fd));
  return { path, fd };
}

/**
 * slowReader is a pipe whose reader starts reading only once `gate` exists: until then the pipe
 * (64 KiB) fills up and answers EAGAIN. What it reads goes to `path`.
 */
function slowReader(): { path: string; fd: number; gate: string } {
  const { path } = tempFile();
  const gate = path + '.go';
  const reader = spawn('sh', ['-c', `while [ ! -e '${gate}' ]; do sleep 0.05; done; cat > '${path}'`], { stdio: ['pipe', 'ignore', 'inherit'] });
  cleanup.push(() => void reader.kill('SIGKILL'));
  return { path, fd: (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd, gate };
}

describe('17: the batched log destination', () => {
  it('17: writes 64 KiB batches, not a write per line, and keeps every line in order', () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 60_000 });
    cleanup.push(() => dest.end());
    const line = (i: number) => `{"n":${i},"pad":"${'x'.repeat(90)}"}\n`;
    for (let i = 0; i < 2000; i++) dest.write(line(i));
    // About 200 KB: three full batches written on the way, the rest held until a flush.
    expect(dest.writes).toBe(3);
    dest.flushSync();
    expect(dest.writes).toBe(4);
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    expect(lines).toHaveLength(2000);
    expect(lines.every((l, i) => l === line(i).slice(0, -1))).toBe(true);
  });

  it('17: a lone line shows up within the flush interval without another write', async () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 50 });
    cleanup.push(() => dest.end());
    dest.write('{"hello":1}\n');
    expect(readFileSync(path, 'utf8')).toBe('');
    await waitFor(() => readFileSync(path, 'utf8') === '{"hello":1}\n', { timeout: 10_000, message: 'the timer flush' });
  });

  it('17: multi-byte characters are written as UTF-8', () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd);
    dest.write('{"s":"é漢🙂"}\n');
    dest.end();
    expect(readFileSync(path, 'utf8')).toBe('{"s":"é漢🙂"}\n');
  });

  it('17: a full pipe (a reader that fell behind) never blocks: the batch is kept and written once the reader drains it', async () => {
    const { path, fd, gate } = slowReader();
    const dest = new BatchDestination(fd, { flushMs: 20 });
    const line = (i: number) => `{"n":${i},"pad":"${'z'.repeat(200)}"}\n`;
    const started = performance.now();
    for (let i = 0; i < 2000; i++) dest.write(line(i)); // ~420 KB: far more than the pipe holds
    expect(performance.now() - started).toBeLessThan(2000); // returned without waiting for the reader
    expect(dest.dropped).toBe(0);
    writeFileSync(gate, '');
    await waitFor(() => readFileSync(path, 'utf8').length >= 2000 * line(0).length, { timeout: 20_000, message: 'the reader got every line' });
    dest.end();
    expect(readFileSync(path, 'utf8')).toBe(Array.from({ length: 2000 }, (_, i) => line(i)).join(''));
    expect(dest.dropped).toBe(0);
  }, 60_000);

  it('17: a write error (the reader is gone) drops and counts the lines, never throws', () => {
    const dest = new BatchDestination(-1, { flushMs: 60_000 });
    dest.write('a\n');
    dest.write('b\n');
    expect(() => dest.flush()).not.toThrow();
    expect(dest.dropped).toBe(2);
    dest.end();
  });

  it('17: process.exit flushes what is buffered: no line lost', async () => {
    const { path } = tempFile();
    const script = `import { openSync } from 'node:fs';
      import { BatchDestination } from ${JSON.stringify(join(ROOT, 'src/telemetry/log-destination.ts'))};
      const d = new BatchDestination(openSync(${JSON.stringify(path)}, 'a'), { flushMs: 60_000 });
      for (let i = 0; i < 10000; i++) d.write('{"n":' + i + '}\\n');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: 'inherit' });
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    expect(lines).toHaveLength(10000);
    expect(lines[9999]).toBe('{"n":9999}');
  }, 60_000);

  it('17: SIGTERM right after a burst: every request has its access line', async () => {
    const up = await startUpstream('logdest', (_req, res) => void res.end('ok'));
    cleanup.push(() => up.close());
    const dir = mkdtempSync(join(tmpdir(), 'sy-logdest-cli-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'routes', 'r.yaml'), `upstreams:\n  up:\n    targets: [{ url: "${up.url}" }]\nroutes:\n  - { id: all, match: { path: /* }, upstream: up }\n`);
    writeFileSync(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\nlog: { pretty: false }\n');
    // A generous start-up budget: tsx compiling the CLI on a loaded machine took over 20 s.
    const cli = await startCli(join(dir, 'gateway.yaml'), [], { startTimeout: 60_000 });
    cleanup.push(() => void cli.child.kill('SIGKILL'));
    const agent = new Agent({ connections: 10 });
    cleanup.push(() => agent.close());
    const n = 300;
    const ids = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const r = await request(`http://127.0.0.1:${cli.port}/burst/${i}`, { dispatcher: agent });
        await r.body.text();
        return String(r.headers['x-request-id']);
      }),
    );
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const access = cli
      .output()
      .split('\n')
      .filter((l) => l.includes('"kind":"access"'))
      .map((l) => JSON.parse(l) as { reqId: string; path: string });
    expect(access.filter((a) => a.path.startsWith('/burst/')).map((a) => a.reqId).sort()).toEqual(ids.sort());
  }, 120_000);
});

describe('17: access lines encoded in place (the access log writes into the batch buffer)', () => {
  // 200 bytes: nearly every line meets the batch's end somewhere inside (a key, a value or the time being encoded included).
  it.each([4096, 200])('17: batches of %i bytes: lines across batch boundaries, longer than a batch, and pino\'s own lines in between: every line whole, in order', (batchBytes) => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 60_000, batchBytes });
    const logger = pino({ base: { service: 'switchyard' } }, dest);
    const access = AccessLog.create(logger);
    expect(access.precompiled).toBe(true);
    const record = (i: number) => ({
      reqId: `r${i}`,
      method: 'GET',
      // Lengths that straddle the 4 KiB batch at every offset, one path of 100 KB (longer than the batch), one of unicode (the string path).
      path: i === 500 ? '/' + 'p'.repeat(100_000) : i === 501 ? '/é漢🙂' : '/' + 'x'.repeat(i % 97),
      route: 'api',
      upstream: 'up',
      // 100 targets: values that change from line to line.
      target: `t${i % 100}`,
      status: 200 + (i % 7),
      ms: (i % 1000) / 100,
      ip: '127.0.0.1',
    });
    // The clock moves every second line: each deferred line keeps the time it was written at.
    vi.useFakeTimers({ toFake: ['Date'] });
    cleanup.push(() => void vi.useRealTimers());
    for (let i = 0; i < 2000; i++) {
      vi.setSystemTime(1_700_000_000_000 + Math.floor(i / 2));
      access.write(record(i));
      if (i % 100 === 0) logger.warn({ i }, 'between');
    }
    dest.end();
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    const accessLines = lines.filter((l) => l.kind === 'access');
    expect(accessLines.map((l) => l.reqId)).toEqual(Array.from({ length: 2000 }, (_, i) => `r${i}`));
    for (const [i, l] of accessLines.entries()) expect(l).toMatchObject({ ...record(i), time: 1_700_000_000_000 + Math.floor(i / 2) });
    expect(lines.filter((l) => l.msg === 'between').map((l) => l.i)).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    // Pino's lines keep their place among the access lines: the one after request 100 follows 101 access lines and the one after request 0.
    expect(lines.findIndex((l) => l.msg === 'between' && l.i === 100)).toBe(102);
  });

  it('17: a turn\'s access lines are encoded together at its end, before any other line, and a flush or process.exit writes them', async () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 60_000 });
    const access = AccessLog.create(pino({ base: { service: 'switchyard' } }, dest));
    const record = (i: number) => ({ reqId: `d${i}`, method: 'GET', path: `/d/${i}`, route: 'api', status: 200, ms: 1, ip: '127.0.0.1' });
    access.write(record(0));
    access.write(record(1));
    expect(dest.len).toBe(0); // queued, not encoded yet
    await new Promise((r) => setImmediate(r));
    expect(dest.buf.toString('utf8', 0, dest.len).split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { reqId: string }).reqId)).toEqual(['d0', 'd1']);
    access.write(record(2));
    dest.flush();
    expect(readFileSync(path, 'utf8')).toContain('"reqId":"d2"');
    dest.end();
    // A process that exits in the same turn as its last request still writes that request's line.
    const out = tempFile().path;
    const script = `import { openSync } from 'node:fs';
      import { pino } from 'pino';
      import { BatchDestination } from ${JSON.stringify(join(ROOT, 'src/telemetry/log-destination.ts'))};
      import { AccessLog } from ${JSON.stringify(join(ROOT, 'src/telemetry/access-log.ts'))};
      const access = AccessLog.create(pino({}, new BatchDestination(openSync(${JSON.stringify(out)}, 'a'), { flushMs: 60_000 })));
      for (let i = 0; i < 3000; i++) access.write({ reqId: 'x' + i, method: 'GET', path: '/', route: null, status: 200, ms: 0, ip: '::1' });
      process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: 'inherit' });
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const ids = readFileSync(out, 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { reqId: string }).reqId);
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => 'x' + i));
  }, 60_000);

  it('17: a deferred line whose encoding throws is dropped and counted; the lines around it are written whole', async () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 60_000 });
    const source = {
      encodeLine(w: BatchDestination, r: object): void {
        w.utf8('{"half":');
        if ((r as { bad?: boolean }).bad) throw new Error('a bug in a line format');
        w.utf8('1}\n');
      },
    };
    dest.defer(source, {}, 0);
    dest.defer(source, { bad: true }, 0);
    dest.defer(source, {}, 0);
    await new Promise((r) => setImmediate(r));
    dest.end();
    expect(readFileSync(path, 'utf8')).toBe('{"half":1}\n{"half":1}\n');
    expect(dest.dropped).toBe(1);
  });

  it('17: a full pipe: access lines are kept while the reader is stuck, then written whole and in order', async () => {
    const { path, fd, gate } = slowReader();
    const dest = new BatchDestination(fd, { flushMs: 20 });
    const access = AccessLog.create(pino({ base: null }, dest));
    for (let i = 0; i < 3000; i++) access.write({ reqId: `r${i}`, method: 'GET', path: '/' + 'z'.repeat(200), route: 'api', status: 200, ms: 1, ip: '127.0.0.1' }); // ~800 KB
    expect(dest.dropped).toBe(0);
    writeFileSync(gate, '');
    await waitFor(() => readFileSync(path, 'utf8').split('\n').length > 3000, { timeout: 20_000, message: 'the reader got every line' });
    dest.end();
    const ids = readFileSync(path, 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { reqId: string }).reqId);
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => `r${i}`));
  }, 60_000);

  it('17: past maxPendingBytes with the reader stuck, whole lines are dropped and counted, never half of one', async () => {
    const reader = spawn('sh', ['-c', 'exec sleep 60'], { stdio: ['pipe', 'ignore', 'inherit'] });
    cleanup.push(() => void reader.kill('SIGKILL'));
    const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    const dest = new BatchDestination(fd, { flushMs: 60_000, maxPendingBytes: 256 * 1024 });
    const access = AccessLog.create(pino({ base: null }, dest));
    for (let i = 0; i < 4000; i++) access.write({ reqId: `r${i}`, method: 'GET', path: '/' + 'q'.repeat(200), route: 'api', status: 200, ms: 1, ip: '127.0.0.1' }); // ~1 MB
    expect(dest.dropped).toBeGreaterThan(0);
    expect(dest.buf.length).toBeLessThanOrEqual(2 * 256 * 1024 + 4096);
    // What is held is whole lines: the pipe took 64 KiB, the rest waits.
    expect(dest.buf.subarray(0, dest.len).toString().endsWith('}\n')).toBe(true);
    // The reader gone, the end's flush meets a closed pipe: what is held is dropped and counted, nothing thrown.
    const exited = new Promise((r) => reader.once('exit', r));
    reader.kill('SIGKILL');
    await exited;
    const before = dest.dropped;
    expect(() => dest.end()).not.toThrow();
    expect(dest.dropped).toBeGreaterThan(before);
    reader.stdin?.destroy();
  });
});

describe('17: line-atomic writes (cluster workers share one stdout pipe)', () => {
  it('17: every write is whole lines of at most 4096 bytes; a longer line goes alone', () => {
    const { path, fd } = tempFile();
    const dest = new BatchDestination(fd, { flushMs: 60_000, lineAtomic: true });
    const lines = Array.from({ length: 300 }, (_, i) => `{"n":${i},"pad":"${'y'.repeat(i === 150 ? 6000 : 100)}"}\n`);
    for (const l of lines) dest.write(l);
    dest.end();
    expect(readFileSync(path, 'utf8')).toBe(lines.join(''));
    // ~36 KB in writes of whole lines: at least 9 writes, each ≤ 4096 bytes but the long line's.
    expect(dest.writes).toBeGreaterThanOrEqual(9);
  });
});
