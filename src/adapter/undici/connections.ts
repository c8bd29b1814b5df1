// The connections of one slot: undici Clients, each one connection. Why not undici's Pool: a Pool
// marks a client that was busy as "needs drain" until an event that can come after the next
// request, and so opens a second connection (a second TLS handshake) for requests made one after
// the other; measured again for undici 7 in BENCHMARKS.md ("Connection set against Pool"). Here a
// request goes to an idle connection first, loads are counted by the requests' own handlers (no
// `client.stats` object per client per request), and an HTTP/2 connection takes every request
// (it multiplexes), so a slot holds one connection for as long as the server speaks h2.
import type { Client, Dispatcher } from 'undici';
import type { Load, TrackedHandler } from './handler.js';

/** One client and what the slot knows of it. */
export interface Connection extends Load {
  readonly client: Client;
  /** true once the server chose HTTP/2 (ALPN), false once it chose HTTP/1.1, undefined before. */
  h2: boolean | undefined;
}

export class Connections {
  /** Every client made and not yet seen closed. */
  #all: Connection[] = [];
  /** Clients with no request in flight, the most recently idle last (it is taken first). */
  readonly #idle: Connection[] = [];
  readonly #listed = new WeakSet<Connection>();
  /** The client that speaks HTTP/2: it takes every request. */
  #h2: Connection | undefined;
  /** With allowH2, the client still connecting: it takes the requests that arrive meanwhile. */
  #pending: Connection | undefined;
  readonly #create: () => Connection;
  readonly #max: number;
  readonly #allowH2: boolean;

  /**
   * @param create makes one client (and its record, which the connector updates with ALPN).
   * @param max at most this many clients (undici's `connections`); default: no limit.
   * @param allowH2 whether clients may negotiate HTTP/2: a client that is still connecting
   *   then takes the requests that arrive meanwhile, as it will likely multiplex them.
   */
  constructor(create: () => Connection, max: number | null | undefined, allowH2: boolean) {
    this.#create = create;
    this.#max = max ?? Infinity;
    this.#allowH2 = allowH2;
  }

  /** How many clients are open. */
  get size(): number {
    this.#prune();
    return this.#all.length;
  }

  /** Requests dispatched and not yet over, on every client. */
  get inflight(): number {
    let n = 0;
    for (const c of this.#all) n += c.inflight;
    return n;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: TrackedHandler): boolean {
    const connection = this.#pick();
    handler.track(connection);
    return connection.client.dispatch(opts, handler);
  }

  /**
   * The client for the next request, in constant time: the HTTP/2 client, or the one still
   * connecting (allowH2), or the most recently idle one, or a new one; only when every client is
   * busy and no more may be opened, the least loaded (a scan).
   */
  #pick(): Connection {
    if (this.#allowH2) {
      const h2 = this.#h2;
      if (h2 !== undefined) {
        if (alive(h2)) return h2;
        this.#h2 = undefined;
      }
      const pending = this.#pending;
      if (pending !== undefined) {
        if (alive(pending) && pending.h2 !== false) {
          if (pending.h2 === true) {
            this.#h2 = pending;
            this.#pending = undefined;
          }
          return pending;
        }
        this.#pending = undefined;
      }
    }
    const idle = this.#idle;
    while (idle.length > 0) {
      const c = idle.pop()!;
      this.#listed.delete(c);
      if (c.inflight === 0 && alive(c)) return c;
    }
    if (this.#all.length >= this.#max) this.#prune();
    if (this.#all.length < this.#max) return this.#open();
    let best: Connection | undefined;
    for (const c of this.#all) if (best === undefined || c.inflight < best.inflight) best = c;
    return best ?? this.#open();
  }

  #pruneAt = 16;

  #open(): Connection {
    // Closed clients leave #all here, in bulk: amortised constant time per new client.
    if (this.#all.length >= this.#pruneAt) {
      this.#prune();
      this.#pruneAt = Math.max(16, this.#all.length * 2);
    }
    const c = this.#create();
    c.onIdle = () => {
      if (c.h2 === true || this.#listed.has(c) || !alive(c)) return;
      this.#listed.add(c);
      this.#idle.push(c);
    };
    this.#all.push(c);
    if (this.#allowH2 && c.h2 === undefined) this.#pending = c;
    return c;
  }

  /** Forgets the clients that are closed. */
  #prune(): void {
    if (this.#all.some((c) => !alive(c))) this.#all = this.#all.filter(alive);
  }

  close(): Promise<void> {
    return Promise.all(this.#take().map((c) => c.client.close())).then(() => undefined);
  }

  destroy(err: Error | null): Promise<void> {
    return Promise.all(this.#take().map((c) => c.client.destroy(err))).then(() => undefined);
  }

  #take(): Connection[] {
    const all = this.#all;
    this.#all = [];
    this.#idle.length = 0;
    this.#h2 = undefined;
    this.#pending = undefined;
    return all;
  }
}

function alive(c: Connection): boolean {
  return !c.client.closed && !c.client.destroyed;
}
