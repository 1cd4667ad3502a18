/**
 * Reading the server name (SNI) of a TLS ClientHello without decrypting
 * anything: the ClientHello is the first handshake message and travels in
 * clear. It may be split over several TLS records (and TCP segments), so the
 * parser is fed the bytes read so far and says whether it needs more; the
 * caller bounds how many it reads (maxClientHello) and for how long.
 * Everything is length-checked: a malformed hello is refused, never guessed at.
 */

/** HelloResult is what the bytes read so far tell. */
export type HelloResult = { kind: 'more' } | { kind: 'done'; sni: string | undefined } | { kind: 'invalid'; reason: string };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_HOST = 0x00;
const MORE: HelloResult = { kind: 'more' };

const invalid = (reason: string): HelloResult => ({ kind: 'invalid', reason });

/**
 * parseClientHello reads TLS records from the start of `data` (the first bytes
 * a client sent), joins their handshake fragments, and once the whole
 * ClientHello is there returns its host_name, lowercased (undefined when the
 * client sent none).
 */
export function parseClientHello(data: Buffer): HelloResult {
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1; // total handshake bytes (4-byte header + body), once the header is known
  let off = 0;
  while (off + 5 <= data.length) {
    if (data[off] !== RECORD_HANDSHAKE) return invalid(off === 0 ? 'not a TLS handshake' : 'a non-handshake record inside the ClientHello');
    if (data[off + 1] !== 0x03) return invalid('unknown TLS record version');
    const len = data.readUInt16BE(off + 3);
    if (len === 0) return invalid('empty handshake record');
    if (off + 5 + len > data.length) {
      fragments.push(data.subarray(off + 5));
      have += data.length - off - 5;
      off = data.length;
      break;
    }
    fragments.push(data.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) need = handshakeLength(fragments);
    if (need >= 0 && have >= need) break;
  }
  if (off === 0 && data.length > 0) {
    // Fewer than 5 bytes: still check what is there, so a plain-text client is refused at once.
    if (data[0] !== RECORD_HANDSHAKE) return invalid('not a TLS handshake');
    return MORE;
  }
  if (need < 0 && have >= 4) need = handshakeLength(fragments);
  if (need < 0 || have < need) {
    const head = Buffer.concat(fragments);
    if (head.length >= 1 && head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('the first handshake message is not a ClientHello');
    return MORE;
  }
  const hs = Buffer.concat(fragments).subarray(0, need);
  if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('the first handshake message is not a ClientHello');
  return serverName(hs.subarray(4));
}

/** handshakeLength is the handshake message's total length (header included) from the fragments' first 4 bytes. */
function handshakeLength(fragments: Buffer[]): number {
  const head = Buffer.concat(fragments).subarray(0, 4);
  return 4 + head.readUIntBE(1, 3);
}

/** serverName walks a ClientHello body to its server_name extension. */
function serverName(body: Buffer): HelloResult {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > body.length) return invalid('truncated ClientHello');
  p += 1 + body[p]!; // session id
  if (p + 2 > body.length) return invalid('truncated ClientHello');
  p += 2 + body.readUInt16BE(p); // cipher suites
  if (p + 1 > body.length) return invalid('truncated ClientHello');
  p += 1 + body[p]!; // compression methods
  if (p === body.length) return { kind: 'done', sni: undefined }; // no extensions at all
  if (p + 2 > body.length) return invalid('truncated ClientHello');
  const end = p + 2 + body.readUInt16BE(p);
  if (end > body.length) return invalid('extensions overrun the ClientHello');
  p += 2;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return invalid('an extension overruns the ClientHello');
    if (type === EXT_SERVER_NAME) return hostName(body.subarray(p, p + len));
    p += len;
  }
  return { kind: 'done', sni: undefined };
}

/** hostName reads the host_name entry of a server_name extension (RFC 6066 §3). */
function hostName(ext: Buffer): HelloResult {
  if (ext.length < 2) return invalid('truncated server_name');
  const end = 2 + ext.readUInt16BE(0);
  if (end > ext.length) return invalid('server_name list overruns its extension');
  let p = 2;
  while (p + 3 <= end) {
    const type = ext[p]!;
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > end) return invalid('a server name overruns its list');
    if (type === NAME_HOST) {
      const name = ext.subarray(p, p + len).toString('latin1');
      // RFC 6066: a DNS name in ASCII, no trailing dot; anything else is not a name a route can claim.
      if (!/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(name)) return invalid('server name is not a DNS name');
      return { kind: 'done', sni: name.toLowerCase() };
    }
    p += len;
  }
  return { kind: 'done', sni: undefined };
}
