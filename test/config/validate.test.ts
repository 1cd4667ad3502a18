/**
 * validate: target URL rules, and validators for any schema (such as a
 * plugin's options) with paths under a base.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { NO_POSITION } from '../../src/config/errors.js';
import { checkTargetUrl, compileValidator, validateDocument } from '../../src/config/validate.js';

describe('checkTargetUrl', () => {
  it.each([
    { url: 'http://users:8080', problem: undefined },
    { url: 'https://users.internal', problem: undefined },
    { url: 'http://10.0.0.1/', problem: undefined },
    { url: 'http://[::1]:9000', problem: undefined },
    { url: 'ftp://files', problem: 'unsupported scheme "ftp:" in URL "ftp://files": expected http or https' },
    { url: 'http://users:8080/v1', problem: 'URL "http://users:8080/v1" must not have a path (routes decide paths; see stripPrefix)' },
    { url: 'http://u:pw@users', problem: 'URL "http://u:***@users" must not contain credentials' },
    { url: 'http://u@users', problem: 'URL "http://u@users" must not contain credentials' },
    { url: 'http://users?', problem: 'URL "http://users?" must not have a query' },
    { url: 'http://users#top', problem: 'URL "http://users#top" must not have a fragment' },
    { url: 'http://users:99999', problem: 'invalid URL "http://users:99999": expected http://host:port or https://host:port' },
    { url: 'users', problem: 'invalid URL "users": expected http://host:port or https://host:port' },
  ])('$url', ({ url, problem }) => {
    expect(checkTargetUrl(url)).toBe(problem);
  });
});

describe('compileValidator', () => {
  const Options = Type.Object(
    { origins: Type.Array(Type.String(), { default: ['*'] }), maxAge: Type.Integer({ minimum: 0 }) },
    { additionalProperties: false },
  );
  const validate = compileValidator(Options);

  it('applies defaults and reports under a base path', () => {
    const value: Record<string, unknown> = { maxAge: 10 };
    expect(validate(value, { file: 'a.yaml', locate: NO_POSITION })).toEqual([]);
    expect(value.origins).toEqual(['*']);
    const errors = validate({ maxAge: -1, orgins: [] }, { file: 'a.yaml', locate: NO_POSITION }, { base: ['routes', 0, 'plugins', 1, 'cors'] });
    expect(errors.map((e) => e.format())).toEqual([
      'a.yaml: routes[0].plugins[1].cors: unknown key "orgins"; did you mean "origins"?',
      'a.yaml: routes[0].plugins[1].cors.maxAge: expected a number >= 0, got -1',
    ]);
  });
});

describe('validateDocument', () => {
  it('converts strings from variables only where a number or boolean is expected', () => {
    const doc = { listen: { port: '8080' }, admin: { token: '1234', enabled: 'false' } };
    const errors = validateDocument('gateway', doc, { file: 'g', locate: NO_POSITION }, [['listen', 'port'], ['admin', 'token'], ['admin', 'enabled']]);
    expect(errors).toEqual([]);
    expect(doc).toMatchObject({ listen: { port: 8080 }, admin: { token: '1234', enabled: false } });
  });

  it('leaves strings that were written as strings alone', () => {
    const errors = validateDocument('gateway', { listen: { port: '8080' } }, { file: 'g', locate: NO_POSITION });
    expect(errors.map((e) => e.format())).toEqual(['g: listen.port: expected integer, got string']);
  });
});
