/**
 * 13.16: the command line a new user meets first — version, help, usage
 * errors and what validate prints — run as a real process.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, OPTIONS } from '../../src/cli/commands.js';
import { ROOT, runCli, tempDir } from './helpers.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// Each case starts node with tsx: seconds on a busy machine, not milliseconds.
const SLOW = { timeout: 120_000 };

describe('13.16: version and help', SLOW, () => {
  it('13.16: --version and -v print the version from package.json, exit 0', async () => {
    for (const args of [['--version'], ['-v'], ['validate', '--version']]) {
      const r = await runCli(args);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`switchyard ${VERSION}\n`);
      expect(r.code).toBe(0);
    }
  });

  it('13.16: help lists every command; switchyard alone prints it as a usage error', async () => {
    const help = await runCli(['help']);
    expect(help.code).toBe(0);
    for (const name of ['start', 'validate', 'routes', 'explain', 'demo', 'init', 'plugin new']) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect((await runCli(['--help'])).stdout).toBe(help.stdout);
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe(help.stdout);
  });

  it('13.16: help COMMAND and COMMAND --help print the usage and every option of each command', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const [viaHelp, viaFlag] = await Promise.all([runCli(['help', name]), runCli(name === 'plugin' ? ['plugin', 'new', '--help'] : [name, '--help'])]);
      expect(viaHelp.code, name).toBe(0);
      expect(viaFlag.code, name).toBe(0);
      expect(viaFlag.stdout).toBe(viaHelp.stdout);
      expect(viaHelp.stdout).toContain(`Usage: switchyard ${name}`);
      for (const o of [...COMMANDS[name]!.options, 'help' as const]) expect(viaHelp.stdout, `${name} --${o}`).toContain(`-${OPTIONS[o].short}, --${o}`);
    }
  });
});

describe('13.16: usage errors are one line with a suggestion, exit 2', SLOW, () => {
  it.each([
    { args: ['validate', '--confg', 'x.yaml'], line: 'switchyard: unknown option --confg; did you mean --config? (see "switchyard help validate")' },
    { args: ['valdate'], line: 'switchyard: unknown command "valdate"; did you mean "validate"? (see "switchyard help")' },
    { args: ['validate', '--workers', '2'], line: 'switchyard: --workers is not an option of "validate" (see "switchyard help validate")' },
    { args: ['validate', '--config'], line: 'switchyard: --config needs a value: --config FILE (see "switchyard help validate")' },
    { args: ['explain', 'GET'], line: `switchyard: missing arguments: switchyard explain ${COMMANDS.explain!.usage} (see "switchyard help explain")` },
    { args: ['plugin', 'neww', 'x'], line: 'switchyard: unknown plugin command "neww": switchyard plugin new NAME [--force] (see "switchyard help plugin")' },
    { args: ['help', 'strat'], line: 'switchyard: no help for "strat": it is not a command; did you mean "start"? (see "switchyard help")' },
  ])('$args.0 $args.1', async ({ args, line }) => {
    const r = await runCli(args);
    expect(r.stderr).toBe(line + '\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });
});

describe('13.16: validate output', SLOW, () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    await mkdir(join(dir, 'good/routes'), { recursive: true });
    await mkdir(join(dir, 'bad/routes'), { recursive: true });
    await writeFile(join(dir, 'good/gateway.yaml'), 'routes: ./routes\n');
    await writeFile(join(dir, 'good/routes/users.yaml'), 'upstreams:\n  users:\n    targets: [{ url: "http://127.0.0.1:9000" }]\nroutes:\n  - { id: users, match: { path: /users/* }, upstream: users }\n');
    await writeFile(join(dir, 'bad/gateway.yaml'), 'routes: ./routes\n');
    await writeFile(
      join(dir, 'bad/routes/users.yaml'),
      [
        'upstreams:',
        '  a: { balancer: leastconn, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  b: { balancer: roundrobin, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  c: { balancer: wrr, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  d: { balancer: least_conn, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  e: { balancer: ROUND_ROBIN, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  f: { balancer: ip_hash, targets: [{ url: "http://127.0.0.1:9000" }] }',
        '  users: { targets: [{ url: "http://127.0.0.1:9000" }] }',
        'routes:',
        '  - { id: users, match: { path: /users/* }, upstream: user }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => remove());

  it('13.16: counts in proper English: "1 route, 1 upstream", not "1 upstreams"', async () => {
    const r = await runCli(['validate', '--config', 'good/gateway.yaml'], { cwd: dir });
    expect(r.stdout).toBe('ok: 1 route, 1 upstream in 2 files\n');
    expect(r.code).toBe(0);
  });

  it('13.16: error paths are relative to the working directory; other products\' balancer names get a suggestion', async () => {
    const r = await runCli(['validate'], { cwd: join(dir, 'bad') });
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    const expected = (n: number, up: string, name: string) => `routes/users.yaml:${n}:18: upstreams.${up}.balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random; did you mean "${name}"?`;
    expect(lines).toEqual([
      expected(2, 'a', 'least-connections'),
      expected(3, 'b', 'round-robin'),
      expected(4, 'c', 'weighted-round-robin'),
      expected(5, 'd', 'least-connections'),
      expected(6, 'e', 'round-robin'),
      expected(7, 'f', 'ip-hash'),
      'routes/users.yaml:10:55: routes[0].upstream: unknown upstream "user"; did you mean "users"?',
      '7 errors',
    ]);
    expect(r.stderr).not.toContain(dir);
  });
});
