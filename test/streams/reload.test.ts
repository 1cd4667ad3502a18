/**
 * Hot reload of streams under load: connections on a pool that carries over
 * are never touched; connections on a pool the reload replaced go on for
 * drainTimeout and are then cut (logged `drained`), while new ones take the
 * new pool; a removed listener stops accepting and drains; a new listener
 * starts; a changed port keeps the running listener and is reported as
 * restart-required. Short connections running all along see no reset.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { openSocket, readAll } from './helpers.js';

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** startEcho answers every chunk with "<name>:<chunk>". */
async function startEcho(name: string): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => s.write(`${name}:${d.toString()}`));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** say writes on a held connection and resolves with the next answer. */
async function say(s: Socket, text: string): Promise<string> {
  const answer = once(s, 'data') as Promise<[Buffer]>;
  s.write(text);
  return (await answer)[0].toString();
}

const gatewayYaml = (streams: string) =>
  ['listen: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0 }', 'routes: ./routes', 'reload: { watch: false }', 'streams:', streams, ''].join('\n');

describe('stream reload', () => {
  it('keeps, drains, cuts and starts exactly what the new configuration says, with no unintended reset', async () => {
    const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
    const dir = mkdtempSync(join(tmpdir(), 'sy-stream-reload-'));
    mkdirSync(join(dir, 'routes'));
    const write = (file: string, text: string) => {
      writeFileSync(join(dir, '.tmp'), text);
      renameSync(join(dir, '.tmp'), join(dir, file));
    };
    const pools = (swapTo: number) => `upstreams:
  keep: { targets: [ { url: "tcp://127.0.0.1:${a}" } ] }
  swap: { targets: [ { url: "tcp://127.0.0.1:${swapTo}" } ] }
`;
    const L = (name: string, extra = '') => `  ${name}: { listen: { host: 127.0.0.1, port: 0 }, protocol: tcp, drainTimeout: 400ms${extra} }`;
    write('gateway.yaml', gatewayYaml([L('s1'), L('s2'), L('s4')].join('\n')));
    write(
      'routes/s.yaml',
      `${pools(a)}streamRoutes:\n  - { id: r1, listener: s1, upstream: keep }\n  - { id: r2, listener: s2, upstream: swap }\n  - { id: r4, listener: s4, upstream: keep }\n`,
    );
    const log = captureLog();
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: log.logger });
    try {
      const ports = gw.gateway.streamPorts();
      const onKeep = await openSocket(ports.s1!);
      const onSwap = await openSocket(ports.s2!);
      const onRemoved = await openSocket(ports.s4!);
      for (const s of [onKeep, onSwap, onRemoved]) s.on('error', () => undefined);
      expect(await say(onKeep, 'x')).toBe('a:x');
      expect(await say(onSwap, 'x')).toBe('a:x');
      expect(await say(onRemoved, 'x')).toBe('a:x');

      // Short connections on s1 all through the reload.
      let running = true;
      let ok = 0;
      const failures: string[] = [];
      const load = (async () => {
        while (running) {
          try {
            const c = await openSocket(ports.s1!);
            c.on('error', (err) => failures.push(`client ${err.message}`));
            const all = readAll(c);
            c.end('ping');
            const text = (await all).toString();
            c.destroy();
            if (text === 'a:ping') ok++;
            else failures.push(`answer ${JSON.stringify(text)}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      })();
      await waitFor(() => ok >= 20 || failures.length > 0, { timeout: 20_000, message: 'load running' });
      expect(failures).toEqual([]);

      // The reload: swap's target changes (a new pool), s4 goes, s3 comes, s1's port changes (restart needed).
      write('gateway.yaml', gatewayYaml([L('s1').replace('port: 0', 'port: 1'), L('s2'), L('s3')].join('\n')));
      write('routes/s.yaml', `${pools(b)}streamRoutes:\n  - { id: r1, listener: s1, upstream: keep }\n  - { id: r2, listener: s2, upstream: swap }\n  - { id: r3, listener: s3, upstream: keep }\n`);
      const result = await gw.gateway.reload();
      expect(result.ok).toBe(true);
      expect(result.ok && result.restartRequired).toEqual([{ key: 'streams.s1.listen.port', running: 0, configured: 1 }]);
      const after = ok;
      // The new listener is bound before the reload answers (no waiting for it).
      expect(gw.gateway.streamPorts().s3).toBeGreaterThan(0);

      // Carried over: untouched. Replaced pool: still served right after the reload, new connections take the new pool.
      expect(await say(onKeep, 'y')).toBe('a:y');
      expect(await say(onSwap, 'y')).toBe('a:y');
      const fresh = await openSocket(ports.s2!);
      expect(await say(fresh, 'z')).toBe('b:z');
      fresh.destroy();
      const s3 = await openSocket(gw.gateway.streamPorts().s3!);
      expect(await say(s3, 'z')).toBe('a:z');
      s3.destroy();
      // s1 still listens on its old port.
      expect(gw.gateway.streamPorts().s1).toBe(ports.s1);
      // GET /config shows the running listeners and the notice.
      const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { streams: Array<{ name: string; port: number; routes: string[] }>; restartRequired: Array<{ key: string }> };
      expect(config.streams.map((l) => `${l.name}:${l.routes.join()}`).sort()).toEqual(['s1:r1', 's2:r2', 's3:r3']);
      expect(config.streams.find((l) => l.name === 's1')!.port).toBe(ports.s1);
      expect(config.restartRequired.map((n) => n.key)).toEqual(['streams.s1.listen.port']);

      // After drainTimeout the replaced pool's and the removed listener's connections are cut (the client sees the end).
      await Promise.all([once(onSwap, 'end'), once(onRemoved, 'end')]);
      const cut = await waitFor(() => {
        const l = log.lines.filter((x) => x.msg === 'stream closed' && x.end === 'drained');
        return l.length >= 2 && l;
      });
      expect(cut.map((l) => `${String(l.listener)} ${String(l.end)}`).sort()).toEqual(['s2 drained', 's4 drained']);
      // The removed listener accepts nothing more.
      const refused = await new Promise<string>((resolve) => {
        const c = createServer().listen(0); // keep the event loop honest while connecting
        const s = openSocket(ports.s4!).then(
          () => 'connected',
          (err: NodeJS.ErrnoException) => err.code ?? 'error',
        );
        void s.then((r) => (c.close(), resolve(r)));
      });
      expect(refused).toBe('ECONNREFUSED');

      await waitFor(() => ok >= after + 20, { timeout: 20_000, message: 'load went on after the reload' });
      running = false;
      await load;
      expect(failures).toEqual([]);
      expect(await say(onKeep, 'still')).toBe('a:still');
      onKeep.destroy();
    } finally {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  // src/streams is imported only when a configuration has a `streams:` block (issue 17): a gateway started
  // without one starts the first listener a reload adds, and later reloads apply to it as usual.
  it('starts the first stream listener a reload adds to a gateway that started without any', async () => {
    const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
    const dir = mkdtempSync(join(tmpdir(), 'sy-stream-add-'));
    mkdirSync(join(dir, 'routes'));
    const write = (file: string, text: string) => {
      writeFileSync(join(dir, '.tmp'), text);
      renameSync(join(dir, '.tmp'), join(dir, file));
    };
    write('gateway.yaml', ['listen: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0 }', 'routes: ./routes', 'reload: { watch: false }', ''].join('\n'));
    write('routes/s.yaml', `upstreams:\n  echo: { targets: [ { url: "tcp://127.0.0.1:${a}" } ] }\n`);
    const log = captureLog();
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: log.logger });
    try {
      expect(gw.gateway.streamPorts()).toEqual({});
      write('gateway.yaml', gatewayYaml('  s1: { listen: { host: 127.0.0.1, port: 0 }, protocol: tcp }'));
      write('routes/s.yaml', `upstreams:\n  echo: { targets: [ { url: "tcp://127.0.0.1:${a}" } ] }\nstreamRoutes:\n  - { id: r1, listener: s1, upstream: echo }\n`);
      const added = await gw.gateway.reload();
      expect(added).toMatchObject({ ok: true, restartRequired: [] });
      // Bound before the reload answered.
      const port = gw.gateway.streamPorts().s1!;
      expect(port).toBeGreaterThan(0);
      const c = await openSocket(port);
      expect(await say(c, 'x')).toBe('a:x');
      c.destroy();
      const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { streams: Array<{ name: string; routes: string[] }> };
      expect(config.streams.map((l) => `${l.name}:${l.routes.join()}`)).toEqual(['s1:r1']);

      // The next reload reaches the listener it added: the route's pool moves to b, the port change waits for a restart.
      write('gateway.yaml', gatewayYaml('  s1: { listen: { host: 127.0.0.1, port: 1 }, protocol: tcp }'));
      write('routes/s.yaml', `upstreams:\n  echo: { targets: [ { url: "tcp://127.0.0.1:${b}" } ] }\nstreamRoutes:\n  - { id: r1, listener: s1, upstream: echo }\n`);
      const moved = await gw.gateway.reload();
      expect(moved.ok && moved.restartRequired).toEqual([{ key: 'streams.s1.listen.port', running: 0, configured: 1 }]);
      const d = await openSocket(port);
      expect(await say(d, 'y')).toBe('b:y');
      d.destroy();
    } finally {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
