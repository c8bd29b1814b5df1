// The long runs under load (npm run test:integration): 1,000 renewals through replace while
// requests keep flowing through both adapters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createHttpsAgent, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { get, getHttps, underLoad } from './load.js';
import { startMtlsServer, type TestServer } from './servers.js';

let server: TestServer;
let certs: LoadedCertificate[];
const ca = () => testCa();

beforeAll(async () => {
  [server, certs] = await Promise.all([startMtlsServer(), Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) })))]);
});
afterAll(() => server.close());

describe('store.replace with live adapters, at length', () => {
  it('1,000 renewals through replace under load: nothing fails, and after each only the new certificate is presented', async () => {
    const store = new CertificateStore({ ca: ca() });
    store.replace([{ host: 'localhost', port: '*', certificate: certs[0]! }], store.defaults);
    const dispatcher = createDispatcher(store);
    const agent = createHttpsAgent(store);
    const load = underLoad([() => get(server.url(), dispatcher), () => get(server.url(), dispatcher), () => getHttps(server.url(), agent), () => getHttps(server.url(), agent)]);
    try {
      for (let i = 1; i <= 1000; i++) {
        const next = certs[i % certs.length]!;
        store.replace([{ host: 'localhost', port: '*', certificate: next }], store.defaults);
        const [viaUndici, viaHttps] = await Promise.all([get(server.url(), dispatcher), i % 10 === 0 ? getHttps(server.url(), agent) : undefined]);
        expect(viaUndici.fingerprint256).toBe(next.fingerprint256);
        if (viaHttps !== undefined) expect(viaHttps.fingerprint256).toBe(next.fingerprint256);
      }
    } finally {
      await load.stop();
      agent.destroy();
      await dispatcher.close();
    }
    expect(load.failed).toBe(0);
    expect(load.served).toBeGreaterThan(100);
  }, 120_000);

});
