/**
 * UDP streams with real parts: a DNS query (node's resolver) through a udp
 * listener to a throwaway dnsmasq; sessions per client address:port balanced
 * over two dgram echo servers; oversized datagrams dropped and counted; an
 * idle session ends with one access-log line; a reload drains sessions on a replaced pool.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { promises as dns } from 'node:dns';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor } from '../../src/testing/index.js';
import { startDnsmasq, type TestDnsmasq } from '../helpers/dnsmasq.js';
import { captureLog } from '../helpers/log-capture.js';
import { startStreamGateway } from './helpers.js';

/** startEcho starts a dgram server that answers "<name>:<payload>". */
async function startEcho(name: string): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, r) => socket.send(`${name}:${msg.toString()}`, r.port, r.address));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port };
}

/** client is a dgram socket that sends to the gateway and collects answers. */
async function client(port: number): Promise<{ ask(text: string): Promise<string>; send(buf: Buffer): void; close(): void }> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return {
    async ask(text) {
      const answer = once(s, 'message') as Promise<[Buffer]>;
      s.send(text, port, '127.0.0.1');
      return (await answer)[0].toString();
    },
    send: (buf) => s.send(buf, port, '127.0.0.1'),
    close: () => s.close(),
  };
}

describe('udp streams', () => {
  let dnsmasq: TestDnsmasq | undefined;
  afterAll(async () => {
    await dnsmasq?.stop();
  });

  it('a DNS query through the udp listener reaches dnsmasq and comes back', async () => {
    dnsmasq = await startDnsmasq({ hosts: ['10.1.2.3 db.test'] });
    const gw = await startStreamGateway(
      { dns: { protocol: 'udp', sessionIdleTimeout: '5s' } },
      { 'routes/dns.yaml': { upstreams: { dns: { targets: [{ url: `udp://127.0.0.1:${dnsmasq.port}` }] } }, streamRoutes: [{ id: 'dns', listener: 'dns', upstream: 'dns' }] } },
    );
    try {
      const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
      resolver.setServers([`127.0.0.1:${gw.streamPort('dns')}`]);
      expect(await resolver.resolve4('db.test')).toEqual(['10.1.2.3']);
    } finally {
      await gw.close();
    }
  }, 30_000);

  it('balances sessions per client address:port, drops oversized datagrams, ends idle sessions', async () => {
    const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
    const log = captureLog();
    const gw = await startStreamGateway(
      { echo: { protocol: 'udp', sessionIdleTimeout: '300ms', maxDatagramSize: 100 } },
      {
        'routes/echo.yaml': {
          upstreams: { echo: { balancer: 'round-robin', targets: [{ url: `udp://127.0.0.1:${a.port}` }, { url: `udp://127.0.0.1:${b.port}` }] } },
          streamRoutes: [{ id: 'echo', listener: 'echo', upstream: 'echo' }],
        },
      },
      { logger: log.logger },
    );
    const c1 = await client(gw.streamPort('echo'));
    const c2 = await client(gw.streamPort('echo'));
    try {
      const first = await c1.ask('hello');
      // One session keeps its target; the next client's session goes to the other one.
      expect(await c1.ask('again')).toBe(`${first.split(':')[0]}:again`);
      const second = await c2.ask('hi');
      expect(new Set([first.split(':')[0], second.split(':')[0]])).toEqual(new Set(['a', 'b']));
      expect(gw.gateway.runtime.upstreams.get('echo')!.targets.map((t) => t.inflight)).toEqual([1, 1]);
      c1.send(Buffer.alloc(101));
      await waitFor(async () => /switchyard_stream_dropped_total\{listener="echo",reason="too_large"\} 1/.test(await gw.gateway.metricsText()), { message: 'the drop counted' });
      const ended = await waitFor(() => {
        const l = log.lines.filter((x) => x.msg === 'stream closed' && x.listener === 'echo');
        return l.length >= 2 && l;
      });
      expect(ended[0]).toMatchObject({ route: 'echo', upstream: 'echo', end: 'idle-timeout', client: '127.0.0.1' });
      expect(ended.map((l) => Number(l.bytesIn)).sort((x, y) => x - y)).toEqual([2, 10]);
      expect(gw.gateway.runtime.upstreams.get('echo')!.targets.map((t) => t.inflight)).toEqual([0, 0]);
    } finally {
      c1.close();
      c2.close();
      a.socket.close();
      b.socket.close();
      await gw.close();
    }
  }, 30_000);

  it('reload: a session on a replaced pool keeps its target until drainTimeout, new sessions take the new pool', async () => {
    const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
    const dir = mkdtempSync(join(tmpdir(), 'sy-udp-reload-'));
    mkdirSync(join(dir, 'routes'));
    const gatewayYaml = 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nreload: { watch: false }\nstreams:\n  echo: { listen: { host: 127.0.0.1, port: 0 }, protocol: udp, drainTimeout: 300ms }\n';
    const routes = (port: number) => `upstreams:\n  echo: { targets: [ { url: "udp://127.0.0.1:${port}" } ] }\nstreamRoutes:\n  - { id: echo, listener: echo, upstream: echo }\n`;
    writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml);
    writeFileSync(join(dir, 'routes/echo.yaml'), routes(a.port));
    const log = captureLog();
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: log.logger });
    const port = gw.gateway.streamPorts().echo!;
    const old = await client(port);
    const fresh = await client(port);
    try {
      expect(await old.ask('1')).toBe('a:1');
      writeFileSync(join(dir, 'routes/echo.yaml'), routes(b.port));
      expect((await gw.gateway.reload()).ok).toBe(true);
      // Right after the reload the open session still reaches its target; a new session takes the new pool.
      expect(await old.ask('2')).toBe('a:2');
      expect(await fresh.ask('3')).toBe('b:3');
      const drained = await waitFor(() => log.lines.find((l) => l.msg === 'stream closed' && l.end === 'drained'));
      expect(drained).toMatchObject({ listener: 'echo', target: `udp://127.0.0.1:${a.port}` });
      // The client's next datagram starts a new session, on the new pool.
      expect(await old.ask('4')).toBe('b:4');
    } finally {
      old.close();
      fresh.close();
      a.socket.close();
      b.socket.close();
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
