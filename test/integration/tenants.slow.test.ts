// Many tenants on one process: 2,000 client certificates (one per tenant origin) and a custom CA
// for the server. Every origin gets its own certificate through a real server; one secure context
// per tenant, each a few kilobytes (a context used to copy Node's ~150 roots: ~0.9 MB each).
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureContextsMade } from '../../src/adapter/contexts.js';
import { createDispatcher, type LoadedCertificate } from '../../src/index.js';
import { lookup, type Received } from './servers.js';
import { startTenants } from './load.js';

const TENANTS = 2000;
let t: Awaited<ReturnType<typeof startTenants>>;
let tenants: LoadedCertificate[];

beforeAll(async () => {
  // The server closes each connection after its answer: 2,000 origins, no 2,000 idle sockets.
  t = await startTenants(TENANTS);
  ({ tenants } = t);
}, 120_000);
afterAll(() => t.server.close());

describe(`${TENANTS.toLocaleString('en')} tenants with a custom CA`, () => {
  it('every origin presents its own certificate; one context per tenant; memory per tenant in kilobytes', async () => {
    const store = t.store();
    const dispatcher = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    const contextsBefore = secureContextsMade();
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let next = 0;
    const wrong: string[] = [];
    const worker = async () => {
      for (let i = next++; i < TENANTS; i = next++) {
        const res = await request(t.url(i), { dispatcher });
        const got = ((await res.body.json()) as Received).fingerprint256;
        if (got !== tenants[i]!.fingerprint256) wrong.push(`t-${i}: ${got}`);
      }
    };
    try {
      await Promise.all(Array.from({ length: 8 }, worker));
      globalThis.gc?.();
      const perTenant = (process.memoryUsage().rss - rssBefore) / TENANTS;
      expect(wrong).toEqual([]);
      expect(secureContextsMade() - contextsBefore).toBe(TENANTS);
      // Generous (RSS moves with the heap, garbage not yet collected and the allocator; a
      // hand-written Agent per tenant takes about 70 KB): contexts that copied Node's roots took
      // about 0.9 MB each, 1.8 GB for 2,000. Measured figures: npm run bench -- tenants.
      expect(perTenant).toBeLessThan(300 * 1024);
    } finally {
      await dispatcher.close();
    }
  }, 180_000);
});
