import { createPrivateKey, type KeyObject } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { passKdf } from './kdf.js';
import { ADVICE, sniffDer, type PemBlock } from './pem.js';
import { decryptPrivateKey } from './pfx.js';

function passphraseRequired(): MtlsError {
  const fact = 'The private key is encrypted';
  return new MtlsError('ERR_PASSPHRASE_REQUIRED', `${fact}: pass its passphrase as passphrase.`, { reason: { kind: 'passphrase-required', fact } });
}

/** Maps what OpenSSL says about a key into our codes; never echoes the input. */
function keyError(err: unknown, passphrase: string | undefined): MtlsError {
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : '';
  if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') return passphraseRequired();
  if (code === 'ERR_OSSL_BAD_DECRYPT' || /bad decrypt|wrong password/i.test(message)) {
    return passphrase === undefined
      ? passphraseRequired()
      : new MtlsError('ERR_BAD_PASSPHRASE', 'The passphrase does not decrypt the private key: check it (passphrases are case-sensitive).', { cause: err });
  }
  return new MtlsError(
    'ERR_MALFORMED_KEY',
    'The private key could not be read: it must be PKCS#8, PKCS#1 (RSA) or SEC1 (EC), as PEM or DER, optionally encrypted.',
    { cause: err },
  );
}

/**
 * An encrypted PKCS#8 key: its KDF's iteration count is read and bounded before any work (see
 * kdf.ts), as a PFX's.
 */
function encryptedPkcs8(der: Buffer, passphrase: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = decryptPrivateKey(der, passphrase, 'The encrypted private key');
  } catch (err) {
    passKdf(err);
    if (err instanceof MtlsError) throw err;
    throw keyError(err, passphrase);
  }
  if (key === undefined) throw keyError(Object.assign(new Error('bad decrypt'), { code: 'ERR_OSSL_BAD_DECRYPT' }), passphrase);
  return key;
}

/** A private key from one PEM block. */
export function keyFromPem(block: PemBlock, passphrase: string | undefined): KeyObject {
  if (block.encrypted && passphrase === undefined) throw passphraseRequired();
  if (block.label === 'ENCRYPTED PRIVATE KEY') return encryptedPkcs8(block.der, passphrase!);
  try {
    return createPrivateKey({ key: block.text, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
  } catch (err) {
    throw keyError(err, passphrase);
  }
}

/** A private key from DER bytes: PKCS#8 (plain or encrypted), PKCS#1 or SEC1. */
export function keyFromDer(der: Buffer, passphrase: string | undefined): KeyObject {
  const kind = sniffDer(der);
  if (kind === 'public-key') throw new MtlsError('ERR_NO_PRIVATE_KEY', ADVICE.publicKey);
  if (kind === 'certificate') {
    throw new MtlsError('ERR_NO_PRIVATE_KEY', 'The key input holds a certificate, not a private key: pass the private key file as key.');
  }
  if (kind === 'encrypted-private-key') {
    if (passphrase === undefined) throw passphraseRequired();
    return encryptedPkcs8(der, passphrase);
  }
  let last: unknown;
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch (err) {
      last = err;
    }
  }
  throw keyError(last, passphrase);
}

function big(field: string | undefined): bigint {
  return field === undefined || field === '' ? 0n : BigInt(`0x${Buffer.from(field, 'base64url').toString('hex')}`);
}

/**
 * An RSA key whose numbers do not hold together (OpenSSL's RSA_check_key, less the primality
 * tests) loads but fails at connect time (`ERR_SSL_NO_INVERSE`): refused at load instead. The
 * arithmetic on the key's own numbers costs microseconds; a test signature would cost a private-key
 * operation per load. The key is read, never exported anywhere.
 */
export function checkRsaKey(key: KeyObject): void {
  // rsa-pss keys (rare as client keys) have no JWK form in Node: not checked here.
  if (key.asymmetricKeyType !== 'rsa') return;
  let jwk: Record<string, string | undefined>;
  try {
    jwk = key.export({ format: 'jwk' }) as Record<string, string | undefined>;
  } catch {
    return; // no numbers to check (nothing more is known than at load)
  }
  const [n, e, d, p, q] = [big(jwk.n), big(jwk.e), big(jwk.d), big(jwk.p), big(jwk.q)];
  if (p === 0n || q === 0n) return; // a key without its primes: nothing to compare
  const fault =
    p <= 2n || q <= 2n || p % 2n === 0n || q % 2n === 0n ? 'a prime factor is 2 or even'
      : p * q !== n ? 'its modulus is not the product of its primes'
      : (e * d) % (p - 1n) !== 1n || (e * d) % (q - 1n) !== 1n ? 'its private exponent does not invert its public exponent'
      : jwk.dp !== undefined && big(jwk.dp) !== d % (p - 1n) ? 'its CRT exponent dP is wrong'
      : jwk.dq !== undefined && big(jwk.dq) !== d % (q - 1n) ? 'its CRT exponent dQ is wrong'
      : jwk.qi !== undefined && (big(jwk.qi) * q) % p !== 1n ? 'its CRT coefficient is wrong'
      : undefined;
  if (fault === undefined) return;
  throw new MtlsError(
    'ERR_MALFORMED_KEY',
    `The RSA private key fails its consistency check (${fault}): it cannot sign a TLS handshake. Use the key the certificate was issued for, or make a new key and certificate (openssl req -x509 -newkey rsa:2048 -nodes -keyout client.key -out client.crt -subj /CN=client).`,
  );
}
