/**
 * The stable error codes of mtls-resolver. Switch on `err.code`, never on the message.
 */
export const MTLS_ERROR_CODES = [
  'ERR_PASSPHRASE_REQUIRED',
  'ERR_BAD_PASSPHRASE',
  'ERR_NO_CERTIFICATE',
  'ERR_NO_PRIVATE_KEY',
  'ERR_KEY_MISMATCH',
  'ERR_MALFORMED_CERTIFICATE',
  'ERR_MALFORMED_KEY',
  'ERR_MALFORMED_PFX',
  'ERR_UNSUPPORTED_FORMAT',
  'ERR_FILE_READ',
  'ERR_INPUT_TOO_LARGE',
  'ERR_TOO_MANY_ITERATIONS',
  'ERR_PKCS11_UNAVAILABLE',
  'ERR_PKCS11_NOT_FOUND',
  'ERR_PIN_REQUIRED',
  'ERR_BAD_PIN',
  'ERR_INVALID_HOST_PATTERN',
  'ERR_INVALID_PORT',
  'ERR_INVALID_TARGET',
  'ERR_INVALID_ENTRY',
  'ERR_CERTIFICATE_NOT_FOUND',
  'ERR_AMBIGUOUS_SELECT',
  'ERR_CERTIFICATE_EXPIRED',
  'ERR_INVALID_CONFIG',
  'ERR_INVALID_OPTION',
  'ERR_TLS_HANDSHAKE',
  'ERR_TLS_ALPN',
  'ERR_HTTP_1_1_REQUIRED',
  'ERR_PROXY',
  'ERR_SERVER_CERTIFICATE',
] as const;

/** Where in a config an error is: the file, the entry (index in `certificates` and name) and the field. */
export interface ConfigLocation {
  file?: string;
  entry?: number;
  name?: string;
  field?: string;
}

/**
 * Why, in a form that programs can word for their own users (the CLI names its flags instead of
 * the API's options): a stable `kind`, the fact in words (`fact`, without advice), and the origin.
 */
export interface MtlsErrorReason {
  kind: 'passphrase-required' | 'pfx-not-pem' | 'no-client-certificate' | 'server-untrusted' | 'not-a-certificate';
  fact: string;
  origin?: string;
}

/** One of {@link MTLS_ERROR_CODES}. */
export type MtlsErrorCode = (typeof MTLS_ERROR_CODES)[number];

// A registry-wide symbol, so that `instanceof MtlsError` holds for errors thrown by another
// copy of the package (two versions in one node_modules tree), as undici does for its errors.
const brand = Symbol.for('mtls-resolver.MtlsError');

/**
 * The one error class of mtls-resolver. `code` is stable; `message` says what is wrong and
 * what to do, and never contains a passphrase or key material. The underlying error, if any,
 * is kept in `cause`.
 *
 * @example
 * ```ts
 * try {
 *   resolveCertificate(entries, 'https://api.acme.com');
 * } catch (err) {
 *   if (isMtlsError(err, 'ERR_INVALID_HOST_PATTERN')) console.error(err.message);
 * }
 * ```
 */
export class MtlsError<Code extends MtlsErrorCode = MtlsErrorCode> extends Error {
  readonly code: Code;
  /** For errors about a config (readConfig, fromConfig, watchConfig): the file, entry and field. */
  declare readonly location?: ConfigLocation;
  /** For some errors: the fact and its kind, for a caller that words its own advice. */
  declare readonly reason?: MtlsErrorReason;

  constructor(code: Code, message: string, options?: { cause?: unknown; location?: ConfigLocation; reason?: MtlsErrorReason }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.location !== undefined) this.location = options.location;
    if (options?.reason !== undefined) Object.defineProperty(this, 'reason', { value: options.reason, enumerable: false });
    Object.defineProperty(this, brand, { value: true });
  }

  override get name(): string {
    return 'MtlsError';
  }

  /** True for an MtlsError of any copy of this package (two versions in one app), not only this one's. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/**
 * True when `value` is an {@link MtlsError} (from any copy of the package), and, when `code`
 * is given, has that code. Narrows the type of `value`.
 *
 * @example
 * ```ts
 * if (isMtlsError(err, 'ERR_BAD_PASSPHRASE')) askForPassphraseAgain();
 * ```
 */
export function isMtlsError<Code extends MtlsErrorCode = MtlsErrorCode>(
  value: unknown,
  code?: Code,
): value is MtlsError<Code> {
  return value instanceof MtlsError && (code === undefined || (value as MtlsError).code === code);
}
