/**
 * Golden output of `switchyard diff` over before/after trees, one change
 * each: the plain text a reviewer reads (test/diff/golden/<case>.txt) and the
 * JSON facts behind it. Trees are written to temporary directories and
 * loaded from disk as the command loads them. After a deliberate change of
 * the output, rewrite the files with UPDATE_GOLDEN=1 and review their diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffModels, loadModel, renderReport, type ConfigModel } from '../../src/diff/index.js';
import { removeTrees, tree } from './helpers.js';
import { SCENARIOS } from './scenarios.js';

const GOLDEN = join(import.meta.dirname, 'golden');
afterAll(removeTrees);

/** golden compares a text with its file (or writes it under UPDATE_GOLDEN=1). */
function golden(name: string, text: string): void {
  const file = join(GOLDEN, `${name.replace(/ /g, '-')}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(existsSync(file), `golden file ${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

async function run(name: string) {
  const s = SCENARIOS[name]!;
  const report = diffModels(await loadModel(tree(s.before)), await loadModel(tree(s.after)));
  golden(name, renderReport(report, 'before → after'));
  return report;
}

describe('switchyard diff: golden output', () => {
  it('route added: the new route takes its own requests, which found no route before', async () => {
    const r = await run('route added');
    expect(r.items).toEqual([{ kind: 'route', name: 'reports', change: 'added', after: { file: 'routes/team-b.yaml', line: 2 }, file: 'routes/team-b.yaml' }]);
    expect(r.moves.map((m) => [m.request, m.before?.route, m.after?.route])).toEqual([['GET /api/reports/1', undefined, 'reports']]);
    expect(r.flags).toEqual([]);
  });

  it('route removed: its requests fall to the route below it', async () => {
    const r = await run('route removed');
    expect(r.moves.map((m) => [m.request, m.before?.route, m.after?.route])).toEqual([['POST /api/users/admin (x-admin: 1)', 'users-admin', 'users']]);
  });

  it('shadowed: a new route in another team file takes an existing route’s requests, flagged', async () => {
    const r = await run('shadowed');
    expect(r.moves[0]!.why).toBe('routes/team-b.yaml:5 now shadows routes/orders.yaml:7');
    expect(r.flags.map((f) => f.kind)).toEqual(['made-public', 'shadows']);
  });

  it('auth removed from a route: flagged, and the route made public', async () => {
    const r = await run('auth removed');
    expect(r.flags.map((f) => f.kind)).toEqual(['auth-removed', 'made-public']);
    // The secret's value never appears, in text or JSON.
    expect(JSON.stringify(r)).not.toContain('0123456789abcdef');
  });

  it('auth removed from the global chain: flagged for the chain and for every route left without auth', async () => {
    const r = await run('global auth removed');
    expect(r.flags.map((f) => f.kind)).toEqual(['auth-removed', 'made-public', 'made-public']);
  });

  it('upstream target moved: targets by URL, a public address flagged, a private one not', async () => {
    const r = await run('upstream target moved');
    expect(r.flags.map((f) => f.message)).toEqual(['upstream orders: target http://198.51.100.7:8080 added, a public address in no range the other targets use (routes/orders.yaml:4)']);
    expect(r.moves).toEqual([]);
  });

  it('a body limit and a timeout raised above the defaults: flagged', async () => {
    const r = await run('limits raised');
    expect(r.flags.map((f) => f.kind)).toEqual(['limit-raised', 'limit-raised']);
  });

  it('19: canary raised 10 → 20 in a route file: the cohorts that move, and that none leaves the canary', async () => {
    const r = await run('canary raised');
    expect(r.items.map((i) => [i.kind, i.name, i.change])).toEqual([['route', 'orders', 'changed']]);
    expect(r.moves.map((m) => m.why)).toEqual(['split changed: 10 % of cohorts (claim:sub) orders → orders-v2 (buckets 10-19); no cohort leaves orders-v2 (routes/orders.yaml:9)']);
  });

  it('19: canary added: the share, the key and the upstream it adds', async () => {
    const r = await run('canary added');
    expect(r.moves.map((m) => m.why)).toEqual(['split added: 10 % of cohorts (claim:sub) orders → orders-v2 (buckets 0-9); no cohort leaves orders-v2; overrides changed (now 1) (routes/orders.yaml:9)']);
  });

  it('split changed (a route field this code does not name): a changed field with both values, and the request moves', async () => {
    const before = await loadModel(tree(SCENARIOS['route added']!.before));
    // `split` comes with the canary issue's schema; the diff reads any route field generically.
    const withSplit = (m: ConfigModel, weight: number): ConfigModel => ({
      ...m,
      routes: m.routes.map((r) => (r.id === 'orders' ? { ...r, fields: { ...r.fields, split: { by: 'claim:sub', to: [{ upstream: 'orders-v2', weight }] } } } : r)),
    });
    const report = diffModels(withSplit(before, 10), withSplit(before, 20));
    golden('split changed', renderReport(report, 'before → after'));
    expect(report.items[0]!.fields).toEqual([{ path: 'split.to[0].weight', before: 10, after: 20 }]);
    expect(report.moves.map((m) => [m.request, m.what])).toEqual([['GET /api/orders/1', ['split']]]);
  });

  it('the same configuration: no change', async () => {
    const s = SCENARIOS['route added']!;
    const report = diffModels(await loadModel(tree(s.before)), await loadModel(tree(s.before)));
    expect(report.changed).toBe(false);
    expect(renderReport(report, 'a → b')).toBe('switchyard diff: a → b\nno change\n');
  });
});

describe('switchyard diff: stream routes', () => {
  it('a layer-4 route changed: its fields, at its file:line', async () => {
    const gateway = 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nstreams:\n  redis: { listen: { host: 127.0.0.1, port: 0 }, protocol: tcp }\n';
    const file = (up: string) => `upstreams:
  redis-a: { targets: [ { url: "tcp://10.0.2.1:6379" } ] }
  redis-b: { targets: [ { url: "tcp://10.0.2.2:6379" } ] }
streamRoutes:
  - { id: redis, listener: redis, upstream: ${up} }
`;
    const report = diffModels(await loadModel(tree({ 'gateway.yaml': gateway, 'routes/redis.yaml': file('redis-a') })), await loadModel(tree({ 'gateway.yaml': gateway, 'routes/redis.yaml': file('redis-b') })));
    expect(report.items).toEqual([
      { kind: 'stream-route', name: 'redis', change: 'changed', before: { file: 'routes/redis.yaml', line: 5 }, after: { file: 'routes/redis.yaml', line: 5 }, file: 'routes/redis.yaml', fields: [{ path: 'upstream', before: 'redis-a', after: 'redis-b' }] },
    ]);
  });
});
