/**
 * `log.accessLog` is applied by a reload: an operator turns the access log
 * off (a disk filling up) and on again (an incident) without dropping a
 * connection. Request lines and stream-connection lines follow it; the
 * reload names no restart and says the switch in the log; refusals follow
 * it too.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream, waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { openSocket } from '../streams/helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** startEcho is a TCP server that echoes and closes when the client does. */
async function startEcho(): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => void server.close());
  return (server.address() as { port: number }).port;
}

const gatewayYaml = (accessLog: boolean) =>
  [
    'listen: { host: 127.0.0.1, port: 0 }',
    'admin: { host: 127.0.0.1, port: 0 }',
    'routes: ./routes',
    'reload: { watch: false }',
    `log: { accessLog: ${accessLog} }`,
    'streams:',
    '  tcp1: { listen: { host: 127.0.0.1, port: 0 }, protocol: tcp }',
    '',
  ].join('\n');

describe('log.accessLog on reload', () => {
  it('turns request and stream access lines off and on without a restart', async () => {
    const up = await startUpstream('a');
    const echo = await startEcho();
    const dir = mkdtempSync(join(tmpdir(), 'sy-access-reload-'));
    mkdirSync(join(dir, 'routes'));
    const write = (file: string, text: string) => {
      writeFileSync(join(dir, '.tmp'), text);
      renameSync(join(dir, '.tmp'), join(dir, file));
    };
    write('routes/app.yaml', `upstreams:\n  a: { targets: [ { url: "${up.url}" } ] }\n  t: { targets: [ { url: "tcp://127.0.0.1:${echo}" } ] }\nroutes:\n  - { id: app, match: { path: /app/* }, upstream: a }\nstreamRoutes:\n  - { id: s, listener: tcp1, upstream: t }\n`);
    write('gateway.yaml', gatewayYaml(true));
    const log = captureLog();
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: log.logger });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => up.close(), () => gw.close());

    const requestLines = (path: string) => log.lines.filter((l) => l.kind === 'access' && l.path === path);
    const streamLines = (clientPort: number) => log.lines.filter((l) => l.kind === 'access' && l.listener === 'tcp1' && l.clientPort === clientPort);
    const get = async (path: string) => (await request(gw.url + path)).body.text();
    const reload = async () => (await request(gw.adminUrl + '/reload', { method: 'POST' })).body.json() as Promise<{ ok: boolean; restartRequired: unknown[] }>;
    const total = () => gw.gateway.streamListeners().find((l) => l.name === 'tcp1')!.total;
    /** connectOnce opens a stream connection, echoes a byte, closes, and resolves with its client port once the gateway has counted it ended. */
    const connectOnce = async () => {
      const before = total();
      const s = await openSocket(gw.gateway.streamPorts().tcp1!);
      const port = s.localPort!;
      s.write('x');
      await once(s, 'data');
      s.end();
      await once(s, 'close');
      await waitFor(() => total() > before, { message: 'the stream connection to end' });
      return port;
    };

    // On, as started: a request line and a stream line.
    await get('/app/on-1');
    await waitFor(() => requestLines('/app/on-1').length === 1, { message: 'the first request line' });
    const c1 = await connectOnce();
    await waitFor(() => streamLines(c1).length === 1, { message: 'the first stream line' });

    // Off by a reload: no restart named, the gateway keeps serving, nothing logged.
    write('gateway.yaml', gatewayYaml(false));
    const off = await reload();
    expect(off).toMatchObject({ ok: true, restartRequired: [] });
    expect(await get('/app/off-1')).toContain('"url":"/app/off-1"');
    expect((await request(gw.url + '/nowhere')).statusCode).toBe(404);
    const c2 = await connectOnce();

    // On again: lines come back. Lines are written in order, so once the later ones are here, the earlier ones would be too.
    write('gateway.yaml', gatewayYaml(true));
    expect(await reload()).toMatchObject({ ok: true, restartRequired: [] });
    await get('/app/on-2');
    expect((await request(gw.url + '/nowhere-2')).statusCode).toBe(404);
    const c3 = await connectOnce();
    await waitFor(() => requestLines('/app/on-2').length === 1 && requestLines('/nowhere-2').length === 1 && streamLines(c3).length === 1, { message: 'the lines after turning the log back on' });
    expect(requestLines('/app/off-1')).toEqual([]);
    expect(requestLines('/nowhere')).toEqual([]);
    expect(streamLines(c2)).toEqual([]);
    // One access log across the switches: the same fields as before.
    expect(Object.keys(requestLines('/app/on-2')[0]!)).toEqual(Object.keys(requestLines('/app/on-1')[0]!));
    // Each switch is said in the log, once, and no restart warning.
    expect(log.lines.filter((l) => /^access log turned/.test(String(l.msg))).map((l) => [l.msg, l.accessLog])).toEqual([
      ['access log turned off by a reload (log.accessLog)', false],
      ['access log turned on by a reload (log.accessLog)', true],
    ]);
    expect(log.lines.filter((l) => /wait for a restart/.test(String(l.msg)))).toEqual([]);
  });
});
