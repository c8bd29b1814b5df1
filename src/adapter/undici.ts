// The only module that imports undici. An Agent whose factory builds, per origin, a router that
// keeps one Pool per (certificate, verification setting): keep-alive connections are never shared
// between certificates, and each pool's TLS secure context is built once.
import type { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { Agent, Client, Dispatcher, buildConnector, fetch as undiciFetch } from 'undici';
import type { RequestInfo, RequestInit, Response } from 'undici';
import { MtlsError } from '../errors.js';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore, StoreChange } from '../store.js';
import { describeConnectError, describeRequestError } from './errors.js';
import {
  reportConnect,
  reportSelect,
  resolveAdapterOptions,
  secureContextFor,
  type AdapterOptions,
  type RequestMtlsOptions,
  type ResolvedAdapterOptions,
} from './options.js';

/** Options of {@link createDispatcher}, {@link createInterceptor} and {@link createFetch}. */
export interface DispatcherOptions extends AdapterOptions {
  /** Passed to undici's Agent and Pools; `connect` (e.g. a custom `lookup`) is merged, our TLS fields win. */
  agentOptions?: Agent.Options;
}

const kScope = Symbol.for('mtls-resolver.scope');

interface Scope extends RequestMtlsOptions {
  /** `select` applies to this origin only (R7: after a redirect, resolution runs anew). */
  origin?: string;
}

type Handler = Dispatcher.DispatchHandler;
type DispatchOptions = Dispatcher.DispatchOptions & { [kScope]?: Scope };

// Resolutions are cached per origin for this long (and until the store changes), so that a busy
// origin does not resolve on every request; validity (R6) is thus checked at most 1 s late.
const RESOLUTION_TTL_MS = 1000;

interface Shared {
  store: CertificateStore;
  options: ResolvedAdapterOptions;
  poolOptions: Agent.Options;
  connect: Record<string, unknown>;
  routers: Set<OriginRouter>;
}

/**
 * The connections of one (origin, certificate, verification): undici Clients, each one keep-alive
 * connection. A request goes to an idle client first (undici's Pool marks a client that was busy
 * as "needs drain" until an event that can come after the next sequential request, and so opens a
 * second connection — a second handshake — for requests made one after the other).
 */
class Connections {
  readonly #clients: Client[] = [];
  readonly #create: () => Client;
  readonly #max: number;

  constructor(create: () => Client, max: number | null | undefined) {
    this.#create = create;
    this.#max = max ?? Infinity;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    let best: Client | undefined;
    let bestLoad = Infinity;
    for (let i = this.#clients.length - 1; i >= 0; i--) {
      const client = this.#clients[i]!;
      if (client.closed || client.destroyed) {
        this.#clients.splice(i, 1);
        continue;
      }
      const { pending, running } = client.stats;
      const load = pending + running;
      if (load < bestLoad || (load === bestLoad && client.stats.connected)) {
        best = client;
        bestLoad = load;
      }
    }
    if (best === undefined || (bestLoad > 0 && this.#clients.length < this.#max)) {
      best = this.#create();
      this.#clients.push(best);
    }
    return best.dispatch(opts, handler);
  }

  close(): Promise<void> {
    return Promise.all(this.#clients.splice(0).map((c) => c.close())).then(() => undefined);
  }

  destroy(err: Error | null): Promise<void> {
    return Promise.all(this.#clients.splice(0).map((c) => c.destroy(err))).then(() => undefined);
  }
}

interface Slot {
  pool: Connections;
  certificate: LoadedCertificate | undefined;
  entryId: string | undefined;
  selected: boolean;
}

/** Wraps a handler so that TLS failures reach the caller as MtlsErrors that say what happened. */
function describingErrors(handler: Handler, origin: string, match: Match<LoadedCertificate> | undefined): Handler {
  const bound = new Map<string | symbol, unknown>(); // onResponseData runs per chunk: bind once
  return new Proxy(handler, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        if (prop === 'onError') fn = (err: Error) => (value as (e: Error) => void).call(target, describeRequestError(err, origin, match));
        else if (prop === 'onResponseError') {
          fn = (controller: unknown, err: Error) => (value as (c: unknown, e: Error) => void).call(target, controller, describeRequestError(err, origin, match));
        } else fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

class OriginRouter extends Dispatcher {
  readonly #origin: string;
  readonly #url: URL;
  readonly #secure: boolean;
  readonly #shared: Shared;
  readonly #slots = new Map<string, Slot>();
  #cache: { generation: number; until: number; match: Match<LoadedCertificate> | undefined } | undefined;
  #closed = false;
  #destroyed = false;

  constructor(origin: string | URL, shared: Shared) {
    super();
    this.#url = new URL(String(origin));
    this.#origin = this.#url.origin;
    this.#secure = this.#url.protocol === 'https:' || this.#url.protocol === 'wss:';
    this.#shared = shared;
    shared.routers.add(this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** The default resolution for this origin (no select), cached per store generation. */
  #defaultMatch(): Match<LoadedCertificate> | undefined {
    const { store, options } = this.#shared;
    const now = Date.now();
    const c = this.#cache;
    if (c !== undefined && c.generation === store.generation && now < c.until) return c.match;
    const match = store.resolve(this.#url, { fallbackToPrimary: options.fallbackToPrimary });
    this.#cache = { generation: store.generation, until: now + RESOLUTION_TTL_MS, match };
    return match;
  }

  override dispatch(opts: DispatchOptions, handler: Handler): boolean {
    const scope = opts[kScope];
    const verify = scope?.rejectUnauthorized ?? this.#shared.options.rejectUnauthorized;
    let match: Match<LoadedCertificate> | undefined;
    let selected = false;
    try {
      if (this.#secure && scope?.select !== undefined && (scope.origin === undefined || scope.origin === this.#origin)) {
        match = this.#shared.store.resolve(this.#url, { select: scope.select });
        selected = true;
      } else if (this.#secure) {
        match = this.#defaultMatch();
      }
    } catch (err) {
      // e.g. select names no entry: the request fails with that MtlsError, through whichever
      // error callback this handler has (undici's newer API, or the older one).
      const h = handler as { onResponseError?: (c: unknown, e: Error) => void; onError?: (e: Error) => void };
      if (typeof h.onResponseError === 'function') h.onResponseError(null, err as Error);
      else h.onError?.(err as Error);
      return true;
    }
    const key = match === undefined ? `-${verify}` : `${match.entry.id}\n${match.entry.certificate.fingerprint256}\n${verify}`;
    const slot = this.#slots.get(key) ?? this.#createSlot(key, match, verify, selected);
    if (match !== undefined) reportSelect(this.#shared.options, this.#origin, match);
    return slot.pool.dispatch(opts, this.#secure ? describingErrors(handler, this.#origin, match) : handler);
  }

  #createSlot(key: string, match: Match<LoadedCertificate> | undefined, verify: boolean, selected: boolean): Slot {
    const { options, poolOptions, connect } = this.#shared;
    const origin = this.#origin;
    const certificate = match?.entry.certificate;
    let connector = undefined as Client.Options['connect'];
    if (this.#secure) {
      const base = buildConnector({
        ...connect,
        secureContext: secureContextFor(certificate, options.ca),
        rejectUnauthorized: verify,
      } as buildConnector.BuildOptions);
      connector = (connectOptions, callback) =>
        base(connectOptions, (err, socket) => {
          if (err !== null) {
            callback(describeConnectError(err, origin, match, verify), null);
            return;
          }
          reportConnect(origin, match, socket as TLSSocket);
          callback(null, socket);
        });
    } else if (Object.keys(connect).length > 0) {
      connector = buildConnector(connect as buildConnector.BuildOptions);
    }
    const { connections, ...clientOptions } = poolOptions;
    const pool = new Connections(() => {
      const client = new Client(origin, { ...clientOptions, ...(connector === undefined ? {} : { connect: connector }) });
      // The Agent counts connections through these events to drop an origin once it has none.
      for (const event of ['drain', 'connect', 'disconnect', 'connectionError']) {
        (client as unknown as EventEmitter).on(event, (o: URL, targets: readonly Dispatcher[], ...rest: unknown[]) =>
          (this as unknown as EventEmitter).emit(event, o, [this, ...targets], ...rest),
        );
      }
      return client;
    }, connections);
    const slot: Slot = { pool, certificate, entryId: match?.entry.id, selected };
    this.#slots.set(key, slot);
    return slot;
  }

  /** After a store change: drain and close the pools whose certificate no longer applies here. */
  reconcile(): void {
    const { store } = this.#shared;
    const current = this.#secure ? this.#defaultMatch() : undefined;
    for (const [key, slot] of this.#slots) {
      const entry = slot.entryId === undefined ? undefined : store.get(slot.entryId);
      const stale =
        slot.entryId === undefined
          ? current !== undefined
          : entry === undefined || entry.certificate !== slot.certificate || (!slot.selected && current?.entry.id !== slot.entryId);
      if (stale) {
        this.#slots.delete(key);
        void slot.pool.close(); // graceful: requests already queued on it complete
      }
    }
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    this.#closed = true;
    this.#shared.routers.delete(this);
    const done = Promise.all([...this.#slots.values()].map((s) => s.pool.close())).then(() => undefined);
    this.#slots.clear();
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (callback === undefined) return done;
    void done.then(callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    this.#destroyed = true;
    this.#closed = true;
    this.#shared.routers.delete(this);
    const err = args.find((a) => a instanceof Error) as Error | undefined;
    const done = Promise.all([...this.#slots.values()].map((s) => s.pool.destroy(err ?? null))).then(() => undefined);
    this.#slots.clear();
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (callback === undefined) return done;
    void done.then(callback);
  }
}

/** The undici Agent that {@link createDispatcher} returns. */
export class MtlsAgent extends Agent {
  readonly #shared: Shared;
  readonly #onChange: (change: StoreChange) => void;

  constructor(store: CertificateStore, options: DispatcherOptions = {}) {
    const resolved = resolveAdapterOptions(store, options);
    const { factory: _factory, connect, ...poolOptions } = options.agentOptions ?? {};
    if (connect !== undefined && (typeof connect !== 'object' || connect === null)) {
      throw new MtlsError('ERR_INVALID_OPTION', 'agentOptions.connect must be an object of connect options (e.g. { lookup }); a custom connector function cannot carry the client certificate.');
    }
    const shared: Shared = { store, options: resolved, poolOptions, connect: { ...(connect as object) }, routers: new Set() };
    super({ ...poolOptions, factory: (origin: string | URL) => new OriginRouter(origin, shared) });
    this.#shared = shared;
    this.#onChange = () => {
      for (const router of [...shared.routers]) router.reconcile();
    };
    store.on('change', this.#onChange);
  }

  /**
   * A dispatcher for requests with their own options: `select` an entry for the request's origin
   * (only that origin: a redirect elsewhere resolves anew) or turn verification off for them alone.
   */
  withOptions(options: RequestMtlsOptions & { origin?: string | URL }): Dispatcher {
    const scope: Scope = {};
    if (options.select !== undefined) scope.select = options.select;
    if (options.rejectUnauthorized !== undefined) scope.rejectUnauthorized = options.rejectUnauthorized;
    if (options.origin !== undefined) scope.origin = new URL(String(options.origin)).origin;
    return new ScopedDispatcher(this, scope);
  }

  // Closing or destroying the agent also stops listening to the store.
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    this.#shared.store.off('change', this.#onChange);
    return (super.close as (...a: unknown[]) => Promise<void> | void)(...args);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    this.#shared.store.off('change', this.#onChange);
    return (super.destroy as (...a: unknown[]) => Promise<void> | void)(...args);
  }
}

class ScopedDispatcher extends Dispatcher {
  readonly #agent: Dispatcher;
  readonly #scope: Scope;

  constructor(agent: Dispatcher, scope: Scope) {
    super();
    this.#agent = agent;
    this.#scope = scope;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    return this.#agent.dispatch({ ...opts, [kScope]: this.#scope } as Dispatcher.DispatchOptions, handler);
  }

  // The agent is shared: closing a per-request view closes nothing.
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
  }
}

/**
 * An undici Agent that presents, for every https/wss request, the certificate the store resolves
 * for its origin (rules R1-R7), and none for plain http or hosts that match nothing. One pool per
 * (origin, certificate, verification setting); keep-alive connections are reused; when the store
 * changes, pools whose certificate no longer applies are drained and closed.
 *
 * @example
 * ```ts
 * import { request } from 'undici';
 * const dispatcher = createDispatcher(store, { ca: loadCaBundle({ file: 'ca.pem' }) });
 * const { statusCode } = await request('https://api.acme.com/v1', { dispatcher });
 * ```
 */
export function createDispatcher(store: CertificateStore, options: DispatcherOptions = {}): MtlsAgent {
  return new MtlsAgent(store, options);
}

/** An undici interceptor: `(dispatch) => dispatch'`, with `close()` for its own pools. */
export type MtlsInterceptor = Dispatcher.DispatcherComposeInterceptor & { close(): Promise<void> };

/**
 * An interceptor for `dispatcher.compose(...)`: https/wss requests whose origin resolves to a
 * certificate go through this library's pools (which present it); every other request goes on to
 * the dispatcher you composed it with, unchanged.
 *
 * @example
 * ```ts
 * const interceptor = createInterceptor(store);
 * const client = new Agent().compose(interceptor, interceptors.retry());
 * ```
 */
export function createInterceptor(store: CertificateStore, options: DispatcherOptions = {}): MtlsInterceptor {
  const agent = new MtlsAgent(store, options);
  const fallbackToPrimary = options.fallbackToPrimary === true;
  const interceptor = ((dispatch: Dispatcher['dispatch']) => (opts: DispatchOptions, handler: Handler) => {
    const origin = opts.origin === undefined ? undefined : new URL(String(opts.origin));
    const secure = origin !== undefined && (origin.protocol === 'https:' || origin.protocol === 'wss:');
    const wanted = secure && (opts[kScope]?.select !== undefined || store.resolve(origin, { fallbackToPrimary }) !== undefined);
    return wanted ? agent.dispatch(opts, handler) : dispatch(opts, handler);
  }) as MtlsInterceptor;
  interceptor.close = () => agent.close();
  return interceptor;
}

/** `init` of {@link createFetch}'s fetch: undici's RequestInit plus per-request mTLS options. */
export type MtlsRequestInit = RequestInit & { mtls?: RequestMtlsOptions };

/** The fetch that {@link createFetch} returns, with its dispatcher and a `close()`. */
export type MtlsFetch = ((input: RequestInfo, init?: MtlsRequestInit) => Promise<Response>) & {
  dispatcher: MtlsAgent;
  close(): Promise<void>;
};

/**
 * undici's own `fetch` with a {@link createDispatcher} dispatcher. Per request,
 * `init.mtls = { select, rejectUnauthorized }` picks an entry for that request's origin or turns
 * verification off for it alone. Redirects to another origin resolve again.
 *
 * @example
 * ```ts
 * const fetch = createFetch(store);
 * const res = await fetch('https://api.acme.com/v1/orders');
 * await fetch('https://staging.acme.com/', { mtls: { select: 'ACME staging', rejectUnauthorized: false } });
 * await fetch.close();
 * ```
 */
export function createFetch(store: CertificateStore, options: DispatcherOptions = {}): MtlsFetch {
  const dispatcher = new MtlsAgent(store, options);
  const mtlsFetch = ((input: RequestInfo, init: MtlsRequestInit = {}) => {
    const { mtls, ...rest } = init;
    if (mtls === undefined || rest.dispatcher !== undefined) return undiciFetch(input, { dispatcher, ...rest });
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    return undiciFetch(input, { ...rest, dispatcher: dispatcher.withOptions({ ...mtls, origin: url }) });
  }) as MtlsFetch;
  mtlsFetch.dispatcher = dispatcher;
  mtlsFetch.close = () => dispatcher.close();
  return mtlsFetch;
}
