// node:https: request options to spread, and an Agent that picks the certificate per request.
import type { RequestOptions } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createHttpsAgent, httpsRequestOptions, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { lookup, startMtlsServer, type Received, type TestServer } from './servers.js';
import { httpsGet } from './load.js';

let server: TestServer;
let rsa: LoadedCertificate;
let ec: LoadedCertificate;
const ca = () => testCa();

beforeAll(async () => {
  [server, rsa, ec] = await Promise.all([startMtlsServer(), loadCertificate({ pemFile: fixture('rsa.pem') }), loadCertificate({ pemFile: fixture('ec256.pem') })]);
});
afterAll(() => server.close());

const get = (url: string, options: RequestOptions & { mtls?: { select?: string } }) => httpsGet(url, { lookup, ...options } as RequestOptions);

describe('httpsRequestOptions', () => {
  it('gives the TLS fields of the resolved certificate, and none for a host that matches nothing', async () => {
    const store = new CertificateStore();
    store.add({ host: 'api.mtls.test', port: '*', certificate: rsa });
    const url = server.url('api.mtls.test');
    const options = httpsRequestOptions(store, url, { ca: ca() });
    expect(String(Buffer.from(options.cert as Buffer))).toBe(rsa.tls.cert); // the bytes TLS reads
    expect(options.rejectUnauthorized).toBe(true);
    expect((options.ca as string[]).length).toBeGreaterThan(100); // Node's roots, plus ours
    expect((await get(url, { ...options, agent: false })).fingerprint256).toBe(rsa.fingerprint256);
    const other = httpsRequestOptions(store, server.url('other.mtls.test'), { ca: ca() });
    expect(other.cert).toBeUndefined();
    expect((await get(server.url('other.mtls.test'), { ...other, agent: false })).fingerprint256).toBeNull();
    expect(httpsRequestOptions(store, `http://api.mtls.test:${server.port}/`).cert).toBeUndefined();
  });
});

describe('createHttpsAgent', () => {
  it('presents the resolved certificate per request, and two certificates for one origin never share a socket', async () => {
    const local = await startMtlsServer();
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', name: 'rsa', certificate: rsa });
    store.add({ host: 'elsewhere.test', name: 'ec', certificate: ec });
    const agent = createHttpsAgent(store, { ca: ca() });
    try {
      const url = local.url('localhost');
      for (let i = 0; i < 5; i++) expect((await get(url, { agent })).fingerprint256).toBe(rsa.fingerprint256);
      expect(local.handshakes()).toBe(1); // keep-alive
      // The same origin with another certificate (select) gets its own socket...
      for (let i = 0; i < 3; i++) expect((await get(url, { agent, mtls: { select: 'ec' } })).fingerprint256).toBe(ec.fingerprint256);
      expect(local.handshakes()).toBe(2);
      // ...and the first socket still presents the first certificate.
      expect((await get(url, { agent })).fingerprint256).toBe(rsa.fingerprint256);
      expect(local.handshakes()).toBe(2);
    } finally {
      agent.destroy();
      await local.close();
    }
  });
});
