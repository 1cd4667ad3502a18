/**
 * The container recipe, checked without a Docker engine: the Dockerfile is
 * parsed (a small parser below) and held to the rules that keep the image
 * small, unprivileged and well-behaved under an orchestrator; the HEALTHCHECK
 * command is run for real against a live admin listener; the compose example's
 * gateway config is validated by the real loader.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { ConfigInvalid } from '../../src/config/errors.js';
import { createGateway } from '../../src/gateway/gateway.js';
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import { SERVING_NODE_FLAGS } from '../../src/process/node-flags.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** Instruction is one Dockerfile instruction with continuations joined. */
interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Stage is one FROM and the instructions under it. */
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** parseDockerfile splits a Dockerfile into stages (comments and line continuations handled). */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      // Comment lines inside a continuation are dropped, as Docker does.
      line = line.replace(/\\\s*$/, ' ') + (/^\s*#/.test(next) ? '\\' : next);
    }
    const m = /^\s*(\w+)\s+([\s\S]*?)\s*$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse "${line}"`);
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start + 1 });
  }
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!f) throw new Error(`Dockerfile line ${ins.line}: bad FROM "${ins.args}"`);
      stages.push({ from: f[1]!, name: f[2], instructions: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages.at(-1)!.instructions.push(ins);
  }
  return { preamble, stages };
}

/** execForm parses a JSON-array (exec form) argument; undefined when it is shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  const v: unknown = JSON.parse(args);
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/** copySources returns a COPY's flags and sources (everything but the destination). */
function copyParts(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages = dockerfile.stages;
const final = stages.at(-1)!;
const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('is a multi-stage build on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const args = Object.fromEntries(dockerfile.preamble.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
    for (const s of stages) {
      const image = s.from.replace(/^\$\{?(\w+)\}?$/, (_m, name: string) => args[name] ?? _m);
      expect(image).toBe('node:20-bookworm-slim');
    }
  });

  it('builds with npm ci and npm run build in a build stage', () => {
    const build = stages.slice(0, -1).find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)));
    expect(build, 'a stage that runs npm run build').toBeDefined();
    const runs = build!.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
  });

  it('installs production dependencies only in the final stage, never copying node_modules from the build', () => {
    const runs = finalOf('RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b[^&;]*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
    for (const c of finalOf('COPY')) {
      const { sources } = copyParts(c.args);
      for (const s of sources) expect(s, `COPY at line ${c.line}`).not.toMatch(/node_modules/);
    }
    // The context cannot smuggle the host's node_modules in either.
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignore).toContain('node_modules');
    expect(ignore).toContain('dist');
  });

  it('copies the compiled dist from the build stage, and package files, routes, gateway.yaml and schema', () => {
    const copies = finalOf('COPY').map((c) => copyParts(c.args));
    const buildNames = new Set(stages.slice(0, -1).map((s, i) => s.name ?? String(i)));
    const dist = copies.find((c) => c.from !== undefined && buildNames.has(c.from) && c.sources.some((s) => /\/dist\/?$/.test(s)));
    expect(dist, 'COPY --from=<build stage> .../dist').toBeDefined();
    // 17: no native code, so no stage installs a compiler and nothing built by node-gyp is copied.
    for (const s of stages) for (const r of s.instructions.filter((i) => i.keyword === 'RUN')) expect(r.args, `RUN at line ${r.line}`).not.toMatch(/\b(g\+\+|gcc|make|python3|node-gyp)\b/);
    expect(copies.some((c) => c.sources.some((s) => s.includes('build/Release')))).toBe(false);
    expect(finalOf('RUN').find((r) => /npm ci/.test(r.args))!.args).toMatch(/--ignore-scripts/);
    const local = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    for (const want of ['package.json', 'package-lock.json', 'routes', 'gateway.yaml', 'schema']) expect(local, want).toContain(want);
    // npm ci in the final stage needs the lockfile before it runs.
    const lockAt = finalOf('COPY').find((c) => copyParts(c.args).sources.includes('package-lock.json'))!.line;
    const ciAt = finalOf('RUN').find((r) => /npm ci/.test(r.args))!.line;
    expect(lockAt).toBeLessThan(ciAt);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignore = new Set(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
    for (const s of stages)
      for (const c of s.instructions.filter((i) => i.keyword === 'COPY')) {
        const { from, sources } = copyParts(c.args);
        if (from !== undefined) continue;
        for (const src of sources) {
          expect(existsSync(join(ROOT, src)), `${src} (line ${c.line})`).toBe(true);
          // Ignored itself or through a parent folder, unless re-included with `!path`.
          const parts = src.split('/');
          const ignoredBy = parts.map((_, i) => parts.slice(0, i + 1).join('/')).find((p) => ignore.has(p));
          expect(ignoredBy === undefined || ignore.has(`!${src}`), `${src} is in .dockerignore (${ignoredBy})`).toBe(true);
        }
      }
  });

  it('runs as a non-root user in the final stage', () => {
    const users = finalOf('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
    // Nothing after USER switches back to root.
    const userLine = users.at(-1)!.line;
    expect(final.instructions.filter((i) => i.line > userLine && i.keyword === 'RUN')).toEqual([]);
  });

  it('has a HEALTHCHECK run with node (exec form), no curl or wget', () => {
    const hc = finalOf('HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(hc[0]!.args);
    expect(cmd, 'HEALTHCHECK ... CMD [ ... ]').not.toBeNull();
    const argv = execForm(cmd![1]!)!;
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/healthz');
    expect(argv.join(' ')).not.toMatch(/\b(curl|wget)\b/);
  });

  it('starts node directly in exec form with the config under /etc/switchyard', () => {
    const entry = finalOf('ENTRYPOINT').at(-1);
    const cmd = finalOf('CMD').at(-1);
    const entryArgv = entry ? execForm(entry.args) : [];
    const cmdArgv = cmd ? execForm(cmd.args) : [];
    expect(entryArgv, 'ENTRYPOINT in exec form').toBeDefined();
    expect(cmdArgv, 'CMD in exec form').toBeDefined();
    const argv = [...entryArgv!, ...cmdArgv!];
    expect(argv[0]).toBe('node');
    // The serving flags (src/process/node-flags.ts: why), then the CLI.
    const flags = argv.slice(1, 1 + SERVING_NODE_FLAGS.length);
    expect(flags).toEqual([...SERVING_NODE_FLAGS]);
    argv.splice(1, SERVING_NODE_FLAGS.length);
    expect(argv[1]).toBe('dist/src/cli/index.js');
    // The entry point is the compiled CLI: src/cli/index.ts under tsconfig's outDir.
    expect(existsSync(join(ROOT, 'src', 'cli', 'index.ts'))).toBe(true);
    expect(JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.outDir).toBe('dist');
    expect(argv.slice(2)).toEqual(['start', '--config', '/etc/switchyard/gateway.yaml']);
    const workdir = finalOf('WORKDIR').at(-1)!.args;
    const distCopy = finalOf('COPY').map((c) => copyParts(c.args)).find((c) => c.from !== undefined)!;
    expect(distCopy.dest.replace(/^\.\//, `${workdir}/`).replace(/\/$/, '')).toBe(`${workdir}/dist`);
  });

  it('exposes the public and admin ports and declares the config volume', () => {
    const ports = finalOf('EXPOSE').flatMap((e) => e.args.split(/\s+/));
    expect(ports).toEqual(expect.arrayContaining(['8080', '9901']));
    const volumes = finalOf('VOLUME').flatMap((v) => execForm(v.args) ?? v.args.split(/\s+/));
    expect(volumes).toContain('/etc/switchyard');
    const copiedTo = finalOf('COPY').map((c) => copyParts(c.args).dest);
    expect(copiedTo).toEqual(expect.arrayContaining(['/etc/switchyard/gateway.yaml', '/etc/switchyard/routes']));
  });
});

describe('HEALTHCHECK command', () => {
  let gw: TestGateway;
  let argv: string[];

  beforeAll(async () => {
    const hc = /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(finalOf('HEALTHCHECK')[0]?.args ?? '');
    const parsed = hc ? execForm(hc[1]!) : undefined;
    if (!parsed) throw new Error('the final stage has no exec-form HEALTHCHECK CMD to run');
    argv = parsed;
    gw = await startGateway({ gateway: { admin: { token: 'not-needed-for-healthz' } }, routeFiles: {} });
  });
  afterAll(async () => {
    await gw?.close();
  });

  /** probe runs the image's HEALTHCHECK argv with node from this machine; resolves with the exit code. */
  async function probe(url: string): Promise<number> {
    try {
      await run(process.execPath, argv.slice(1), { env: { ...process.env, SWITCHYARD_HEALTHCHECK_URL: url }, timeout: 10_000 });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('passes against a live admin listener, even with admin.token set', async () => {
    expect(await probe(`${gw.adminUrl}/healthz`)).toBe(0);
  });

  it('fails when nothing listens and when the endpoint is not 200', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await probe(`http://127.0.0.1:${port}/healthz`)).toBe(1);
    expect(await probe(`${gw.adminUrl}/no-such-endpoint`)).toBe(1);
  });
});

describe('docker-compose.example.yml', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.example.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: unknown; image?: string; ports?: string[]; volumes?: string[]; environment?: Record<string, string>; stop_grace_period?: string }>;
  };

  it('runs the gateway built from this Dockerfile with Redis and two upstreams', () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(['echo-1', 'echo-2', 'gateway', 'redis']);
    expect(services.gateway!.build).toBe('.');
    expect(services.redis!.image).toMatch(/^redis:/);
    // The admin port is published on the host's loopback only.
    expect(services.gateway!.ports).toContain('127.0.0.1:9901:9901');
    for (const v of services.gateway!.volumes ?? []) expect(existsSync(join(ROOT, v.split(':')[0]!))).toBe(true);
    expect(services.gateway!.stop_grace_period).toBe('35s');
  });

  it('mounts a gateway config the loader accepts, which refuses to start without the admin token', async () => {
    const configFile = join(ROOT, 'deploy', 'compose', 'gateway.yaml');
    const env = { SWITCHYARD_ADMIN_TOKEN: 'example-token-0123456789', REDIS_URL: 'redis://redis:6379' };
    const gw = await createGateway({ configFile, env, logger: pino({ level: 'silent' }), offline: true });
    try {
      expect(gw.config.admin).toMatchObject({ host: '0.0.0.0', port: 9901, token: env.SWITCHYARD_ADMIN_TOKEN });
      expect(gw.runtime.routes.map((r) => r.id)).toEqual(['echo']);
      expect(gw.runtime.upstreams.get('echo')!.targets.map((t) => t.id)).toEqual(['http://echo-1:9000', 'http://echo-2:9000']);
    } finally {
      await gw.close();
    }
    const missing = await createGateway({ configFile, env: { REDIS_URL: env.REDIS_URL }, logger: pino({ level: 'silent' }), offline: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(missing).toBeInstanceOf(ConfigInvalid);
    expect((missing as ConfigInvalid).errors.map((e) => e.format()).join('\n')).toContain('SWITCHYARD_ADMIN_TOKEN');
  });
});
