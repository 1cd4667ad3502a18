/**
 * Sizes written with a unit (`64kb`, `1.5mb`), as the body-limit plugin's
 * `max` and a route's `mirror.bodyLimit` take them. The one declaration: the
 * plugin SDK re-exports it (src/plugins/size.ts), as it does durations.
 */

/** SIZE_PATTERN is a size written with a unit: b, kb, mb, gb (binary multiples, case-insensitive). */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]?[bB])\\s*$';
const SIZE_RE = new RegExp(SIZE_PATTERN);
const UNIT: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** parseSize turns `512kb`, `1.5mb` or a number of bytes into bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = SIZE_RE.exec(value);
  if (!m) throw new RangeError(`invalid size "${value}" (expected e.g. 512kb, 1mb or a number of bytes)`);
  return Math.floor(Number.parseFloat(value) * UNIT[m[2]!.toLowerCase()]!);
}
