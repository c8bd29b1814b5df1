import type { SecureContextOptions } from 'node:tls';
import type { Pkcs11Options } from './pkcs11.js';

/**
 * Where a client certificate comes from: one PEM with chain and key, a certificate and a key
 * (PEM or DER each), or a PKCS#12 file (.pfx/.p12); as bytes or as file paths. A `key` that is a
 * PKCS#11 URI (`pkcs11:token=...;object=...`, RFC 7512) is a key on a smart card, YubiKey, HSM or
 * TPM, with its `pin`; its certificate comes from `cert`/`certFile`, or from the token itself.
 */
export type CertificateSource = OneOf<
  | { pem: string | Uint8Array; passphrase?: string }
  | { cert: string | Uint8Array; key: string | Uint8Array; passphrase?: string; pin?: string }
  | { certFile: string; key: string; pin?: string }
  | { key: string; pin?: string }
  | { pfx: Uint8Array; passphrase?: string }
  | { pemFile: string; passphrase?: string }
  | { certFile: string; keyFile: string; passphrase?: string }
  | { pfxFile: string; passphrase?: string }
>;

type SourceKeys = 'pem' | 'cert' | 'key' | 'pfx' | 'pemFile' | 'certFile' | 'keyFile' | 'pfxFile' | 'passphrase' | 'pin';
/** Each form with the other forms' fields forbidden, so that `{ pemFile, keyFile }` does not compile. */
type OneOf<T> = T extends unknown ? T & { [K in Exclude<SourceKeys, keyof T>]?: never } : never;

/** Options of {@link loadCertificate}. */
export interface LoadOptions {
  /** The clock for `status` and `daysUntilExpiry`. Default: `new Date()`. */
  now?: Date;
  /** A certificate expiring within this many days is `'expiring-soon'`. Default: 30. */
  expiryWarningDays?: number;
  /** Larger input is refused with `ERR_INPUT_TOO_LARGE` before parsing. Default: 4 MiB. */
  maxInputBytes?: number;
  /**
   * The most key-derivation iterations one KDF of a PFX or an encrypted PKCS#8 key may ask for
   * (8 times this for all of a file's KDFs); more is refused with `ERR_TOO_MANY_ITERATIONS` before
   * any of them runs. Default: 1,000,000 (Windows uses 2,000, Java 10,000, OpenSSL 2,048).
   */
  maxIterations?: number;
  /** Where OpenSSL's pkcs11 engine and the token's module are, for a key given as a PKCS#11 URI. */
  pkcs11?: Pkcs11Options;
}

/** What one X.509 certificate says about itself. */
export interface CertificateSummary {
  /** Distinguished name, e.g. `C=US, O=ACME, CN=api client`. */
  subject: string;
  commonName?: string;
  issuer: string;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  serialNumber: string;
  /** `AB:CD:...`, as node's `X509Certificate` prints it. */
  fingerprint256: string;
  /** As `openssl x509 -ext subjectAltName` lists them: `DNS:api.acme.com`, `IP Address:10.0.0.7`. */
  subjectAltNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** `'rsa'`, `'ec'`, `'ed25519'`, `'rsa-pss'`, ... */
  keyType: string;
  selfSigned: boolean;
  /** True for a CA certificate (basicConstraints CA:TRUE). */
  isCA: boolean;
}

/** Validity at a given time: expired, not yet valid, expiring within the warning window, or valid. */
export type CertificateStatus = 'valid' | 'expiring-soon' | 'expired' | 'not-yet-valid';

/** TLS options that `tls.connect`, `https.request` and undici's `connect` accept as they are. */
export type TlsMaterial = FileKeyMaterial | TokenKeyMaterial;

/** A key in memory: the chain and the key as PEM. */
export interface FileKeyMaterial extends Pick<SecureContextOptions, 'cert' | 'key'> {
  cert: string;
  key: string;
  privateKeyEngine?: never;
  privateKeyIdentifier?: never;
}

/**
 * A key on a token: the chain as PEM, and the key named for OpenSSL's pkcs11 engine by its URI,
 * without the PIN (the load logged in to the token; the adapters hand the PIN over again for
 * each secure context they make, so they also work after the token's session ended).
 */
export interface TokenKeyMaterial extends Pick<SecureContextOptions, 'cert' | 'privateKeyEngine' | 'privateKeyIdentifier'> {
  cert: string;
  key?: never;
  privateKeyEngine: string;
  privateKeyIdentifier: string;
}

/**
 * A client certificate ready to use: the leaf's details, the chain, its status, and the TLS
 * material. `JSON.stringify` and `util.inspect` never show the key.
 */
export interface LoadedCertificate extends CertificateSummary {
  format: 'pem' | 'crt+key' | 'pfx' | 'pkcs11';
  /** For a key on a token: its URI without the PIN, and the token and object it names. */
  pkcs11?: { uri: string; token?: string; object?: string };
  /** Leaf first, then intermediates. */
  chain: CertificateSummary[];
  status: CertificateStatus;
  /** Whole days until `notAfter` (negative once expired). */
  daysUntilExpiry: number;
  /** Things that will not stop the load but that a user should know (chain reordered, expiring soon...). */
  warnings: string[];
  /** The chain (leaf first) and the private key as PEM strings, the key decrypted once here. */
  readonly tls: TlsMaterial;
}

/** Trusted CA certificates, from a PEM bundle (or one DER certificate). */
export interface CaBundle {
  certificates: CertificateSummary[];
  /** The certificates as one PEM string, for `tls` `ca`. */
  pem: string;
  warnings: string[];
}
