/** The cluster primary's /config `streams`: each worker accepts its share, so counters add up by listener. */
import { expect, test } from 'vitest';
import { mergeStreamListeners } from '../../src/cluster/merge.js';

test('stream listener counters add up across workers; the rest is the first worker\'s', () => {
  const w1 = [{ name: 'db', protocol: 'tcp', port: 5432, open: 2, total: 10, refused: 1, bytesIn: 100, bytesOut: 200, routes: ['pg'] }];
  const w2 = [{ name: 'db', protocol: 'tcp', port: 5432, open: 1, total: 5, refused: 0, bytesIn: 50, bytesOut: 70, routes: ['pg'] }];
  expect(mergeStreamListeners([w1, w2, undefined])).toEqual([{ name: 'db', protocol: 'tcp', port: 5432, open: 3, total: 15, refused: 1, bytesIn: 150, bytesOut: 270, routes: ['pg'] }]);
  expect(mergeStreamListeners([])).toEqual([]);
});
