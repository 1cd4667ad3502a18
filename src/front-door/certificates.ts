/**
 * The front door's certificates: read from PEM files, indexed by server name
 * for SNI, and reloaded when the files change. A reload is all or nothing: a
 * new set replaces the old one only when every certificate and key loads and
 * matches, so a half-written or bad file never takes TLS down; the old set
 * keeps serving and the error is logged.
 */
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { GatewayDoc } from '../config/schema.js';

type TlsDoc = NonNullable<GatewayDoc['listen']['tls']>;

/** CertificateSource is one certificate/key file pair and the names it should answer. */
export interface CertificateSource {
  cert: string;
  key: string;
  /** hosts overrides the names read from the certificate. */
  hosts?: readonly string[];
}

/** certificateSources lists a `listen.tls` block's certificates, the default one first (paths resolved against baseDir). */
export function certificateSources(doc: TlsDoc, baseDir: string): CertificateSource[] {
  const out: CertificateSource[] = [];
  const file = (p: string) => resolve(baseDir, p);
  if (doc.cert !== undefined || doc.key !== undefined) {
    if (doc.cert === undefined || doc.key === undefined) throw new Error('listen.tls: `cert` and `key` go together');
    out.push({ cert: file(doc.cert), key: file(doc.key) });
  }
  for (const c of doc.certificates ?? []) out.push({ cert: file(c.cert), key: file(c.key), ...(c.hosts ? { hosts: c.hosts } : {}) });
  for (const [name, c] of Object.entries(doc.sni ?? {})) out.push({ cert: file(c.cert), key: file(c.key), hosts: [name] });
  if (out.length === 0) throw new Error('listen.tls: no certificate; set `cert` and `key`, or `certificates`');
  return out;
}

/** LoadedCertificate is one certificate ready to serve. */
export interface LoadedCertificate {
  readonly source: CertificateSource;
  readonly context: SecureContext;
  /** pem holds the raw files, for setSecureContext and change detection. */
  readonly pem: { cert: Buffer; key: Buffer };
  /** names are the lower-case server names it answers ("*.example.com" for a wildcard). */
  readonly names: readonly string[];
  /** ips are the IP addresses of its subjectAltName (redirect hosts; SNI never carries IPs). */
  readonly ips: readonly string[];
  readonly notAfter: Date;
  readonly fingerprint: string;
}

/** namesOf reads the DNS names (or the CN when there are none) and IP addresses of a certificate. */
export function namesOf(x509: X509Certificate): { names: string[]; ips: string[] } {
  const names: string[] = [];
  const ips: string[] = [];
  for (const entry of (x509.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase());
    else if (entry.startsWith('IP Address:')) ips.push(entry.slice(11).toLowerCase());
  }
  if (names.length === 0) {
    const cn = /^CN=(.+)$/m.exec(x509.subject);
    if (cn) names.push(cn[1]!.trim().toLowerCase());
  }
  return { names, ips };
}

async function loadOne(source: CertificateSource, minVersion: string): Promise<LoadedCertificate> {
  const [cert, key] = await Promise.all([readFile(source.cert), readFile(source.key)]);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${source.cert}: not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`${source.key}: not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`${source.key} does not belong to the certificate in ${source.cert}`);
  const context = createSecureContext({ cert, key, minVersion: minVersion as 'TLSv1.2' });
  const found = namesOf(x509);
  const names = source.hosts ? source.hosts.map((h) => h.toLowerCase()) : found.names;
  return { source, context, pem: { cert, key }, names, ips: found.ips, notAfter: new Date(x509.validTo), fingerprint: x509.fingerprint256 };
}

/** EXPIRY_WARNING is how close to its end a certificate gets a warning at each (re)load. */
const EXPIRY_WARNING_MS = 14 * 24 * 3600 * 1000;

/**
 * CertificateSet is one loaded, immutable set of certificates with its SNI
 * index. An exact name beats a wildcard; the first certificate listed for a
 * name wins; the first certificate is the default.
 */
export class CertificateSet {
  private readonly exact = new Map<string, LoadedCertificate>();
  /** wildcard maps ".example.com" (from "*.example.com") to its certificate; a wildcard covers exactly one label. */
  private readonly wildcard = new Map<string, LoadedCertificate>();

  private constructor(readonly certificates: readonly LoadedCertificate[]) {
    for (const c of certificates) {
      for (const n of c.names) {
        if (n.startsWith('*.')) {
          if (!this.wildcard.has(n.slice(1))) this.wildcard.set(n.slice(1), c);
        } else if (!this.exact.has(n)) this.exact.set(n, c);
      }
    }
  }

  /** load reads every source; rejects with the first problem, naming the file. */
  static async load(sources: readonly CertificateSource[], minVersion: string): Promise<CertificateSet> {
    return new CertificateSet(await Promise.all(sources.map((s) => loadOne(s, minVersion))));
  }

  /** default is the certificate for clients without SNI or with an unknown name. */
  get default(): LoadedCertificate {
    return this.certificates[0]!;
  }

  /** pick returns the certificate for an SNI server name. */
  pick(servername: string): LoadedCertificate {
    const name = servername.toLowerCase();
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return (dot > 0 ? this.wildcard.get(name.slice(dot)) : undefined) ?? this.default;
  }

  /** covers tells whether a host (lower-case, no port) is one of the certificates' names or IPs. */
  covers(host: string): boolean {
    if (this.exact.has(host)) return true;
    const dot = host.indexOf('.');
    if (dot > 0 && this.wildcard.has(host.slice(dot))) return true;
    const bare = host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host;
    return this.certificates.some((c) => c.ips.includes(bare));
  }

  /** sameFiles tells whether freshly read files are byte-identical to this set's. */
  sameFiles(files: ReadonlyArray<{ cert: Buffer; key: Buffer }>): boolean {
    return files.length === this.certificates.length && files.every((f, i) => f.cert.equals(this.certificates[i]!.pem.cert) && f.key.equals(this.certificates[i]!.pem.key));
  }

  /** describe summarizes the set for logs. */
  describe(): Array<{ cert: string; names: readonly string[]; notAfter: string }> {
    return this.certificates.map((c) => ({ cert: c.source.cert, names: c.names, notAfter: c.notAfter.toISOString() }));
  }

  /** warnExpiring logs certificates that expired or expire soon. */
  warnExpiring(log: Logger, now = Date.now()): void {
    for (const c of this.certificates) {
      const left = c.notAfter.getTime() - now;
      if (left <= 0) log.error({ cert: c.source.cert, notAfter: c.notAfter.toISOString() }, 'TLS certificate has expired');
      else if (left < EXPIRY_WARNING_MS) log.warn({ cert: c.source.cert, notAfter: c.notAfter.toISOString() }, 'TLS certificate expires soon');
    }
  }
}

/** CertificateWatchOptions says how a set is kept fresh. */
export interface CertificateWatchOptions {
  sources: readonly CertificateSource[];
  minVersion: string;
  log: Logger;
  /** debounceMs is the quiet time after a file event before re-reading (editors and renewers write in steps). */
  debounceMs: number;
  /** recheckMs re-reads the files this often in case an event was missed (0 = never). */
  recheckMs: number;
  /** onChange receives a new, fully loaded set. */
  onChange(set: CertificateSet): void;
}

/**
 * watchCertificates re-reads the certificate files after a change to their
 * directories (directories, not files: renewers replace files by rename, and
 * Kubernetes swaps a `..data` symlink) and periodically; a set whose files
 * differ is loaded and handed to onChange, or rejected and logged. Returns
 * `check` (reload now) and `stop`.
 */
export function watchCertificates(current: CertificateSet, opts: CertificateWatchOptions): { check(): Promise<boolean>; stop(): void } {
  let set = current;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let again = false;
  const check = async (): Promise<boolean> => {
    let files;
    try {
      files = await Promise.all(opts.sources.map(async (s) => ({ cert: await readFile(s.cert), key: await readFile(s.key) })));
    } catch (err) {
      opts.log.error({ err: (err as Error).message }, 'TLS certificate reload failed; the previous certificates keep serving');
      return false;
    }
    if (set.sameFiles(files)) return false;
    try {
      const next = await CertificateSet.load(opts.sources, opts.minVersion);
      set = next;
      opts.onChange(next);
      opts.log.info({ certificates: next.describe() }, 'TLS certificates reloaded');
      next.warnExpiring(opts.log);
      return true;
    } catch (err) {
      opts.log.error({ err: (err as Error).message }, 'TLS certificate reload failed; the previous certificates keep serving');
      return false;
    }
  };
  // One check at a time; a change during a check runs one more after it.
  const serialized = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = check().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void serialized();
      }
    });
    return running;
  };
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void serialized(), opts.debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(opts.sources.flatMap((s) => [dirname(s.cert), dirname(s.key)]))) {
    try {
      const w = watch(dir, { persistent: false }, kick);
      w.on('error', (err) => opts.log.warn({ err, dir }, 'certificate watch failed; relying on the periodic recheck'));
      watchers.push(w);
    } catch (err) {
      opts.log.warn({ err, dir }, 'cannot watch the certificate directory; relying on the periodic recheck');
    }
  }
  const interval = opts.recheckMs > 0 ? setInterval(() => void serialized(), opts.recheckMs) : undefined;
  interval?.unref();
  return {
    check: serialized,
    stop() {
      clearTimeout(timer);
      clearInterval(interval);
      for (const w of watchers) w.close();
    },
  };
}
