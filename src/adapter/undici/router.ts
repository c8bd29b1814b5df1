// One origin of an MtlsAgent: resolves the certificate for each request (cached per store
// generation), hands the request to the slot of (certificate, verification), and after a store
// change closes the slots whose certificate no longer applies (gracefully: queued requests finish).
import type { EventEmitter } from 'node:events';
import { FormData, type Dispatcher } from 'undici';
import type { LoadedCertificate } from '../../loader/types.js';
import { isSecureProtocol } from '../../resolver/host.js';
import type { Match } from '../../resolver/types.js';
import type { CertificateStore, StoreEntry } from '../../store/store.js';
import type { ContextCache, ContextLease } from '../contexts.js';
import { reportChoice } from '../events.js';
import { kAddress } from './address.js';
import { inFormDataOf } from './form-data.js';
import { AlertLog } from '../alerts.js';
import { changesChoice, chooseFor, whyNone } from '../choose.js';
import { StoreMemo, noLongerApplies } from '../memo.js';
import type { ResolvedAdapterOptions } from '../options.js';
import type { ProxyRoute } from '../proxy.js';
import { failRequest, slotHandler, type Presented } from './handler.js';
import { ClosableDispatcher } from './closable.js';
import { kScope, type ScopedDispatchOptions } from './scope.js';
import { makeSlot, type SlotContext, type SlotDispatcher } from './slot.js';

/** What every router of an agent shares. */
export interface RouterShared {
  store: CertificateStore;
  options: ResolvedAdapterOptions;
  /** The agent's secure contexts: each slot leases one and releases it when it is closed. */
  contexts: ContextCache;
  /** Made per router: its clients report their connection events through it. */
  context(router: OriginRouter): SlotContext;
  routers: Set<OriginRouter>;
}

interface Slot {
  dispatcher: SlotDispatcher;
  /** What the slot's requests' errors say was presented: one record per slot, not per request. */
  presented: Presented;
  /** The slot's secure context, released when the slot is closed. */
  lease: ContextLease | undefined;
  /** The entry presented, as it was when the slot was made (undefined: none). */
  entry: StoreEntry | undefined;
  selected: boolean;
}

/** Closes a slot's connections, then releases its secure context. */
function closeSlot(slot: Slot, how: (d: SlotDispatcher) => Promise<void>): Promise<void> {
  const release = () => slot.lease?.release();
  return how(slot.dispatcher).then(release, (err: unknown) => {
    release();
    throw err;
  });
}

export class OriginRouter extends ClosableDispatcher {
  readonly #origin: string;
  readonly #url: URL;
  readonly #secure: boolean;
  readonly #shared: RouterShared;
  /** allowH2 turns off when the server answers HTTP_1_1_REQUIRED: this origin's new slots then offer HTTP/1.1 only. */
  #context: SlotContext;
  readonly #proxy: ProxyRoute | undefined;
  readonly #slots = new Map<string, Slot>();
  /** The default resolution of this origin (no select), per store generation (see StoreMemo). */
  readonly #resolution: StoreMemo<Match<LoadedCertificate> | undefined>;
  #last: { match: Match<LoadedCertificate> | undefined; verify: boolean; key: string; slot: Slot } | undefined;

  constructor(origin: string | URL, shared: RouterShared) {
    super();
    this.#url = new URL(String(origin));
    this.#origin = this.#url.origin;
    this.#secure = isSecureProtocol(this.#url.protocol);
    this.#shared = shared;
    this.#context = shared.context(this);
    this.#proxy = shared.options.proxy?.routeFor(this.#url);
    this.#resolution = new StoreMemo(shared.store, () => chooseFor(shared.store, this.#url, shared.options));
    shared.routers.add(this);
  }

  /**
   * Re-emits a client's connection events as the Agent expects them from its per-origin
   * dispatcher. undici's Agent counts connect and disconnect events and closes the dispatcher of
   * an origin whose count falls to 0. After a rotation the old connection's disconnect can come
   * while the new one is still connecting, with requests waiting on it: the Agent would close this
   * router (and the new connection with it), and every request after would connect anew. So a
   * disconnect that leaves no connection while requests are waiting is held back until the next
   * connection is up (or fails); it is then re-emitted, and the count is right again.
   */
  follow(client: EventEmitter): void {
    const emit = (event: string, o: URL, targets: readonly Dispatcher[], rest: unknown[]) => (this as unknown as EventEmitter).emit(event, o, [this, ...targets], ...rest);
    client.on('drain', (o: URL, targets: readonly Dispatcher[], ...rest: unknown[]) => emit('drain', o, targets, rest));
    client.on('connect', (o: URL, targets: readonly Dispatcher[], ...rest: unknown[]) => {
      this.#connected++;
      emit('connect', o, targets, rest);
      this.#flushDisconnect();
    });
    client.on('disconnect', (o: URL, targets: readonly Dispatcher[], ...rest: unknown[]) => {
      this.#connected--;
      if (this.#connected === 0 && this.#heldDisconnect === undefined && !this.closed && this.#inflight() > 0) this.#heldDisconnect = () => emit('disconnect', o, targets, rest);
      else emit('disconnect', o, targets, rest);
    });
    client.on('connectionError', (o: URL, targets: readonly Dispatcher[], ...rest: unknown[]) => {
      this.#flushDisconnect();
      emit('connectionError', o, targets, rest);
    });
  }

  #connected = 0;
  #heldDisconnect: (() => void) | undefined;

  #flushDisconnect(): void {
    const held = this.#heldDisconnect;
    this.#heldDisconnect = undefined;
    held?.();
  }

  #inflight(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += slot.dispatcher.inflight;
    return n;
  }

  /** The default resolution for this origin (no select). */
  #defaultMatch(): Match<LoadedCertificate> | undefined {
    return this.#resolution.get(this.#origin);
  }

  /** The origin's host name, as connections look it up. */
  get hostname(): string {
    return this.#url.hostname.replace(/^\[|\]$/g, '');
  }

  /** The address a dns interceptor picked for this origin's last request, if any. */
  address: string | undefined;

  override dispatch(opts: ScopedDispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const body = inFormDataOf(opts.body, FormData);
    if (body !== opts.body) opts = { ...opts, body: body as typeof opts.body };
    const address = (opts as { [kAddress]?: string })[kAddress];
    if (address !== undefined) this.address = address;
    // A request's own options apply to the origin they were given for, never to a redirect's.
    const given = opts[kScope];
    const scope = given !== undefined && given.origin === this.#origin ? given : undefined;
    const verify = this.#shared.options.verify(scope?.rejectUnauthorized);
    let match: Match<LoadedCertificate> | undefined;
    let selected = false;
    if (this.#secure) {
      try {
        if (changesChoice(scope, this.#shared.options)) {
          // The request's own choice: not the origin's cached one, and not re-checked against it after a store change.
          match = chooseFor(this.#shared.store, this.#url, this.#shared.options, scope);
          selected = true;
        } else {
          match = this.#defaultMatch();
        }
      } catch (err) {
        failRequest(handler, err as Error); // e.g. select names no entry
        return true;
      }
    }
    // The slot of the previous request, when it is for the same match and verification (the
    // usual case: no key string, no map lookup per request).
    const last = this.#last;
    let slot = last !== undefined && last.match === match && last.verify === verify && this.#slots.get(last.key) === last.slot ? last.slot : undefined;
    const overH1 = this.#context.allowH2 ? () => this.#retryOverH1(opts, handler) : undefined;
    if (slot !== undefined) {
      reportChoice(this.#shared.options, this.#shared.store, this.#origin, match, scope?.includeExpired, this.#proxy?.display);
      return slot.dispatcher.dispatch(opts, slotHandler(handler, slot.presented, overH1));
    }
    const key = match === undefined ? `-${verify}` : `${match.entry.id}\n${match.entry.certificate.fingerprint256}\n${verify}`;
    slot = this.#slots.get(key);
    const entry = match?.entry as StoreEntry | undefined;
    if (slot !== undefined && this.#shared.options.trust.withEntry(slot.entry) !== this.#shared.options.trust.withEntry(entry)) {
      // Same entry id and certificate, other CAs or TLS versions (a replace kept the id): never reuse its connections.
      this.#slots.delete(key);
      void closeSlot(slot, (d) => d.close()).catch(() => undefined);
      slot = undefined;
    }
    if (slot === undefined) {
      const lease = this.#secure ? this.#shared.contexts.lease(match?.entry.certificate, this.#shared.options.trust.withEntry(match?.entry), match?.entry.id) : undefined;
      const alerts = new AlertLog();
      const options = this.#shared.options;
      const why = match === undefined ? () => whyNone(this.#shared.store, this.#origin, options) : undefined;
      const dispatcher = makeSlot({ origin: this.#origin, secure: this.#secure, match, verify, proxy: this.#proxy, secureContext: lease?.context, alerts, why }, this.#context);
      const presented = { origin: this.#origin, match, secure: this.#secure, proxy: this.#proxy?.display, alerts, why };
      slot = { dispatcher, presented, lease, entry, selected };
      this.#slots.set(key, slot);
    }
    this.#last = { match, verify, key, slot };
    reportChoice(this.#shared.options, this.#shared.store, this.#origin, match, scope?.includeExpired, this.#proxy?.display);
    return slot.dispatcher.dispatch(opts, slotHandler(handler, slot.presented, overH1));
  }

  /**
   * The server wants HTTP/1.1 for this request (HTTP_1_1_REQUIRED): from now on this origin's
   * connections offer HTTP/1.1 only (its HTTP/2 ones are drained), and the request is sent again
   * when its body can be (none, a string or bytes); false when it cannot be (the error says so).
   */
  #retryOverH1(opts: ScopedDispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#context.allowH2) {
      this.#context = { ...this.#context, allowH2: false };
      this.#last = undefined;
      this.reconcile(true);
    }
    const body = (opts as { body?: unknown }).body;
    if (!(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) return false;
    this.dispatch(opts, handler);
    return true;
  }

  /** After a store change: drain and close the slots whose certificate no longer applies here. */
  reconcile(all = false): void {
    const { store } = this.#shared;
    const current = this.#secure ? this.#defaultMatch() : undefined;
    for (const [key, slot] of this.#slots) {
      if (all || noLongerApplies(store, slot.entry, slot.selected, () => current)) {
        this.#slots.delete(key);
        void closeSlot(slot, (d) => d.close()).catch(() => undefined); // graceful: requests already queued on it complete
      }
    }
  }

  protected end(err: Error | null | undefined): Promise<void> {
    this.#shared.routers.delete(this);
    const done = Promise.all([...this.#slots.values()].map((s) => closeSlot(s, (d) => (err === undefined ? d.close() : d.destroy(err))))).then(() => undefined);
    this.#slots.clear();
    return done;
  }
}
