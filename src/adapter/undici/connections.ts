// The connections of one slot: undici Clients, each one connection. Why not undici's Pool: a Pool
// marks a client that was busy as "needs drain" until an event that can come after the next
// request, and so opens a second connection (a second TLS handshake) for requests made one after
// the other; measured again for undici 7 in BENCHMARKS.md ("Connection set against Pool"). Here a
// request goes to an idle connection first, loads are counted by the requests' own handlers (no
// `client.stats` object per client per request), and HTTP/2 connections multiplex: concurrent
// requests are spread over up to H2_CONNECTIONS of them (below), sequential ones keep one.
import type { Client, Dispatcher } from 'undici';
import type { Load, TrackedHandler } from './handler.js';

/** One client and what the slot knows of it. */
export interface Connection extends Load {
  readonly client: Client;
  /** true once the server chose HTTP/2 (ALPN), false once it chose HTTP/1.1, undefined before. */
  h2: boolean | undefined;
}

/**
 * HTTP/2 connections a slot spreads its concurrent requests over before it multiplexes them on the
 * least loaded. One connection per slot carried every request before; measured against a
 * node:http2 server in its own process (BENCHMARKS.md, "HTTP/2 connections per slot"), one
 * connection with 8 or 64 concurrent streams served 0.4–0.6× the requests/s of undici's Pool
 * (which opens a connection per request that arrives while the others are busy), and undici's own
 * single Client the same: the difference was the number of connections, not our path. Spreading
 * over up to 8 reached the Pool's throughput at 8, 64 and 256 concurrent requests while sequential
 * requests keep one connection and one handshake.
 */
const H2_CONNECTIONS = 8;

export class Connections {
  /** Every client made and not yet seen closed. */
  #all: Connection[] = [];
  /** Clients with no request in flight, the most recently idle last (it is taken first). */
  readonly #idle: Connection[] = [];
  readonly #listed = new WeakSet<Connection>();
  /**
   * With allowH2: the clients that speak HTTP/2 and those still connecting (up to H2_CONNECTIONS
   * before requests multiplex on them).
   */
  #h2: Connection[] = [];
  readonly #create: () => Connection;
  readonly #max: number;
  readonly #allowH2: boolean;

  /**
   * @param create makes one client (and its record, which the connector updates with ALPN).
   * @param max at most this many clients (undici's `connections`); default: no limit.
   * @param allowH2 whether clients may negotiate HTTP/2: clients still connecting count as HTTP/2
   *   ones (they will likely multiplex) until their ALPN says otherwise.
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
   * The client for the next request: with allowH2 an idle HTTP/2 (or still connecting) client, a
   * new one while the slot has fewer than H2_CONNECTIONS, else the least loaded of them (a scan of
   * at most a few); otherwise the most recently idle HTTP/1.1 client, or a new one; only when every
   * client is busy and no more may be opened, the least loaded (a scan).
   */
  #pick(): Connection {
    if (this.#allowH2) {
      // The HTTP/2 clients and those still connecting (likely HTTP/2): the least loaded, while it
      // has room for another stream (or no other client may be opened).
      const h2 = this.#h2;
      let best: Connection | undefined;
      for (let i = 0; i < h2.length; i++) {
        const c = h2[i]!;
        if (c.h2 === false || !alive(c)) {
          h2.splice(i--, 1); // HTTP/1.1 after all (it goes to the idle list when done), or closed
          continue;
        }
        if (best === undefined || c.inflight < best.inflight) best = c;
      }
      // An idle one first (sequential requests: one connection, one handshake); then a new one while
      // the slot has fewer than H2_CONNECTIONS; then the least loaded, whose streams multiplex.
      if (best !== undefined && (best.inflight === 0 || h2.length >= H2_CONNECTIONS || this.#all.length >= this.#max)) return best;
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
    if (this.#allowH2 && c.h2 !== false) this.#h2.push(c);
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
    this.#h2 = [];
    return all;
  }
}

function alive(c: Connection): boolean {
  return !c.client.closed && !c.client.destroyed;
}
