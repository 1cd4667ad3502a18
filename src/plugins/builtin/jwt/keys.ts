/**
 * The jwt plugin's verification key, resolved once at load from exactly one
 * source. Algorithm confusion is ruled out here, by construction: an HMAC
 * secret only ever verifies HS* tokens, a public key only the algorithms its
 * type and curve can produce, and a JWKS only asymmetric ones. A
 * configuration that mixes them does not load.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HMAC_ALGORITHMS, type Algorithm, type JwtOptions } from './schema.js';

/** KeySource is where tokens are verified against: one key known at load, or a JWKS endpoint. */
export type KeySource = { kind: 'static'; key: KeyObject } | { kind: 'jwks'; uri: string };

const isHmac = (a: Algorithm): boolean => (HMAC_ALGORITHMS as readonly string[]).includes(a);

/** HMAC_MIN_BYTES is the shortest secret per HMAC algorithm: as long as the hash output (RFC 7518 §3.2). */
const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

/** EC_CURVES maps each ECDSA algorithm to the only curve it is defined on (RFC 7518 §3.4). */
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** MIN_RSA_BITS is the shortest RSA modulus accepted. */
const MIN_RSA_BITS = 2048;

/** resolveKeySource picks and checks the key source; throws an Error naming the problem (reported at the options' file:line). */
export function resolveKeySource(opts: JwtOptions, baseDir: string): KeySource {
  const given = (['secret', 'publicKey', 'publicKeyFile', 'jwksUri'] as const).filter((k) => opts[k] !== undefined);
  if (given.length !== 1) {
    throw new Error(given.length === 0 ? 'give one key source: secret, publicKey, publicKeyFile or jwksUri' : `give exactly one key source, not ${given.join(' and ')}`);
  }
  const algs = opts.algorithms as Algorithm[];
  const hmac = algs.filter(isHmac);
  const asym = algs.filter((a) => !isHmac(a));

  if (opts.secret !== undefined) {
    if (asym.length > 0) throw new Error(`a secret verifies only HS256/HS384/HS512; a public key or jwksUri is required for ${asym.join(', ')} (mixing them would allow key confusion)`);
    const bytes = Buffer.from(opts.secret, opts.secretEncoding);
    const need = Math.max(...hmac.map((a) => HMAC_MIN_BYTES[a]!));
    if (bytes.length < need) throw new Error(`the secret is ${bytes.length} bytes; ${hmac.join(', ')} requires at least ${need}`);
    return { kind: 'static', key: createSecretKey(bytes) };
  }

  if (hmac.length > 0) throw new Error(`a secret is required for ${hmac.join(', ')}; a public key or JWKS verifies only RS*, PS* and ES* (mixing them would allow key confusion)`);

  if (opts.jwksUri !== undefined) return { kind: 'jwks', uri: opts.jwksUri };

  let pem: string;
  if (opts.publicKey !== undefined) pem = opts.publicKey;
  else {
    const file = resolve(baseDir, opts.publicKeyFile!);
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read publicKeyFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  if (/PRIVATE KEY-----/.test(pem)) throw new Error('the key is a private key: give the public key only (the gateway never needs the private one)');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`the public key is not a valid PEM public key: ${(err as Error).message}`, { cause: err });
  }
  checkAsymmetric(key, asym);
  return { kind: 'static', key };
}

/** checkAsymmetric throws when an algorithm cannot be produced by the key's type (or curve). */
function checkAsymmetric(key: KeyObject, algs: Algorithm[]): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  const misfit = (why: string, bad: Algorithm[]) => {
    if (bad.length > 0) throw new Error(`${bad.join(', ')} cannot be verified with this key: ${why}`);
  };
  switch (type) {
    case 'rsa':
      misfit('it is an RSA key (RS* or PS*)', algs.filter((a) => a.startsWith('ES')));
      break;
    case 'rsa-pss':
      misfit('it is an RSA-PSS key (PS* only)', algs.filter((a) => !a.startsWith('PS')));
      break;
    case 'ec':
      misfit(
        `it is an EC key on ${details?.namedCurve ?? 'an unknown curve'}`,
        algs.filter((a) => EC_CURVES[a] !== details?.namedCurve),
      );
      break;
    default:
      throw new Error(`unsupported key type ${type ?? 'unknown'} (use an RSA or EC P-256/P-384/P-521 key)`);
  }
  if ((type === 'rsa' || type === 'rsa-pss') && (details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new Error(`the RSA key has ${details?.modulusLength} bits; at least ${MIN_RSA_BITS} are required`);
  }
}
