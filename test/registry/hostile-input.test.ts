/**
 * Hostile input, each refused with its status and catalog code, nothing
 * stored, the registry still answering: malformed and oversized bodies,
 * unknown fields, addresses outside allowTargets (cloud metadata, 0.0.0.0,
 * multicast, host names), odd ids, 1 MB and merely large metadata, the
 * 1,001st instance of an app, 10,000 registrations for one app, XML-only
 * clients, bad auth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingMetrics } from '../../src/registry/index.js';
import { body, call, startTestRegistry, type TestRegistry } from './helpers.js';

let reg: TestRegistry;
const metrics = countingMetrics();
beforeAll(async () => {
  reg = await startTestRegistry({ maxInstancesPerApp: 1000 }, { metrics });
});
afterAll(() => reg.close());

const mb = 'x'.repeat(1024 * 1024);
const big = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])); // 10 KB: under the body limit, over the metadata one

type Case = [what: string, method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> }, status: number, code: string];
const CASES: Case[] = [
  ['malformed JSON', 'POST', '/apps/BAD', { raw: '{"instance": {' }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an empty body', 'POST', '/apps/BAD', { raw: '' }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a JSON array', 'POST', '/apps/BAD', { body: [1, 2] }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['prototype poisoning', 'POST', '/apps/BAD', { raw: '{"instance": {"__proto__": {"admin": true}}}' }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a 1 MB body', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { metadata: { blob: mb } }) }, 413, 'SY_ERR_BODY_TOO_LARGE'],
  ['10 KB of metadata', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { metadata: big }) }, 413, 'SY_ERR_REGISTRY_METADATA_TOO_LARGE'],
  ['65 metadata keys', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }) }, 413, 'SY_ERR_REGISTRY_METADATA_TOO_LARGE'],
  ['an unknown instance field', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAdress: '127.0.0.1' }) }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an unknown top-level field', 'POST', '/apps/BAD', { body: { ...body('BAD', 'b1'), extra: 1 } }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an unknown port field', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { port: { $: 80, '@enabled': true, evil: 1 } }) }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a port out of range', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { port: 70000 }) }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a status that does not exist', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { status: 'HAPPY' }) }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a body app that differs from the path', 'POST', '/apps/BAD', { body: body('OTHER', 'b1') }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['the cloud metadata address', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: '169.254.169.254' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['the metadata address, IPv4-mapped', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: '::ffff:169.254.169.254' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['0.0.0.0', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: '0.0.0.0' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['a multicast address', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: '224.0.0.1' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['a public address', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: '8.8.8.8' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['a host name instead of an IP', 'POST', '/apps/BAD', { body: body('BAD', 'b1', { ipAddr: 'metadata.google.internal' }) }, 400, 'SY_ERR_REGISTRY_TARGET_REFUSED'],
  ['an app name with odd characters', 'POST', '/apps/BAD%24%7B%7D', { body: body('BAD${}', 'b1') }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an instance id with odd characters', 'POST', '/apps/BAD', { body: body('BAD', 'b1/../x') }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an instance id of 201 characters', 'POST', '/apps/BAD', { body: body('BAD', 'i'.repeat(201)) }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['XML content', 'POST', '/apps/BAD', { raw: '<instance/>', headers: { 'content-type': 'application/xml' } }, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['an XML-only client', 'GET', '/apps', { headers: { accept: 'application/xml' } }, 406, 'SY_ERR_REGISTRY_NOT_ACCEPTABLE'],
  ['a heartbeat with odd characters', 'PUT', '/apps/BAD/b%3Cscript%3E', {}, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['a status override to a made-up status', 'PUT', '/apps/KEEP/k1/status?value=HAPPY', {}, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
  ['9 KB of metadata through PUT .../metadata', 'PUT', `/apps/KEEP/k1/metadata?blob=${'y'.repeat(9000)}`, {}, 413, 'SY_ERR_REGISTRY_METADATA_TOO_LARGE'],
  ['a repeated metadata key', 'PUT', '/apps/KEEP/k1/metadata?a=1&a=2', {}, 400, 'SY_ERR_REGISTRY_BAD_REQUEST'],
];

describe('hostile input to the registry', () => {
  beforeAll(async () => {
    expect((await call('POST', `${reg.base}/apps/KEEP`, { body: body('KEEP', 'k1') })).status).toBe(204);
  });

  it.each(CASES)('refuses %s', async (_what, method, path, opts, status, code) => {
    const before = JSON.stringify(reg.registry.list().map(({ lastRenewedAt: _l, ...rest }) => rest));
    const r = await call(method, `${reg.base}${path}`, opts);
    expect(r.status).toBe(status);
    expect(r.json.error).toMatchObject({ code, status });
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.stringify(reg.registry.list().map(({ lastRenewedAt: _l, ...rest }) => rest))).toBe(before); // nothing stored
    expect(reg.registry.apps()).toEqual(['KEEP']);
    expect((await call('GET', `${reg.base}/apps`)).status).toBe(200); // still answering
  });

  it('refuses the 1,001st instance of an app, and 10,000 registrations store exactly 1,000', { timeout: 60_000 }, async () => {
    const results = new Map<number, number>();
    for (let i = 0; i < 10_000; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => call('POST', `${reg.base}/apps/FLOOD`, { body: body('FLOOD', `f-${i + j}`) })));
      for (const r of batch) results.set(r.status, (results.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(results)).toEqual({ 204: 1000, 429: 9000 });
    expect(reg.registry.instances('FLOOD')).toHaveLength(1000);
    const r = await call('POST', `${reg.base}/apps/FLOOD`, { body: body('FLOOD', 'one-more') });
    expect(r.json.error).toMatchObject({ code: 'SY_ERR_REGISTRY_FULL', status: 429 });
    expect((await call('POST', `${reg.base}/apps/FLOOD`, { body: body('FLOOD', 'f-1', { status: 'DOWN' }) })).status).toBe(204); // re-registering one it holds is fine
    expect(metrics.totals['refused:app-full']).toBeGreaterThanOrEqual(9001);
  });

  it('answers 404 in the catalog shape for unknown paths and instances', async () => {
    for (const path of ['/apps/NOPE', '/apps/KEEP/nope', '/nothing-here']) {
      const r = await call('GET', `${reg.base}${path}`);
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('SY_ERR_REGISTRY_NOT_FOUND');
    }
    expect((await call('PUT', `${reg.base}/apps/KEEP/nope`)).status).toBe(404); // heartbeat of an unknown instance: the client re-registers
  });
});
