// Where in a config something is wrong: the text that prefixes a message
// (`Config "certs.json", field "ca"`, `certificates[2] ("ACME"), field "key"`) and the error's
// `location`; the error of a config; an error from below (the loader) renamed to its place.
import { MtlsError, isMtlsError, type ConfigLocation } from '../errors.js';
import type { LazyOrigin } from '../loader/lazy.js';
import type { ReadPlace } from '../loader/reread.js';

/** A place in a config: printed as the prefix of a message, and kept as the error's `location`. */
export class Where {
  constructor(
    readonly text: string,
    readonly location: ConfigLocation,
  ) {}
  toString(): string {
    return this.text;
  }
}

/** `ERR_INVALID_CONFIG` at a place. */
export function invalid(where: string | Where, message: string, cause?: unknown): MtlsError {
  return new MtlsError('ERR_INVALID_CONFIG', `${where}: ${message}`, { ...(cause === undefined ? {} : { cause }), ...(where instanceof Where ? { location: where.location } : {}) });
}

/** The same error (same code), its message prefixed with where it happened in the config. */
export function rename(err: unknown, where: Where): MtlsError {
  if (isMtlsError(err)) return new MtlsError(err.code, `${where}: ${err.message}`, { cause: err, location: where.location });
  return invalid(where, err instanceof Error ? err.message : String(err), err);
}

/** An entry of the config (and one of its fields): `certificates[2] ("name"), field "key"`, and its location. */
export function entryWhere(file: string | undefined, index: number, name: string | undefined, field?: string): Where {
  const text = `certificates[${index}]${name === undefined ? '' : ` (${JSON.stringify(name)})`}${field === undefined ? '' : `, field "${field}"`}`;
  return new Where(text, { ...(file === undefined ? {} : { file }), entry: index, ...(name === undefined ? {} : { name }), ...(field === undefined ? {} : { field }) });
}

/**
 * An entry's place in the config, and the field a load error is about: the passphrase's, the
 * key's, or the certificate's. Small on purpose: a lazy certificate keeps it (and nothing of the
 * config read), so the messages' text is built when an error happens.
 */
export class EntryPlace implements LazyOrigin, ReadPlace {
  constructor(
    readonly file: string | undefined,
    readonly index: number,
    readonly name: string | undefined,
    readonly passphraseField: string | undefined,
    readonly keyField: string | undefined,
    readonly mainField: string,
  ) {}

  at(field: string): Where {
    return entryWhere(this.file, this.index, this.name, field);
  }

  /** A load error, renamed to the field it is about. */
  rename(err: unknown): MtlsError {
    if (isMtlsError(err) && err.location !== undefined) return err; // already named (a file read again)
    const code = (err as { code?: unknown } | null)?.code;
    const field =
      (code === 'ERR_BAD_PASSPHRASE' || code === 'ERR_PASSPHRASE_REQUIRED' || code === 'ERR_BAD_PIN') && this.passphraseField !== undefined
        ? this.passphraseField
        : this.keyField !== undefined && typeof code === 'string' && /KEY|PASSPHRASE|PIN|PKCS11/.test(code)
          ? this.keyField
          : this.mainField;
    return rename(err, this.at(field));
  }

  /** An error about one of the entry's fields. */
  renameAt(err: unknown, field: string): MtlsError {
    return rename(err, this.at(field));
  }

  /** A new error at one of the entry's fields. */
  failAt(field: string, code: 'ERR_FILE_READ', message: string): MtlsError {
    const where = this.at(field);
    return new MtlsError(code, `${where}: ${message}`, { location: where.location });
  }
}
