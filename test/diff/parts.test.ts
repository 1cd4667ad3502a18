/**
 * The parts of a diff, table-driven: the representative request of a match,
 * the samples file, the usual address ranges, and secret redaction.
 */
import { describe, expect, it } from 'vitest';
import { UsualRanges } from '../../src/diff/address-ranges.js';
import { fingerprint, redact } from '../../src/diff/redact.js';
import { parseSamples, sampleFor } from '../../src/diff/samples.js';

describe('sampleFor: a route’s representative request', () => {
  it.each([
    [{ path: '/api/orders/*' }, 'GET', '/api/orders/1', {}],
    [{ path: '/*' }, 'GET', '/1', {}],
    [{ path: '/health' }, 'GET', '/health', {}],
    [{ path: '/a/*', methods: ['post', 'GET'] }, 'POST', '/a/1', {}],
    [{ path: '/a', host: '*.example.com' }, 'GET', '/a', { host: 'sample.example.com' }],
    [{ path: '/a', host: 'api.example.com', headers: { 'X-Canary': '1' } }, 'GET', '/a', { host: 'api.example.com', 'x-canary': '1' }],
    [{ path: '/a', query: { v: '2', full: 'yes' }, cookies: { canary: 'no', b: '1' } }, 'GET', '/a?v=2&full=yes', { cookie: 'canary=no; b=1' }],
  ])('%j → %s %s', (match, method, target, headers) => {
    expect(sampleFor('r', match)).toEqual({ method, target, headers, from: 'route r' });
  });
});

describe('parseSamples', () => {
  it('reads methods, paths, full URLs and headers; skips blanks and comments', () => {
    const text = '# comment\n\nget /a\nPOST http://Api.Example.com:8080/b?x=1 X-Canary: 1 Authorization: Bearer a b\n';
    expect(parseSamples(text, 's.txt')).toEqual([
      { method: 'GET', target: '/a', headers: {}, from: 's.txt:3' },
      { method: 'POST', target: '/b?x=1', headers: { host: 'api.example.com:8080', 'x-canary': '1', authorization: 'Bearer a b' }, from: 's.txt:4' },
    ]);
  });
  it.each([
    ['GET', 's.txt:1: expected "METHOD URL [Name: value]...", got "GET"'],
    ['GET api/x', 's.txt:1: URL "api/x" must be a path (/x) or an http(s):// URL'],
    ['GET /x notaheader', 's.txt:1: bad header "notaheader" (expected "Name: value")'],
    ['GET http://[bad/x', 's.txt:1: invalid URL "http://[bad/x"'],
  ])('%s is refused with its line number', (line, message) => {
    expect(() => parseSamples(line, 's.txt')).toThrow(message);
  });
});

describe('UsualRanges', () => {
  const ranges = new UsualRanges(['http://203.0.113.10:80', 'http://orders.prod.example.com:80', 'http://[2001:db8:1::5]:80']);
  it.each([
    ['http://10.1.2.3:80', undefined],
    ['http://192.168.0.9', undefined],
    ['http://127.0.0.1:9001', undefined],
    ['http://[::1]:80', undefined],
    ['http://203.0.113.77:80', undefined],
    ['http://[2001:db8:1:ff::1]:80', undefined],
    ['http://orders-v2:8080', undefined],
    ['http://localhost:8080', undefined],
    ['http://users.prod.example.com', undefined],
    ['http://198.51.100.1', 'a public address in no range the other targets use'],
    ['http://evil.example.net', 'a host in no domain the other targets use'],
    ['http://169.254.169.254', 'a link-local address (cloud metadata services live there)'],
    ['http://[fe80::1]:80', 'a link-local address (cloud metadata services live there)'],
  ])('%s → %s', (url, why) => {
    expect(ranges.unusual(url)).toBe(why);
  });
});

describe('redact', () => {
  it('replaces secrets by fingerprints that compare as the values do, and keeps the rest', () => {
    const doc = {
      admin: { port: 9901, token: 'admin-tok-value' },
      redis: { url: 'redis://:pw@redis:6379' },
      stickySecret: 'sticky-secret-value',
      chain: [{ jwt: { algorithms: ['HS256'], secret: 's3cr3t', publicKey: 'PEM' } }, { 'rate-limit': { key: 'ip' } }],
      tracing: { otlp: { headers: { 'x-api-key': 'k' } } },
      plain: 'redis://redis:6379',
    };
    const out = redact(doc) as typeof doc;
    const text = JSON.stringify(out);
    for (const secret of ['admin-tok-value', ':pw@', 'sticky-secret-value', 's3cr3t', '"k"']) expect(text).not.toContain(secret);
    expect(out.admin.token).toBe(fingerprint('admin-tok-value'));
    expect(out.chain[0]!.jwt!.publicKey).toBe('PEM');
    expect((out.chain[1] as { 'rate-limit': { key: string } })['rate-limit'].key).toBe('ip');
    expect(out.plain).toBe('redis://redis:6379');
    expect(fingerprint('tok')).not.toBe(fingerprint('tok2'));
  });
});
