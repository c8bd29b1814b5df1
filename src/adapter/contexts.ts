// TLS secure contexts: one per (certificate, trust), built once and reused by every connection,
// held by each adapter's ContextCache while connections use them.
import * as tls from 'node:tls';
import { secureContextOf } from '../loader/pkcs11.js';
import type { LoadedCertificate } from '../loader/types.js';
import { Trust, extraCaCertificates } from './trust.js';

// One secure context per (certificate, trust) for what has no adapter cache (a proxy's own
// client certificate, httpsRequestOptions): the key is parsed once, here, and the context is the
// one an adapter holds, if one does (sharedContext). Keyed weakly, so removed certificates take
// theirs with them. The adapters keep theirs in a ContextCache (below).
const contexts = new WeakMap<object, WeakMap<Trust, tls.SecureContext>>();
const NO_CERTIFICATE = {};

export function secureContextFor(certificate: LoadedCertificate | undefined, trust: Trust): tls.SecureContext {
  const owner = certificate ?? NO_CERTIFICATE;
  let byTrust = contexts.get(owner);
  if (byTrust === undefined) contexts.set(owner, (byTrust = new WeakMap()));
  let context = byTrust.get(trust);
  if (context === undefined) byTrust.set(trust, (context = sharedContext(certificate, trust)));
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
  trust: Trust;
  /** The store entries it was leased for (a certificate may be in several). */
  entries: Set<string>;
  /** Its certificate left the store: dropped when its last connection is gone, never idle. */
  stale: boolean;
}

/**
 * Contexts alive anywhere in the process, by certificate object and trust, held weakly: a new
 * adapter (a dispatcher made per request, a second agent) reuses the context another one still
 * holds, or one not yet collected, instead of building it again (a context with a custom CA
 * costs a copy of Node's root store: 0.3-4 ms). Nothing here keeps a context alive: what an
 * adapter drops or closes goes with the next GC.
 */
const alive = new WeakMap<object, Map<Trust, WeakRef<tls.SecureContext>>>();

function sharedContext(certificate: LoadedCertificate | undefined, trust: Trust): tls.SecureContext {
  const owner = certificate ?? NO_CERTIFICATE;
  let byTrust = alive.get(owner);
  if (byTrust === undefined) alive.set(owner, (byTrust = new Map()));
  const found = byTrust.get(trust)?.deref();
  if (found !== undefined) return found;
  const context = createContext(certificate, trust);
  byTrust.set(trust, new WeakRef(context));
  return context;
}

/**
 * An adapter's secure contexts, one per (certificate, CA list): those in use (leased by a slot or
 * a socket) are kept; of the idle ones, the `idleLimit` most recently used are kept for the next
 * connection and older ones dropped (their native memory goes with them). `clear()` when the
 * adapter closes: nothing is kept for a closed dispatcher.
 */
export class ContextCache {
  /** By certificate object (not its fingerprint: the same leaf may come with another chain), then trust. */
  readonly #all = new Map<object, Map<Trust, CachedContext>>();
  /** Idle contexts, least recently used first. */
  readonly #idle = new Set<CachedContext>();
  readonly #idleLimit: number;
  #size = 0;

  constructor(idleLimit = DEFAULT_CONTEXT_CACHE_SIZE) {
    this.#idleLimit = idleLimit;
  }

  /** A context for `certificate` (of the store entry `entryId`) and `trust`. */
  lease(certificate: LoadedCertificate | undefined, trust: Trust, entryId?: string): ContextLease {
    const owner = certificate ?? NO_CERTIFICATE;
    let byTrust = this.#all.get(owner);
    if (byTrust === undefined) this.#all.set(owner, (byTrust = new Map()));
    let cached = byTrust.get(trust);
    if (cached === undefined || cached.stale) {
      if (cached !== undefined) this.#size--; // a stale one still in use: its leases release nothing here
      cached = { context: sharedContext(certificate, trust), refs: 0, certificate, trust, entries: new Set(), stale: false };
      byTrust.set(trust, cached);
      this.#size++;
    } else if (cached.refs === 0) {
      this.#idle.delete(cached);
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
        if (--entry.refs > 0 || this.#all.get(owner)?.get(trust) !== entry) return;
        if (entry.stale) {
          this.#drop(entry);
          return;
        }
        this.#idle.add(entry);
        for (const oldest of this.#idle) {
          if (this.#idle.size <= this.#idleLimit) break;
          this.#drop(oldest);
        }
      },
    };
  }

  #drop(cached: CachedContext): void {
    this.#idle.delete(cached);
    const owner = cached.certificate ?? NO_CERTIFICATE;
    const byTrust = this.#all.get(owner);
    if (byTrust?.get(cached.trust) !== cached) return;
    byTrust.delete(cached.trust);
    if (byTrust.size === 0) this.#all.delete(owner);
    this.#size--;
  }

  /**
   * After a store change: the contexts whose certificate is in none of the entries they were
   * leased for any more are dropped (idle ones now, those in use when their last connection is
   * gone), so that a rotated-out key does not stay in memory for as long as the adapter lives.
   */
  prune(holds: (entryId: string, certificate: LoadedCertificate) => boolean): void {
    for (const byTrust of [...this.#all.values()]) {
      for (const cached of [...byTrust.values()]) {
        const certificate = cached.certificate;
        if (certificate === undefined || cached.entries.size === 0) continue;
        let current = false;
        for (const id of cached.entries) if (holds(id, certificate)) current = true;
        if (current) continue;
        cached.stale = true;
        if (cached.refs === 0) this.#drop(cached);
      }
    }
  }

  /** Contexts held: in use and idle. */
  get size(): number {
    return this.#size;
  }

  /** Contexts held that no connection uses. */
  get idle(): number {
    return this.#idle.size;
  }

  /** Drops every context (the adapter is closed); leases still out release nothing. */
  clear(): void {
    this.#all.clear();
    this.#idle.clear();
    this.#size = 0;
  }
}

/** Whether the store's entry `entryId` still holds `certificate` (for ContextCache.prune). */
export function storeHolds(store: { get(id: string): { certificate: LoadedCertificate } | undefined }): (entryId: string, certificate: LoadedCertificate) => boolean {
  return (entryId, certificate) => store.get(entryId)?.certificate === certificate;
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
 * `trust`. Passing the whole list as `ca` makes OpenSSL parse every root again (~150 PEMs: about
 * 28 ms and 0.9 MB per context). Instead the context starts from Node's shared root store (parsed
 * once per process) and gets only the custom CAs added, as Node's own `ca` option adds each one
 * (`addCACert` on the native context, which first gives the context its own copy of the shared
 * store: references to the parsed roots, not new parses): about 1-4 ms and a few KB. Where the
 * default store is not what Node's copy holds (NODE_EXTRA_CA_CERTS on Node < 22.15, whose copy
 * omits that file), the file's certificates that Node does not bundle are added too.
 */
function createContext(certificate: LoadedCertificate | undefined, trust: Trust): tls.SecureContext {
  const context = buildContext(certificate, trust);
  contextsMade++;
  contextsLive++;
  contextsCollected.register(context, undefined);
  return context;
}

function buildContext(certificate: LoadedCertificate | undefined, trust: Trust): tls.SecureContext {
  // With the certificate's key from memory, or from its token (one login per context).
  const make = (options: tls.SecureContextOptions) => (certificate === undefined ? tls.createSecureContext(options) : secureContextOf(certificate, options));
  const context = make({ ...trust.versions });
  if (trust.custom === '') return context;
  const native = (context as tls.SecureContext & { context?: NativeContext }).context;
  if (typeof native?.addCACert !== 'function') return make({ ...trust.versions, ca: trust.list()! });
  const extra = extraCaCertificates();
  if (extra !== undefined) native.addCACert(extra);
  native.addCACert(trust.custom);
  return context;
}
