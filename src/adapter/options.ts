// Options in, resolved options out; and the TLS secure contexts, built once per (certificate, CA
// set) and reused by every connection.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { MtlsError } from '../errors.js';
import type { CaBundle, LoadedCertificate } from '../loader/types.js';
import type { CertificateStore } from '../store.js';
import type { SelectEvent } from './events.js';

/** Options of every adapter. */
export interface AdapterOptions {
  /** Extra CA certificates, added to Node's default roots (never replacing them). Default: the store's `ca`. */
  ca?: CaBundle | string | Uint8Array | Array<CaBundle | string | Uint8Array>;
  /** Verify the server's certificate. Default: the store's setting, else `true`. */
  rejectUnauthorized?: boolean;
  /** Use the primary certificate when nothing matches (R7). Default: `false`. */
  fallbackToPrimary?: boolean;
  /** Called for every request that presents a certificate. */
  onSelect?: (event: SelectEvent) => void;
}

/** Per request (createFetch's `init.mtls`, or a scoped dispatcher). */
export interface RequestMtlsOptions {
  /** Present this entry (id or name) to the request's own origin, whatever its host (R7). */
  select?: string;
  /** Verify the server's certificate for this request only. */
  rejectUnauthorized?: boolean;
}

export interface ResolvedAdapterOptions {
  /** The full CA list (Node's defaults + custom), or undefined for Node's defaults as they are. */
  ca: string[] | undefined;
  rejectUnauthorized: boolean;
  fallbackToPrimary: boolean;
  onSelect: ((event: SelectEvent) => void) | undefined;
}

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

// The same custom CAs give the same list object, so that the secure contexts keyed by it are
// shared by every adapter made with them (a context with Node's ~150 roots takes tens of ms).
const caLists = new Map<string, string[]>();

function caList(custom: string[]): string[] {
  const key = custom.join('\n');
  let list = caLists.get(key);
  if (list === undefined) {
    list = [...defaultCaCertificates(), ...custom];
    caLists.set(key, list);
  }
  return list;
}

/** Resolves the adapter options once: the caller's, then the store's defaults, then the library's. */
export function resolveAdapterOptions(store: CertificateStore, options: AdapterOptions = {}): ResolvedAdapterOptions {
  if (typeof options !== 'object' || options === null) throw new MtlsError('ERR_INVALID_OPTION', 'Adapter options must be an object.');
  const { ca = store.defaults.ca, rejectUnauthorized = store.defaults.rejectUnauthorized ?? true, fallbackToPrimary = false, onSelect } = options;
  if (typeof rejectUnauthorized !== 'boolean') throw new MtlsError('ERR_INVALID_OPTION', 'The option rejectUnauthorized must be true or false.');
  if (onSelect !== undefined && typeof onSelect !== 'function') throw new MtlsError('ERR_INVALID_OPTION', 'The option onSelect must be a function.');
  const custom = ca === undefined ? [] : (Array.isArray(ca) ? ca : [ca]).map(caPem);
  return {
    ca: custom.length === 0 ? undefined : caList(custom),
    rejectUnauthorized,
    fallbackToPrimary: fallbackToPrimary === true,
    onSelect,
  };
}

// One secure context per (certificate, CA list): the key is parsed once, here, and every
// connection reuses the context. Keyed weakly, so removed certificates take theirs with them.
const contexts = new WeakMap<object, WeakMap<object, tls.SecureContext>>();
const NO_CERTIFICATE = {};
const DEFAULT_CA = {};

export function secureContextFor(certificate: LoadedCertificate | undefined, ca: string[] | undefined): tls.SecureContext {
  const byCert = contexts.get(certificate ?? NO_CERTIFICATE) ?? new WeakMap<object, tls.SecureContext>();
  contexts.set(certificate ?? NO_CERTIFICATE, byCert);
  const caKey = ca ?? DEFAULT_CA;
  let context = byCert.get(caKey);
  if (context === undefined) {
    context = tls.createSecureContext({
      ...(certificate === undefined ? {} : { cert: certificate.tls.cert, key: certificate.tls.key }),
      ...(ca === undefined ? {} : { ca }),
    });
    byCert.set(caKey, context);
  }
  return context;
}
