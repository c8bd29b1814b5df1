// node:https (and so axios, got, node-fetch, ws): an Agent that picks the certificate per request
// (request options to spread for one request: https-options.ts).
import * as https from 'node:https';
import type { ClientRequest } from 'node:http';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { MtlsError, isMtlsError } from '../errors.js';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import { followStore } from '../store/followers.js';
import type { CertificateStore, StoreChange, StoreEntry } from '../store/store.js';
import { changesChoice, chooseFor, whyNone } from './choose.js';
import { describeConnectError } from './errors.js';
import { reportChoice, reportConnect } from './events.js';
import { ContextCache, registerContextCache, storeHolds } from './contexts.js';
import { resolveAdapterOptions, type AdapterOptions, type RequestMtlsOptions, type ResolvedAdapterOptions } from './options.js';
import { StoreMemo, noLongerApplies } from './memo.js';
import { CONNECT_TIMEOUT, openTunnel } from './proxy.js';

declare module 'https' {
  interface RequestOptions {
    /** Per request, with an agent from `createHttpsAgent`: present this entry, or verify (or not) this server. */
    mtls?: RequestMtlsOptions;
  }
}

/** Options of {@link createHttpsAgent}. */
export interface HttpsAgentOptions extends AdapterOptions {
  /** Passed to `https.Agent`. Default: `{ keepAlive: true }`. */
  agentOptions?: https.AgentOptions;
}

// One request's resolution, made once in addRequest and carried (under this symbol, which object
// spread copies) by every options object Node derives from the request's: getName, createConnection
// and the socket's 'free' and 'close' handling all see the same certificate, and none re-resolves.
const kChoice = Symbol('mtls-resolver.choice');
/** The pool name of a socket. */
const kName = Symbol('mtls-resolver.pool');

/** An origin's default resolution, with the pool name tails made from it (by verification). */
interface Resolution {
  url: URL;
  match: Match<LoadedCertificate> | undefined;
  tails: [string | undefined, string | undefined];
}

interface Choice {
  url: URL;
  match: Match<LoadedCertificate> | undefined;
  selected: boolean;
  verify: boolean;
  /** The pool name, made once. */
  name?: string;
  /** The origin's cached resolution, when not selected. */
  resolution?: Resolution;
}

/** The origin of request options, as the memo keys it. */
function originOf(o: https.RequestOptions): string {
  const host = o.hostname ?? o.host ?? 'localhost';
  // `||`: follow-redirects gives a URL's default port as ''.
  return `https://${host.includes(':') ? `[${host}]` : host}:${o.port || o.defaultPort || 443}`;
}

type AgentRequestOptions = https.RequestOptions & { [kChoice]?: Choice };
type Internals = {
  sockets: Record<string, Duplex[] | undefined>;
  freeSockets: Record<string, Duplex[] | undefined>;
  requests: Record<string, ClientRequest[] | undefined>;
};

const agentProto = https.Agent.prototype as unknown as {
  addRequest(req: ClientRequest, o: unknown): void;
  createConnection(o: unknown, cb?: unknown): Duplex;
  keepSocketAlive(socket: Duplex): boolean;
};

/** The https.Agent that {@link createHttpsAgent} returns. */
export class MtlsHttpsAgent extends https.Agent {
  readonly #store: CertificateStore;
  readonly #resolved: ResolvedAdapterOptions;
  readonly #unfollow: () => void;
  /** The pool names in use whose certificate still applies, with what they were chosen for. */
  readonly #live = new Map<string, Choice>();
  /** Pool names whose certificate no longer applies (a store change): their sockets are not reused. */
  readonly #stale = new Set<string>();
  /** The caller's options of each queued request, to queue it again under a new certificate. */
  readonly #pending = new WeakMap<ClientRequest, https.RequestOptions>();

  readonly #contexts: ContextCache;

  constructor(store: CertificateStore, options: HttpsAgentOptions = {}) {
    const resolved = resolveAdapterOptions(store, options);
    super({ keepAlive: true, ...options.agentOptions });
    this.#store = store;
    this.#resolved = resolved;
    this.#contexts = new ContextCache(resolved.contextCacheSize);
    registerContextCache(this, this.#contexts);
    this.#resolutions = new StoreMemo(store, (origin): Resolution => {
      const url = new URL(origin);
      return { url, match: chooseFor(store, url, resolved), tails: [undefined, undefined] };
    });
    this.#unfollow = followStore(store, this, MtlsHttpsAgent.#onChange);
  }

  /** The default resolution of each origin (no select), per store generation (see StoreMemo). */
  readonly #resolutions: StoreMemo<Resolution>;

  /**
   * The request's own `mtls` options, when they apply to its origin: an `mtls` object is bound to
   * the origin of the first request that carries it. Redirect followers (follow-redirects, and so
   * axios; ws) copy the request options shallowly, `mtls` object included: the hop to another
   * origin then resolves by the rules with the agent's verification.
   */
  #own(o: https.RequestOptions): RequestMtlsOptions | undefined {
    const mtls = o.mtls;
    if (mtls === undefined || mtls === null || typeof mtls !== 'object') return undefined;
    const origin = originOf(o);
    const bound = this.#bound.get(mtls);
    if (bound === undefined) this.#bound.set(mtls, origin);
    return bound === undefined || bound === origin ? mtls : undefined;
  }

  /** The origin each `mtls` object was first used for. */
  readonly #bound = new WeakMap<object, string>();

  #choose(o: https.RequestOptions): Choice {
    const own = this.#own(o);
    const verify = this.#verify(o, own);
    if (changesChoice(own, this.#resolved)) {
      // The request's own choice (for its origin), not the origin's cached one.
      const url = new URL(originOf(o));
      return { url, match: chooseFor(this.#store, url, this.#resolved, own), selected: true, verify };
    }
    const resolution = this.#resolutions.get(originOf(o)); // one resolution per origin, not per request
    return { url: resolution.url, match: resolution.match, selected: false, verify, resolution };
  }

  #verify(o: https.RequestOptions, own = this.#own(o)): boolean {
    // Node's own per-request rejectUnauthorized counts as the request's, after its mtls one.
    return this.#resolved.verify(own?.rejectUnauthorized ?? o.rejectUnauthorized);
  }

  /** What the pool name adds to Node's: the certificate, the verification and the trust. */
  #tail(match: Match<LoadedCertificate> | undefined, verify: boolean): string {
    const cert = match === undefined ? '-' : `${match.entry.id}/${match.entry.certificate.fingerprint256}`;
    // The trust is in the name: https.Agent caches TLS sessions by name, and a resumed session is not verified again.
    return `:mtls:${cert}:${verify}:${this.#resolved.trust.withEntry(match?.entry).token}`;
  }

  /** Node's pool name plus the certificate, the verification and the trust chosen for the request. */
  override getName(o: AgentRequestOptions = {}): string {
    const choice = o[kChoice];
    if (choice === undefined) {
      // From outside a request (a pool lookup, a library's own bookkeeping): no choice to record,
      // and the name's tail cached with the origin's resolution.
      try {
        if (changesChoice(this.#own(o), this.#resolved)) {
          const own = this.#choose(o);
          return super.getName(o) + this.#tail(own.match, own.verify);
        }
        const resolution = this.#resolutions.get(originOf(o));
        const verify = this.#verify(o);
        return super.getName(o) + (resolution.tails[verify ? 1 : 0] ??= this.#tail(resolution.match, verify));
      } catch {
        return `${super.getName(o)}:mtls:unresolved`; // never throw here
      }
    }
    if (choice.name === undefined) {
      const tail = choice.resolution === undefined ? this.#tail(choice.match, choice.verify) : (choice.resolution.tails[choice.verify ? 1 : 0] ??= this.#tail(choice.match, choice.verify));
      choice.name = super.getName(o) + tail;
      if (!this.#stale.has(choice.name)) this.#live.set(choice.name, choice);
    }
    return choice.name;
  }

  /** Chooses the request's certificate (once per origin, or its own `mtls` choice) before Node gives it a socket. */
  addRequest(req: ClientRequest, o: https.RequestOptions): void {
    let choice: Choice;
    try {
      choice = this.#choose(o);
    } catch (err) {
      // e.g. select names no entry: the request fails with that MtlsError, as a socket error would.
      (req as unknown as { onSocket(s: null, e: Error): void }).onSocket(null, err as Error);
      return;
    }
    const proxy = this.#resolved.proxy?.routeFor(choice.url)?.display;
    reportChoice(this.#resolved, this.#store, choice.url.origin, choice.match, this.#own(o)?.includeExpired, proxy);
    describeErrors(req, choice, proxy, choice.match === undefined ? () => whyNone(this.#store, choice.url.origin, this.#resolved) : undefined);
    this.#pending.set(req, o);
    agentProto.addRequest.call(this, req, { ...o, [kChoice]: choice });
  }

  /** A TLS connection with the chosen certificate's secure context (directly or through the proxy). */
  override createConnection(o: AgentRequestOptions, callback?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const choice = o[kChoice] ?? this.#choose(o);
    const name = this.getName(o);
    // The socket's secure context, released when the socket closes (see ContextCache).
    const lease = this.#contexts.lease(choice.match?.entry.certificate, this.#resolved.trust.withEntry(choice.match?.entry), choice.match?.entry.id);
    const tlsOptions = { ...o, secureContext: lease.context, rejectUnauthorized: choice.verify };
    const route = this.#resolved.proxy?.routeFor(choice.url);
    const ready = (socket: Duplex) => {
      socket.once('close', lease.release);
      (socket as Duplex & { [kName]?: string })[kName] = name;
      socket.once('secureConnect', () => reportConnect(choice.url.origin, choice.match, socket as never, route?.display));
      return socket;
    };
    if (route === undefined) return ready(agentProto.createConnection.call(this, tlsOptions, callback));
    // Through a proxy: the CONNECT tunnel first, then the target's TLS session inside it.
    const host = choice.url.hostname.replace(/^\[|\]$/g, '');
    const lookup = (o as { lookup?: Parameters<typeof openTunnel>[3]['lookup'] }).lookup;
    openTunnel(route, host, Number(choice.url.port) || 443, lookup === undefined ? {} : { lookup }, (err, tunnel) => {
      if (err !== null || tunnel === null) {
        lease.release();
        callback?.(err ?? new Error('no tunnel'), undefined as never);
        return;
      }
      const servername = o.servername ?? (isIP(host) ? undefined : host);
      const secured = tls.connect({ ...(tlsOptions as tls.ConnectionOptions), socket: tunnel, servername });
      // As a direct connection through undici: a handshake inside the tunnel that never completes
      // fails, after the agent's `timeout` if it has one, else undici's connect timeout.
      const limit = typeof o.timeout === 'number' && o.timeout > 0 ? o.timeout : CONNECT_TIMEOUT;
      const timer = setTimeout(() => {
        secured.destroy(new MtlsError('ERR_TLS_HANDSHAKE', `The TLS handshake with ${choice.url.origin} through the proxy ${route.display} did not complete within ${limit} ms: the target, or the proxy between, stopped answering.`));
      }, limit);
      timer.unref?.();
      secured.once('secureConnect', () => clearTimeout(timer));
      secured.once('close', () => clearTimeout(timer));
      callback?.(null, ready(secured));
    });
    return undefined;
  }

  /** A socket of a certificate that no longer applies is closed instead of kept for reuse. */
  override keepSocketAlive(socket: Duplex): boolean {
    const name = (socket as Duplex & { [kName]?: string })[kName];
    if (name !== undefined && this.#stale.has(name)) return false;
    return agentProto.keepSocketAlive.call(this, socket);
  }

  /** Held weakly by the store: a module-level function, so that it holds no agent. */
  static #onChange(agent: MtlsHttpsAgent, change: StoreChange): void {
    agent.#reconcile(change.type === 'replace' && change.defaultsChanged);
    agent.#contexts.prune(storeHolds(agent.#store));
  }

  /** After a store change: close idle sockets of stale certificates, and queue their waiting requests anew. */
  #reconcile(all: boolean): void {
    const self = this as unknown as Internals;
    const inUse = (name: string) => self.sockets[name] !== undefined || self.freeSockets[name] !== undefined || self.requests[name] !== undefined;
    for (const name of this.#stale) if (!inUse(name)) this.#stale.delete(name);
    const current = new Map<string, Match<LoadedCertificate> | undefined>();
    const currentFor = (url: URL) => {
      if (!current.has(url.origin)) current.set(url.origin, chooseFor(this.#store, url, this.#resolved));
      return current.get(url.origin);
    };
    for (const [name, choice] of this.#live) {
      if (!all && !noLongerApplies(this.#store, choice.match?.entry as StoreEntry | undefined, choice.selected, () => currentFor(choice.url))) {
        if (!inUse(name)) this.#live.delete(name);
        continue;
      }
      this.#live.delete(name);
      this.#stale.add(name);
      for (const socket of self.freeSockets[name] ?? []) socket.destroy();
      delete self.freeSockets[name]; // out of the pool now, not when their 'close' comes
      const waiting = self.requests[name] ?? [];
      delete self.requests[name];
      for (const req of waiting) this.addRequest(req, this.#pending.get(req) ?? {});
    }
  }

  override destroy(): void {
    this.#unfollow();
    this.#contexts.clear();
    this.#resolutions.clear();
    super.destroy();
    this.#live.clear();
    this.#stale.clear();
    // Node empties its pools as each destroyed socket's 'close' comes: empty them now. Requests
    // still waiting for a socket would wait forever (Node keeps them): they fail instead.
    const self = this as unknown as Internals;
    const waiting = Object.values(self.requests).flatMap((list) => list ?? []);
    for (const pools of [self.sockets, self.freeSockets, self.requests]) for (const name of Object.keys(pools)) delete pools[name];
    for (const req of waiting) {
      const err = Object.assign(new Error('The https agent was destroyed before this request got a socket.'), { code: 'ERR_AGENT_DESTROYED' });
      (req as unknown as { onSocket(s: null, e: Error): void }).onSocket(null, err);
    }
  }
}

// A request's TLS failures name the certificate presented (Node's own say "socket hang up").
function describeErrors(req: ClientRequest, choice: Choice, proxy: string | undefined, why: (() => string) | undefined): void {
  const emit = req.emit;
  const origin = choice.url.origin;
  req.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && args[0] instanceof Error && !isMtlsError(args[0])) {
      args[0] = describeConnectError(args[0], origin, choice.match, choice.verify, undefined, proxy, why);
    }
    return emit.call(this, event, ...args);
  } as typeof req.emit;
}

/**
 * An `https.Agent` that presents, per request, the certificate the store resolves for the request's
 * host and port, from a TLS context built once per certificate. It resolves once per request; its
 * socket pools are keyed by the chosen certificate and verification setting (Node keys them by
 * cert/key/pfx only, not by secureContext), so two certificates never share a socket. After a store
 * change, idle sockets of a certificate that no longer applies are closed, busy ones are closed
 * when their request ends, and requests waiting for a socket resolve again. Per request:
 * `{ mtls: { select, rejectUnauthorized } }` in the request options. `destroy()` closes every
 * socket and stops listening to the store.
 *
 * @example
 * ```ts
 * const agent = createHttpsAgent(store);
 * https.get('https://api.acme.com/v1', { agent, mtls: { select: 'ACME admin' } }, onResponse);
 * axios.get(url, { httpsAgent: agent });
 * new WebSocket('wss://api.acme.com/stream', { agent }); // the ws package
 * ```
 */
export function createHttpsAgent(store: CertificateStore, options: HttpsAgentOptions = {}): MtlsHttpsAgent {
  return new MtlsHttpsAgent(store, options);
}
