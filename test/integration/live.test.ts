// Live certificates against a real mTLS server: store.replace under load, connections kept for
// unchanged entries, and new store defaults applied to the next connection.
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createHttpsAgent, isMtlsError, loadCaBundle, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';

let server: TestServer;
let other: TestServer;
let certs: LoadedCertificate[];
const ca = () => loadCaBundle({ file: fixture('ca.crt') });

beforeAll(async () => {
  [server, other, certs] = await Promise.all([
    startMtlsServer(),
    startMtlsServer(),
    Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) }))),
  ]);
});
afterAll(() => Promise.all([server.close(), other.close()]));

const get = async (url: string, dispatcher: ReturnType<typeof createDispatcher>) => (await (await request(url, { dispatcher })).body.json()) as Received;
const getHttps = (url: string, agent: HttpsAgent) =>
  new Promise<Received>((resolve, reject) => {
    httpsRequest(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as Received));
    })
      .on('error', reject)
      .end();
  });

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

  it('1,000 renewals through replace under load: nothing fails, and after each only the new certificate is presented', async () => {
    const store = new CertificateStore({ ca: ca() });
    store.replace([{ host: 'localhost', port: '*', certificate: certs[0]! }], store.defaults);
    const dispatcher = createDispatcher(store);
    const agent = createHttpsAgent(store);
    let stop = false;
    let failed = 0;
    let served = 0;
    const worker = (one: () => Promise<unknown>) => async () => {
      while (!stop) await one().then(() => served++, () => failed++);
    };
    const workers = [worker(() => get(server.url(), dispatcher)), worker(() => get(server.url(), dispatcher)), worker(() => getHttps(server.url(), agent)), worker(() => getHttps(server.url(), agent))].map((w) => w());
    try {
      for (let i = 1; i <= 1000; i++) {
        const next = certs[i % certs.length]!;
        store.replace([{ host: 'localhost', port: '*', certificate: next }], store.defaults);
        const [viaUndici, viaHttps] = await Promise.all([get(server.url(), dispatcher), i % 10 === 0 ? getHttps(server.url(), agent) : undefined]);
        expect(viaUndici.fingerprint256).toBe(next.fingerprint256);
        if (viaHttps !== undefined) expect(viaHttps.fingerprint256).toBe(next.fingerprint256);
      }
    } finally {
      stop = true;
      await Promise.all(workers);
      agent.destroy();
      await dispatcher.close();
    }
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(100);
  }, 120_000);

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
