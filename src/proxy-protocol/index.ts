/**
 * The PROXY protocol (HAProxy's spec, v1 and v2): strict parsers, a socket
 * reader that takes exactly the header, the accepting listener's policy
 * (required from listed peers, refused from others), and encoders. A leaf folder: it
 * imports nothing from the gateway, so listeners, streams and tests share it.
 */
export { claimedSource, TLV, type ProxyCommand, type ProxyEndpoint, type ProxyHeader, type ProxyTlv, type ProxyTransport, type ProxyVersion } from './header.js';
export { ProxyProtocolError, type ProxyProtocolReason } from './errors.js';
export { parseV1, V1_MAX_BYTES, V1_PREFIX, type ParseResult } from './v1.js';
export { parseV2, V2_DEFAULT_MAX_BYTES, V2_SIGNATURE } from './v2.js';
export { parseProxyHeader, readProxyHeader, type ReadOptions } from './reader.js';
export { encodeV1, encodeV2, type EncodeInput } from './encode.js';
export { compileAcceptPolicy, startsWithHeader, type Accepted, type AcceptPolicy, type AcceptRefusal, type Refused } from './accept.js';
export { crc32c } from './crc32c.js';
