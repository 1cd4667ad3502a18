#!/usr/bin/env node
/**
 * CPU per access-log line, in one process, for the three ways of writing it:
 * `node bench/access-log.js pino|precompiled|none [lines]` (after npm run build).
 * `pino` is how the gateway wrote access lines before issue 17 (a pino child
 * logger with the gateway's redaction paths into pino.destination, async,
 * 4 KiB minimum writes); `precompiled` is AccessLog + BatchDestination;
 * `none` is the loop alone. Lines go to a file in a temp directory, in
 * batches of 50 per event-loop turn (a busy server's rhythm). CPU time
 * (user + system, the thread pool's included) is far less sensitive to a
 * busy machine than wall time; run each mode a few times, alternating.
 */
import { pino } from 'pino';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
const mode = process.argv[2]; const N = Number(process.argv[3] ?? 200000);
const { AccessLog } = await import('../dist/src/telemetry/access-log.js');
const { BatchDestination } = await import('../dist/src/telemetry/log-destination.js');
const dir = mkdtempSync(join(os.tmpdir(), 'switchyard-access-log-'));
const fd = openSync(join(dir, 'out.log'), 'w');
const redact = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'].flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]);
const options = { level: 'info', base: { service: 'switchyard' }, redact: { paths: redact, censor: '[redacted]' } };
let write;
if (mode === 'pino') {
  const dest = pino.destination({ fd, sync: false, minLength: 4096 });
  const log = pino(options, dest).child({ kind: 'access' });
  write = (r) => log.info(r);
} else if (mode === 'none') {
  write = () => {};
} else if (mode === 'precompiled') {
  const a = AccessLog.create(pino(options, new BatchDestination(fd)));
  write = (r) => a.write(r);
} else {
  console.error('usage: node bench/access-log.js pino|precompiled|none [lines]');
  process.exit(2);
}
const rec = (i) => ({ reqId: `a1b2c3d4e5f6${i}`, method: 'GET', path: '/api/items/42?view=full', route: 'api', upstream: 'bench', target: '127.0.0.1:40001', status: 200, ms: 1.23, upstreamMs: 0.98, attempts: 1, bytes: 100, ip: '127.0.0.1', trace: '0af7651916cd43dd8448eb211c80319c', code: undefined, plugin: undefined, err: undefined });
// interleave with event-loop turns like a server does: batches of 50 then a setImmediate
const t0 = process.cpuUsage();
let i = 0;
await new Promise((done) => {
  const step = () => { for (let k = 0; k < 50 && i < N; k++, i++) write(rec(i)); if (i < N) setImmediate(step); else done(); };
  step();
});
await new Promise((r) => setTimeout(r, 300));
const t = process.cpuUsage(t0);
const written = mode === 'none' ? 0 : readFileSync(join(dir, 'out.log'), 'utf8').split('\n').length - 1;
rmSync(dir, { recursive: true, force: true });
console.log(`${mode.padEnd(12)} CPU µs/line ${((t.user + t.system) / N).toFixed(2)} (user ${(t.user / N).toFixed(2)}, system ${(t.system / N).toFixed(2)}), ${written} lines written`);
process.exit(0);
