/**
 * An upstream that answers a WebSocket upgrade without upgrading (a 200, a
 * 403, a 101 never sent). Found while testing 13.6: undici completes such an
 * answer as a plain response without reporting an error, so the client was
 * never answered, the target's in-flight count stayed taken and the
 * gateway's close() waited for it. Now: a prompt 502, nothing held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { okResponse, sendRaw, startRecorder, type Recorder } from './helpers.js';

let rec: Recorder;
let gw: TestGateway;

beforeAll(async () => {
  rec = await startRecorder();
  gw = await startGateway({ gateway: {}, routeFiles: { 'r.yaml': { upstreams: { rec: { targets: [{ url: rec.url }], outlierDetection: { enabled: false } } }, routes: [{ id: 'open', match: { path: '/*' }, upstream: 'rec' }] } } });
});
afterAll(async () => {
  await rec?.close();
});

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

describe('an upstream that answers an upgrade without upgrading', () => {
  it.each([
    ['200 with a body', (req: Parameters<typeof okResponse>[0]) => okResponse(req)],
    ['403 without a body', () => 'HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'],
  ])('%s: the client gets a prompt 502 and the target is released', async (_name, answer) => {
    rec.respond((req, socket) => socket.write(answer(req)));
    const r = await sendRaw(gw.port, UPGRADE, { until: 1, deadline: 2000 });
    expect(r.responses.map((x) => x.status)).toEqual([502]);
    expect(r.responses[0]!.json().error.code).toBe('SY_ERR_UPSTREAM_BAD_RESPONSE');
    const target = gw.gateway.runtime.upstreams.get('rec')!.targets[0]!;
    await waitFor(() => target.inflight === 0, { message: 'the target released' });
  });

  it('and the gateway closes at once afterwards', async () => {
    const t0 = Date.now();
    await gw.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
