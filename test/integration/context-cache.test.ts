// The secure contexts of an adapter: one per (certificate, trust) while connections use it; of
// the idle ones only the `contextCacheSize` most recently used are kept; a closed adapter keeps
// none. Tenants on one server that closes every connection, so contexts go idle as requests end.
import type { RequestOptions } from 'node:https';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextCacheOf, secureContextsMade, type ContextCache } from '../../src/adapter/contexts.js';
import { createDispatcher, createHttpsAgent, type LoadedCertificate } from '../../src/index.js';
import { lookup, type Received } from './servers.js';
import { httpsGet, startTenants } from './load.js';

const TENANTS = 8;
let t: Awaited<ReturnType<typeof startTenants>>;
let tenants: LoadedCertificate[];

beforeAll(async () => {
  t = await startTenants(TENANTS);
  ({ tenants } = t);
});
afterAll(() => t.server.close());

const tenantStore = () => t.store();
const url = (i: number) => t.url(i);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full GC after the current job (a WeakRef made in a job keeps its target until the job ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
}

/** Waits until no context of the cache is in use (the closed connections' slots are gone). */
async function settled(cache: ContextCache): Promise<void> {
  for (const end = Date.now() + 5000; cache.idle !== cache.size; ) {
    if (Date.now() > end) throw new Error(`${cache.size - cache.idle} contexts still in use`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the context cache of an adapter', () => {
  it('undici: keeps the most recently used idle contexts up to contextCacheSize, reuses them, and none after close()', async () => {
    const dispatcher = createDispatcher(tenantStore(), { contextCacheSize: 3, agentOptions: { connect: { lookup } } });
    const cache = contextCacheOf(dispatcher)!;
    try {
      for (let i = 0; i < TENANTS; i++) {
        const got = (await (await request(url(i), { dispatcher })).body.json()) as Received;
        expect(got.fingerprint256).toBe(tenants[i]!.fingerprint256);
      }
      await settled(cache);
      expect([cache.size, cache.idle]).toEqual([3, 3]);
      const made = secureContextsMade();
      await (await request(url(TENANTS - 1), { dispatcher })).body.json(); // recent: reused
      expect(secureContextsMade()).toBe(made);
      // url(0)'s context was evicted: nothing holds it any more, and once collected it is made again.
      await collect();
      await (await request(url(0), { dispatcher })).body.json();
      expect(secureContextsMade()).toBe(made + 1);
      await settled(cache);
      expect(cache.size).toBe(3);
    } finally {
      await dispatcher.close();
    }
    expect(cache.size).toBe(0);
  });

  it('a second adapter reuses a context another one holds (or one not yet collected); none is kept once both are closed', async () => {
    const store = tenantStore();
    const first = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    const second = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    const agent = createHttpsAgent(store, { agentOptions: { keepAlive: false } });
    try {
      await (await request(url(1), { dispatcher: first })).body.json();
      const made = secureContextsMade();
      const got = (await (await request(url(1), { dispatcher: second })).body.json()) as Received;
      expect(got.fingerprint256).toBe(tenants[1]!.fingerprint256);
      expect((await httpsGet(url(1), { agent, lookup } as RequestOptions)).fingerprint256).toBe(tenants[1]!.fingerprint256);
      expect(secureContextsMade()).toBe(made);
      // Another certificate is another context.
      await (await request(url(2), { dispatcher: second })).body.json();
      expect(secureContextsMade()).toBe(made + 1);
    } finally {
      await Promise.all([first.close(), second.close()]);
      agent.destroy();
    }
    await collect();
    const third = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    try {
      const before = secureContextsMade();
      await (await request(url(1), { dispatcher: third })).body.json();
      expect(secureContextsMade()).toBe(before + 1); // the closed adapters' context was collected
    } finally {
      await third.close();
    }
  });

  it('https agent: a context per socket lease, released when the socket closes; destroy() keeps none', async () => {
    const agent = createHttpsAgent(tenantStore(), { contextCacheSize: 2, agentOptions: { keepAlive: false } });
    const cache = contextCacheOf(agent)!;
    try {
      for (let i = 0; i < TENANTS; i++) {
        const got = await httpsGet(url(i), { agent, lookup } as RequestOptions);
        expect(got.fingerprint256).toBe(tenants[i]!.fingerprint256);
      }
      await settled(cache);
      expect([cache.size, cache.idle]).toEqual([2, 2]);
    } finally {
      agent.destroy();
    }
    expect(cache.size).toBe(0);
  });

  it('contexts of certificates removed from the store are released at the change, idle or in use (undici, https agent)', async () => {
    const store = tenantStore();
    const dispatcher = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    const agent = createHttpsAgent(store, { agentOptions: { keepAlive: true } });
    const caches = [contextCacheOf(dispatcher)!, contextCacheOf(agent)!];
    try {
      for (let i = 0; i < 4; i++) {
        await (await request(url(i), { dispatcher })).body.json();
        await httpsGet(url(i), { agent, lookup } as RequestOptions);
      }
      for (const cache of caches) await settled(cache);
      expect(caches.map((c) => c.size)).toEqual([4, 4]);
      // Tenants 0 and 1 leave the store; 2 is renewed (its entry gets another certificate object); 3 stays.
      const entries = store.list();
      store.remove(entries[0]!.id);
      store.remove(entries[1]!.id);
      store.replace(entries.slice(2).map((e, i) => ({ id: e.id, host: e.host, ...(e.port === undefined ? {} : { port: e.port }), certificate: i === 0 ? tenants[5]! : e.certificate })));
      for (const cache of caches) await settled(cache);
      expect(caches.map((c) => c.size)).toEqual([1, 1]);
    } finally {
      await dispatcher.close();
      agent.destroy();
    }
  });

  it('contextCacheSize: 0 keeps nothing idle; a bad value is refused', async () => {
    const dispatcher = createDispatcher(tenantStore(), { contextCacheSize: 0, agentOptions: { connect: { lookup } } });
    const cache = contextCacheOf(dispatcher)!;
    try {
      await (await request(url(1), { dispatcher })).body.json();
      await settled(cache);
      expect(cache.size).toBe(0);
    } finally {
      await dispatcher.close();
    }
    for (const bad of [-1, 1.5, '10', Number.NaN]) {
      expect(() => createDispatcher(tenantStore(), { contextCacheSize: bad as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('contextCacheSize') }));
    }
  });
});
