// Live certificates against a real mTLS server: store.replace under load, connections kept for
// unchanged entries, new store defaults applied to the next connection, and renewals on disk
// through watchConfig.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createHttpsAgent, isMtlsError, loadCertificate, watchConfig, type LoadedCertificate } from '../../src/index.js';
import { fixture, opensslPairs, secretMount, testCa } from '../helpers.js';
import { get, getHttps, underLoad } from './load.js';
import { startMtlsServer, type TestServer } from './servers.js';

let server: TestServer;
let other: TestServer;
let certs: LoadedCertificate[];
const ca = () => testCa();

beforeAll(async () => {
  [server, other, certs] = await Promise.all([
    startMtlsServer(),
    startMtlsServer(),
    Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) }))),
  ]);
});
afterAll(() => Promise.all([server.close(), other.close()]));

describe('store.replace with live adapters', () => {
  it('an unchanged entry keeps its connections across replaces; a renewed one gets a new connection', async () => {
    const store = new CertificateStore({ ca: ca() });
    const list = (renewed: LoadedCertificate) => [
      { host: 'localhost', port: server.port, certificate: certs[0]! }, // unchanged throughout
      { host: 'localhost', port: other.port, certificate: renewed },
    ];
    store.replace(list(certs[1]!), store.defaults);
    const dispatcher = createDispatcher(store);
    try {
      expect((await get(server.url(), dispatcher)).fingerprint256).toBe(certs[0]!.fingerprint256);
      const [hs, ho] = [server.handshakes(), other.handshakes()];
      for (let i = 0; i < 20; i++) {
        const renewed = certs[1 + (i % 3)]!;
        store.replace(list(renewed), store.defaults);
        expect((await get(server.url(), dispatcher)).fingerprint256).toBe(certs[0]!.fingerprint256);
        expect((await get(other.url(), dispatcher)).fingerprint256).toBe(renewed.fingerprint256);
      }
      expect(server.handshakes() - hs).toBe(0); // kept: not drained, not reconnected
      expect(other.handshakes() - ho).toBeGreaterThanOrEqual(20);
    } finally {
      await dispatcher.close();
    }
  });

  it('after a renewal, requests one after the other share one new connection (one handshake per renewal)', async () => {
    // Regression: the old connection's disconnect, arriving while the new one was connecting, made
    // undici's Agent close the origin's dispatcher, and from then on every request connected anew.
    const store = new CertificateStore({ ca: ca() });
    store.replace([{ host: 'localhost', port: server.port, certificate: certs[0]! }], store.defaults);
    const dispatcher = createDispatcher(store);
    const agent = createHttpsAgent(store);
    try {
      for (let renewal = 1; renewal <= 5; renewal++) {
        const next = certs[renewal % certs.length]!;
        store.replace([{ host: 'localhost', port: server.port, certificate: next }], store.defaults);
        const before = server.handshakes();
        for (let i = 0; i < 10; i++) expect((await get(server.url(), dispatcher)).fingerprint256).toBe(next.fingerprint256);
        expect(server.handshakes() - before).toBe(1);
        const beforeHttps = server.handshakes();
        for (let i = 0; i < 10; i++) expect((await getHttps(server.url(), agent)).fingerprint256).toBe(next.fingerprint256);
        expect(server.handshakes() - beforeHttps).toBe(1);
      }
    } finally {
      agent.destroy();
      await dispatcher.close();
    }
  });

  it('new defaults apply to the next connection: a CA added by replace, and taken away again', async () => {
    const store = new CertificateStore();
    const entries = [{ host: 'localhost', port: '*' as const, certificate: certs[0]! }];
    store.replace(entries);
    const dispatcher = createDispatcher(store);
    const agent = createHttpsAgent(store);
    try {
      const before = await get(server.url(), dispatcher).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(before, 'ERR_SERVER_CERTIFICATE')).toBe(true);
      expect(store.replace(entries, { ca: ca() }).defaultsChanged).toBe(true);
      expect((await get(server.url(), dispatcher)).fingerprint256).toBe(certs[0]!.fingerprint256);
      expect((await getHttps(server.url(), agent)).fingerprint256).toBe(certs[0]!.fingerprint256);
      store.replace(entries, {}); // the CA is gone: the open connections go too
      const after = await get(server.url(), dispatcher).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(after, 'ERR_SERVER_CERTIFICATE')).toBe(true);
      const afterHttps = await getHttps(server.url(), agent).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(afterHttps, 'ERR_SERVER_CERTIFICATE')).toBe(true);
    } finally {
      agent.destroy();
      await dispatcher.close();
    }
  });
});

describe('watchConfig with live adapters', () => {
  it('100 renewals of a Kubernetes secret mount under load: nothing fails, and after each reload only the new certificate is presented', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-live-watch-'));
    try {
      const pairs = await opensslPairs(join(dir, 'made'), 101);
      const fingerprints = pairs.map((p) => new X509Certificate(p.cert).fingerprint256);
      const mount = secretMount(join(dir, 'mount'), { 'tls.crt': pairs[0]!.cert, 'tls.key': pairs[0]!.key });
      writeFileSync(join(dir, 'certs.json'), JSON.stringify({ ca: fixture('ca.crt'), certificates: [{ host: 'localhost', port: '*', cert: 'mount/tls.crt', key: 'mount/tls.key' }] }));
      const watcher = await watchConfig(join(dir, 'certs.json'), { debounceMs: 25 });
      let reloads = 0;
      const errors: Error[] = [];
      watcher.on('reload', () => reloads++);
      watcher.on('error', (err: Error) => errors.push(err));
      const dispatcher = createDispatcher(watcher.store);
      const agent = createHttpsAgent(watcher.store);
      const load = underLoad([() => get(server.url(), dispatcher), () => get(server.url(), dispatcher), () => getHttps(server.url(), agent)]);
      try {
        for (let i = 1; i <= 100; i++) {
          mount.update({ 'tls.crt': pairs[i]!.cert, 'tls.key': pairs[i]!.key });
          const end = Date.now() + 5000;
          while (watcher.store.list()[0]!.certificate.fingerprint256 !== fingerprints[i]) {
            if (Date.now() > end) throw new Error(`renewal ${i} was not reloaded`);
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          const [viaUndici, viaHttps] = await Promise.all([get(server.url(), dispatcher), i % 10 === 0 ? getHttps(server.url(), agent) : undefined]);
          expect(viaUndici.fingerprint256).toBe(fingerprints[i]);
          if (viaHttps !== undefined) expect(viaHttps.fingerprint256).toBe(fingerprints[i]);
        }
      } finally {
        await load.stop();
        await watcher.close();
        agent.destroy();
        await dispatcher.close();
      }
      expect(load.errors).toEqual([]);
      expect(errors).toEqual([]);
      expect(reloads).toBe(100);
      expect(load.served).toBeGreaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
