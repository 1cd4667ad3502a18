/**
 * The public surface of `switchyard-gateway/client`: exactly these values,
 * the package export that publishes them, and docs/client.md naming each.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as client from '../../src/client/index.js';

const ROOT = new URL('../../', import.meta.url);
const DOC = readFileSync(new URL('docs/client.md', ROOT), 'utf8');

describe('switchyard-gateway/client', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(client).sort()).toEqual([
      'ClientClosedError',
      'ClientError',
      'DiscoveryUnavailableError',
      'InvalidOptionsError',
      'NoInstancesError',
      'RegistrationError',
      'UpstreamError',
      'createClient',
      'registerInstance',
    ]);
  });

  it('is published as the package\'s ./client export, built from src/client/index.ts', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
  });

  it('docs/client.md names every export', () => {
    expect(Object.keys(client).filter((n) => !DOC.includes(`\`${n}`))).toEqual([]);
  });

  it('every error is a ClientError with a stable code', () => {
    const errors = [
      new client.InvalidOptionsError([]),
      new client.DiscoveryUnavailableError('USERS', 'down'),
      new client.NoInstancesError('USERS', 'none'),
      new client.UpstreamError('SY_ERR_UPSTREAM_CONNECT', 'USERS', 'http://10.0.0.5:8080', 'ECONNREFUSED', 2, new Error('x')),
      new client.ClientClosedError(),
      new client.RegistrationError('USERS', 'down'),
    ];
    expect(errors.map((e) => [e.name, e.code, e.status])).toEqual([
      ['InvalidOptionsError', 'SY_ERR_LB_OPTIONS', 500],
      ['DiscoveryUnavailableError', 'SY_ERR_LB_DISCOVERY', 503],
      ['NoInstancesError', 'SY_ERR_UPSTREAM_UNAVAILABLE', 503],
      ['UpstreamError', 'SY_ERR_UPSTREAM_CONNECT', 502],
      ['ClientClosedError', 'SY_ERR_LB_CLOSED', 500],
      ['RegistrationError', 'SY_ERR_LB_REGISTRATION', 503],
    ]);
    for (const e of errors) expect(e).toBeInstanceOf(client.ClientError);
  });
});
