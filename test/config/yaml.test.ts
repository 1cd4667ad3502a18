/**
 * parseYaml: plain data out, positions kept for any document path, and
 * nothing but data accepted.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/config/yaml.js';

const TEXT = [
  'upstreams:', //                     1
  '  users:', //                       2
  '    balancer: random', //           3
  '    targets:', //                   4
  '      - url: http://a:1', //        5
  '        weight: 2', //              6
  '      - { url: "http://b:1" }', //  7
  '    hostHeader:', //                8
  'routes: []', //                     9
  '',
].join('\n');

describe('parseYaml', () => {
  it('returns plain data', () => {
    const r = parseYaml(TEXT, 'a.yaml');
    expect(r.errors).toEqual([]);
    expect(r.value).toEqual({
      upstreams: { users: { balancer: 'random', targets: [{ url: 'http://a:1', weight: 2 }, { url: 'http://b:1' }], hostHeader: null } },
      routes: [],
    });
  });

  it.each([
    { path: [], prefer: undefined, at: [1, 1] },
    { path: ['upstreams'], prefer: undefined, at: [1, 1] }, // a block map: at its key
    { path: ['upstreams', 'users', 'balancer'], prefer: undefined, at: [3, 15] }, // a scalar: at its value
    { path: ['upstreams', 'users', 'balancer'], prefer: 'key' as const, at: [3, 5] },
    { path: ['upstreams', 'users', 'targets', 0], prefer: undefined, at: [5, 9] }, // a list item: at its first key
    { path: ['upstreams', 'users', 'targets', 1, 'url'], prefer: undefined, at: [7, 16] },
    { path: ['upstreams', 'users', 'targets', 1], prefer: undefined, at: [7, 9] }, // a flow map: where it opens
    { path: ['upstreams', 'users', 'hostHeader'], prefer: undefined, at: [8, 5] }, // no value: at the key
    { path: ['upstreams', 'users', 'timeouts', 'connect'], prefer: undefined, at: [2, 3] }, // missing: nearest ancestor
    { path: ['upstreams', 'users', 'targets', 5], prefer: undefined, at: [4, 5] },
    { path: ['routes', 0], prefer: undefined, at: [9, 9] },
  ])('locates $path (prefer $prefer) at $at', ({ path, prefer, at }) => {
    const { locate } = parseYaml(TEXT, 'a.yaml');
    expect(locate(path, prefer)).toEqual({ line: at[0], col: at[1] });
  });

  it.each([
    { text: '', value: {} },
    { text: '# only a comment\n', value: {} },
    { text: 'a: 0x1F\nb: 1e3\nc: ~\nd: yes\ne: 012\n', value: { a: 31, b: 1000, c: null, d: 'yes', e: 12 } }, // YAML 1.2 core: "yes" is a string
    { text: '{"a": [1, {"b": "c"}]}', value: { a: [1, { b: 'c' }] } },
    { text: 'a: &x [1]\nb: *x\n', value: { a: [1], b: [1] } },
    { text: 'a: !!str 12\n', value: { a: '12' } },
  ])('parses $text', ({ text, value }) => {
    const r = parseYaml(text, 'a.yaml');
    expect(r.errors).toEqual([]);
    expect(r.value).toEqual(value);
  });

  it.each([
    { text: 'a: 1\na: 2\n', error: 'a.yaml:2:1: duplicate key "a"' },
    { text: '? [a]\n: 1\n', error: 'a.yaml:1:3: keys must be plain strings, not lists or maps' },
    { text: 'a: !!set { x }\n', error: 'a.yaml:1:4: unsupported tag !!set: config files are plain data' },
    { text: 'a: *nowhere\n', error: 'a.yaml:1:4: unresolved alias (the anchor must be set before the alias): nowhere' },
    { text: 'a: "open\n', error: 'a.yaml:2:1: syntax error: missing closing "quote' },
  ])('refuses $text', ({ text, error }) => {
    const r = parseYaml(text, 'a.yaml');
    expect(r.value).toBeUndefined();
    expect(r.errors.map((e) => e.format())).toEqual([error]);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const r = parseYaml('__proto__: { polluted: true }\n', 'a.yaml');
    expect(Object.keys(r.value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseYaml memory', () => {
  // A full collection on demand: measure what a parsed file keeps alive.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heapAfterGc = async (): Promise<number> => {
    // WeakRef targets stay alive until the current job ends: let it end first.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    gc();
    // Data only: code the JIT finishes compiling between two readings (code spaces) is not what any tree keeps.
    return v8
      .getHeapSpaceStatistics()
      .filter((s) => !s.space_name.startsWith('code_'))
      .reduce((n, s) => n + s.space_used_size, 0);
  };

  it('does not keep the syntax tree (2-3x the data) alive, and still locates paths once it is gone', async () => {
    // 5,000 routes: large enough that background JIT work finishing between two readings (a few hundred KB) cannot swing the ratio.
    const routes = Array.from({ length: 5000 }, (_, i) => `  - id: r${i}\n    match: { path: /svc${i}/* }\n    upstream: u\n`).join('');
    const text = `routes:\n${routes}`;
    parseYaml(text, 'warm-up.yaml'); // the parser's own compiled code is not what this measures
    const h0 = await heapAfterGc();
    const parsed = parseYaml(text, 'big.yaml');
    const h1 = await heapAfterGc();
    const copy = structuredClone(parsed.value);
    const h2 = await heapAfterGc();
    const keptByParse = h1 - h0;
    const valueAlone = h2 - h1;
    // Keeping the tree retained ~3x the value; without it, the value and the text.
    expect(keptByParse).toBeLessThan(2 * valueAlone);
    expect(parsed.locate(['routes', 999, 'upstream'])).toEqual({ line: 3001, col: 15 });
    expect(parsed.locate(['routes', 500, 'match', 'path'], 'key')).toEqual({ line: 1503, col: 14 });
    expect(copy).toEqual(parsed.value);
  }, 30_000); // CPU-bound (5,000 routes parsed twice, four full GCs): 1-2 s alone, took over 5 s on a loaded machine
});
