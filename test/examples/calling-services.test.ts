/**
 * Issue 16's walkthrough, docs/service-discovery.md "Calling other services":
 * with the example gateway and two USERS instances (eureka-js-client) running, the walkthrough's
 * `node examples/orders-caller/...` registers ORDERS through registerInstance
 * and calls USERS through createClient; the calls spread over both
 * instances, one instance killed with SIGKILL (the walkthrough's `kill -9`) costs
 * no call, and Ctrl-C on the caller deregisters it and prints the total of
 * failed calls: 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { command, DISCOVERY, killAll, onPorts, shell, startCaller, startExampleGateway, startUsers, type ExampleGateway, type Proc, type UsersInstance } from './helpers.js';

const SECTION = 'Calling other services';
let gw: ExampleGateway;
let users: UsersInstance[];
let caller: Proc & { port: number };

beforeAll(async () => {
  gw = await startExampleGateway();
  users = await Promise.all([startUsers(gw), startUsers(gw)]);
  caller = await startCaller(gw);
}, 90_000);
afterAll(killAll);

/** reports parses the caller's once-a-second lines: calls that succeeded, failed, and who served them. */
function reports(out: string): Array<{ ok: number; failed: number; servedBy: Record<string, number> }> {
  return [...out.matchAll(/ok (\d+)  failed (\d+)  \(total failed \d+\)  served by: (.*)/g)].map((m) => ({
    ok: Number(m[1]),
    failed: Number(m[2]),
    servedBy: Object.fromEntries(m[3]!.split(' ').filter((s) => s.includes('=')).map((s) => [s.slice(0, s.lastIndexOf('=')), Number(s.slice(s.lastIndexOf('=') + 1))])),
  }));
}

const registryApps = async (app: string): Promise<string[]> => {
  const r = await fetch(`http://127.0.0.1:${gw.registryPort}/eureka/apps/${app}`, { headers: { accept: 'application/json', authorization: `Basic ${Buffer.from('svc:demo-password').toString('base64')}` } });
  if (r.status === 404) return [];
  const body = (await r.json()) as { application: { instance: Array<{ instanceId: string }> } };
  return body.application.instance.map((i) => i.instanceId);
};

describe('16: docs/service-discovery.md "Calling other services", word for word', () => {
  it('the walkthrough kills with kill -9', () => {
    expect(command(SECTION, 'kill -9', DISCOVERY)).toMatch(/^kill -9 /);
  });

  it('ORDERS registers itself; GET /api/orders/{id}, direct and through the gateway (the walkthrough curl), fetches the user from USERS', async () => {
    expect(await registryApps('ORDERS')).toHaveLength(1);
    const r = await fetch(`http://127.0.0.1:${caller.port}/api/orders/7`, { headers: { 'x-request-id': 'walkthrough-7' } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { id: string; user: { id: string; servedBy: string; requestId: string } };
    expect(body).toMatchObject({ id: '7', user: { id: '7', requestId: 'walkthrough-7' } }); // from: req carried X-Request-Id over
    expect(users.map((u) => u.url)).toContain(`http://${body.user.servedBy}`);

    // Through the gateway: /api/orders/* → the ORDERS pool (discovered), then east–west to USERS.
    const viaGateway = await waitFor(
      async () => {
        const out = await shell(onPorts(command(SECTION, 'curl -s localhost:8080/api/orders/', DISCOVERY), gw));
        return out.includes('"user"') ? (JSON.parse(out) as { id: string; user: { id: string } }) : undefined;
      },
      { timeout: 10_000, message: 'the walkthrough curl to reach ORDERS through the gateway' },
    );
    expect(viaGateway).toMatchObject({ id: '7', user: { id: '7' } });
  }, 30_000);

  it('calls spread over both USERS instances; one killed with SIGKILL costs no call', async () => {
    const [killed, staying] = users as [UsersInstance, UsersInstance];
    const hosts = users.map((u) => u.url.slice('http://'.length));
    // Both instances serve a full second of calls.
    await waitFor(() => reports(caller.output()).some((r) => hosts.every((h) => (r.servedBy[h] ?? 0) > 0)), { timeout: 15_000, message: `a second served by both instances; output:\n${caller.output()}` });
    const seen = reports(caller.output()).length;

    killed.child.kill('SIGKILL');
    await killed.exited;
    // Three full seconds after the kill, all served by the instance that stays.
    await waitFor(() => reports(caller.output()).slice(seen + 1).filter((r) => r.ok > 0 && Object.keys(r.servedBy).join() === hosts[1]).length >= 3, {
      timeout: 20_000,
      message: `three seconds served by ${staying.url} alone; output:\n${caller.output()}`,
    });

    caller.child.kill('SIGINT');
    expect(await caller.exited).toBe(0);
    const out = caller.output();
    expect(out).not.toContain('FAILED');
    expect(reports(out).every((r) => r.failed === 0)).toBe(true);
    expect(reports(out).reduce((n, r) => n + r.ok, 0)).toBeGreaterThan(100);
    expect(out).toContain('stopped; failed calls in total: 0');
    // The caller's Ctrl-C deregistered ORDERS.
    expect(await registryApps('ORDERS')).toEqual([]);
  }, 60_000);
});
