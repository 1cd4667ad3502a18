/**
 * Strict text ↔ bytes conversion of IPv4 and IPv6 addresses for the PROXY
 * protocol. Local to this leaf folder on purpose: it imports nothing from
 * the gateway. Strict means one spelling per IPv4 address (no leading zeros,
 * which some parsers read as octal) and no IPv6 zone ids.
 */

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** ipv4ToBytes parses dotted-quad text into 4 bytes, or undefined when it is not canonical. */
export function ipv4ToBytes(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** ipv6ToBytes parses IPv6 text (`::` compression and a trailing dotted quad allowed) into 16 bytes, or undefined. */
export function ipv6ToBytes(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const words: number[] = [];
  const all = [...head, ...tail];
  let v4: Buffer | undefined;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    v4 = ipv4ToBytes(last);
    if (!v4) return undefined;
    if (tail.length > 0) tail.pop();
    else head.pop();
  }
  const parseGroup = (g: string): number | undefined => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : undefined);
  const headWords = head.map(parseGroup);
  const tailWords = tail.map(parseGroup);
  if ([...headWords, ...tailWords].some((w) => w === undefined)) return undefined;
  const total = 8 - (v4 ? 2 : 0);
  const given = headWords.length + tailWords.length;
  if (halves.length === 2) {
    if (given >= total) return undefined; // `::` stands for at least one zero group
    words.push(...(headWords as number[]), ...new Array<number>(total - given).fill(0), ...(tailWords as number[]));
  } else {
    if (given !== total) return undefined;
    words.push(...(headWords as number[]));
  }
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  if (v4) v4.copy(out, 12);
  return out;
}

/** bytesToIpv4 renders 4 bytes as dotted-quad text. */
export function bytesToIpv4(b: Buffer, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** bytesToIpv6 renders 16 bytes as RFC 5952 text (lower case, longest zero run compressed, `::ffff:a.b.c.d` for mapped IPv4), the form node reports for peers. */
export function bytesToIpv6(b: Buffer, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(b.readUInt16BE(offset + i * 2));
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `::ffff:${bytesToIpv4(b, offset + 12)}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}
