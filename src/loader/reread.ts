// A lazy certificate's files, read again at its first use: the store holds their paths, not their
// contents. Files whose certificate is no longer the one read at start are refused (the store's
// dates and fingerprint came from that one): reloading the config takes the new ones. The same
// certificate with a rewritten chain or key file is taken.
import { readLimited } from './input.js';
import type { DeferrableSource, LazyOrigin } from './lazy.js';
import { previewCertificate } from './preview.js';

export type FilePart = 'pem' | 'cert' | 'key';
const PARTS = ['pem', 'cert', 'key'] as const;
const FILE_WHAT = { pem: 'PEM file', cert: 'certificate file', key: 'key file' } as const;

/** Where the files came from (a config's entry): names the errors of a read, by field. */
export interface ReadPlace extends LazyOrigin {
  renameAt(err: unknown, field: FilePart): unknown;
  failAt(field: FilePart, code: 'ERR_FILE_READ', message: string): unknown;
}

export class FileReread implements LazyOrigin {
  /** The source with its file parts as paths: one object, no more (there may be 100,000). */
  readonly #pem: string | Uint8Array | undefined;
  readonly #cert: string | Uint8Array | undefined;
  readonly #key: string | Uint8Array | undefined;
  /** Which of pem, cert and key are paths (the others: a variable's value, kept). */
  readonly #files: number;
  readonly #passphrase: string | undefined;
  readonly #max: number;
  readonly #place: ReadPlace;

  constructor(source: DeferrableSource, files: Partial<Record<FilePart, string>>, max: number, place: ReadPlace) {
    const given = source as Partial<Record<FilePart, string | Uint8Array>>;
    const at = (part: FilePart) => files[part] ?? given[part];
    [this.#pem, this.#cert, this.#key] = [at('pem'), at('cert'), at('key')];
    this.#files = PARTS.reduce((bits, part, i) => (files[part] === undefined ? bits : bits | (1 << i)), 0);
    this.#passphrase = source.passphrase;
    this.#max = max;
    this.#place = place;
  }

  rename(err: unknown): unknown {
    return this.#place.rename(err);
  }

  read(sha256: Buffer): DeferrableSource {
    const source: Partial<Record<FilePart, string | Uint8Array>> & { passphrase?: string } = this.#passphrase === undefined ? {} : { passphrase: this.#passphrase };
    const paths: string[] = [];
    const values = [this.#pem, this.#cert, this.#key];
    let first: FilePart | undefined;
    PARTS.forEach((part, i) => {
      const value = values[i];
      if (value === undefined) return;
      if ((this.#files & (1 << i)) === 0) {
        source[part] = value;
        return;
      }
      first ??= part;
      paths.push(JSON.stringify(value));
      try {
        source[part] = readLimited(value, FILE_WHAT[part], this.#max);
      } catch (err) {
        throw this.#place.renameAt(err, part);
      }
    });
    let same = false;
    try {
      same = previewCertificate((source.pem ?? source.cert)!).sha256.equals(sha256);
    } catch {
      // a certificate that no longer reads is not the same one
    }
    if (!same) throw this.#place.failAt(first!, 'ERR_FILE_READ', `${paths.join(' or ')} changed after the config was read; reload the config to use the new certificate (watchConfig reloads on its own).`);
    return source as DeferrableSource;
  }
}
