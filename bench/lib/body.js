/**
 * The response body the benchmark upstreams send: a JSON object padded to an
 * exact size, so every candidate moves the same bytes.
 */

/** BODY_SIZES maps the --body choices to byte counts. */
export const BODY_SIZES = { '100': 100, '100b': 100, '1k': 1024, '64k': 65536 };

/** parseBodySize reads a --body value (100, 1k, 64k, or a byte count). */
export function parseBodySize(value) {
  const v = String(value).toLowerCase();
  if (v in BODY_SIZES) return BODY_SIZES[v];
  const n = Number(v);
  if (Number.isInteger(n) && n >= 32) return n;
  throw new Error(`--body must be 100, 1k, 64k or a byte count >= 32 (got "${value}")`);
}

/** jsonBody builds a JSON document of exactly `size` bytes (size >= 32). */
export function jsonBody(size) {
  const head = '{"ok":true,"id":42,"pad":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - tail.length)) + tail);
}
