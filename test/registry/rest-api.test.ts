/**
 * The Eureka REST surface over real sockets: response shapes clients parse
 * (applications/application/instance, ports as {$, @enabled}, hashcode), the
 * delta of recent changes, status overrides (OUT_OF_SERVICE = draining for the
 * gateway; kept across re-registration), metadata, and auth (Basic and token,
 * constant 401 with a challenge).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { body, call, startTestRegistry, type TestRegistry } from './helpers.js';

const open: TestRegistry[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});
async function registry(overrides: Record<string, unknown> = {}): Promise<TestRegistry> {
  const r = await startTestRegistry(overrides);
  open.push(r);
  return r;
}

describe('registry REST API', () => {
  it('serves Eureka shapes for GET /apps, /apps/{APP} and /apps/{APP}/{ID}, under /eureka and /eureka/v2', async () => {
    const reg = await registry();
    expect((await call('POST', `${reg.base}/apps/orders`, { body: body('orders', 'o1', { port: '8081', metadata: { weight: '5' } }) })).status).toBe(204);
    expect((await call('POST', `${reg.base}/v2/apps/ORDERS`, { body: body('ORDERS', 'o2', { status: 'DOWN' }) })).status).toBe(204);

    const all = (await call('GET', `${reg.base}/v2/apps/`)).json.applications;
    expect(all.apps__hashcode).toBe('DOWN_1_UP_1_');
    expect(all.application).toHaveLength(1);
    expect(all.application[0].name).toBe('ORDERS');
    const o1 = all.application[0].instance.find((i: any) => i.instanceId === 'o1');
    expect(o1).toMatchObject({ app: 'ORDERS', status: 'UP', port: { $: 8081, '@enabled': 'true' }, securePort: { '@enabled': 'false' }, metadata: { weight: '5' }, leaseInfo: { renewalIntervalInSecs: 1 } }); // the server's renewal (200 ms), in whole seconds
    expect((await call('GET', `${reg.base}/apps/orders`)).json.application.instance).toHaveLength(2);
    expect((await call('GET', `${reg.base}/apps/ORDERS/o2`)).json.instance.status).toBe('DOWN');
    expect(reg.registry.instances('orders').map((i) => [i.instanceId, i.weight, i.status])).toEqual([['o1', 5, 'UP'], ['o2', 1, 'DOWN']]);
  });

  it('lists recent changes in GET /apps/delta with their actionType', async () => {
    const reg = await registry();
    await call('POST', `${reg.base}/apps/A`, { body: body('A', 'a1') });
    await call('POST', `${reg.base}/apps/A`, { body: body('A', 'a2') });
    await call('PUT', `${reg.base}/apps/A/a1`); // a heartbeat is not a change
    await call('POST', `${reg.base}/apps/A`, { body: body('A', 'a1') }); // the same registration again: not a change
    await call('PUT', `${reg.base}/apps/A/a2/status?value=OUT_OF_SERVICE`);
    await call('DELETE', `${reg.base}/apps/A/a1`);
    const d = (await call('GET', `${reg.base}/apps/delta`)).json.applications;
    const actions = d.application[0].instance.map((i: any) => `${i.actionType} ${i.instanceId} ${i.status}`);
    expect(actions).toEqual(['ADDED a1 UP', 'ADDED a2 UP', 'MODIFIED a2 OUT_OF_SERVICE', 'DELETED a1 UP']);
    expect(d.versions__delta).toBe('4');
    expect(d.apps__hashcode).toBe('OUT_OF_SERVICE_1_'); // the full registry's, for the client's check
  });

  it('drops changes from the delta after deltaRetention', async () => {
    const reg = await registry({ deltaRetention: '300ms' });
    await call('POST', `${reg.base}/apps/A`, { body: body('A', 'a1') });
    expect((await call('GET', `${reg.base}/apps/delta`)).json.applications.application).toHaveLength(1);
    const { waitFor } = await import('../../src/testing/index.js');
    await waitFor(async () => (await call('GET', `${reg.base}/apps/delta`)).json.applications.application.length === 0, { message: 'the delta to empty' });
    expect(reg.registry.instances('A')).toHaveLength(1);
  });

  it('applies status overrides (kept across re-registration) and metadata', async () => {
    const reg = await registry();
    await call('POST', `${reg.base}/apps/B`, { body: body('B', 'b1') });
    const changes: string[] = [];
    reg.registry.onChange((app) => changes.push(app));
    expect((await call('PUT', `${reg.base}/apps/B/b1/status?value=OUT_OF_SERVICE`)).status).toBe(200);
    expect(reg.registry.instances('B')[0]!.status).toBe('OUT_OF_SERVICE');
    await call('POST', `${reg.base}/apps/B`, { body: body('B', 'b1') }); // the client re-registers UP: the operator's override stays
    expect(reg.registry.instances('B')[0]!.status).toBe('OUT_OF_SERVICE');
    expect((await call('DELETE', `${reg.base}/apps/B/b1/status?value=UP`)).status).toBe(200);
    expect(reg.registry.instances('B')[0]!.status).toBe('UP');
    expect((await call('PUT', `${reg.base}/apps/B/b1/metadata?zone=eu-1&weight=3`)).status).toBe(200);
    expect(reg.registry.instances('B')[0]).toMatchObject({ weight: 3, metadata: { zone: 'eu-1', weight: '3' } });
    expect(changes).toEqual(['B', 'B', 'B']);
    expect((await call('PUT', `${reg.base}/apps/B/zz/status?value=UP`)).status).toBe(404);
  });

  it('answers a heartbeat with 404 when the client holds newer data (lastDirtyTimestamp), so it registers again', async () => {
    const reg = await registry();
    await call('POST', `${reg.base}/apps/C`, { body: body('C', 'c1') });
    const dirty = reg.registry.get('C', 'c1')!.lastDirtyTimestamp;
    expect((await call('PUT', `${reg.base}/apps/C/c1?status=UP&lastDirtyTimestamp=${dirty}`)).status).toBe(200);
    expect((await call('PUT', `${reg.base}/apps/C/c1?status=UP&lastDirtyTimestamp=${dirty + 1000}`)).status).toBe(404);
  });

  describe('auth', () => {
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    it.each([
      ['no credentials', {}, 'SY_ERR_AUTH_REQUIRED'],
      ['a wrong password', basic('svc', 'wrong-password'), 'SY_ERR_AUTH_INVALID'],
      ['a wrong user', basic('root', 'secret-pw-1'), 'SY_ERR_AUTH_INVALID'],
      ['a bearer token instead', { authorization: 'Bearer secret-pw-1' }, 'SY_ERR_AUTH_INVALID'],
      ['garbage', { authorization: 'Basic !!!' }, 'SY_ERR_AUTH_INVALID'],
    ])('Basic: refuses %s with 401 and a challenge, storing nothing', async (_what, headers, code) => {
      const reg = await registry({ auth: { basic: { user: 'svc', password: 'secret-pw-1' } } });
      const r = await call('POST', `${reg.base}/apps/D`, { body: body('D', 'd1'), headers });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe(code);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm="switchyard-registry"/);
      expect(reg.registry.apps()).toEqual([]);
      expect((await call('GET', `${reg.base}/apps`, { headers })).status).toBe(401); // reads too
      expect((await call('POST', `${reg.base}/apps/D`, { body: body('D', 'd1'), headers: basic('svc', 'secret-pw-1') })).status).toBe(204);
    });

    it('token: accepts the bearer token, refuses anything else', async () => {
      const reg = await registry({ auth: { token: 'tok-0123456789abcdef' } });
      expect((await call('GET', `${reg.base}/apps`, { headers: { authorization: 'Bearer tok-0123456789abcdef' } })).status).toBe(200);
      const r = await call('GET', `${reg.base}/apps`, { headers: { authorization: 'Bearer tok-0123456789abcdeX' } });
      expect([r.status, r.json.error.code, r.headers.get('www-authenticate')]).toEqual([401, 'SY_ERR_AUTH_INVALID', 'Bearer realm="switchyard-registry"']);
    });

    it('warns at startup when there is no auth, louder beyond loopback', async () => {
      const reg = await registry();
      expect(reg.warnings.join('\n')).toMatch(/no auth/);
      const { compileRegistryOptions, registryStartupWarnings } = await import('../../src/registry/index.js');
      expect(registryStartupWarnings(compileRegistryOptions({ listen: { host: '0.0.0.0' } })).join('\n')).toMatch(/NO AUTH and listens beyond loopback/);
      expect(registryStartupWarnings(compileRegistryOptions({ auth: { token: 'tok-0123456789abcdef' } }))).toEqual([]);
    });
  });
});
