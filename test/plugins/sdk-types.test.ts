/**
 * 14.6: the published surface, pinned. The `expectTypeOf` assertions say what
 * `definePlugin` infers for options and what the three entry points export;
 * vitest runs them as no-ops, so the last test type-checks this very file
 * with tsc and fails on any assertion that no longer holds. The export lists
 * are also checked at runtime, so a new export is a deliberate change to
 * this file and to docs/sdk.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as sdk from '../../src/index.js';
import * as http from '../../src/http/index.js';
import * as testing from '../../src/testing/index.js';
import { importPlugin } from '../../src/plugins/loader.js';
import { Duration, createGateway, definePlugin, Type, type Gateway, type PluginContext, type PluginDefinition, type PluginHooks } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const SDK_DOC = readFileSync(new URL('../../docs/sdk.md', import.meta.url), 'utf8');

const schema = Type.Object({
  required: Type.String(),
  optional: Type.Optional(Type.Integer()),
  defaulted: Type.Boolean({ default: true }),
  nested: Type.Object({ name: Type.String(), tags: Type.Optional(Type.Array(Type.String())) }),
  mode: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  window: Duration({ default: '1s' }),
});

const plugin = definePlugin({
  name: 'typed',
  options: schema,
  create(options, ctx) {
    // What `create` sees is what an author writes against: checked here, in place.
    expectTypeOf(options.required).toEqualTypeOf<string>();
    expectTypeOf(options.optional).toEqualTypeOf<number | undefined>();
    expectTypeOf(options.nested.tags).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(ctx).toEqualTypeOf<PluginContext>();
    return {};
  },
});

describe('14.6: definePlugin infers the options type from the schema', () => {
  it('required, optional, defaulted, nested and union fields', () => {
    type Options = Parameters<typeof plugin.create>[0];
    // A defaulted field is required: options are defaulted before create runs.
    expectTypeOf<Options>().toEqualTypeOf<{
      required: string;
      optional?: number;
      defaulted: boolean;
      nested: { name: string; tags?: string[] };
      mode: 'allow' | 'deny';
      window: number | string;
    }>();
    expectTypeOf(plugin).toEqualTypeOf<PluginDefinition<typeof schema>>();
    expectTypeOf(plugin.create).returns.toEqualTypeOf<PluginHooks | Promise<PluginHooks>>();
    expect(plugin.name).toBe('typed');
  });

  it('rejects options the schema does not declare', () => {
    definePlugin({
      name: 'strict',
      options: Type.Object({ limit: Type.Number() }),
      create(options) {
        // @ts-expect-error: `missing` is not in the schema
        void options.missing;
        // @ts-expect-error: `limit` is a number
        expectTypeOf(options.limit).toEqualTypeOf<string>();
        return {};
      },
    });
  });
});

describe('14.6: the surface', () => {
  it('createGateway returns the Gateway interface, not the class', () => {
    expectTypeOf(createGateway).returns.toEqualTypeOf<Promise<Gateway>>();
    expectTypeOf<keyof Gateway>().toEqualTypeOf<'listen' | 'reload' | 'close' | 'readiness' | 'port'>();
  });

  it('the plugin context has no redis client: plugins reach Redis through the Store', () => {
    expectTypeOf<keyof PluginContext>().toEqualTypeOf<'log' | 'store' | 'metrics' | 'clock' | 'routeId' | 'baseDir'>();
    expectTypeOf<PluginContext>().not.toHaveProperty('redis');
  });

  it('the Balancer type and loadConfig are not exported', () => {
    // @ts-expect-error: no Balancer type in the SDK
    type B = import('../../src/index.js').Balancer;
    // @ts-expect-error: no loadConfig in the SDK
    type L = typeof import('../../src/index.js').loadConfig;
    expectTypeOf<[B, L]>().not.toBeNever();
  });

  it('switchyard-gateway exports exactly these values', () => {
    expect(Object.keys(sdk).sort()).toEqual(['ConfigError', 'ConfigInvalid', 'Duration', 'ERRORS', 'StoreUnavailableError', 'Type', 'createGateway', 'definePlugin', 'parseDuration']);
  });

  it('switchyard-gateway/http exports exactly these values (nothing of undici)', () => {
    expect(Object.keys(http).sort()).toEqual([
      'HOP_BY_HOP',
      'MAX_TRACESTATE',
      'compileOrigins',
      'connectionListed',
      'createClientIpResolver',
      'foldHeaderName',
      'normalizeIp',
      'parseTraceparent',
      'plainHeaderName',
      'validTracestate',
      'validateTrustProxy',
      'withoutHopByHop',
    ]);
  });

  it('switchyard-gateway/testing exports exactly these values', () => {
    expect(Object.keys(testing).sort()).toEqual(['echoHandler', 'startGateway', 'startUpstream', 'waitFor']);
  });
});

describe('14.6: switchyard-gateway/http from a plugin folder outside the repository', () => {
  it('resolves to the running installation, like switchyard-gateway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-sdk-http-'));
    try {
      writeFileSync(
        join(dir, 'index.ts'),
        [
          `import { definePlugin, Type } from 'switchyard-gateway';`,
          `import { foldHeaderName, HOP_BY_HOP } from 'switchyard-gateway/http';`,
          `export const folded = foldHeaderName('X_User.Id');`,
          `export const hop = HOP_BY_HOP.has('connection');`,
          `export default definePlugin({ name: 'uses-http', options: Type.Object({}), create: () => ({}) });`,
          '',
        ].join('\n'),
      );
      const { mod } = await importPlugin(join(dir, 'index.ts'));
      expect(mod).toMatchObject({ folded: 'x-user-id', hop: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('14.6: docs/sdk.md', () => {
  it('names every export of the three entry points', () => {
    const names = [...Object.keys(sdk), ...Object.keys(http), ...Object.keys(testing)];
    expect(names.filter((n) => !SDK_DOC.includes(`\`${n}`))).toEqual([]);
  });

  it('its plugin example loads from a folder outside the repository and does what it says', async () => {
    const source = /```ts\n([\s\S]*?)```/.exec(SDK_DOC)?.[1];
    expect(source).toContain(`from 'switchyard-gateway/http'`);
    const root = mkdtempSync(join(tmpdir(), 'sy-sdk-doc-'));
    try {
      mkdirSync(join(root, 'trace-id-header'));
      writeFileSync(join(root, 'trace-id-header/index.ts'), source!);
      const { mod } = await importPlugin(join(root, 'trace-id-header/index.ts'));
      const def = mod.default as PluginDefinition;
      const hooks = await def.create({ header: 'x-trace-id' }, {} as PluginContext);
      const sent: Record<string, string> = {};
      const req = { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, setUpstreamHeader: (n: string, v: string) => (sent[n] = v) };
      await hooks.onRequest!(req as never);
      expect(sent).toEqual({ 'x-trace-id': '0af7651916cd43dd8448eb211c80319c' });
      expect(hooks.ownsHeaders).toEqual(['x-trace-id']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('14.6: the assertions hold', () => {
  it('this file type-checks (so every expectTypeOf and @ts-expect-error above is enforced)', () => {
    const tsc = spawnSync(
      process.execPath,
      [
        `${ROOT}node_modules/typescript/bin/tsc`,
        '--ignoreConfig',
        '--noEmit',
        '--strict',
        '--noUncheckedIndexedAccess',
        '--skipLibCheck',
        '--target',
        'ES2022',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--types',
        'node',
        THIS_FILE,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 60_000);
});
