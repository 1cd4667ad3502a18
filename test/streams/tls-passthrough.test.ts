/**
 * TLS passthrough by SNI with real parts: two node `tls` servers with
 * throwaway certificates behind a tls-passthrough listener. The client
 * verifies the upstream's own certificate through the gateway (which holds
 * none), proving nothing is terminated; the SNI picks the pool (exact name,
 * then *.wildcard); an unknown name is refused with a TLS alert and logged.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { startStreamGateway, type StreamGateway } from './helpers.js';

interface Cert {
  cert: Buffer;
  key: Buffer;
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-sni-'));
function makeCert(name: string, san: string): Cert {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

/** startNamed starts a TLS server that writes its name and the SNI it saw, then closes. */
async function startNamed(name: string, cert: Cert): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: cert.cert, key: cert.key }, (s) => s.end(`${name} ${s.servername}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** ask opens a verified TLS connection through the gateway with an SNI and returns what the server wrote. */
async function ask(port: number, servername: string, ca: Buffer): Promise<{ text: string; authorized: boolean }> {
  const s = connect({ host: '127.0.0.1', port, servername, ca });
  await once(s, 'secureConnect');
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await once(s, 'end');
  s.destroy();
  return { text: Buffer.concat(chunks).toString(), authorized: s.authorized };
}

describe('tls-passthrough routes by SNI without terminating TLS', () => {
  const apiCert = makeCert('api', 'DNS:api.example.test');
  const otherCert = makeCert('other', 'DNS:*.other.test');
  let api: { server: Server; port: number };
  let other: { server: Server; port: number };
  let gw: StreamGateway;
  const log = captureLog();
  beforeAll(async () => {
    [api, other] = await Promise.all([startNamed('api', apiCert), startNamed('other', otherCert)]);
    gw = await startStreamGateway(
      { 'edge-tls': { protocol: 'tls-passthrough', clientHelloTimeout: '2s' } },
      {
        'routes/tls.yaml': {
          upstreams: {
            api: { targets: [{ url: `tcp://127.0.0.1:${api.port}` }] },
            other: { targets: [{ url: `tcp://127.0.0.1:${other.port}` }] },
          },
          streamRoutes: [
            { id: 'api', listener: 'edge-tls', match: { sni: 'api.example.test' }, upstream: 'api' },
            { id: 'other', listener: 'edge-tls', match: { sni: '*.other.test' }, upstream: 'other' },
          ],
        },
      },
      { logger: log.logger },
    );
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    api?.server.close();
    other?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the client verifies the upstream certificate end to end, and the SNI picks the pool', async () => {
    const port = gw.streamPort('edge-tls');
    expect(await ask(port, 'api.example.test', apiCert.cert)).toEqual({ text: 'api api.example.test', authorized: true });
    expect(await ask(port, 'x.other.test', otherCert.cert)).toEqual({ text: 'other x.other.test', authorized: true });
    const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream closed' && l.route === 'other'));
    expect(line).toMatchObject({ listener: 'edge-tls', sni: 'x.other.test', upstream: 'other', end: 'closed' });
  });

  it('an unknown SNI is refused with a TLS alert and logged', async () => {
    const port = gw.streamPort('edge-tls');
    const s = connect({ host: '127.0.0.1', port, servername: 'nobody.example.test', ca: apiCert.cert });
    const [err] = (await once(s, 'error')) as [Error];
    expect(err.message).toMatch(/unrecognized name|alert number 112/i);
    const line = await waitFor(() => log.lines.find((l) => l.msg === 'stream refused' && l.sni === 'nobody.example.test'));
    expect(line).toMatchObject({ listener: 'edge-tls', end: 'refused', code: 'SY_ERR_STREAM_NO_ROUTE' });
  });

  it('plain text, an oversized ClientHello and a silent client are refused', async () => {
    const port = gw.streamPort('edge-tls');
    const plain = netConnect({ host: '127.0.0.1', port });
    plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(plain, 'close');
    // A record that claims 60 KB, fed until the listener's 16 KB cap.
    const big = netConnect({ host: '127.0.0.1', port });
    big.on('error', () => undefined);
    const head = Buffer.from([0x16, 0x03, 0x01, 0xea, 0x60, 0x01, 0x00, 0xea, 0x5c]);
    big.write(Buffer.concat([head, Buffer.alloc(20_000)]));
    await once(big, 'close');
    const silent = netConnect({ host: '127.0.0.1', port });
    await once(silent, 'close');
    const reasons = await waitFor(() => {
      const r = log.lines.filter((l) => l.code === 'SY_ERR_STREAM_CLIENT_HELLO').map((l) => String(l.reason));
      return r.length >= 3 && r;
    });
    expect(reasons).toEqual(
      expect.arrayContaining(['not a TLS handshake', 'ClientHello larger than maxClientHello (16384 bytes)', 'no complete ClientHello within 2000ms']),
    );
    expect(await gw.gateway.metricsText()).toMatch(/switchyard_stream_dropped_total\{listener="edge-tls",reason="client_hello"\} 3/);
  }, 20_000);
});
