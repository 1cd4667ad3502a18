/**
 * Shared parts of the walkthrough tests (docs/service-discovery.md's
 * "Service discovery" and "Calling other services", docs/changing-traffic.md,
 * the README's "TCP, TLS passthrough and UDP"):
 * the commands as the walk-throughs write them (`npm exec switchyard --` run from source), the
 * example gateway config started on free ports (PUBLIC_PORT, ADMIN_PORT and
 * REGISTRY_PORT set to 0, the ports read from its log), and the example
 * services as child processes, always killed by killAll.
 *
 * The examples run from this checkout without `npm install` in examples/:
 * users-service finds eureka-js-client in the root node_modules (Node walks
 * up the folders), and orders-caller imports `switchyard-gateway/client`,
 * which in a clone resolves to the checkout's build (dist/, made by
 * `npm ci`). Tests must run against the source instead (dist/ may be absent
 * or stale), so the caller runs from a copy in a temp folder whose
 * node_modules/switchyard-gateway re-exports src/client through tsx — the
 * same module graph the build is compiled from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../../src/testing/index.js';
import { startCli } from '../helpers/cli.js';

/** ROOT is the checkout. */
export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * readmeCommands lists the shell commands of one section's code blocks in
 * the README (or another document of the checkout, `file`), trailing "# ..." comments and comment lines dropped. A heredoc
 * (`<<'EOF'` ... `EOF`) stays one command with its lines as written (a
 * route file's indentation and comments are its content).
 */
export function readmeCommands(section: string, file = 'README.md'): string[] {
  const readme = readFileSync(join(ROOT, file), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`${file} has no section "## ${section}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const body = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...body.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands: string[] = [];
  for (const lines of blocks.map((b) => b.split('\n'))) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\s+#\s.*$/, '').trim();
      if (line === '' || line.startsWith('#')) continue;
      const heredoc = /<<-?'?(\w+)'?$/.exec(line);
      if (!heredoc) {
        commands.push(line);
        continue;
      }
      const stop = lines.indexOf(heredoc[1]!, i + 1);
      if (stop < 0) throw new Error(`${file} "${section}": the heredoc of "${line}" has no ${heredoc[1]} line`);
      commands.push([line, ...lines.slice(i + 1, stop + 1)].join('\n'));
      i = stop;
    }
  }
  return commands;
}

/**
 * inOrder hands out a section's commands one after the other: `next(prefix)`
 * checks each is the one the walk-through expects there, so none is skipped
 * or reordered; `left()` counts those not taken yet.
 */
export function inOrder(commands: string[], where: string): { next(prefix: string): string; left(): number } {
  let at = 0;
  return {
    next(prefix: string): string {
      const cmd = commands[at++];
      if (cmd === undefined || !cmd.startsWith(prefix)) throw new Error(`${where} command ${at}: expected one starting with "${prefix}", found ${JSON.stringify(cmd)}`);
      return cmd;
    },
    left: () => commands.length - at,
  };
}

/** DISCOVERY is the document of the service-discovery and calling-other-services walk-throughs. */
export const DISCOVERY = 'docs/service-discovery.md';

/** command finds the one command of a section of the README (or `file`) that starts with `prefix`. */
export function command(section: string, prefix: string, file = 'README.md'): string {
  const found = readmeCommands(section, file).filter((c) => c.startsWith(prefix));
  if (found.length === 0) throw new Error(`${file} "${section}" has no command starting with "${prefix}"`);
  return found[0]!;
}

/** Ports are where the example gateway listens. */
export interface Ports {
  port: number;
  adminPort: number;
  registryPort?: number;
}

/** onPorts rewrites the README's default addresses (localhost:8080, 127.0.0.1:9901 or localhost:9901, :8761) to the ports of this run. */
export function onPorts(cmd: string, p: Ports): string {
  const out = cmd
    .replaceAll('localhost:8080', `127.0.0.1:${p.port}`)
    .replaceAll('127.0.0.1:9901', `127.0.0.1:${p.adminPort}`)
    .replaceAll('localhost:9901', `127.0.0.1:${p.adminPort}`);
  return p.registryPort === undefined ? out : out.replaceAll('127.0.0.1:8761', `127.0.0.1:${p.registryPort}`);
}

/** fromSource turns the README's `npm exec switchyard -- ...` into the CLI run from source through tsx (dist/ may be stale), from any folder. */
export function fromSource(cmd: string): string {
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return cmd.replaceAll('npm exec switchyard --', `${JSON.stringify(process.execPath)} --import ${tsx} ${JSON.stringify(join(ROOT, 'src/cli/index.ts'))}`);
}

/** Proc is a child process with its output collected. */
export interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

const procs: ChildProcess[] = [];

/** killAll kills every child process started here and, for those run in their own process group (shell pipelines), the whole group (SIGKILL; for afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(
    procs.splice(0).map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return undefined; // a shell that ended took its pipeline with it
      return new Promise<void>((r) => {
        c.once('exit', () => r());
        if (c.spawnargs[0] === 'bash') process.kill(-c.pid!, 'SIGKILL'); // the loop's curl, sort and uniq too, not only bash
        else c.kill('SIGKILL');
      });
    }),
  );
}

/** run starts a child process (a shell in its own process group, so killAll can end its pipeline) and collects its stdout and stderr. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: cmd === 'bash' });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

/** shell runs one README command line through bash (in `cwd`, the checkout unless given) and resolves with its output once it ended with exit code `code` (0 unless given). */
export async function shell(line: string, { cwd, code: expected = 0 }: { cwd?: string; code?: number } = {}): Promise<string> {
  const p = run('bash', ['-c', line], { cwd });
  const code = await p.exited;
  if (code !== expected) throw new Error(`"${line}" exited with ${code}, not ${expected}:\n${p.output()}`);
  return p.output();
}

/** ExampleGateway is the example gateway config running on free ports. */
export interface ExampleGateway extends Ports {
  readonly proc: Proc;
  /** registry is the registry URL as the example services take it in REGISTRY (the demo credentials). */
  readonly registry: string;
}

/** startGateway runs `switchyard start --config <configFile>` from source (killed by killAll) and resolves once it listens. */
export async function startGateway(configFile: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof startCli> {
  const cli = await startCli(configFile, [], { env });
  procs.push(cli.child);
  return cli;
}

/** startExampleGateway runs the README's `switchyard start --config ...` from source, every port moved to a free one through the environment. */
export async function startExampleGateway(): Promise<ExampleGateway> {
  const start = command('Service discovery', 'npm exec switchyard -- start', DISCOVERY);
  const config = /--config (\S+)/.exec(start)![1]!;
  const cli = await startGateway(join(ROOT, config), { PUBLIC_PORT: '0', ADMIN_PORT: '0', REGISTRY_PORT: '0', REGISTRY_PASSWORD: '' });
  const line = cli.output().split('\n').find((l) => l.includes('service registry listening'));
  if (!line) throw new Error(`no registry in the gateway's log:\n${cli.output()}`);
  const registryPort = (JSON.parse(line) as { port: number }).port;
  return {
    port: cli.port,
    adminPort: cli.adminPort,
    registryPort,
    registry: `http://svc:demo-password@127.0.0.1:${registryPort}/eureka`,
    proc: { child: cli.child, exited: cli.exited, output: cli.output },
  };
}

/** UsersInstance is one running examples/users-service. */
export interface UsersInstance extends Proc {
  readonly port: number;
  readonly instanceId: string;
  /** url is what the registry lists and the gateway dials. */
  readonly url: string;
}

/** startUsers runs the README's `node examples/users-service/...` and resolves once it registered. */
export async function startUsers(gw: ExampleGateway): Promise<UsersInstance> {
  const script = command('Service discovery', 'node examples/users-service/', DISCOVERY).split(' ')[1]!;
  const p = run(process.execPath, [script], { env: { REGISTRY: gw.registry } });
  const line = await waitFor(() => p.output().split('\n').find((l) => l.includes('registered with')), { timeout: 20000, message: `users-service to register; output so far:\n${p.output()}` });
  const [, instanceId, port] = /USERS instance (\S+) \(pid \d+\) listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)!;
  return { ...p, instanceId: instanceId!, port: Number(port), url: `http://127.0.0.1:${port}` };
}

/**
 * startCaller runs the README's `node examples/orders-caller/...` from a temp
 * copy whose switchyard-gateway package re-exports the source (see the top
 * of this file), and resolves once ORDERS registered.
 */
export async function startCaller(gw: ExampleGateway, env: NodeJS.ProcessEnv = {}): Promise<Proc & { port: number }> {
  const script = command('Calling other services', 'node examples/orders-caller/', DISCOVERY).split(' ')[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'sy-caller-'));
  const example = join(dir, 'orders-caller');
  cpSync(join(ROOT, 'examples/orders-caller'), example, { recursive: true, filter: (src) => !src.includes('node_modules') });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const pkg = join(dir, 'node_modules/switchyard-gateway');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'switchyard-gateway', type: 'module', exports: { './client': './client.js' } }));
  writeFileSync(join(pkg, 'client.js'), `export * from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/client/index.ts')).href)};\n`);
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const p = run(process.execPath, ['--import', tsx, join(dir, script.replace(/^examples\//, ''))], { cwd: dir, env: { REGISTRY: gw.registry, ...env } });
  void p.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const line = await waitFor(() => p.output().split('\n').find((l) => l.includes('ORDERS instance')), { timeout: 30000, message: `orders-caller to register; output so far:\n${p.output()}` });
  return { ...p, port: Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)![1]) };
}

/** UpstreamView is the part of GET /upstreams the walkthrough looks at. */
export interface UpstreamView {
  name: string;
  discovery: { kind: string; subject: string; instances: number } | null;
  targets: Array<{ url: string; source: string | null; state: string }>;
}

/** upstream reads one upstream from the admin API's /upstreams. */
export async function upstream(gw: ExampleGateway, name: string): Promise<UpstreamView> {
  const view = (await (await fetch(`http://127.0.0.1:${gw.adminPort}/upstreams`)).json()) as { upstreams: UpstreamView[] };
  return view.upstreams.find((u) => u.name === name)!;
}
