/**
 * TLS towards upstreams: verification is always on unless a pool turns it off;
 * `tls.ca` names a PEM file (relative to gateway.yaml) read once at load.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { UpstreamDoc } from '../config/schema.js';

/** UpstreamTls is a pool's TLS settings with the CA bundle read. */
export interface UpstreamTls {
  verify: boolean;
  ca?: Buffer;
  servername?: string;
}

/** upstreamTls reads a pool's tls block; throws when the CA file cannot be read. */
export function upstreamTls(doc: UpstreamDoc, baseDir: string): UpstreamTls {
  const tls = doc.tls;
  return {
    verify: tls?.verify ?? true,
    ...(tls?.ca ? { ca: readFileSync(resolve(baseDir, tls.ca)) } : {}),
    ...(tls?.servername ? { servername: tls.servername } : {}),
  };
}
