// A certificate loaded at first use: what a large store holds (readConfig's `lazy`). Its dates and
// fingerprint are read from the DER up front (R6, expiry events and the store's identity need
// them); everything else, the key included, is parsed the first time it is read. Given a way to
// read its input again (a config's files), it keeps nothing of the input until then.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { IS_LOADED, LOAD_NOW, type Deferred } from './deferred.js';
import { keyFromDer } from './key.js';
import { loadNow, resolveOptions } from './load.js';
import { asBytes, asText, looksLikePem, parsePem } from './pem.js';
import { statusAt } from './metadata.js';
import { formatFingerprint, previewCertificate } from './preview.js';
import type { CertificateStatus, CertificateSummary, LoadOptions, LoadedCertificate, TlsMaterial } from './types.js';

/** The in-memory sources a lazy certificate takes (PFX is not one: its dates are encrypted). */
export type DeferrableSource = { pem: string | Uint8Array; passphrase?: string } | { cert: string | Uint8Array; key: string | Uint8Array; passphrase?: string };

/** Where a lazy certificate came from: how to name its load errors, and how to read its input again. */
export interface LazyOrigin {
  /** The error to throw for a load error (a config names the entry and field). */
  rename(err: unknown): unknown;
  /**
   * Reads the input again at first use (without it, the input given is kept until then); throws
   * when its leaf is no longer the certificate with this SHA-256.
   */
  read?(sha256: Buffer): DeferrableSource;
}

/**
 * PEM bytes as a one-byte string until the load: a file read is a slice of a shared buffer pool
 * that would keep whatever else was allocated beside it (latin1 round-trips every byte).
 */
function compact(input: string | Uint8Array): string | Uint8Array {
  if (typeof input === 'string' || !looksLikePem(input)) return input;
  let text = compacted.get(input);
  if (text === undefined) compacted.set(input, (text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1')));
  return text;
}
/** One string per input buffer: a key file shared by many entries stays one string. */
const compacted = new WeakMap<Uint8Array, string>();

/** A lazy certificate whose files did not load reads them again at most this often. */
export const RETRY_MS = 1000;

export class LazyCertificate implements LoadedCertificate, Deferred {
  readonly format: 'pem' | 'crt+key';
  #source: DeferrableSource | undefined;
  readonly #origin: LazyOrigin | undefined;
  readonly #options: LoadOptions;
  /** The leaf's SHA-256 as a one-byte string (formatted when read: a fraction of the size). */
  readonly #sha256: string;
  /** The same Date objects every time: store entries share them. */
  readonly #notBefore: Date;
  readonly #notAfter: Date;
  readonly #status: CertificateStatus;
  readonly #days: number;
  #loaded: LoadedCertificate | undefined;
  #error: unknown;
  /** When the load failed (Date.now()): files read again are tried again a second later. */
  #failedAt = 0;

  /**
   * @param origin names load errors and, with `read`, reads the input again at first use (then
   *   `source` is not kept).
   * @throws {MtlsError} `ERR_NO_CERTIFICATE`, `ERR_MALFORMED_CERTIFICATE` (from the certificate's
   *   DER), `ERR_INVALID_OPTION`: what can be known without the key.
   */
  constructor(source: DeferrableSource, options: LoadOptions = {}, origin?: LazyOrigin, preview = previewCertificate('pem' in source ? source.pem : source.cert)) {
    const { now, expiryWarningDays } = resolveOptions(options);
    this.format = 'pem' in source ? 'pem' : 'crt+key';
    this.#sha256 = preview.sha256.toString('latin1');
    this.#notBefore = preview.notBefore;
    this.#notAfter = preview.notAfter;
    // The status is fixed at construction, as an eager load fixes it when it loads.
    this.#options = options.now === undefined ? { ...options, now } : options;
    ({ status: this.#status, daysUntilExpiry: this.#days } = statusAt(preview.notBefore, preview.notAfter, now, expiryWarningDays));
    if (origin?.read === undefined) this.#source = 'pem' in source ? { ...source, pem: compact(source.pem) } : { ...source, cert: compact(source.cert), key: compact(source.key) };
    this.#origin = origin;
  }

  /**
   * Loads now, once. A failed load throws the same error on every later read; when the input is
   * read again from files (which may be fixed: a key written after its certificate), it is tried
   * again at most once every RETRY_MS.
   */
  [LOAD_NOW](): LoadedCertificate {
    if (this.#loaded !== undefined) return this.#loaded;
    if (this.#error !== undefined && (this.#origin?.read === undefined || Date.now() - this.#failedAt < RETRY_MS)) throw this.#error;
    try {
      this.#loaded = loadNow(this.#source ?? this.#origin!.read!(Buffer.from(this.#sha256, 'latin1')), this.#options);
      this.#error = undefined;
      return this.#loaded;
    } catch (err) {
      this.#error = this.#origin === undefined ? err : this.#origin.rename(err);
      this.#failedAt = Date.now();
      throw this.#error;
    } finally {
      this.#source = undefined; // the input is not kept once parsed (the key is in `tls` now)
    }
  }

  [IS_LOADED](): boolean {
    return this.#loaded !== undefined;
  }

  get fingerprint256(): string {
    return this.#loaded?.fingerprint256 ?? formatFingerprint(Buffer.from(this.#sha256, 'latin1'));
  }
  get notBefore(): Date {
    return this.#loaded?.notBefore ?? this.#notBefore;
  }
  get notAfter(): Date {
    return this.#loaded?.notAfter ?? this.#notAfter;
  }
  get status(): CertificateStatus {
    return this.#loaded?.status ?? this.#status;
  }
  get daysUntilExpiry(): number {
    return this.#loaded?.daysUntilExpiry ?? this.#days;
  }
  get subject(): string {
    return this[LOAD_NOW]().subject;
  }
  get commonName(): string | undefined {
    return this[LOAD_NOW]().commonName;
  }
  get issuer(): string {
    return this[LOAD_NOW]().issuer;
  }
  get serialNumber(): string {
    return this[LOAD_NOW]().serialNumber;
  }
  get subjectAltNames(): string[] {
    return this[LOAD_NOW]().subjectAltNames;
  }
  get keyType(): string {
    return this[LOAD_NOW]().keyType;
  }
  get selfSigned(): boolean {
    return this[LOAD_NOW]().selfSigned;
  }
  get isCA(): boolean {
    return this[LOAD_NOW]().isCA;
  }
  get chain(): CertificateSummary[] {
    return this[LOAD_NOW]().chain;
  }
  get warnings(): string[] {
    return this[LOAD_NOW]().warnings;
  }
  get tls(): TlsMaterial {
    return this[LOAD_NOW]().tls;
  }

  /** What is known: everything once loaded, else the up-front facts (never loads, never the key). */
  toJSON(): Record<string, unknown> {
    if (this.#loaded !== undefined) return { ...this.#loaded };
    return { format: this.format, fingerprint256: this.fingerprint256, notBefore: this.notBefore, notAfter: this.notAfter, status: this.status, daysUntilExpiry: this.daysUntilExpiry, loaded: false };
  }

  [inspect.custom](depth: number, options: object): string {
    if (this.#loaded !== undefined) return inspect(this.#loaded, { ...options, depth });
    return `LoadedCertificate (not loaded yet) ${inspect(this.toJSON(), { ...options, depth: depth - 1 })}`;
  }
}

/**
 * True when `input` (a key file, or a PEM with the chain and key) holds exactly one private key,
 * not encrypted, whose public key is `spki` (DER). Parsing one plain key costs tens of
 * microseconds; an encrypted one would cost its key derivation, so it answers false.
 */
export function plainKeyIsFor(input: string | Uint8Array, spki: Buffer): boolean {
  try {
    let key: KeyObject;
    if (looksLikePem(input)) {
      const keys = parsePem(asText(input)).filter((b) => b.kind === 'private-key');
      if (keys.length !== 1 || keys[0]!.encrypted) return false;
      key = createPrivateKey({ key: keys[0]!.text, format: 'pem' });
    } else {
      key = keyFromDer(asBytes(input), undefined);
    }
    return createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(spki);
  } catch {
    return false;
  }
}
