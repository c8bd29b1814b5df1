// Options in, resolved options out: the caller's, then the store's defaults, then the library's.
import { MtlsError } from '../errors.js';
import type { CertificateStore, StoreDefaults } from '../store/store.js';
import { ownFields } from '../own.js';
import { DEFAULT_CONTEXT_CACHE_SIZE } from './contexts.js';
import type { SelectEvent, SkipEvent } from './events.js';
import { resolveProxy, type ProxyOption, type ProxyPlan, type ProxyTlsOptions } from './proxy.js';
import type { SecureVersion } from 'node:tls';
import { Trust, type CaInput } from './trust.js';

/** Options of every adapter. */
export interface AdapterOptions {
  /** Extra CA certificates, added to Node's default roots (never replacing them). Default: the store's `ca`. */
  ca?: CaInput;
  /** Verify the server's certificate. Default: the store's setting, else `true`. */
  rejectUnauthorized?: boolean;
  /**
   * TLS version bounds of every connection (`'TLSv1.2'`, `'TLSv1.3'`), as tls.createSecureContext
   * takes them; an entry's own bounds win for the origins it is chosen for. Default: Node's.
   */
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** Use the primary certificate when nothing matches (R7). Default: `false`. */
  fallbackToPrimary?: boolean;
  /**
   * Present expired and not-yet-valid certificates too (R6), for a server that does not check
   * dates, or to see what it says. Default: `false` (a skipped entry is named in the error).
   */
  includeExpired?: boolean;
  /** Called for every request that presents a certificate. */
  onSelect?: (event: SelectEvent) => void;
  /**
   * Called for a request that presents no certificate because the entries that match its origin
   * were skipped for their dates (R6: expired, not yet valid), with those entries and their dates.
   */
  onSkip?: (event: SkipEvent) => void;
  /**
   * Reach targets through a proxy: a URL (`http://user:password@proxy:3128`, `https://...`,
   * `socks5://...` or `socks5h://...`), `'env'` for HTTPS_PROXY / HTTP_PROXY / NO_PROXY, or `false`.
   * Default: `'env'` when `NODE_USE_ENV_PROXY=1` (as Node's own clients), else none. The client
   * certificate is presented to the target inside the tunnel (CONNECT or SOCKS5), never to the proxy.
   */
  proxy?: ProxyOption;
  /** TLS settings of an `https://` proxy (its CA, verification, its own client certificate). */
  proxyTls?: ProxyTlsOptions;
  /**
   * Secure contexts (one per certificate and trust) kept for reuse when no connection uses them,
   * the most recently used first; those in use are always kept, and a closed adapter keeps none.
   * Default: 256. `0` keeps none (each new connection after an idle spell builds its context).
   */
  contextCacheSize?: number;
}

/** Per request (createFetch's `init.mtls`, or a scoped dispatcher). */
export interface RequestMtlsOptions {
  /** Present this entry (id or name) to the request's own origin, whatever its host (R7). */
  select?: string;
  /** Verify the server's certificate for this request only. */
  rejectUnauthorized?: boolean;
  /** Consider expired and not-yet-valid entries for this request's origin too (R6). */
  includeExpired?: boolean;
}

export interface ResolvedAdapterOptions {
  /** The adapter's trust (its `ca`, else the store's, added to Node's roots). Live: follows the store's defaults. */
  readonly trust: Trust;
  /** The adapter's verification. Live: follows the store's defaults unless the caller set it. */
  readonly rejectUnauthorized: boolean;
  /**
   * The one merge of a verification setting: the request's own (given for its origin), else the
   * adapter's, else the store's, else true.
   */
  verify(request: boolean | undefined): boolean;
  fallbackToPrimary: boolean;
  includeExpired: boolean;
  onSelect: ((event: SelectEvent) => void) | undefined;
  onSkip: ((event: SkipEvent) => void) | undefined;
  /** undefined: direct connections. */
  proxy: ProxyPlan | undefined;
  /** Idle secure contexts kept for reuse. */
  contextCacheSize: number;
}

/**
 * Resolves the adapter options: the caller's, then the store's defaults, then the library's. What
 * comes from the store's defaults (`ca`, `rejectUnauthorized`) is read live, so a `store.replace`
 * with new defaults applies to the next connection; the CA list is rebuilt once per change.
 */
export function resolveAdapterOptions(store: CertificateStore, given: AdapterOptions = {}): ResolvedAdapterOptions {
  if (typeof given !== 'object' || given === null) throw new MtlsError('ERR_INVALID_OPTION', 'Adapter options must be an object.');
  const options = ownFields(given);
  const { fallbackToPrimary = false, onSelect, onSkip } = options;
  if (options.rejectUnauthorized !== undefined && typeof options.rejectUnauthorized !== 'boolean') throw new MtlsError('ERR_INVALID_OPTION', 'The option rejectUnauthorized must be true or false.');
  if (options.includeExpired !== undefined && typeof options.includeExpired !== 'boolean') throw new MtlsError('ERR_INVALID_OPTION', 'The option includeExpired must be true or false.');
  if (onSelect !== undefined && typeof onSelect !== 'function') throw new MtlsError('ERR_INVALID_OPTION', 'The option onSelect must be a function.');
  if (onSkip !== undefined && typeof onSkip !== 'function') throw new MtlsError('ERR_INVALID_OPTION', 'The option onSkip must be a function.');
  const { contextCacheSize = DEFAULT_CONTEXT_CACHE_SIZE } = options;
  if (!Number.isSafeInteger(contextCacheSize) || contextCacheSize < 0) throw new MtlsError('ERR_INVALID_OPTION', 'The option contextCacheSize must be a whole number, 0 or more (idle secure contexts kept for reuse).');
  const versions = { minVersion: checkVersion(options.minVersion, 'minVersion'), maxVersion: checkVersion(options.maxVersion, 'maxVersion') };
  const own = options.ca === undefined ? undefined : Trust.of(options.ca, versions);
  // The store's part, snapshotted per defaults object (a replace with new defaults makes a new one).
  let seen: StoreDefaults | undefined;
  let fromStore = Trust.of(undefined, versions);
  const trustNow = () => {
    if (own !== undefined) return own;
    if (store.defaults !== seen) {
      seen = store.defaults;
      fromStore = Trust.of(seen.ca, versions);
    }
    return fromStore;
  };
  trustNow(); // a bad CA fails here, not at the first connection
  const rejectUnauthorized = options.rejectUnauthorized;
  const adapterVerify = () => rejectUnauthorized ?? store.defaults.rejectUnauthorized ?? true;
  return {
    get trust() {
      return trustNow();
    },
    get rejectUnauthorized() {
      return adapterVerify();
    },
    verify: (request) => request ?? adapterVerify(),
    fallbackToPrimary: fallbackToPrimary === true,
    includeExpired: options.includeExpired === true,
    onSelect,
    onSkip,
    proxy: resolveProxy(options.proxy, options.proxyTls),
    contextCacheSize,
  };
}

const TLS_VERSIONS = ['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1'];

/** A TLS version bound as Node names it (refused before any connection otherwise). */
export function checkVersion(value: unknown, name: string): SecureVersion | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !TLS_VERSIONS.includes(value)) throw new MtlsError('ERR_INVALID_OPTION', `The option ${name} must be one of ${TLS_VERSIONS.map((v) => `'${v}'`).join(', ')}.`);
  return value as SecureVersion;
}
