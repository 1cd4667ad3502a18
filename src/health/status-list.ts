/**
 * Expected-status lists for HTTP checks (`[200, "300-399"]`), compiled once
 * into a lookup table so each check is one array read.
 */

/** DEFAULT_EXPECTED_STATUS is used when a check names none: any 2xx or 3xx (redirects are not followed, so a 3xx means the server answered). */
export const DEFAULT_EXPECTED_STATUS: readonly (number | string)[] = ['200-399'];

const RANGE_RE = /^\s*([1-5]\d\d)\s*(?:-\s*([1-5]\d\d)\s*)?$/;

/** StatusMatcher tells whether a status code is expected. */
export type StatusMatcher = (status: number) => boolean;

/** compileStatusList turns codes and "lo-hi" ranges into a matcher; throws RangeError on a malformed entry or reversed range. */
export function compileStatusList(list: readonly (number | string)[] = DEFAULT_EXPECTED_STATUS): StatusMatcher {
  const table = new Uint8Array(600);
  for (const entry of list) {
    let lo: number;
    let hi: number;
    if (typeof entry === 'number') {
      lo = hi = entry;
    } else {
      const m = RANGE_RE.exec(entry);
      if (!m) throw new RangeError(`invalid status "${entry}" (expected e.g. 200 or "200-399")`);
      lo = Number(m[1]);
      hi = m[2] === undefined ? lo : Number(m[2]);
    }
    if (!Number.isInteger(lo) || lo < 100 || hi > 599 || lo > hi) throw new RangeError(`invalid status range ${String(entry)}`);
    table.fill(1, lo, hi + 1);
  }
  return (status) => status >= 100 && status <= 599 && table[status] === 1;
}
