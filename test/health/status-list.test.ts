/**
 * compileStatusList: codes and ranges.
 */
import { describe, expect, it } from 'vitest';
import { compileStatusList } from '../../src/health/status-list.js';

describe('compileStatusList', () => {
  it.each([
    { list: undefined, yes: [200, 204, 301, 399], no: [100, 199, 400, 503] },
    { list: [200], yes: [200], no: [201, 204, 302] },
    { list: ['200-204', 301], yes: [200, 202, 204, 301], no: [205, 300, 302] },
    { list: [' 500 - 503 '], yes: [500, 503], no: [499, 504] },
    { list: ['418'], yes: [418], no: [417, 419] },
  ])('$list accepts $yes and rejects $no', ({ list, yes, no }) => {
    const matches = compileStatusList(list);
    for (const s of yes) expect(matches(s), String(s)).toBe(true);
    for (const s of [...no, 0, -1, 600, 1000]) expect(matches(s), String(s)).toBe(false);
  });

  it.each([['abc'], ['399-200'], [99], [600], ['200-'], [200.5]])('rejects %s', (entry) => {
    expect(() => compileStatusList([entry])).toThrow(RangeError);
  });
});
