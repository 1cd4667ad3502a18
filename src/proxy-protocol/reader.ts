/**
 * readProxyHeader reads the PROXY protocol header off a fresh socket before
 * anything else (HTTP parser, TLS server, stream splice) sees it. It reads
 * exactly the header: bytes after it that arrived in the same chunk are
 * unshifted back onto the socket for the next consumer (node's TLS server
 * and HTTP parser both pick up unshifted data). It gives up after a timeout
 * and refuses a header over its size cap, so a silent or hostile peer costs
 * one bounded buffer for a bounded time.
 */
import type { Socket } from 'node:net';
import { ProxyProtocolError } from './errors.js';
import type { ProxyHeader, ProxyVersion } from './header.js';
import { parseV1, V1_MAX_BYTES, V1_PREFIX, type ParseResult } from './v1.js';
import { parseV2, V2_DEFAULT_MAX_BYTES, V2_SIGNATURE } from './v2.js';

/** ReadOptions are the listener's accepted versions, deadline and size cap. */
export interface ReadOptions {
  /** versions accepted; a well-formed header of another version is refused with reason `version`. Default both. */
  readonly versions?: readonly ProxyVersion[];
  /** timeoutMs is how long the whole header may take to arrive. Default 3000 (HAProxy's `timeout client` is often shorter; 3 s tolerates a loaded balancer). */
  readonly timeoutMs?: number;
  /** maxBytes caps a v2 header. Default 4096. */
  readonly maxBytes?: number;
}

/** detect tells which version the first bytes can still become, or throws when neither. */
function detect(buf: Buffer): ProxyVersion | undefined {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  const v2 = buf.compare(V2_SIGNATURE, 0, n, 0, n) === 0;
  const m = Math.min(buf.length, V1_PREFIX.length);
  const v1 = buf.compare(V1_PREFIX, 0, m, 0, m) === 0;
  if (v2 && n === V2_SIGNATURE.length) return 'v2';
  if (v1 && m === V1_PREFIX.length) return 'v1';
  if (!v1 && !v2) throw new ProxyProtocolError('malformed', 'the connection does not start with a PROXY protocol header');
  return undefined;
}

/**
 * parseProxyHeader parses a header at the start of `buf` (both versions):
 * the result, undefined when more bytes are needed, or a thrown
 * ProxyProtocolError. The version check comes after the version is known, so
 * `reason` tells "wrong version" apart from "not a header".
 */
export function parseProxyHeader(buf: Buffer, options: ReadOptions = {}): ParseResult | undefined {
  const version = detect(buf);
  if (version === undefined) return undefined;
  const versions = options.versions ?? ['v1', 'v2'];
  if (!versions.includes(version)) throw new ProxyProtocolError('version', `PROXY protocol ${version} is not accepted here`);
  return version === 'v1' ? parseV1(buf) : parseV2(buf, options.maxBytes ?? V2_DEFAULT_MAX_BYTES);
}

/**
 * readProxyHeader resolves with the header once it is complete (the socket is
 * then paused, with any following bytes unshifted: the next consumer resumes
 * it or reads it) or rejects with a ProxyProtocolError; on rejection the
 * caller closes the socket.
 */
export function readProxyHeader(socket: Socket, options: ReadOptions = {}): Promise<ProxyHeader> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const cap = Math.max(V1_MAX_BYTES, options.maxBytes ?? V2_DEFAULT_MAX_BYTES);
  return new Promise<ProxyHeader>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ProxyProtocolError('timeout', `no complete PROXY protocol header within ${timeoutMs} ms`)), timeoutMs);
    const finish = (result: ProxyHeader | ProxyProtocolError, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      socket.pause();
      if (result instanceof ProxyProtocolError) return reject(result);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        const parsed = parseProxyHeader(buf, options);
        if (parsed) return finish(parsed.header, buf.subarray(parsed.length));
        if (buf.length > cap) finish(new ProxyProtocolError('oversize', `PROXY protocol header longer than ${cap} bytes`));
      } catch (err) {
        finish(err instanceof ProxyProtocolError ? err : new ProxyProtocolError('malformed', String(err), { cause: err }));
      }
    };
    const onEnd = (): void =>
      finish(buf.length === 0 ? new ProxyProtocolError('empty', 'the peer closed without sending anything') : new ProxyProtocolError('closed', 'the peer closed before the PROXY protocol header was complete'));
    const onError = (err: Error): void =>
      finish(new ProxyProtocolError(buf.length === 0 ? 'empty' : 'closed', `the socket failed before the PROXY protocol header was complete: ${err.message}`, { cause: err }));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}
