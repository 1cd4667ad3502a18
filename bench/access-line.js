#!/usr/bin/env node
/**
 * What one access line costs as the gateway writes it — AccessLog.write
 * into the batch destination (on /dev/null here, so the file system's work
 * is left out) — in one process, against another build of the gateway in
 * the same process (`npm run build` in both first):
 *
 *   node bench/access-line.js [--compare DIR] [--rounds 100] [--lines 10000]
 *
 * Each round writes a block of `lines` records per build, the builds
 * alternating and their order rotating; the records are made before each
 * block, untimed, as the gateway makes them (fresh request ids from
 * randomUUID, durations varying from line to line: V8 caches the string of
 * a repeated number, which once hid the cost of formatting them; round
 * robin over three targets; strings of the gateway's several internal
 * kinds, see `record`). Reported: the median and the lowest ns per
 * line of each build over the rounds after the first 20 (warm-up). One
 * process, interleaved blocks: the process-to-process and minute-to-minute
 * swings of a shared machine fall on both builds alike.
 *
 * For instruction counts, `--only line|none --count N` writes N lines of
 * this build alone (or only makes the records): run it under
 * `valgrind --tool=callgrind` with two counts and divide the difference.
 */
import { openSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

const { values: opts } = parseArgs({
  options: {
    compare: { type: 'string' },
    rounds: { type: 'string', default: '100' },
    lines: { type: 'string', default: '10000' },
    only: { type: 'string' },
    count: { type: 'string', default: '40000' },
  },
});
const here = resolve(import.meta.dirname, '..');
const builds = [here, ...(opts.compare ? [resolve(opts.compare)] : [])];
const redact = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'].flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]);

/** logFor builds the access log of a build as the gateway does: pino with the gateway's options over a BatchDestination. */
async function logFor(dir) {
  const { AccessLog } = await import(`${dir}/dist/src/telemetry/access-log.js`);
  const { BatchDestination } = await import(`${dir}/dist/src/telemetry/log-destination.js`);
  const dest = new BatchDestination(openSync('/dev/null', 'w'));
  const log = AccessLog.create(pino({ level: 'info', base: { service: 'switchyard' }, redact: { paths: redact, censor: '[redacted]' } }, dest));
  if (!log.precompiled) throw new Error(`${dir}: the access log did not take the precompiled path`);
  // A build that defers its lines to the end of the turn (BatchDestination.drain) is timed with them encoded: drain inside the timed block.
  log.settle = typeof dest.drain === 'function' ? () => dest.drain() : () => {};
  return log;
}

/**
 * The values are strings of the internal kinds the gateway hands the log
 * (each kind has its own hidden class in V8, and a load on more than four
 * of them in one place goes megamorphic, which strings of one kind never
 * show: bench/README.md journal, "megamorphic loads in the encoder"): a request id fresh from
 * randomUUID (sequential), interned literals (method, route, upstream), a
 * path sliced from the request's URL (sliced), target ids built by
 * concatenation at start-up (cons) and the same ids used as keys (thin).
 */
const HOST = ['127', '0', '0', '1'].join('.');
const CONS = [40001, 40002, 40003].map((p) => HOST + ':' + String(p));
/** KEYED only exists to use the THIN ids as property keys, which turns each into a thin string (the string it was made as, now pointing at its interned copy). */
const KEYED = {};
const THIN = [40001, 40002, 40003].map((p) => {
  const id = `${HOST}:${p}`;
  KEYED[id] = true;
  return id;
});
const record = (i) => ({
  reqId: crypto.randomUUID(),
  method: 'GET',
  path: `/api/items/${i % 1000}?page=2`.slice(0, -7),
  route: 'api',
  upstream: 'bench',
  split: undefined,
  target: (i & 1 ? CONS : THIN)[i % 3],
  status: 200,
  ms: Math.round((0.5 + (i % 997) * 0.0137) * 100) / 100,
  upstreamMs: Math.round((0.3 + (i % 991) * 0.0113) * 100) / 100,
  attempts: 1,
  bytes: 100,
  ip: '127.0.0.1',
  trace: undefined,
  code: undefined,
  plugin: undefined,
  mirrored: undefined,
  err: undefined,
});

if (opts.only !== undefined) {
  const log = opts.only === 'line' ? await logFor(here) : undefined;
  let sink = 0;
  for (let i = 0; i < Number(opts.count); i++) {
    const r = record(i);
    if (log === undefined) sink += r.status;
    else log.write(r);
  }
  log?.settle();
  console.log(JSON.stringify({ only: opts.only, count: Number(opts.count), sink }));
  process.exit(0);
}

const logs = await Promise.all(builds.map(logFor));
const rounds = Number(opts.rounds);
const lines = Number(opts.lines);
const times = builds.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < builds.length; k++) {
    const b = (k + round) % builds.length;
    const recs = Array.from({ length: lines }, (_, i) => record(round * lines + i));
    const log = logs[b];
    const t = process.hrtime.bigint();
    for (let i = 0; i < lines; i++) log.write(recs[i]);
    log.settle();
    if (round >= 20) times[b].push(Number(process.hrtime.bigint() - t) / lines);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [b, dir] of builds.entries()) console.log(`${b === 0 ? 'this build' : 'compared  '}  ${dir}: median ${median(times[b]).toFixed(0)} ns/line, lowest ${Math.min(...times[b]).toFixed(0)}`);
if (builds.length === 2) console.log(`this build / compared: ${(median(times[0]) / median(times[1])).toFixed(2)}× (medians)`);
