/**
 * 13.16: `switchyard plugin new NAME` scaffolds plugins/NAME/ with a plugin
 * and its test. The files import the SDK by package name
 * ('switchyard-gateway', '.../testing'); here they are type-checked against
 * the sources through a `paths` mapping, and the generated test is run with
 * its imports pointed at the sources (package-name resolution from any
 * folder is issue 13's item 9 and tested there).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE } from '../../src/cli/plugin-new.js';
import { ROOT, runCli, tempDir } from './helpers.js';

/** run runs a node script to completion, collecting its output. */
function run(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

describe('13.16: switchyard plugin new', { timeout: 180_000 }, () => {
  let dir: string;
  let remove: () => Promise<void>;
  let created: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    // The project's dependencies (vitest, @types/node) as a plugin author's project would have them.
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'my-gateway', private: true, type: 'module' }));
    created = await runCli(['plugin', 'new', 'add-tenant'], { cwd: dir });
  });
  afterAll(() => remove());

  it('13.16: writes plugins/NAME/index.ts and plugins/NAME/NAME.test.ts importing the SDK by package name', async () => {
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('wrote plugins/add-tenant/index.ts\nwrote plugins/add-tenant/add-tenant.test.ts\n');
    const index = await readFile(join(dir, 'plugins/add-tenant/index.ts'), 'utf8');
    const test = await readFile(join(dir, 'plugins/add-tenant/add-tenant.test.ts'), 'utf8');
    expect(index).toContain(`import { definePlugin, Type } from '${PACKAGE}';`);
    expect(index).toContain("name: 'add-tenant',");
    expect(test).toContain(`from '${PACKAGE}/testing';`);
    expect(PACKAGE).toBe('switchyard-gateway');
  });

  it('13.16: refuses an existing plugin folder\'s files, a built-in\'s name and a name that is not lowercase-kebab', async () => {
    const again = await runCli(['plugin', 'new', 'add-tenant'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('switchyard: plugins/add-tenant/index.ts already exists; nothing written (--force overwrites)\n');
    for (const [name, why] of [
      ['jwt', '"jwt" is a built-in plugin; choose another name'],
      ['Add_Tenant', 'plugin name "Add_Tenant" must be lowercase-kebab'],
      ['../escape', 'plugin name "../escape" must be lowercase-kebab'],
    ] as const) {
      const r = await runCli(['plugin', 'new', name], { cwd: dir });
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(`switchyard: ${why}`);
      expect(r.stderr.split('\n').filter(Boolean), name).toHaveLength(1);
    }
  });

  it('13.16: the generated files type-check against the package\'s sources', async () => {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
          paths: { [PACKAGE]: [join(ROOT, 'src/index.ts')], [`${PACKAGE}/testing`]: [join(ROOT, 'src/testing/index.ts')] },
        },
        include: ['plugins/**/*.ts'],
      }),
    );
    const tsc = await run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('13.16: the generated test passes against the generated plugin', async () => {
    // A copy whose imports name the sources (see the header): the code and the test are exactly as generated otherwise.
    const copy = join(dir, 'copy/plugins/add-tenant');
    await mkdir(copy, { recursive: true });
    for (const f of ['index.ts', 'add-tenant.test.ts']) {
      const text = (await readFile(join(dir, 'plugins/add-tenant', f), 'utf8'))
        .replace(`'${PACKAGE}/testing'`, `'${join(ROOT, 'src/testing/index.js')}'`)
        .replace(`'${PACKAGE}'`, `'${join(ROOT, 'src/index.js')}'`);
      expect(text).not.toContain(PACKAGE);
      await writeFile(join(copy, f), text);
    }
    await symlink(join(ROOT, 'node_modules'), join(dir, 'copy/node_modules'), 'dir');
    const vitest = await run([join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', join(dir, 'copy'), '--reporter', 'verbose'], join(dir, 'copy'));
    expect(vitest.out).toMatch(/Tests\s+2 passed/);
    expect(vitest.code).toBe(0);
  });
});
