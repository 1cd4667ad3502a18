/**
 * `switchyard diff` as a user runs it: the real command line (a child
 * process), its exit codes (0 no change, 1 changes, 2 errors), --json,
 * --requests, --against a running gateway's admin API, and hostile inputs
 * (a huge file, a symbolic link loop, a FIFO, an invalid configuration)
 * answered with a clear error and exit 2, never a hang.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.js';
import { startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { GATEWAY, ORDERS, removeTrees, tree } from './helpers.js';
import { SCENARIOS } from './scenarios.js';

afterAll(removeTrees);

/** SLOW: every case runs the command line (tsx) once or more on a shared machine. */
const SLOW = { timeout: 120_000 };

const diff = (after: string, against: string, ...more: string[]) => runCli(['diff', '--config', after, '--against', against, ...more], { cwd: dirname(after) });

describe('switchyard diff (command line)', SLOW, () => {
  it('exits 0 when nothing changes, 1 when something does, with the report on stdout', async () => {
    const s = SCENARIOS.shadowed!;
    const before = tree(s.before);
    const same = await diff(tree(s.before), before);
    expect(same).toMatchObject({ code: 0, stderr: '' });
    expect(same.stdout).toMatch(/no change\n$/);
    const changed = await diff(tree(s.after), before);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('  ! new route orders-new (routes/team-b.yaml:5) shadows orders (routes/orders.yaml:7) for GET /api/orders/1');
    expect(changed.stdout).toContain('  GET /api/orders/1: orders → orders-new (routes/team-b.yaml:5 now shadows routes/orders.yaml:7)');
  });

  it('--json prints the report for CI bots', async () => {
    const s = SCENARIOS['auth removed']!;
    const out = await diff(tree(s.after), tree(s.before), '--json');
    expect(out.code).toBe(1);
    const report = JSON.parse(out.stdout) as { changed: boolean; flags: Array<{ kind: string }>; moves: unknown[] };
    expect(report.changed).toBe(true);
    expect(report.flags.map((f) => f.kind)).toEqual(['auth-removed', 'made-public']);
    expect(out.stdout).not.toContain('0123456789abcdef');
  });

  it('--requests adds a team’s critical paths; a bad line is an error with its line number', async () => {
    const s = SCENARIOS.shadowed!;
    const after = tree(s.after);
    const samples = join(dirname(after), 'samples.txt');
    writeFileSync(samples, '# critical paths\nPOST /api/orders/7 x-trace: 1\nGET http://shop.example.com/api/orders/7?full=1\n');
    const out = await diff(after, tree(s.before), '--requests', samples);
    expect(out.code).toBe(1);
    // The POST stays on orders (orders-new takes GET only); the GET with a host moves.
    expect(out.stdout).toContain('  GET /api/orders/7?full=1 (host shop.example.com): orders → orders-new');
    expect(out.stdout).not.toContain('POST /api/orders/7');
    writeFileSync(samples, 'GET /ok\nthis is not a request\n');
    const bad = await diff(after, tree(s.before), '--requests', samples);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('switchyard: samples.txt:2: URL "is" must be a path (/x) or an http(s):// URL\n');
  });

  it('an invalid configuration on either side exits 2 with the validation message', async () => {
    const broken = tree({ 'routes/orders.yaml': ORDERS.replace('upstream: orders\n', 'upstream: order\n') });
    const out = await diff(broken, tree({ 'routes/orders.yaml': ORDERS }));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('routes/orders.yaml:9:15: routes[0].upstream: unknown upstream "order"; did you mean "orders"?');
    const against = await diff(tree({ 'routes/orders.yaml': ORDERS }), broken);
    expect(against.code).toBe(2);
    expect(against.stderr).toContain('unknown upstream "order"');
  });

  it('without --against it is a usage error (exit 2)', async () => {
    const out = await runCli(['diff', '--config', tree({ 'routes/orders.yaml': ORDERS })]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('diff needs --against FILE|URL');
  });

  describe('hostile input', () => {
    it('a huge route file: refused by size, exit 2', async () => {
      const after = tree({ 'routes/orders.yaml': ORDERS });
      writeFileSync(join(dirname(after), 'routes', 'huge.yaml'), `# ${'x'.repeat(9 * 1024 * 1024)}\n`);
      const out = await diff(after, tree({ 'routes/orders.yaml': ORDERS }));
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/routes\/huge\.yaml: file is 9437187 bytes, more than the limit of 8388608/);
    });

    it('a symbolic link loop in routes/: a clear error, no hang', async () => {
      const after = tree({ 'routes/orders.yaml': ORDERS });
      const routes = join(dirname(after), 'routes');
      symlinkSync(join(routes, 'b.yaml'), join(routes, 'a.yaml'));
      symlinkSync(join(routes, 'a.yaml'), join(routes, 'b.yaml'));
      const out = await diff(after, tree({ 'routes/orders.yaml': ORDERS }));
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/routes\/a\.yaml: symbolic link loop/);
      expect(out.stderr).toMatch(/routes\/b\.yaml: symbolic link loop/);
    });

    it('a routes directory that links to itself, and a FIFO named like a route file: clear errors, no hang', async () => {
      const loop = tree({});
      symlinkSync(join(dirname(loop), 'routes'), join(dirname(loop), 'routes'));
      const out = await diff(loop, tree({ 'routes/orders.yaml': ORDERS }));
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/routes directory ".*routes" symbolic link loop/);
      const fifo = tree({ 'routes/orders.yaml': ORDERS });
      execFileSync('mkfifo', [join(dirname(fifo), 'routes', 'pipe.yaml')]);
      const out2 = await diff(fifo, tree({ 'routes/orders.yaml': ORDERS }));
      expect(out2.code).toBe(2);
      expect(out2.stderr).toMatch(/routes\/pipe\.yaml: not a regular file/);
    });
  });

  describe('--against a running gateway', () => {
    it('compares with the configuration the gateway serves (fetched from its admin API with the token), secrets never sent', async () => {
      const gatewayYaml = `${GATEWAY}admin: { host: 127.0.0.1, port: 0, token: "admin-token-of-the-test" }\n`.replace('admin: { host: 127.0.0.1, port: 0 }\n', '');
      const s = SCENARIOS.shadowed!;
      const running = tree({ ...s.before, 'gateway.yaml': gatewayYaml });
      const gw = await startCli(running);
      try {
        const admin = `http://127.0.0.1:${gw.adminPort}`;
        const model = await fetch(`${admin}/config/model`, { headers: { authorization: 'Bearer admin-token-of-the-test' } });
        const text = await model.text();
        expect(model.status).toBe(200);
        expect(text).not.toContain('admin-token-of-the-test');
        expect(text).not.toContain('0123456789abcdef');
        expect(JSON.parse(text)).toMatchObject({ format: 'switchyard-config-model/1', gatewayFile: 'gateway.yaml' });

        const env = { SWITCHYARD_ADMIN_TOKEN: 'admin-token-of-the-test' };
        const same = await runCli(['diff', '--config', tree({ ...s.before, 'gateway.yaml': gatewayYaml }), '--against', admin], { env });
        expect(same.stdout).toMatch(/no change\n$/);
        expect(same.code).toBe(0);
        const changed = await runCli(['diff', '--config', tree({ ...s.after, 'gateway.yaml': gatewayYaml }), '--against', admin], { env });
        expect(changed.code).toBe(1);
        expect(changed.stdout).toContain('GET /api/orders/1: orders → orders-new (routes/team-b.yaml:5 now shadows routes/orders.yaml:7)');
        // A different admin token shows as a changed secret, never as a value.
        const otherToken = await runCli(['diff', '--config', tree({ ...s.before, 'gateway.yaml': gatewayYaml.replace('admin-token-of-the-test', 'another-admin-token') }), '--against', admin], { env });
        expect(otherToken.code).toBe(1);
        expect(otherToken.stdout).toContain('admin.token: changed (secret)');
        expect(otherToken.stdout).not.toContain('another-admin-token');
        const noToken = await runCli(['diff', '--config', tree(s.before), '--against', admin]);
        expect(noToken.code).toBe(2);
        expect(noToken.stderr).toContain('needs its token');
      } finally {
        gw.child.kill('SIGTERM');
        await gw.exited;
      }
    });

    it('an unreachable gateway exits 2', async () => {
      const port = await freePort();
      const out = await diff(tree({ 'routes/orders.yaml': ORDERS }), `http://127.0.0.1:${port}`);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`switchyard: cannot reach the gateway at http://127.0.0.1:${port}:`);
    });
  });
});
