/**
 * Instructions per request of the built gateway, steady state, under
 * callgrind: a load-independent figure (req/s and even CPU time move with
 * whatever else runs on a shared machine; instruction counts do not).
 *
 * The gateway (dist/, as shipped: plain gateway.yaml, 10 routes, 3 targets,
 * NODE_ENV=production) runs under `valgrind --tool=callgrind` twice: once for
 * SHORT requests, once for LONG, over the same keep-alive client (4
 * connections). Start-up, JIT warm-up and shutdown are in both runs, so
 * (Ir(LONG) - Ir(SHORT)) / (LONG - SHORT) is the steady per-request cost.
 * The callgrind files stay in OUT for `callgrind_annotate` (diff two runs'
 * function lists to see where the instructions went).
 *
 * SHORT must be past V8's warm-up: on 2026-12-06, from 500 to 5,000
 * requests the optimizing compiler (GraphReducer & co.) was still the
 * largest item (620,000 instructions a request in all). And the count is
 * load-independent only while time-driven work (timers, the flush interval,
 * background GC) stays small next to the requests: under valgrind on a busy
 * machine one 5,000-request run took 16 minutes.
 *
 *   npm run build && node bench/callgrind.js [--log on|off] [--short 5000] [--long 25000] [--out DIR] [--targets N]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { BENCH_PATH, CLI, writeConfig } from './lib/gateway.js';
import { freePort, launch, launchNode, nextMessage, waitHttp } from './lib/procs.js';

const { values: opts } = parseArgs({
  options: {
    log: { type: 'string', default: 'on' },
    short: { type: 'string', default: '5000' },
    long: { type: 'string', default: '25000' },
    out: { type: 'string', default: `/tmp/switchyard-callgrind-${process.pid}` },
    targets: { type: 'string', default: '3' },
  },
});
mkdirSync(opts.out, { recursive: true });
const targetCount = Number(opts.targets);

const upstream = launchNode(new URL('./lib/upstream-server.js', import.meta.url).pathname, ['100', String(targetCount)], { name: 'upstream' });
const { ports } = await nextMessage(upstream, 'ready');
const targets = ports.map((p) => `http://127.0.0.1:${p}`);

/** run measures one gateway process serving `requests` requests; returns its total instructions (all threads). */
async function run(requests) {
  const port = await freePort();
  const adminPort = await freePort();
  const config = writeConfig({ port, adminPort, targets, routes: 10, chain: [], log: opts.log === 'off' ? { accessLog: false } : undefined });
  const file = join(opts.out, `callgrind.${opts.log}.${requests}.out`);
  // V8 writes and patches machine code at run time: valgrind must re-check code outside mapped files.
  const args = ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${file}`, process.execPath, CLI, 'start', '--config', config, '--workers', '1'];
  const child = launch('valgrind', args, { env: { NODE_ENV: 'production' }, name: 'gateway (callgrind)', stdoutFile: join(opts.out, `stdout.${opts.log}.${requests}.log`) });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitHttp(`http://127.0.0.1:${port}${BENCH_PATH}`, { child, timeoutMs: 600_000 });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
  let left = requests;
  const worker = async () => {
    while (left-- > 0) {
      const res = await pool.request({ path: BENCH_PATH, method: 'GET' });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await pool.close();
  child.kill('SIGTERM');
  await exited;
  return totalIr(file);
}

/** totalIr reads the "totals:"/"summary:" line callgrind writes at the end of its file. */
function totalIr(file) {
  const text = readFileSync(file, 'latin1');
  const m = /^(?:totals|summary): (\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

try {
  const short = Number(opts.short);
  const long = Number(opts.long);
  const a = await run(short);
  const b = await run(long);
  const per = (b - a) / (long - short);
  console.log(JSON.stringify({ log: opts.log, short, long, irShort: a, irLong: b, irPerRequest: Math.round(per), out: opts.out }));
} finally {
  upstream.kill('SIGTERM');
}
