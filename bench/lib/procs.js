/**
 * Process plumbing shared by run.js and soak.js: CPU pinning with taskset,
 * child processes that report readiness over IPC, free ports, readiness
 * polling over HTTP, and RSS read from /proc.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';

/** which returns the absolute path of a program on PATH (or common sbin dirs), or undefined. */
export function which(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d && existsSync(`${d}/${name}`)) return `${d}/${name}`;
  }
  return undefined;
}

/**
 * cpuPlan decides where things run. With taskset and at least 2 CPUs, the
 * process under test gets CPU 0 to itself and everything else (load generator,
 * upstreams) shares the remaining CPUs; without, nothing is pinned.
 */
export function cpuPlan() {
  const count = os.availableParallelism?.() ?? os.cpus().length;
  const taskset = which('taskset');
  if (!taskset || count < 2) {
    return { pinned: false, count, proxy: undefined, rest: undefined, note: `not pinned (${taskset ? `${count} CPU` : 'taskset not found'}): proxy, load generator and upstreams share the CPUs` };
  }
  const rest = count === 2 ? '1' : `1-${count - 1}`;
  return {
    pinned: true,
    count,
    proxy: '0',
    rest,
    /** proxyN is the CPU list for a proxy with n processes (workers). */
    proxyN: (n) => (n <= 1 ? '0' : `0-${Math.min(n, count) - 1}`),
    note: `${count} CPUs: proxy under test pinned to CPU 0; load generator and upstreams share CPU ${rest} (they compete with each other, so upstream-direct is the ceiling of this harness, not of the machine; other processes on the machine are not kept off either CPU)`,
  };
}

/**
 * launch starts `command args` (pinned to `cpus` when given) with an IPC
 * channel when `ipc` is set. Returns the ChildProcess; stderr is kept (last
 * 8 KiB) for error messages.
 */
export function launch(command, args, { cpus, ipc = false, env, cwd, name = command, stdoutFile } = {}) {
  const [cmd, argv] = cpus !== undefined ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
  // stdoutFile: the child's stdout goes straight to that file (a log the harness need not read line by line).
  const out = stdoutFile !== undefined ? openSync(stdoutFile, 'a') : 'pipe';
  const child = spawn(cmd, argv, {
    stdio: ['ignore', out, 'pipe', ...(ipc ? ['ipc'] : [])],
    env: { ...process.env, ...env },
    cwd,
  });
  child.label = name;
  child.stderrTail = '';
  const keep = (chunk) => {
    child.stderrTail = (child.stderrTail + chunk.toString()).slice(-8192);
  };
  if (typeof out === 'number') closeSync(out);
  child.stderr.on('data', keep);
  child.stdout?.on('data', keep);
  return child;
}

/** cpuProfArgs are the node flags that write a CPU profile into `dir` on exit (none without a dir). */
export function cpuProfArgs(dir) {
  return dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
}

/** launchNode starts a Node script in a child process with IPC (pinned when `cpus` is given). */
export function launchNode(script, args, { cpus, nodeArgs = [], env, name } = {}) {
  return launch(process.execPath, [...nodeArgs, script, ...args], { cpus, ipc: true, env, name: name ?? script });
}

/** nextMessage resolves with the child's next IPC message of `type` (rejects when the child exits first). */
export function nextMessage(child, type, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${child.label}: no "${type}" message after ${timeoutMs}ms\n${child.stderrTail}`)), timeoutMs);
    const onMessage = (m) => {
      if (m?.type === 'error') done(new Error(`${child.label}: ${m.message}`));
      else if (m?.type === type) done(undefined, m);
    };
    const onExit = (code, signal) => done(new Error(`${child.label} exited (${code ?? signal}) before "${type}":\n${child.stderrTail}`));
    function done(err, value) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** stop sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
export function stop(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** retire stops a started proxy ({ child, dir? }: startGateway's, startNginx's) and removes its temp folder (config and logs). */
export async function retire(started) {
  await stop(started.child);
  if (started.dir) rmSync(started.dir, { recursive: true, force: true });
}

/** freePort asks the kernel for an unused loopback port (closed again before use: a tiny race we accept). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** httpGet does one GET and resolves with { status, body } (rejects on a socket error). */
export function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}

/** waitHttp polls `url` until it answers `status` (200 by default), or fails after `timeoutMs`. */
export async function waitHttp(url, { headers, status = 200, timeoutMs = 20_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${child.label} exited (${child.exitCode ?? child.signalCode}) while starting:\n${child.stderrTail}`);
    }
    try {
      const r = await httpGet(url, headers);
      if (r.status === status) return r;
      last = `status ${r.status}: ${r.body.slice(0, 300)}`;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs}ms (${last})${child ? `\n${child.stderrTail}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** childPids lists the direct children of a process (Linux /proc). */
export function childPids(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // Not Linux or the process is gone: no children known.
  }
  return [...new Set(out)];
}

/** rssOf returns a process's resident set size in bytes (0 when unknown). */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** treeRss sums the RSS of a process and its direct children (cluster workers, nginx workers). */
export function treeRss(pid) {
  return [pid, ...childPids(pid)].reduce((sum, p) => sum + rssOf(p), 0);
}

/** mib formats bytes as MiB with one decimal. */
export function mib(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

let ticksPerSecond;

/** cpuMsOf returns the user + system CPU time a process has used, in ms (0 when unknown). */
export function cpuMsOf(pid) {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at index 2: utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** treeCpuMs sums cpuMsOf over a process and its direct children. */
export function treeCpuMs(pid) {
  return [pid, ...childPids(pid)].reduce((sum, p) => sum + cpuMsOf(p), 0);
}

/**
 * machineCpuMs reads /proc/stat, in ms summed over CPUs: CPU time of all
 * processes (user + nice + system), interrupt time (irq + softirq) apart, and
 * time stolen by the hypervisor. Interrupts are apart because no process is
 * charged for them: loopback traffic between the load generator, the proxy
 * and the upstreams is mostly softirq work, so counting it as "other
 * processes" reported a quiet run as 14 % disturbed.
 */
export function machineCpuMs() {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const ms = (ticks) => (ticks * 1000) / ticksPerSecond;
    return { busyMs: ms(f[0] + f[1] + f[2]), irqMs: ms(f[5] + f[6]), stealMs: ms(f[7] ?? 0) };
  } catch {
    return { busyMs: 0, irqMs: 0, stealMs: 0 };
  }
}

/** selfCpuMs is this process's CPU plus that of its children that have exited and been reaped (utime, stime, cutime, cstime): a wrk run that ended between two readings counts as ours. */
function selfCpuMs() {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / ticksPerSecond;
  } catch {
    const self = process.cpuUsage();
    return (self.user + self.system) / 1000;
  }
}

/**
 * ForeignLoad measures how much CPU the rest of the machine (anything not in
 * `pids()`, this process, or a child of it that has exited) used between
 * start() and stop(), as a share of all CPUs: the honest answer to "was this
 * run disturbed?". Interrupt time (mostly the loopback traffic of the run
 * itself) is reported apart, as irqPct.
 */
export class ForeignLoad {
  constructor(pids, cpus) {
    this.pids = pids;
    this.cpus = cpus;
  }
  ours() {
    return this.pids().reduce((sum, p) => sum + treeCpuMs(p), selfCpuMs());
  }
  start() {
    this.t0 = Date.now();
    this.m0 = machineCpuMs();
    this.o0 = this.ours();
  }
  /** stop returns { foreignPct, irqPct, stealPct } over the window. */
  stop() {
    const wall = (Date.now() - this.t0) * this.cpus;
    const m = machineCpuMs();
    const foreign = m.busyMs - this.m0.busyMs - (this.ours() - this.o0);
    // Per-process and machine counters tick separately: small negative values are rounding.
    return {
      foreignPct: Math.max(0, (100 * foreign) / wall),
      rawForeignPct: (100 * foreign) / wall,
      irqPct: (100 * (m.irqMs - this.m0.irqMs)) / wall,
      stealPct: (100 * (m.stealMs - this.m0.stealMs)) / wall,
    };
  }
}
