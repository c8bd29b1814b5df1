// Options in, resolved options out; the TLS secure contexts, built once per (certificate, CA
// set) and reused by every connection; and the events that say which certificate went where.
import { X509Certificate } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { MtlsError } from '../errors.js';
import type { CaBundle, LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store.js';

/** What `onSelect` and the `mtls-resolver:select` channel receive for every request that presents a certificate. */
export interface SelectEvent {
  /** `https://host:port` */
  origin: string;
  entryId: string;
  name: string | undefined;
  kind: Match['kind'];
  fingerprint256: string;
  /** Why this entry was chosen, in words. */
  reason: string;
}

/** What the `mtls-resolver:connect` channel receives for every new TLS connection. */
export interface ConnectEvent {
  origin: string;
  /** The client certificate presented, if any. */
  entryId: string | undefined;
  fingerprint256: string | undefined;
  server: {
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    fingerprint256: string;
    subjectAltName: string | undefined;
  };
  authorized: boolean;
  authorizationError: string | undefined;
}

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

export const selectChannel = channel('mtls-resolver:select');
export const connectChannel = channel('mtls-resolver:connect');

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

/** Reports a selection to onSelect and the diagnostics channel. */
export function reportSelect(options: ResolvedAdapterOptions, origin: string, match: Match<LoadedCertificate>): void {
  if (options.onSelect === undefined && !selectChannel.hasSubscribers) return;
  const event: SelectEvent = {
    origin,
    entryId: match.entry.id,
    name: match.entry.name,
    kind: match.kind,
    fingerprint256: match.entry.certificate.fingerprint256,
    reason: match.reason,
  };
  options.onSelect?.(event);
  if (selectChannel.hasSubscribers) selectChannel.publish(event);
}

/** Reports a new TLS connection (the server's certificate) to the diagnostics channel. */
export function reportConnect(origin: string, match: Match<LoadedCertificate> | undefined, socket: tls.TLSSocket): void {
  if (!connectChannel.hasSubscribers) return;
  const peer = socket.getPeerCertificate();
  const name = (n: Record<string, string | string[]> | undefined) =>
    n === undefined ? '' : Object.entries(n).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ');
  const event: ConnectEvent = {
    origin,
    entryId: match?.entry.id,
    fingerprint256: match?.entry.certificate.fingerprint256,
    server: {
      subject: name(peer.subject as never),
      issuer: name(peer.issuer as never),
      validFrom: peer.valid_from,
      validTo: peer.valid_to,
      fingerprint256: peer.fingerprint256,
      subjectAltName: peer.subjectaltname,
    },
    authorized: socket.authorized,
    authorizationError: socket.authorizationError === undefined || socket.authorizationError === null ? undefined : String(socket.authorizationError),
  };
  connectChannel.publish(event);
}
