/**
 * Request smuggling and message framing. A front door must never let a client
 * and an upstream disagree on where one request ends: every ambiguous framing
 * is refused with 400 and the connection closed, before any byte reaches the
 * upstream; and a misbehaving upstream's framing never reaches the client
 * (502, or a cut connection once the head went out). After every case a fresh
 * client is served normally.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, waitFor, type TestGateway } from '../../src/testing/index.js';
import { get, okResponse, sendRaw, startRecorder, type Recorder } from './helpers.js';

let rec: Recorder;
let gw: TestGateway;

beforeAll(async () => {
  rec = await startRecorder();
  gw = await startGateway({
    gateway: {},
    routeFiles: {
      'r.yaml': {
        upstreams: { rec: { targets: [{ url: rec.url }] } },
        routes: [{ id: 'all', match: { path: '/*' }, upstream: 'rec' }],
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
  await rec?.close();
});
afterEach(() => rec.reset());

/** expectHealthy checks that a fresh client is served normally and the upstream saw exactly its request. */
async function expectHealthy(): Promise<void> {
  rec.reset();
  const r = await sendRaw(gw.port, get('/after-check'), { until: 1 });
  expect(r.responses).toHaveLength(1);
  expect(r.responses[0]!.status).toBe(200);
  expect(r.responses[0]!.json()).toMatchObject({ target: '/after-check' });
  expect(rec.requests().map((q) => q.target)).toEqual(['/after-check']);
  expect(rec.malformed()).toEqual([]);
}

/** expectRefused checks 400 + close and that no complete request reached the upstream. */
async function expectRefused(payload: string | string[]): Promise<void> {
  const r = await sendRaw(gw.port, payload);
  expect(r.error).toBeUndefined();
  expect(r.responses.map((x) => x.status)).toEqual([400]);
  expect(r.closed).toBe(true);
  const res = r.responses[0]!;
  expect(res.header('connection')).toBe('close');
  expect(res.json().error.code).toBe('SY_ERR_BAD_REQUEST');
  expect(rec.requests()).toEqual([]);
  expect(rec.malformed()).toEqual([]);
  // Partial bytes may have left for the upstream only on a connection that was then closed.
  await waitFor(() => rec.partial().every((c) => c.closed), { message: 'partial upstream requests closed' });
  await expectHealthy();
}

const H = 'Host: gw.test\r\n';

describe('request framing: ambiguous or malformed messages are refused with 400 and close', () => {
  it.each([
    ['CL.TE (Content-Length then Transfer-Encoding)', `POST /a HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`],
    ['TE.CL (Transfer-Encoding then Content-Length)', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`],
    ['TE: xchunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE: chunked, identity', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE: identity then chunked in two headers', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE: chunked twice (duplicate header)', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE: gzip, chunked (a coding the gateway does not apply)', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['space before the colon of Transfer-Encoding', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['tab before the colon of Transfer-Encoding', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding\t: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Transfer-Encoding folded onto the next line (obs-fold)', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE with a tab and Content-Length', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['Content-Length: +5', `POST /a HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`],
    ['Content-Length: 5,6', `POST /a HTTP/1.1\r\n${H}Content-Length: 5,6\r\n\r\nhello`],
    ['Content-Length: 0x5', `POST /a HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`],
    ['Content-Length: -1', `POST /a HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\nhello`],
    ['Content-Length: empty', `POST /a HTTP/1.1\r\n${H}Content-Length: \r\n\r\nhello`],
    ['Content-Length: 1e1', `POST /a HTTP/1.1\r\n${H}Content-Length: 1e1\r\n\r\nhelloworld`],
    ['two different Content-Length headers', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`],
    ['two equal Content-Length headers', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`],
    ['Content-Length larger than 2^53', `POST /a HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\nhello`],
    ['chunk size overflowing 64 bits', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF5\r\nhello\r\n0\r\n\r\n`],
    ['negative chunk size', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`],
    ['chunk size with 0x prefix', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`],
    ['chunk lines ended by bare LF', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`],
    ['chunk data longer than its size', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`],
    ['bare LF line endings in the head', `GET /a HTTP/1.1\n${H.replace('\r\n', '\n')}\n`],
    ['bare CR inside a header value', `GET /a HTTP/1.1\r\n${H}X-Test: a\rb\r\n\r\n`],
    ['bare LF inside the request line', `GET /a\nHTTP/1.1\r\n${H}\r\n`],
    ['obs-fold continuation line', `GET /a HTTP/1.1\r\n${H}X-Test: a\r\n  folded\r\n\r\n`],
    ['NUL in a header value', `GET /a HTTP/1.1\r\n${H}X-Test: a\0b\r\n\r\n`],
    ['space inside the request target', `GET /a b HTTP/1.1\r\n${H}\r\n`],
    ['space in a header name', `GET /a HTTP/1.1\r\n${H}X Test: a\r\n\r\n`],
    ['HTTP/1.0 with Transfer-Encoding: chunked', `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['HTTP/1.0 with Transfer-Encoding: chunked and Content-Length', `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 15\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['unknown HTTP version', `GET /a HTTP/1.2\r\n${H}\r\n`],
    ['HTTP/2 preface on the HTTP/1 listener', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ])('%s', async (_name, payload) => {
    await expectRefused(payload);
  });
});

describe('request framing: legitimate variants are forwarded re-framed, exactly once', () => {
  it.each([
    ['a tab before chunked (valid whitespace)', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['TE value in upper case', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
    ['a chunk extension', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n`],
    ['Content-Length with surrounding whitespace', `POST /a HTTP/1.1\r\n${H}Content-Length:  5 \r\n\r\nhello`],
    ['an upper-case chunk size', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0000000005\r\nhello\r\n0\r\n\r\n`],
  ])('%s', async (_name, payload) => {
    const r = await sendRaw(gw.port, payload, { until: 1 });
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    const seen = rec.requests();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body.toString()).toBe('hello');
    expect(rec.malformed()).toEqual([]);
  });

  it('forwards a body sent by a client in many small pieces as one request', async () => {
    const r = await sendRaw(gw.port, [`POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, '2\r\nhe\r\n', '3\r\nllo\r\n', '0\r\n\r\n'], { until: 1 });
    expect(r.responses[0]!.status).toBe(200);
    expect(rec.requests().map((q) => q.body.toString())).toEqual(['hello']);
  });
});

describe('pipelining', () => {
  it('serves a pipelined valid request and refuses the smuggled one behind it', async () => {
    const smuggled = `POST /second HTTP/1.1\r\n${H}Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /third HTTP/1.1\r\n${H}\r\n`;
    const r = await sendRaw(gw.port, get('/first') + smuggled);
    expect(r.error).toBeUndefined();
    expect(r.responses.map((x) => x.status)).toEqual([200, 400]);
    expect(r.closed).toBe(true);
    expect(rec.requests().map((q) => q.target)).toEqual(['/first']);
    await expectHealthy();
  });

  it('answers two valid pipelined requests in order, each forwarded once', async () => {
    const r = await sendRaw(gw.port, get('/one') + `POST /two HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`, { until: 2 });
    expect(r.responses.map((x) => x.json().target)).toEqual(['/one', '/two']);
    // They may reach the upstream on two pooled connections in either order; each exactly once.
    expect(rec.requests().map((q) => `${q.method} ${q.target} ${q.body}`).sort()).toEqual(['GET /one ', 'POST /two abc']);
  });

  it('never forwards a body that hides a second request inside a Content-Length body', async () => {
    // A front end that ignored Content-Length would see two requests; we must forward one, with that body.
    const inner = `GET /hidden HTTP/1.1\r\n${H}\r\n`;
    const r = await sendRaw(gw.port, `POST /outer HTTP/1.1\r\n${H}Content-Length: ${inner.length}\r\n\r\n${inner}`, { until: 1 });
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    const seen = rec.requests();
    expect(seen.map((q) => q.target)).toEqual(['/outer']);
    expect(seen[0]!.body.toString()).toBe(inner);
  });
});

describe('response framing from a misbehaving upstream', () => {
  /** expectBadUpstream checks that the client got 502 (or a cut connection after the head) and never the smuggled payload. */
  async function expectBadUpstream(raw: string, opts: { allowCut?: boolean } = {}): Promise<void> {
    rec.respond((_req, socket) => socket.end(raw));
    const r = await sendRaw(gw.port, get('/bad'), { until: 1 });
    expect(r.text).not.toContain('SMUGGLED');
    const first = r.responses[0];
    if (first !== undefined) {
      expect(first.status).toBe(502);
      expect(first.json().error.code).toBe('SY_ERR_UPSTREAM_BAD_RESPONSE');
      expect(r.responses).toHaveLength(1);
    } else {
      // The head had gone out: the only honest signal left is a cut connection with an incomplete body.
      expect(opts.allowCut).toBe(true);
      expect(r.closed).toBe(true);
      expect(r.error).toBe('truncated response');
    }
    await expectHealthy();
  }

  it.each([
    ['Content-Length and Transfer-Encoding together', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n'],
    ['two different Content-Length headers', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 8\r\n\r\nSMUGGLED'],
    ['a malformed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nSMUGGLED'],
    ['a garbage status line', 'HTTP/1.1 2OO OK\r\nContent-Length: 8\r\n\r\nSMUGGLED'],
    ['not HTTP at all', 'SMUGGLED garbage that is not a response\r\n\r\n'],
    ['obs-fold in a response header', 'HTTP/1.1 200 OK\r\nX-Test: a\r\n folded\r\nContent-Length: 8\r\n\r\nSMUGGLED'],
    ['bare CR in a response header', 'HTTP/1.1 200 OK\r\nX-Test: a\rSet-Cookie: SMUGGLED=1\r\nContent-Length: 2\r\n\r\nok'],
    ['a space before a header colon', 'HTTP/1.1 200 OK\r\nContent-Length : 8\r\n\r\nSMUGGLED'],
  ])('502 on %s', async (_name, raw) => {
    await expectBadUpstream(raw);
  });

  it.each([
    ['a malformed chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nSMUGGLED\r\n0\r\n\r\n'],
    ['a body shorter than its Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'],
    ['a chunked body cut before its last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'],
  ])('502 or a cut connection on %s', async (_name, raw) => {
    await expectBadUpstream(raw, { allowCut: true });
  });

  it('delivers exactly the framed response when the upstream sends extra bytes after it, and never serves them to anyone', async () => {
    rec.respond((req, socket) => socket.write(okResponse(req) + 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED'));
    for (let i = 0; i < 3; i++) {
      const r = await sendRaw(gw.port, get(`/extra-${i}`), { until: 1, deadline: 1000 });
      expect(r.responses).toHaveLength(1);
      expect(r.responses[0]!.status).toBe(200);
      expect(r.responses[0]!.json().target).toBe(`/extra-${i}`);
    }
    rec.respond((req, socket) => socket.write(okResponse(req)));
    for (let i = 0; i < 3; i++) {
      const r = await sendRaw(gw.port, get(`/next-${i}`), { until: 1 });
      expect(r.text).not.toContain('SMUGGLED');
      expect(r.responses[0]!.json().target).toBe(`/next-${i}`);
    }
  });

  it('re-frames a valid chunked response, passing neither Transfer-Encoding nor a stale Content-Length through', async () => {
    rec.respond((_req, socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'));
    const r = await sendRaw(gw.port, get('/chunked'), { until: 1 });
    expect(r.error).toBeUndefined();
    expect(r.responses[0]!.body.toString()).toBe('hello world');
    expect(r.responses[0]!.all('content-length').length + r.responses[0]!.all('transfer-encoding').length).toBe(1);
  });

  it('drops a 1xx interim response and sends the final one', async () => {
    rec.respond((req, socket) => socket.write('HTTP/1.1 102 Processing\r\n\r\n' + okResponse(req)));
    const r = await sendRaw(gw.port, get('/interim'), { until: 1 });
    // No interim status line reaches the client (matching "102" anywhere would also hit random trace and request ids).
    expect(r.bytes.toString('latin1')).not.toMatch(/^HTTP\/1\.[01] 1\d\d /m);
    expect(r.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.responses[0]!.json().target).toBe('/interim');
  });
});
