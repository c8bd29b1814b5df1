// Trust: which CA certificates verify a server, and which TLS versions a connection accepts.
// Node's default roots, plus custom CAs added to them (never replacing them): the adapter's or the
// store's `ca`, and the CAs of the entry presented; the adapter's TLS version bounds, or the entry's.
// One Trust value per set of custom CAs and bounds (the same give the same object, however many
// adapters use them), and it knows its own custom part: secure contexts add just that to Node's
// shared root store, and names that must differ when trust differs (TLS session caches) use its token.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { SecureVersion } from 'node:tls';
import { MtlsError } from '../errors.js';
import type { CaBundle } from '../loader/types.js';

/** TLS version bounds, as tls.createSecureContext takes them. */
export interface TlsVersions {
  minVersion?: SecureVersion | undefined;
  maxVersion?: SecureVersion | undefined;
}

/** CA certificates as the options take them: a CaBundle, PEM text, DER bytes, or an array of them. */
export type CaInput = CaBundle | string | Uint8Array | Array<CaBundle | string | Uint8Array>;

let defaultCas: string[] | undefined;

/**
 * Node's default trust store: `tls.getCACertificates('default')` where Node has it (22.15+),
 * else the bundled roots plus the file named by NODE_EXTRA_CA_CERTS, as Node 20 itself trusts.
 */
export function defaultCaCertificates(): string[] {
  if (defaultCas !== undefined) return defaultCas;
  const getCa = (tls as { getCACertificates?: (type?: string) => string[] }).getCACertificates;
  if (typeof getCa === 'function') {
    defaultCas = [...getCa('default')];
  } else {
    defaultCas = [...tls.rootCertificates];
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (extra) {
      try {
        defaultCas.push(readFileSync(extra, 'utf8'));
      } catch {
        // Node warns about an unreadable NODE_EXTRA_CA_CERTS itself at startup.
      }
    }
  }
  return defaultCas;
}

function caPem(value: CaBundle | string | Uint8Array): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    if (text.includes('-----BEGIN')) return text;
    try {
      return new X509Certificate(value).toString();
    } catch (err) {
      throw new MtlsError('ERR_MALFORMED_CERTIFICATE', 'The ca bytes are neither PEM nor a DER certificate.', { cause: err });
    }
  }
  if (typeof value === 'object' && value !== null && typeof value.pem === 'string') return value.pem;
  throw new MtlsError('ERR_INVALID_OPTION', 'The option ca must be PEM text, DER bytes, a CaBundle from loadCaBundle(), or an array of them.');
}

const interned = new Map<string, Trust>();
let nextId = 1;

export class Trust {
  /** Node's default roots as they are: no custom CA. */
  static readonly DEFAULT = new Trust([], 0, {});

  /** The Trust of `input` added to Node's roots (the default Trust for none). */
  static of(input: CaInput | undefined, versions: TlsVersions = {}): Trust {
    return Trust.#intern(input === undefined ? [] : (Array.isArray(input) ? input : [input]).map(caPem), versions);
  }

  static #intern(customs: string[], versions: TlsVersions): Trust {
    const { minVersion, maxVersion } = versions;
    if (customs.length === 0 && minVersion === undefined && maxVersion === undefined) return Trust.DEFAULT;
    const key = `${minVersion ?? ''}-${maxVersion ?? ''}\n${customs.join('\n')}`;
    let trust = interned.get(key);
    if (trust === undefined) interned.set(key, (trust = new Trust(customs, nextId++, versions)));
    return trust;
  }

  /** The custom CAs as PEM text ('' for none). */
  readonly custom: string;
  /** The custom CAs, each as given (PEM text of one or more certificates). */
  readonly #customs: readonly string[];
  /** TLS version bounds (tls.createSecureContext's minVersion / maxVersion); none: Node's. */
  readonly versions: Readonly<TlsVersions>;
  /** Short, and different for every other trust: `ca0` for Node's defaults. */
  readonly token: string;
  #list: string[] | undefined;
  readonly #withEntry = new WeakMap<object, Trust>();

  private constructor(customs: string[], id: number, versions: TlsVersions) {
    this.#customs = Object.freeze(customs);
    this.versions = Object.freeze({ ...(versions.minVersion === undefined ? {} : { minVersion: versions.minVersion }), ...(versions.maxVersion === undefined ? {} : { maxVersion: versions.maxVersion }) });
    this.custom = customs.join('\n');
    this.token = `ca${id}`;
  }

  /** Node's defaults as they are: no custom CA, no version bounds. */
  get isDefault(): boolean {
    return this === Trust.DEFAULT;
  }

  /**
   * This trust plus a store entry's own CAs and TLS version bounds (which win over the adapter's):
   * this one when it has none; one object per pair.
   */
  withEntry(entry: object | undefined): Trust {
    const e = entry as { readonly ca?: readonly CaBundle[]; readonly minVersion?: SecureVersion; readonly maxVersion?: SecureVersion } | undefined;
    if (e === undefined || ((e.ca === undefined || e.ca.length === 0) && e.minVersion === undefined && e.maxVersion === undefined)) return this;
    let combined = this.#withEntry.get(e);
    if (combined === undefined) {
      const versions = { minVersion: e.minVersion ?? this.versions.minVersion, maxVersion: e.maxVersion ?? this.versions.maxVersion };
      combined = Trust.#intern([...this.#customs, ...(e.ca ?? []).map((bundle) => bundle.pem)], versions);
      this.#withEntry.set(e, combined);
    }
    return combined;
  }

  /** Node's default roots plus the custom CAs, as TLS `ca` must be to add and not replace; undefined for none. */
  list(): string[] | undefined {
    if (this.#customs.length === 0) return undefined;
    return (this.#list ??= [...defaultCaCertificates(), ...this.#customs]);
  }
}

let extraCas: string | null | undefined;

/**
 * NODE_EXTRA_CA_CERTS's certificates where Node's copy of its root store leaves them out (before
 * tls.getCACertificates), without those Node bundles anyway: the file is often the system bundle,
 * mostly the same roots, and each certificate added here is parsed again for every context.
 */
export function extraCaCertificates(): string | undefined {
  if (extraCas === undefined) {
    extraCas = null;
    const hasGetCa = typeof (tls as { getCACertificates?: unknown }).getCACertificates === 'function';
    const file = process.env.NODE_EXTRA_CA_CERTS;
    if (!hasGetCa && file) {
      try {
        const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
        const bundled = new Set(tls.rootCertificates.map(body));
        const blocks = readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
        const own = blocks.filter((pem) => !bundled.has(body(pem)));
        extraCas = own.length > 0 ? own.join('\n') : null;
      } catch {
        // Node warns about an unreadable NODE_EXTRA_CA_CERTS itself at startup.
      }
    }
  }
  return extraCas ?? undefined;
}
