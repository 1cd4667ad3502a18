/** Plain-text table rendering for terminal reports. */

/** table renders rows (arrays of strings) under headers; numbers-looking columns are right-aligned. */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const right = headers.map((_, i) => rows.every((r) => /^[-+]?[\d.,]+\s*\S*$|^-$|^n\/a$/.test(String(r[i]))));
  const cell = (v, i) => (right[i] ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i]));
  const line = (r) => r.map(cell).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** fmtInt formats a number with thousands separators. */
export function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** fmtMs formats milliseconds with 2 decimals. */
export function fmtMs(n) {
  return Number.isFinite(n) ? n.toFixed(2) : '-';
}

/** fmtRatio formats a ratio as 0.83x. */
export function fmtRatio(n) {
  return Number.isFinite(n) ? `${n.toFixed(2)}x` : '-';
}
