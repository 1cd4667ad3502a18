/**
 * The scaling phases of `npm run bench` (issue 17: how cost grows with load),
 * each selectable with `--phases`, each printing its own figure:
 *
 *   headline    the as-shipped candidates side by side (run.js itself)
 *   logcost     access log on vs off, gateway and nginx, in paired short slices with an interval (phase-logcost.js)
 *   workers     --workers 2 against 1 process, with its caveat (in the headline's rounds)
 *   sizes       100 B, 64 KiB, 1 MiB responses: gateway / nginx for each (phase-sizes.js)
 *   shape       1, 10, 1,000 routes and 1, 10, 100 targets: flat within 5 % (phase-shape.js)
 *   idle        10,000 idle keep-alive connections: RSS per connection, active latency meanwhile (phase-idle.js)
 *   websockets  5,000 open WebSockets: RSS per socket, echo p99 of one active socket (phase-websockets.js)
 *
 * Phases that start their own processes get a context from run.js (the
 * load function, the CPU plan, nginx, the headers) and use the helpers here.
 */
import { BENCH_PATH } from './gateway.js';
import { launchNode, nextMessage, retire, stop } from './procs.js';
import { pairedRatio, runRounds, summarize } from './rounds.js';

/** PHASES are the phase names, in the order they run. */
export const PHASES = ['headline', 'logcost', 'workers', 'sizes', 'shape', 'idle', 'websockets'];

/** parsePhases turns `--phases a,b` into a Set (all when absent); throws on an unknown name. */
export function parsePhases(value) {
  if (value === undefined) return new Set(PHASES);
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((p) => !PHASES.includes(p));
  if (unknown.length) throw new Error(`--phases: unknown phase(s) ${unknown.join(', ')}; known: ${PHASES.join(', ')}`);
  return new Set(list);
}

/** phaseTiming is the rounds and durations of a scaling phase: short, as each phase has several candidates. */
export function phaseTiming(o) {
  return o.quick ? { rounds: 1, duration: 2, roundWarmup: 1, warmup: 1 } : { rounds: 2, duration: 5, roundWarmup: 1, warmup: 3 };
}

/**
 * startUpstreams starts `count` upstream processes answering `bodySize`
 * bytes, each listening on `listeners` ports; returns { urls, children }.
 */
export async function startUpstreams(ctx, { bodySize, count = 3, listeners = 1 }) {
  const children = [];
  const urls = [];
  for (let i = 0; i < count; i++) {
    const child = ctx.track(launchNode(new URL('./upstream-server.js', import.meta.url).pathname, [String(bodySize), String(listeners)], { cpus: ctx.plan.rest, name: `upstream-${i}` }));
    const { ports } = await nextMessage(child, 'ready');
    children.push(child);
    for (const p of ports) urls.push(`http://127.0.0.1:${p}`);
  }
  return { urls, children, stop: () => Promise.all(children.map((c) => stop(c, 3000))) };
}

/**
 * miniRun measures started candidates ({ name, url, pid, child }) in rotated
 * rounds with the phase timing, then stops them; returns them with summaries.
 */
export async function miniRun(ctx, candidates, timing = phaseTiming(ctx.o)) {
  const cs = candidates.map((c) => ({ ...c, rounds: [], windows: [] }));
  const measure = (c, duration) => ctx.load({ url: c.url, connections: ctx.o.connections, duration });
  // Freshly started processes: let start-up work settle, then warm each one (JIT, pools) unmeasured, as the headline does.
  await new Promise((r) => setTimeout(r, ctx.o.quick ? 1000 : 3000));
  for (const c of cs) await measure(c, timing.warmup);
  const fresh = ctx.o.sameProcess ? undefined : { stop, settleMs: ctx.o.quick ? 1000 : 3000, warmup: timing.warmup };
  await runRounds(cs, { ...timing, measure, fresh, log: (s) => process.stdout.write(s.startsWith('round') ? `  ${s}` : s) });
  for (const c of cs) c.summary = summarize(c);
  await Promise.all(cs.map(retire));
  return cs;
}

/** ratioCell is "1.23x" from a paired ratio (median of rounds), or "-". */
export function ratioCell(a, b) {
  const p = pairedRatio(a, b);
  return p ? { text: `${p.median.toFixed(2)}x`, value: p.median, ofMeans: p.ofMeans } : { text: '-', value: NaN, ofMeans: NaN };
}

/** benchUrl is the load's URL on a proxy port. */
export const benchUrl = (port) => `http://127.0.0.1:${port}${BENCH_PATH}`;

/** RUNNERS maps the phases that start their own processes to their modules (loaded when selected). */
const RUNNERS = {
  logcost: ['./phase-logcost.js', 'logcostPhase'],
  sizes: ['./phase-sizes.js', 'sizesPhase'],
  shape: ['./phase-shape.js', 'shapePhase'],
  idle: ['./phase-idle.js', 'idlePhase'],
  websockets: ['./phase-websockets.js', 'wsPhase'],
};

/**
 * runPhases runs the selected phases that start their own processes, in
 * order; a phase that fails is reported and the others still run. Returns
 * [{ name, lines, json }].
 */
export async function runPhases(ctx) {
  const out = [];
  for (const name of PHASES.filter((p) => RUNNERS[p] && ctx.o.phases.has(p))) {
    const [file, fn] = RUNNERS[name];
    console.log(`\nphase ${name}:`);
    try {
      const mod = await import(file);
      out.push({ name, ...(await mod[fn](ctx)) });
    } catch (err) {
      console.log(`phase ${name} FAILED: ${err.stack ?? err}`);
      out.push({ name, lines: [`phase ${name} failed: ${String(err.message ?? err).split('\n')[0]}`], json: { error: String(err.message ?? err) } });
    }
  }
  return out;
}
