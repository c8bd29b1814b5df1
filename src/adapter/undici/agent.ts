// The undici Agent of createDispatcher: its factory builds one OriginRouter per origin, and the
// routers build one slot per (certificate, verification) with makeSlot (slot.ts).
import { Agent, type Dispatcher } from 'undici';
import { MtlsError } from '../../errors.js';
import { followStore } from '../../store/followers.js';
import type { CertificateStore, StoreChange } from '../../store/store.js';
import { ContextCache, registerContextCache, storeHolds } from '../contexts.js';
import { resolveAdapterOptions, type AdapterOptions, type RequestMtlsOptions, type ResolvedAdapterOptions } from '../options.js';
import type { AnyUndiciDispatcher, RuntimeDispatcher } from '../runtime.js';
import { OriginRouter, type RouterShared } from './router.js';
import { refuseDispatcherOn, webRuntime } from '../runtime-fetch.js';
import { pinnedLookup } from './address.js';
import { bindToSelf } from './closable.js';
import { ScopedDispatcher, originOf, type Scope } from './scope.js';

/** Options of {@link createDispatcher}, {@link createInterceptor} and {@link createFetch}. */
export interface DispatcherOptions extends AdapterOptions {
  /**
   * Passed to undici's Agent and its Clients. `connect` (e.g. a custom `lookup`) is merged; its
   * `rejectUnauthorized`, `minVersion` and `maxVersion` are the adapter's, its `cert`, `key`, `pfx`,
   * `passphrase`, `secureContext` and `ca` are refused; `allowH2: true` offers HTTP/2 (ALPN), with
   * concurrent requests of an (origin, certificate) spread over up to 8 connections, then
   * multiplexed; `connections` caps the connections per (origin, certificate).
   */
  agentOptions?: Agent.Options;
}

/** @internal An agent's resolved options (the interceptor routes by them, without resolving them again). */
export const kResolved = Symbol('mtls-resolver.resolved');

/** TLS fields of undici's `connect` options that the client certificate's TLS does not take. */
const REFUSED_CONNECT = { cert: 'the store\'s entries', key: 'the store\'s entries', pfx: 'the store\'s entries', passphrase: 'the store\'s entries', secureContext: 'the store\'s entries', ca: 'the ca option (added to Node\'s roots)' } as const;

/**
 * The TLS fields a user passes in `agentOptions.connect`, as undici's Agent means them:
 * `rejectUnauthorized`, `minVersion` and `maxVersion` become the adapter's own (the same field
 * given both ways must agree); fields that would replace the certificate or the trust are refused,
 * naming the option to use. Other connect options (lookup, timeout, keepAlive...) pass through.
 */
function connectTlsFields(connect: Record<string, unknown> | undefined, options: DispatcherOptions): { connect: Record<string, unknown> | undefined; tls: Pick<AdapterOptions, 'rejectUnauthorized' | 'minVersion' | 'maxVersion'> } {
  if (connect === undefined) return { connect, tls: {} };
  const { rejectUnauthorized, minVersion, maxVersion, ...rest } = connect;
  for (const [field, instead] of Object.entries(REFUSED_CONNECT)) {
    if (rest[field] !== undefined) throw new MtlsError('ERR_INVALID_OPTION', `agentOptions.connect.${field} is not taken: the client certificate and its trust come from ${instead}.`);
  }
  const tls: Pick<AdapterOptions, 'rejectUnauthorized' | 'minVersion' | 'maxVersion'> = {};
  for (const [field, value] of [['rejectUnauthorized', rejectUnauthorized], ['minVersion', minVersion], ['maxVersion', maxVersion]] as const) {
    if (value === undefined) continue;
    const own = (options as Record<string, unknown>)[field];
    if (own !== undefined && own !== value) throw new MtlsError('ERR_INVALID_OPTION', `${field} is given twice with different values (the option and agentOptions.connect.${field}): give it once.`);
    (tls as Record<string, unknown>)[field] = value;
  }
  return { connect: rest, tls };
}

/** The undici Agent that {@link createDispatcher} returns. */
export class MtlsAgent extends Agent {
  readonly #unfollow: () => void;

  constructor(store: CertificateStore, options: DispatcherOptions = {}) {
    refuseDispatcherOn(webRuntime());
    const { factory: _factory, connect: given, connections, allowH2, ...clientOptions } = options.agentOptions ?? {};
    if (given !== undefined && (typeof given !== 'object' || given === null)) {
      throw new MtlsError('ERR_INVALID_OPTION', 'agentOptions.connect must be an object of connect options (e.g. { lookup }); a custom connector function cannot carry the client certificate.');
    }
    const { connect, tls } = connectTlsFields(given as Record<string, unknown> | undefined, options);
    const resolved = resolveAdapterOptions(store, { ...options, ...tls });
    if (allowH2 !== undefined && typeof allowH2 !== 'boolean') throw new MtlsError('ERR_INVALID_OPTION', 'agentOptions.allowH2 must be true or false.');
    // What undici's Client hands its own connector from the Agent's options (the slots build their
    // connectors, so they take these here): connectTimeout as the connector's timeout (0: none).
    const { connectTimeout, autoSelectFamily, autoSelectFamilyAttemptTimeout, socketPath, maxCachedSessions } = clientOptions as Record<string, unknown>;
    const connectorOptions = Object.fromEntries(
      Object.entries({ timeout: connectTimeout, autoSelectFamily, autoSelectFamilyAttemptTimeout, socketPath, maxCachedSessions }).filter(([, v]) => v !== undefined && v !== null),
    );
    const contexts = new ContextCache(resolved.contextCacheSize);
    const shared: RouterShared = {
      store,
      options: resolved,
      contexts,
      routers: new Set(),
      context: (router) => ({
        options: resolved,
        clientOptions,
        // The router's host name goes to the address a dns interceptor picked for it, if one did.
        connect: { ...connectorOptions, ...(connect as object | undefined), lookup: pinnedLookup(router.hostname, () => router.address, (connect as { lookup?: Parameters<typeof pinnedLookup>[2] } | undefined)?.lookup) },
        maxConnections: connections,
        allowH2: allowH2 === true,
        onClient: (client) => router.follow(client as never),
      }),
    };
    super({ ...clientOptions, ...(connections == null ? {} : { connections }), factory: (origin: string | URL) => new OriginRouter(origin, shared) });
    this.#shared = shared;
    registerContextCache(this, contexts);
    this.#unfollow = followStore(store, this, MtlsAgent.#onChange);
    bindToSelf(this, ['close', 'destroy', 'withOptions']);
  }

  readonly #shared: RouterShared;

  /** @internal */
  get [kResolved](): ResolvedAdapterOptions {
    return this.#shared.options;
  }

  /** After a store change: each origin closes the connections whose certificate no longer applies. */
  static #onChange(agent: MtlsAgent, change: StoreChange): void {
    // New defaults (a CA, verification) apply to every connection: none is kept.
    const all = change.type === 'replace' && change.defaultsChanged;
    for (const router of [...agent.#shared.routers]) router.reconcile(all);
    agent.#shared.contexts.prune(storeHolds(agent.#shared.store));
  }

  /**
   * A dispatcher for requests with their own options: `select` an entry or turn verification off,
   * for one origin only: `origin` if given, else the origin of the view's first request. A redirect
   * (or any request) to another origin through the view resolves by the rules with the adapter's
   * own verification.
   */
  withOptions(options: RequestMtlsOptions & { origin?: string | URL }): Dispatcher {
    const scope: Scope = {};
    if (options.select !== undefined) scope.select = options.select;
    if (options.rejectUnauthorized !== undefined) scope.rejectUnauthorized = options.rejectUnauthorized;
    if (options.includeExpired !== undefined) scope.includeExpired = options.includeExpired;
    if (options.origin !== undefined) scope.origin = originOf(options.origin);
    return new ScopedDispatcher(this, scope);
  }

  // Closing or destroying the agent also stops listening to the store.
  /** Closes gracefully: requests already queued complete; then it stops following the store. */
  override close(): Promise<void>;
  /** {@link close}, with a callback. */
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    this.#unfollow();
    this.#shared.contexts.clear(); // the routers' slots hold their own contexts until they are gone
    return (super.close as (...a: unknown[]) => Promise<void> | void)(...args);
  }

  /** Ends every connection at once (requests in flight fail); it stops following the store. */
  override destroy(): Promise<void>;
  /** {@link destroy}, failing the requests in flight with `err`. */
  override destroy(err: Error | null): Promise<void>;
  /** {@link destroy}, with a callback. */
  override destroy(callback: () => void): void;
  /** {@link destroy}, with an error and a callback. */
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    this.#unfollow();
    this.#shared.contexts.clear();
    return (super.destroy as (...a: unknown[]) => Promise<void> | void)(...args);
  }
}

/**
 * An undici Agent that presents, for every https/wss request, the certificate the store resolves
 * for its origin (rules R1-R7), and none for plain http or hosts that match nothing. One slot per
 * (origin, certificate, verification setting); keep-alive connections are reused; when the store
 * changes, slots whose certificate no longer applies are drained and closed. With
 * `agentOptions: { allowH2: true }` it negotiates HTTP/2 and multiplexes each slot's requests over
 * up to 8 connections. The global `fetch` accepts it as its `dispatcher`.
 *
 * @example
 * ```ts
 * import { request } from 'undici';
 * const dispatcher = createDispatcher(store, { ca: loadCaBundle({ file: 'ca.pem' }) });
 * const { statusCode } = await request('https://api.acme.com/v1', { dispatcher });
 * await fetch('https://api.acme.com/v1', { dispatcher }); // the runtime's global fetch
 * ```
 */
export function createDispatcher(store: CertificateStore, options: DispatcherOptions = {}): MtlsAgent & RuntimeDispatcher & AnyUndiciDispatcher {
  return new MtlsAgent(store, options) as MtlsAgent & RuntimeDispatcher & AnyUndiciDispatcher;
}
