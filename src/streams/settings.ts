/**
 * A stream listener's settings, compiled once from its gateway.yaml entry
 * (durations in milliseconds), so the per-connection path reads numbers.
 */
import { parseDuration } from '../config/duration.js';
import type { StreamListenerDoc, StreamProtocol } from '../config/schema.js';

/** ListenerSettings are one listener's compiled settings. */
export interface ListenerSettings {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: StreamProtocol;
  readonly connectTimeoutMs: number;
  /** idleTimeoutMs closes a connection quiet in both directions this long (0 = never). */
  readonly idleTimeoutMs: number;
  readonly clientHelloTimeoutMs: number;
  readonly maxClientHello: number;
  /** maxConnections caps open connections (udp: sessions); 0 = no limit. */
  readonly maxConnections: number;
  readonly drainTimeoutMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly maxDatagramSize: number;
}

/** listenerSettings compiles one validated `streams.<name>` entry. */
export function listenerSettings(name: string, doc: StreamListenerDoc): ListenerSettings {
  return {
    name,
    host: doc.listen.host,
    port: doc.listen.port,
    protocol: doc.protocol,
    connectTimeoutMs: parseDuration(doc.connectTimeout),
    idleTimeoutMs: parseDuration(doc.idleTimeout),
    clientHelloTimeoutMs: parseDuration(doc.clientHelloTimeout),
    maxClientHello: doc.maxClientHello,
    maxConnections: doc.maxConnections,
    drainTimeoutMs: parseDuration(doc.drainTimeout),
    sessionIdleTimeoutMs: parseDuration(doc.sessionIdleTimeout),
    maxDatagramSize: doc.maxDatagramSize,
  };
}
