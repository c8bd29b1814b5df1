import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { MtlsError } from '../errors.js';
import { DEFAULT_MAX_INPUT_BYTES } from './input.js';
import { DEFAULT_EXPIRY_WARNING_DAYS, isSelfSigned, nameOf, orderChain, statusAt, statusWarnings, summarize } from './metadata.js';
import { DEFAULT_MAX_ITERATIONS, boundedAsync, boundedSync } from './kdf.js';
import { collect, readFiles, type Material } from './collect.js';
import { extendedKeyUsage } from './extensions.js';
import { checkRsaKey } from './key.js';
import { isPkcs11Uri } from './pkcs11.js';
import type { CertificateSource, CertificateStatus, CertificateSummary, LoadOptions, LoadedCertificate, TlsMaterial } from './types.js';

export interface ResolvedLoadOptions {
  now: Date;
  expiryWarningDays: number;
  maxInputBytes: number;
  maxIterations: number;
}

export function resolveOptions(options: LoadOptions): ResolvedLoadOptions {
  const { now = new Date(), expiryWarningDays = DEFAULT_EXPIRY_WARNING_DAYS, maxInputBytes = DEFAULT_MAX_INPUT_BYTES, maxIterations = DEFAULT_MAX_ITERATIONS } = options;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new MtlsError('ERR_INVALID_OPTION', 'The option now must be a valid Date.');
  if (!Number.isFinite(expiryWarningDays) || expiryWarningDays < 0) {
    throw new MtlsError('ERR_INVALID_OPTION', 'The option expiryWarningDays must be a number of days, 0 or more.');
  }
  if (!Number.isInteger(maxInputBytes) || maxInputBytes <= 0) {
    throw new MtlsError('ERR_INVALID_OPTION', 'The option maxInputBytes must be a positive whole number of bytes.');
  }
  if (!Number.isSafeInteger(maxIterations) || maxIterations <= 0) {
    throw new MtlsError('ERR_INVALID_OPTION', 'The option maxIterations must be a positive whole number (key-derivation iterations of a PFX or encrypted key).');
  }
  return { now, expiryWarningDays, maxInputBytes, maxIterations };
}

function describeKey(key: KeyObject): string {
  return key.asymmetricKeyType ?? 'unknown';
}

/** A key's public half as SPKI DER (base64), the same for a private key and its certificate's key. */
function spkiOf(key: KeyObject): string | undefined {
  try {
    return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    return undefined;
  }
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** Finds the leaf (the certificate the key belongs to) and its key. */
/** Key types that cannot sign a TLS handshake. */
const NON_SIGNING = new Set(['x25519', 'x448', 'dh', 'dhx']);

function pair(m: Material): { leaf: X509Certificate; key: KeyObject } {
  if (m.certificates.length === 0) {
    throw new MtlsError(
      'ERR_NO_CERTIFICATE',
      m.keys.length > 0
        ? 'The input holds a private key but no certificate: add the certificate (and its chain) to the PEM, or pass cert and key separately.'
        : 'The input holds no certificate.',
    );
  }
  if (m.keys.length === 0) {
    throw (
      m.noKeyReason ??
      new MtlsError(
        'ERR_NO_PRIVATE_KEY',
        m.format === 'pfx'
          ? 'The PFX/P12 file holds no private key: export it again with its key (openssl pkcs12 -export -inkey key.pem -in cert.pem).'
          : 'The input holds certificates but no private key: add the key to the PEM, or pass cert and key separately.',
      )
    );
  }
  // A key that only agrees keys cannot sign the handshake's CertificateVerify: TLS would fail at
  // connect time (ERR_SSL_UNKNOWN_CERTIFICATE_TYPE); say it now.
  const signing = m.keys.filter((k) => !NON_SIGNING.has(k.asymmetricKeyType ?? ''));
  if (signing.length === 0) {
    const type: string = m.keys[0]!.asymmetricKeyType ?? 'unknown';
    throw new MtlsError('ERR_UNSUPPORTED_FORMAT', `The private key is ${type === 'dh' || type === 'dhx' ? 'a Diffie-Hellman' : `an ${type.toUpperCase()}`} key, which can agree on keys but not sign: a TLS client certificate needs a key that signs (RSA, EC P-256/P-384/P-521, Ed25519 or Ed448). Make one, e.g. openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.crt -subj /CN=client.`);
  }
  // Each certificate's public key once, then each key looked up: linear in their numbers (every
  // pair compared took 23 s for a MiB of certificates and unrelated keys). The first key in input
  // order that has a certificate wins, with the first such certificate, as before.
  const byPublicKey = new Map<string, X509Certificate>();
  for (const cert of m.certificates) {
    const spki = spkiOf(cert.publicKey);
    if (spki !== undefined && !byPublicKey.has(spki)) byPublicKey.set(spki, cert);
  }
  for (const key of m.keys) {
    const spki = spkiOf(key);
    const cert = spki === undefined ? undefined : byPublicKey.get(spki);
    if (cert !== undefined && matches(cert, key)) return { leaf: cert, key };
  }
  // A public key written in another form (EC parameters spelled out): compared pair by pair, for the few keys a real file holds.
  if (m.keys.length * m.certificates.length <= 64) {
    for (const key of m.keys) {
      for (const cert of m.certificates) {
        if (matches(cert, key)) return { leaf: cert, key };
      }
    }
  }
  const cert = m.certificates.find((c) => !c.ca) ?? m.certificates[0]!;
  const key = m.keys[0]!;
  const certType = cert.publicKey.asymmetricKeyType ?? 'unknown';
  throw new MtlsError(
    'ERR_KEY_MISMATCH',
    `The private key (${describeKey(key)}) does not belong to the certificate ${JSON.stringify(nameOf(cert, 'subject'))} (${certType} key)${certType === describeKey(key) ? '' : ': they are not even the same key type'}. Pair the certificate with the key it was issued for: \`openssl x509 -noout -pubkey -in cert.pem\` and \`openssl pkey -pubout -in key.pem\` must print the same public key.`,
  );
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

function warningsFor(leaf: X509Certificate, status: CertificateStatus, days: number, notAfter: Date, notBefore: Date): string[] {
  const w = statusWarnings(status, days, notBefore, notAfter);
  // Read from the certificate itself: X509Certificate.keyUsage is the extended key usage on Node
  // but the key usage on Deno, which made every certificate "not issued for client authentication".
  const eku = extendedKeyUsage(leaf.raw);
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) {
    w.push('The certificate is not issued for client authentication (its extended key usage lacks clientAuth): servers may refuse it.');
  }
  if (isSelfSigned(leaf)) w.push('The certificate is self-signed: the server must trust this very certificate.');
  return w;
}

export class Loaded implements LoadedCertificate {
  format!: LoadedCertificate['format'];
  declare pkcs11?: LoadedCertificate['pkcs11'];
  subject!: string;
  commonName?: string;
  issuer!: string;
  serialNumber!: string;
  fingerprint256!: string;
  subjectAltNames!: string[];
  notBefore!: Date;
  notAfter!: Date;
  keyType!: string;
  selfSigned!: boolean;
  isCA!: boolean;
  chain!: CertificateSummary[];
  status!: CertificateStatus;
  daysUntilExpiry!: number;
  warnings!: string[];
  readonly #tls: TlsMaterial;

  constructor(fields: Omit<LoadedCertificate, 'tls'>, tls: TlsMaterial) {
    Object.assign(this, fields);
    this.#tls = Object.freeze({ ...tls });
  }

  /** The chain (leaf first) and the decrypted private key as PEM; never serialised. */
  get tls(): TlsMaterial {
    return this.#tls;
  }

  // Keeps the key out of util.inspect even with showHidden, and names the object.
  [inspect.custom](depth: number, options: object): string {
    const { ...fields } = this;
    return `LoadedCertificate ${inspect(fields, { ...options, depth: depth - 1 })}`;
  }
}

/**
 * Loads a client certificate and its private key from PEM, CRT + KEY (PEM or DER each) or
 * PKCS#12, checks that the key belongs to the certificate, puts the chain leaf first and reports
 * validity against `now`. The key is decrypted once, here; `tls` holds it as PEM for node's TLS.
 *
 * @throws {MtlsError} `ERR_PASSPHRASE_REQUIRED`, `ERR_BAD_PASSPHRASE`, `ERR_NO_CERTIFICATE`,
 *   `ERR_NO_PRIVATE_KEY`, `ERR_KEY_MISMATCH`, `ERR_MALFORMED_CERTIFICATE`, `ERR_MALFORMED_KEY`,
 *   `ERR_MALFORMED_PFX`, `ERR_UNSUPPORTED_FORMAT`, `ERR_FILE_READ`, `ERR_INPUT_TOO_LARGE`,
 *   `ERR_INVALID_OPTION`. Messages never contain the passphrase or key material.
 * @example
 * ```ts
 * const cert = await loadCertificate({ pfxFile: './client.p12', passphrase: process.env.P12_PASS });
 * console.log(cert.commonName, cert.status, cert.daysUntilExpiry, cert.warnings);
 * tls.connect({ host, port, ...cert.tls });
 * ```
 */
export async function loadCertificate(source: CertificateSource, options: LoadOptions = {}): Promise<LoadedCertificate> {
  const o = resolveOptions(options);
  const key = (source as { key?: unknown } | null)?.key;
  if (isPkcs11Uri(key)) {
    // A key on a token: its own path, loaded only when used (no engine code otherwise).
    const { loadFromToken } = await import('./token.js');
    return loadFromToken(source as Parameters<typeof loadFromToken>[0], o, options.pkcs11);
  }
  // Files read once: a load with a long KDF runs again after it (see kdf.ts), on the same bytes.
  const inMemory = readFiles(source, o.maxInputBytes);
  return boundedAsync(o.maxIterations, () => loadResolved(inMemory, o));
}

/**
 * {@link loadCertificate}, synchronously (every step is): what a lazy certificate runs at first
 * use. Its key derivations are bounded all the same, but run on the calling thread.
 */
export function loadNow(source: CertificateSource, options: LoadOptions = {}): LoadedCertificate {
  const o = resolveOptions(options);
  return boundedSync(o.maxIterations, () => loadResolved(source, o));
}

function loadResolved(source: CertificateSource, o: ResolvedLoadOptions): LoadedCertificate {
  const material = collect(source, o);
  const { leaf, key } = pair(material);
  checkRsaKey(key);
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  return finishLoad(material.format, leaf, material.certificates, o, (cert) => ({ cert, key: keyPem }));
}

/**
 * The loaded certificate from its leaf and the certificates that came with it: the chain put in
 * order, the leaf's facts, status and warnings, and the TLS material `tlsOf` makes from the chain.
 */
export function finishLoad(
  format: LoadedCertificate['format'],
  leaf: X509Certificate,
  certificates: X509Certificate[],
  o: ResolvedLoadOptions,
  tlsOf: (chainPem: string) => TlsMaterial,
  extra: { warnings?: string[]; pkcs11?: LoadedCertificate['pkcs11'] } = {},
): Loaded {
  const { chain, reordered, unrelated } = orderChain(leaf, certificates);
  const summary = summarize(leaf);
  const { status, daysUntilExpiry } = statusAt(summary.notBefore, summary.notAfter, o.now, o.expiryWarningDays);
  const warnings = warningsFor(leaf, status, daysUntilExpiry, summary.notAfter, summary.notBefore);
  if (chain.length === 1 && !isSelfSigned(leaf)) {
    warnings.push(
      `The certificate's issuer (${JSON.stringify(nameOf(leaf, 'issuer'))}) is not in the input: most servers need the intermediate certificates sent with it and refuse it without them (alert unknown_ca). Add them after the certificate (a PEM with the chain, or a PFX exported with -certfile chain.pem), unless its issuer is a root the server itself trusts.`,
    );
  }
  if (reordered) warnings.push('The certificate chain was out of order; it has been put leaf first, each certificate followed by its issuer.');
  if (unrelated.length > 0) {
    warnings.push(
      `${unrelated.length} certificate(s) in the input are not part of the client certificate's chain and are not sent: ${unrelated
        .slice(0, 5)
        .map((c) => JSON.stringify(nameOf(c, 'subject')))
        .join('; ')}${unrelated.length > 5 ? ` and ${unrelated.length - 5} more` : ''}.`,
    );
  }
  warnings.push(...(extra.warnings ?? []));
  const tls = tlsOf(chain.map((c) => c.toString()).join(''));
  return new Loaded({ format, ...summary, chain: chain.map(summarize), status, daysUntilExpiry, warnings, ...(extra.pkcs11 === undefined ? {} : { pkcs11: extra.pkcs11 }) }, tls);
}
