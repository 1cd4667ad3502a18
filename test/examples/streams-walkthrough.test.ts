/**
 * The README's "TCP, TLS passthrough and UDP" walk-through, run as it is
 * written, command after command through bash in a temp folder: two
 * throwaway Redis servers (`redis-server ... --daemonize yes`), the l4/
 * gateway.yaml and route file from the README's heredocs, the gateway
 * started from them, then redis-cli through the stream listener, `switchyard
 * explain --listener` and the admin API's /upstreams. Every port the
 * walk-through names (7001, 7002, 6380, 8081, 9902) is rewritten to a free
 * one; nothing else is changed. The README's stop line (`redis-cli -p 7001
 * shutdown nosave`, and 7002) ends the Redis servers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { freePort } from '../helpers/ports.js';
import { fromSource, inOrder, killAll, readmeCommands, shell, startGateway } from './helpers.js';

const SECTION = 'TCP, TLS passthrough and UDP';

/** PORTS are the addresses the walk-through names; each is moved to a free port. */
const PORTS = [7001, 7002, 6380, 8081, 9902] as const;
const port = new Map<number, number>();

/** onFreePorts rewrites every walk-through port in a command (a heredoc's content too) in one pass. */
const onFreePorts = (text: string): string => text.replace(new RegExp(`\\b(${PORTS.join('|')})\\b`, 'g'), (p) => String(port.get(Number(p))));

/** The README's commands, taken one after the other (inOrder). */
const { next, left } = inOrder(readmeCommands(SECTION), `README "${SECTION}"`);

/** UpstreamsView is the part of GET /upstreams the walk-through looks at. */
interface UpstreamsView {
  upstreams: Array<{ name: string; targets: Array<{ url: string; state: string; requests: number; connections: number }> }>;
}
const redisTargets = (body: string): UpstreamsView['upstreams'][number]['targets'] => (JSON.parse(body) as UpstreamsView).upstreams.find((u) => u.name === 'redis')?.targets ?? [];

let dir: string;
let started = false;
/** sh runs a README command in the temp folder, its ports rewritten and `npm exec switchyard --` from source. */
const sh = (cmd: string, code = 0): Promise<string> => shell(fromSource(onFreePorts(cmd)), { cwd: dir, code });

beforeAll(async () => {
  for (const p of PORTS) port.set(p, await freePort());
  dir = mkdtempSync(join(tmpdir(), 'sy-l4-'));
  started = true; // from here on, afterAll shuts down whichever Redis server did start
  await sh(next('redis-server --port 7001 '));
  await sh(next('redis-server --port 7002 '));
  // --daemonize: the command returns before the server listens.
  for (const p of [7001, 7002]) await waitFor(async () => (await sh(`redis-cli -p ${p} PING`).catch(() => '')).includes('PONG'), { timeout: 10_000, message: `redis-server on ${port.get(p)}` });
  await sh(next('mkdir -p l4/routes'));
  await sh(next("cat > l4/gateway.yaml <<'EOF'"));
  await sh(next("cat > l4/routes/redis.yaml <<'EOF'"));
  const start = next('npm exec switchyard -- start --config ');
  const config = /--config (\S+) &$/.exec(start)![1]!;
  await startGateway(join(dir, config));
}, 60_000);

afterAll(async () => {
  await killAll();
  // The README's stop line for the daemonized servers (the gateway's `kill %1` is killAll's).
  if (started) for (const p of [7001, 7002]) await sh(`redis-cli -p ${p} shutdown nosave`).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README "TCP, TLS passthrough and UDP", word for word', () => {
  it('the pool is healthy by its tcp health checks before the first connection', async () => {
    await waitFor(
      async () => {
        const targets = redisTargets(await (await fetch(`http://127.0.0.1:${port.get(9902)}/upstreams`)).text());
        return targets.length === 2 && targets.every((t) => t.state === 'healthy' && [port.get(7001), port.get(7002)].some((p) => t.url === `tcp://127.0.0.1:${p}`));
      },
      { timeout: 10_000, message: 'both Redis targets healthy in /upstreams' },
    );
  });

  it('SET through the listener is stored on one of the two servers; INFO twice lands on one, then the other (round robin per connection)', async () => {
    expect((await sh(next('redis-cli -p 6380 SET greeting hello'))).trim()).toBe('OK');
    const info = next('redis-cli -p 6380 INFO server | grep tcp_port');
    const first = /tcp_port:(\d+)/.exec(await sh(info))![1];
    const second = /tcp_port:(\d+)/.exec(await sh(info))![1];
    expect(new Set([first, second])).toEqual(new Set([String(port.get(7001)), String(port.get(7002))]));
    const got = (await sh(next('redis-cli -p 7001 GET greeting; redis-cli -p 7002 GET greeting'))).split('\n').map((l) => l.trim());
    expect(got.filter((l) => l === 'hello')).toHaveLength(1);
  });

  it('explain --listener names the stream route (file and line), the pool and the target it would pick', async () => {
    const out = await sh(next('npm exec switchyard -- explain --listener redis --config l4/gateway.yaml'));
    expect(out).toContain(`connection to redis (tcp, port ${port.get(6380)})`);
    expect(out).toMatch(/→ stream route redis \(.*l4\/routes\/redis\.yaml:7\)/);
    expect(out).toContain('upstream: redis (round-robin, 2/2 eligible)');
    expect(out).toMatch(new RegExp(`target: +tcp://127\\.0\\.0\\.1:(${port.get(7001)}|${port.get(7002)})\\n`));
  });

  it('/upstreams lists the pool, its targets and their streams: the three connections above, none open now', async () => {
    const targets = redisTargets(await sh(next('curl -s 127.0.0.1:9902/upstreams')));
    expect(targets.map((t) => t.url)).toEqual([`tcp://127.0.0.1:${port.get(7001)}`, `tcp://127.0.0.1:${port.get(7002)}`]);
    expect(targets.reduce((n, t) => n + t.requests, 0)).toBe(3); // SET and INFO twice; the GETs went to the servers directly
    await waitFor(async () => redisTargets(await sh('curl -s 127.0.0.1:9902/upstreams')).every((t) => t.connections === 0), { timeout: 5000, message: 'no stream open after redis-cli exited' });
    expect(left()).toBe(0); // every command of the walk-through was run
  });
});
