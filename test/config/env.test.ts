/**
 * Environment substitution: `${NAME}`, `${NAME:-default}`, `$${...}`.
 */
import { describe, expect, it } from 'vitest';
import { expand, substituteEnv } from '../../src/config/env.js';
import { NO_POSITION } from '../../src/config/errors.js';

const ENV = { HOST: 'users.internal', PORT: '8080', EMPTY: '', SECRET: 'a}b$c' };

describe('expand', () => {
  it.each([
    { text: 'plain', out: 'plain' },
    { text: '${HOST}', out: 'users.internal' },
    { text: 'http://${HOST}:${PORT}', out: 'http://users.internal:8080' },
    { text: '${MISSING:-fallback}', out: 'fallback' },
    { text: '${MISSING:-}', out: '' },
    { text: '${EMPTY:-fallback}', out: 'fallback' }, // as in the shell: empty takes the default
    { text: '${EMPTY}', out: '' }, // set but empty is set
    { text: '${MISSING:-a:-b c}', out: 'a:-b c' },
    { text: '${SECRET}', out: 'a}b$c' }, // values are not expanded again
    { text: '$${HOST}', out: '${HOST}' },
    { text: '$$${HOST}', out: '$${HOST}' },
    { text: 'cost: $5, $HOST', out: 'cost: $5, $HOST' },
  ])('$text → $out', ({ text, out }) => {
    expect(expand(text, ENV)).toMatchObject({ ok: true, text: out });
  });

  it.each([
    { text: '${JWT_SECRET}', problems: ['environment variable JWT_SECRET is not set'] },
    { text: '${A} and ${B}', problems: ['environment variable A is not set', 'environment variable B is not set'] },
    { text: '${not valid}', problems: ['invalid environment reference "${not valid}": expected ${NAME} or ${NAME:-default}'] },
    { text: '${HOST', problems: ['unterminated "${" (write "$${" for a literal "${")'] },
  ])('$text is refused', ({ text, problems }) => {
    expect(expand(text, ENV)).toEqual({ ok: false, problems });
  });
});

describe('substituteEnv', () => {
  it('expands string values at any depth, leaves keys alone and copies', () => {
    const doc = { '${HOST}': { list: ['${PORT}', 3, true, null, { x: '${HOST}' }] } };
    const r = substituteEnv(doc, { file: 'a.yaml', locate: NO_POSITION }, ENV);
    expect(r.errors).toEqual([]);
    expect(r.value).toEqual({ '${HOST}': { list: ['8080', 3, true, null, { x: 'users.internal' }] } });
    expect(r.fromEnv).toEqual([['${HOST}', 'list', 0], ['${HOST}', 'list', 4, 'x']]);
    expect(doc['${HOST}'].list[0]).toBe('${PORT}');
  });

  it('places an error at the value', () => {
    const r = substituteEnv({ admin: { token: '${TOKEN}' } }, { file: 'gateway.yaml', locate: () => ({ line: 4, col: 10 }) }, {});
    expect(r.errors.map((e) => e.format())).toEqual(['gateway.yaml:4:10: admin.token: environment variable TOKEN is not set']);
  });

  it('reads process.env by default', () => {
    process.env.SWITCHYARD_TEST_VAR = 'yes';
    try {
      expect(substituteEnv('${SWITCHYARD_TEST_VAR}', { file: 'a', locate: NO_POSITION }).value).toBe('yes');
    } finally {
      delete process.env.SWITCHYARD_TEST_VAR;
    }
  });
});
