// The connection set of a slot, with stand-in clients: an idle connection is reused before a new
// one is opened, the limit holds (then the least loaded takes the request), closed clients are
// never chosen and are forgotten, and HTTP/2 clients multiplex (up to 8 of them per slot).
import { describe, expect, it } from 'vitest';
import type { Client, Dispatcher } from 'undici';
import { Connections, type Connection } from '../../src/adapter/undici/connections.js';
import type { TrackedHandler } from '../../src/adapter/undici/handler.js';

class FakeClient {
  closed = false;
  destroyed = false;
  dispatched = 0;
  dispatch(): boolean {
    this.dispatched++;
    return true;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  destroy(): Promise<void> {
    this.destroyed = true;
    return Promise.resolve();
  }
}

/** A request handler that ends (as undici's would) when `end()` is called. */
function request(set: Connections): { connection: Connection; end(): void } {
  let connection!: Connection;
  const handler = {
    track(load: Connection) {
      connection = load;
      load.inflight++;
    },
  } as unknown as TrackedHandler;
  set.dispatch({ path: '/', method: 'GET' } as Dispatcher.DispatchOptions, handler);
  return {
    connection,
    end() {
      if (--connection.inflight === 0) connection.onIdle?.();
    },
  };
}

function setOf(max?: number, h2 = false) {
  const clients: FakeClient[] = [];
  const set = new Connections(
    () => {
      const client = new FakeClient();
      clients.push(client);
      return { client: client as unknown as Client, inflight: 0, h2: h2 ? undefined : false };
    },
    max,
    h2,
  );
  return { set, clients };
}

describe('Connections (the connection set of a slot)', () => {
  it('requests one after the other share one connection; concurrent ones open more; the most recently idle is reused first', () => {
    const { set, clients } = setOf();
    for (let i = 0; i < 5; i++) request(set).end();
    expect(clients).toHaveLength(1);
    const a = request(set);
    const b = request(set);
    const c = request(set);
    expect(clients).toHaveLength(3);
    b.end();
    a.end();
    expect(request(set).connection).toBe(a.connection); // the last to become idle
    expect(request(set).connection).toBe(b.connection);
    c.end();
  });

  it('at the limit the least loaded connection takes the request', () => {
    const { set, clients } = setOf(2);
    const a = request(set);
    const b = request(set);
    request(set); // both busy: the least loaded (a tie: either)
    b.end();
    expect(request(set).connection).toBe(b.connection);
    expect(clients).toHaveLength(2);
    expect(a.connection.inflight + b.connection.inflight).toBe(3);
  });

  it('closed clients are never chosen, and are forgotten', () => {
    const { set, clients } = setOf();
    const a = request(set);
    a.end();
    clients[0]!.closed = true;
    const b = request(set);
    expect(b.connection).not.toBe(a.connection);
    expect(set.size).toBe(1);
    b.end();
    for (let i = 0; i < 100; i++) {
      const r = request(set);
      (r.connection.client as unknown as FakeClient).closed = true;
      r.end();
    }
    expect(set.size).toBe(0);
  });

  it('with allowH2: sequential requests keep one client; concurrent ones spread over up to 8 (connecting ones included), then multiplex on the least loaded', () => {
    const { set, clients } = setOf(undefined, true);
    for (let i = 0; i < 5; i++) request(set).end(); // one after the other: the idle client each time
    expect(clients).toHaveLength(1);
    const first = request(set); // busy now, still connecting: the next concurrent request opens another
    const open = [first, ...Array.from({ length: 7 }, () => request(set))];
    expect(clients).toHaveLength(8);
    expect(new Set(open.map((r) => r.connection)).size).toBe(8);
    for (const r of open) r.connection.h2 = true;
    const more = Array.from({ length: 16 }, () => request(set));
    expect(clients).toHaveLength(8); // no ninth: streams multiplex
    expect(Math.max(...open.map((r) => r.connection.inflight))).toBe(3); // evenly: 1 + 16/8 each
    more[0]!.end();
    expect(request(set).connection).toBe(more[0]!.connection); // the least loaded
    // A client that turned out HTTP/1.1 leaves the HTTP/2 set and is reused when idle.
    const h1 = setOf(undefined, true);
    const a = request(h1.set);
    a.connection.h2 = false;
    const b = request(h1.set);
    expect(b.connection).not.toBe(a.connection);
    a.end();
    b.connection.h2 = true;
    expect(request(h1.set).connection).toBe(a.connection); // idle, before a busy HTTP/2 one opens a stream
  });

  it('close() closes every client and forgets them', async () => {
    const { set, clients } = setOf();
    request(set);
    request(set);
    await set.close();
    expect(clients.every((c) => c.closed)).toBe(true);
    expect(set.size).toBe(0);
  });
});
