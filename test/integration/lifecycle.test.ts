// Adapters that are never closed: the store does not keep them (weak subscriptions, no `change`
// listener per adapter, no MaxListeners warning), and an unclosed adapter still follows changes.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, createInterceptor, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { followerCount } from '../../src/store/followers.js';
import { fixture, FIXTURES, testCa } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let server: TestServer;
let certs: LoadedCertificate[];
beforeAll(async () => {
  [server, certs] = await Promise.all([startMtlsServer(), Promise.all(['rsa.pem', 'ec256.pem'].map((f) => loadCertificate({ pemFile: fixture(f) })))]);
});
afterAll(() => server.close());

describe('adapter lifecycle', () => {
  it('400 adapters never closed: no change listener on the store, no MaxListeners warning; close() unsubscribes', async () => {
    const store = new CertificateStore({ ca: testCa() });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const adapters = Array.from({ length: 100 }, () => [createDispatcher(store), createFetch(store), createInterceptor(store), createHttpsAgent(store)]).flat();
      expect(store.listenerCount('change')).toBe(0);
      expect(followerCount(store)).toBeGreaterThanOrEqual(400);
      store.add({ host: 'localhost', port: '*', certificate: certs[0]! });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      for (const a of adapters) {
        if ('destroy' in a && a instanceof Object && 'getName' in a) (a as ReturnType<typeof createHttpsAgent>).destroy();
        else await (a as { close(): Promise<void> }).close();
      }
      expect(followerCount(store)).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an adapter nobody closed still follows the store: a rotation reaches its next request', async () => {
    const store = new CertificateStore({ ca: testCa() });
    const first = store.add({ host: 'localhost', port: '*', certificate: certs[0]! });
    const dispatcher = createDispatcher(store);
    const get = async () => ((await (await request(server.url(), { dispatcher })).body.json()) as Received).fingerprint256;
    expect(await get()).toBe(certs[0]!.fingerprint256);
    store.add({ host: 'localhost', port: '*', certificate: certs[1]! });
    store.remove(first.id);
    expect(await get()).toBe(certs[1]!.fingerprint256);
    await dispatcher.close();
  });

  it('adapters dropped without close() are collected, and their subscriptions with them', async () => {
    // In a child process with --expose-gc: 400 adapters made and dropped, a full GC, then a change.
    const script = join(FIXTURES, '..', 'lifecycle-probe.ts');
    writeFileSync(
      script,
      `import { CertificateStore, createDispatcher, createHttpsAgent } from '${join(root, 'src/index.ts')}';
import { followerCount } from '${join(root, 'src/store/followers.ts')}';
const store = new CertificateStore();
(() => { for (let i = 0; i < 200; i++) { createDispatcher(store); createHttpsAgent(store); } })();
const before = followerCount(store);
await new Promise((r) => setTimeout(r, 10)); // WeakRefs made in this turn are kept until it ends
globalThis.gc();
await new Promise((r) => setTimeout(r, 10));
globalThis.gc();
store.setPrimary(null); // a change: dead subscriptions are dropped if the finalizers have not run yet
console.log(JSON.stringify({ before, after: followerCount(store) }));
`,
    );
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--expose-gc', '--import', 'tsx', script], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    expect(before).toBe(400);
    expect(after).toBe(0);
  });
});
