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
  readonly #connections: Connection[] = [];
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
    return this.#connections.length;
  }

  /** Requests dispatched and not yet over, on every client. */
  get inflight(): number {
    let n = 0;
    for (const c of this.#connections) n += c.inflight;
    return n;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: TrackedHandler): boolean {
    const connection = this.#pick();
    handler.track(connection);
    return connection.client.dispatch(opts, handler);
  }

  #pick(): Connection {
    const list = this.#connections;
    let best: Connection | undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (c.client.closed || c.client.destroyed) {
        list.splice(i, 1);
        continue;
      }
      if (c.h2 === true || (c.h2 === undefined && this.#allowH2)) return c;
      if (best === undefined || c.inflight < best.inflight) best = c;
    }
    if (best === undefined || (best.inflight > 0 && list.length < this.#max)) {
      best = this.#create();
      list.push(best);
    }
    return best;
  }

  close(): Promise<void> {
    return Promise.all(this.#connections.splice(0).map((c) => c.client.close())).then(() => undefined);
  }

  destroy(err: Error | null): Promise<void> {
    return Promise.all(this.#connections.splice(0).map((c) => c.client.destroy(err))).then(() => undefined);
  }
}
