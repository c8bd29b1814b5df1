// Trust and TLS contexts: Node's default roots, custom CAs added to them (never replacing them),
// and one secure context per (certificate, CA list), built once and reused by every connection.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { MtlsError } from '../errors.js';
import type { CaBundle, LoadedCertificate } from '../loader/types.js';

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

// The same custom CAs give the same list object, so that the secure contexts keyed by it are
// shared by every adapter made with them; each list remembers its custom part (see below).
const caLists = new Map<string, string[]>();
const customOf = new WeakMap<string[], string>();

function caList(custom: string[]): string[] {
  const key = custom.join('\n');
  let list = caLists.get(key);
  if (list === undefined) {
    list = [...defaultCaCertificates(), ...custom];
    caLists.set(key, list);
    customOf.set(list, key);
  }
  return list;
}

const caListIds = new WeakMap<string[], number>();
let nextCaListId = 1;

/** A short token per CA list (0: Node's defaults), for names that must differ when trust differs (TLS session caches). */
export function caListToken(list: string[] | undefined): string {
  if (list === undefined) return 'ca0';
  let id = caListIds.get(list);
  if (id === undefined) caListIds.set(list, (id = nextCaListId++));
  return `ca${id}`;
}

/** Node's default roots plus `input`, as one shared list; undefined for none (Node's defaults as they are). */
export function resolveCaList(input: CaInput | undefined): string[] | undefined {
  const custom = input === undefined ? [] : (Array.isArray(input) ? input : [input]).map(caPem);
  return custom.length === 0 ? undefined : caList(custom);
}

// An entry's own CAs on top of a list: one shared list per (list, entry CAs), so that entries
// with the same CAs share contexts and connections of different trust never do.
const withEntryCa = new WeakMap<readonly CaBundle[], WeakMap<object, string[]>>();

/**
 * The CA list for connections that present `entry`: the adapter's list (`list`, undefined for
 * Node's defaults) plus the entry's own `ca`; `list` itself when the entry has none.
 */
export function trustFor(list: string[] | undefined, entry: object | undefined): string[] | undefined {
  const own = (entry as { readonly ca?: readonly CaBundle[] } | undefined)?.ca;
  if (own === undefined || own.length === 0) return list;
  let byList = withEntryCa.get(own);
  if (byList === undefined) withEntryCa.set(own, (byList = new WeakMap()));
  const key = list ?? DEFAULT_CA;
  let combined = byList.get(key);
  if (combined === undefined) {
    const base = list === undefined ? [] : [customOf.get(list) ?? list.join('\n')];
    combined = caList([...base, ...own.map((bundle) => bundle.pem)]);
    byList.set(key, combined);
  }
  return combined;
}

// One secure context per (certificate, CA list) for what has no adapter cache (a proxy's own
// client certificate): the key is parsed once, here. Keyed weakly, so removed certificates take
// theirs with them. The adapters keep theirs in a ContextCache (below).
const contexts = new WeakMap<object, WeakMap<object, tls.SecureContext>>();
const NO_CERTIFICATE = {};
const DEFAULT_CA = {};

export function secureContextFor(certificate: LoadedCertificate | undefined, ca: string[] | undefined): tls.SecureContext {
  const byCert = contexts.get(certificate ?? NO_CERTIFICATE) ?? new WeakMap<object, tls.SecureContext>();
  contexts.set(certificate ?? NO_CERTIFICATE, byCert);
  const caKey = ca ?? DEFAULT_CA;
  let context = byCert.get(caKey);
  if (context === undefined) {
    context = createContext(certificate, ca);
    byCert.set(caKey, context);
  }
  return context;
}

let contextsMade = 0;

/** Idle secure contexts an adapter keeps for reuse, by default (those in use are always kept). */
export const DEFAULT_CONTEXT_CACHE_SIZE = 256;

/** A secure context in use: `release()` when the connections (slot, socket) that use it are gone. */
export interface ContextLease {
  readonly context: tls.SecureContext;
  release(): void;
}

interface CachedContext {
  context: tls.SecureContext;
  refs: number;
  certificate: LoadedCertificate | undefined;
  /** The store entries it was leased for (a certificate may be in several). */
  entries: Set<string>;
  /** Its certificate left the store: dropped when its last connection is gone, never idle. */
  stale: boolean;
}

/**
 * An adapter's secure contexts, one per (certificate, CA list): those in use (leased by a slot or
 * a socket) are kept; of the idle ones, the `idleLimit` most recently used are kept for the next
 * connection and older ones dropped (their native memory goes with them). `clear()` when the
 * adapter closes: nothing is kept for a closed dispatcher.
 */
export class ContextCache {
  readonly #all = new Map<string, CachedContext>();
  /** Idle keys, least recently used first. */
  readonly #idle = new Set<string>();
  readonly #idleLimit: number;

  constructor(idleLimit = DEFAULT_CONTEXT_CACHE_SIZE) {
    this.#idleLimit = idleLimit;
  }

  /** A context for `certificate` (of the store entry `entryId`) and the CA list `ca`. */
  lease(certificate: LoadedCertificate | undefined, ca: string[] | undefined, entryId?: string): ContextLease {
    // By the certificate object, not its fingerprint: the same leaf may come with another chain.
    const key = `${certificate === undefined ? '-' : certificateToken(certificate)}\n${caListToken(ca)}`;
    let cached = this.#all.get(key);
    if (cached === undefined || cached.stale) {
      cached = { context: createContext(certificate, ca), refs: 0, certificate, entries: new Set(), stale: false };
      this.#all.set(key, cached);
    } else if (cached.refs === 0) {
      this.#idle.delete(key);
    }
    if (entryId !== undefined) cached.entries.add(entryId);
    cached.refs++;
    const entry = cached;
    let released = false;
    return {
      context: entry.context,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0 || this.#all.get(key) !== entry) return;
        if (entry.stale) {
          this.#all.delete(key);
          return;
        }
        this.#idle.add(key);
        for (const oldest of this.#idle) {
          if (this.#idle.size <= this.#idleLimit) break;
          this.#idle.delete(oldest);
          this.#all.delete(oldest);
        }
      },
    };
  }

  /**
   * After a store change: the contexts whose certificate is in none of the entries they were
   * leased for any more are dropped (idle ones now, those in use when their last connection is
   * gone), so that a rotated-out key does not stay in memory for as long as the adapter lives.
   */
  prune(holds: (entryId: string, certificate: LoadedCertificate) => boolean): void {
    for (const [key, cached] of this.#all) {
      const certificate = cached.certificate;
      if (certificate === undefined || cached.entries.size === 0) continue;
      let current = false;
      for (const id of cached.entries) if (holds(id, certificate)) current = true;
      if (current) continue;
      cached.stale = true;
      if (cached.refs === 0) {
        this.#idle.delete(key);
        this.#all.delete(key);
      }
    }
  }

  /** Contexts held: in use and idle. */
  get size(): number {
    return this.#all.size;
  }

  /** Contexts held that no connection uses. */
  get idle(): number {
    return this.#idle.size;
  }

  /** Drops every context (the adapter is closed); leases still out release nothing. */
  clear(): void {
    this.#all.clear();
    this.#idle.clear();
  }
}

/** Whether the store's entry `entryId` still holds `certificate` (for ContextCache.prune). */
export function storeHolds(store: { get(id: string): { certificate: LoadedCertificate } | undefined }): (entryId: string, certificate: LoadedCertificate) => boolean {
  return (entryId, certificate) => store.get(entryId)?.certificate === certificate;
}

const certificateIds = new WeakMap<LoadedCertificate, number>();
let nextCertificateId = 1;

function certificateToken(certificate: LoadedCertificate): number {
  let id = certificateIds.get(certificate);
  if (id === undefined) certificateIds.set(certificate, (id = nextCertificateId++));
  return id;
}

// The cache of each adapter, for the tests (and nothing else).
const caches = new WeakMap<object, ContextCache>();

/** @internal The context cache of an adapter (a dispatcher or an https agent). */
export function contextCacheOf(adapter: object): ContextCache | undefined {
  return caches.get(adapter);
}

/** Records the cache of an adapter (see contextCacheOf). */
export function registerContextCache(adapter: object, cache: ContextCache): void {
  caches.set(adapter, cache);
}

/** @internal How many secure contexts this process has made (for the tests). */
export function secureContextsMade(): number {
  return contextsMade;
}

let contextsLive = 0;
const contextsCollected = new FinalizationRegistry<undefined>(() => contextsLive--);

/** @internal How many secure contexts made here are not yet garbage-collected (for the benchmarks). */
export function secureContextsLive(): number {
  return contextsLive;
}

type NativeContext = { addCACert?: (pem: string) => void };

/**
 * A secure context for a certificate that trusts Node's default roots plus the custom CAs of
 * `ca`. Passing the whole list as `ca` makes OpenSSL parse every root again (~150 PEMs: about
 * 28 ms and 0.9 MB per context). Instead the context starts from Node's shared root store (parsed
 * once per process) and gets only the custom CAs added, as Node's own `ca` option adds each one
 * (`addCACert` on the native context, which first gives the context its own copy of the shared
 * store: references to the parsed roots, not new parses): about 1-4 ms and a few KB. Where the
 * default store is not what Node's copy holds (NODE_EXTRA_CA_CERTS on Node < 22.15, whose copy
 * omits that file), the file's certificates that Node does not bundle are added too; a list this
 * module did not make is passed whole.
 */
function createContext(certificate: LoadedCertificate | undefined, ca: string[] | undefined): tls.SecureContext {
  const context = buildContext(certificate, ca);
  contextsMade++;
  contextsLive++;
  contextsCollected.register(context, undefined);
  return context;
}

function buildContext(certificate: LoadedCertificate | undefined, ca: string[] | undefined): tls.SecureContext {
  const material = certificate === undefined ? {} : { cert: certificate.tls.cert, key: certificate.tls.key };
  const custom = ca === undefined ? undefined : customOf.get(ca);
  if (ca !== undefined && custom === undefined) return tls.createSecureContext({ ...material, ca });
  const context = tls.createSecureContext(material);
  if (custom === undefined) return context;
  const native = (context as tls.SecureContext & { context?: NativeContext }).context;
  if (typeof native?.addCACert !== 'function') return tls.createSecureContext({ ...material, ca: ca! });
  const extra = extraCaCertificates();
  if (extra !== undefined) native.addCACert(extra);
  native.addCACert(custom);
  return context;
}

let extraCas: string | null | undefined;

/**
 * NODE_EXTRA_CA_CERTS's certificates where Node's copy of its root store leaves them out (before
 * tls.getCACertificates), without those Node bundles anyway: the file is often the system bundle,
 * mostly the same roots, and each certificate added here is parsed again for every context.
 */
function extraCaCertificates(): string | undefined {
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
