// The connection set of a slot, with stand-in clients: an idle connection is reused before a new
// one is opened, the limit holds (then the least loaded takes the request), closed clients are
// never chosen and are forgotten, and an HTTP/2 client takes every request.
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

  it('with allowH2, the connecting client takes the requests, and once it speaks h2 it takes every request', () => {
    const { set, clients } = setOf(undefined, true);
    const first = request(set);
    const second = request(set); // still connecting: the same client
    expect(second.connection).toBe(first.connection);
    first.connection.h2 = true;
    for (let i = 0; i < 10; i++) expect(request(set).connection).toBe(first.connection);
    expect(clients).toHaveLength(1);
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
