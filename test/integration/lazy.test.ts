// A lazy store through the adapters and a real mTLS server: each certificate is loaded at the
// first connection that presents it; one whose key does not load fails that request with the
// load error (entry and field named) and nothing else; the process and other origins go on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { request } from 'undici';
import { CertificateStore, createDispatcher, createHttpsAgent, isMtlsError, loadCertificate, type MtlsError } from '../../src/index.js';
import { PASS, fixture } from '../helpers.js';
import { lookup, startMtlsServer, type Received, type TestServer } from './servers.js'; // lookup: every name is 127.0.0.1
import { getHttps, httpsGet } from './load.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMtlsServer();
});
afterAll(async () => {
  await server.close();
});

const notLoaded = (c: unknown) => inspect(c).includes('not loaded yet');

async function lazyStore(): Promise<CertificateStore> {
  process.env.MTLS_LAZY_IT_PASS = PASS;
  return CertificateStore.fromConfig(
    {
      ca: [fixture('ca.crt')],
      certificates: [
        { name: 'rsa', host: 'localhost', port: server.port, cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphraseEnv: 'MTLS_LAZY_IT_PASS' },
        { name: 'ec', host: '127.0.0.1', port: server.port, pem: fixture('ec256.pem') },
        { name: 'mismatch', host: 'mismatch.test', port: server.port, cert: fixture('rsa.crt'), key: fixture('ec256.key') },
      ],
    },
    { lazy: true },
  );
}

async function errorOf(promise: Promise<unknown>): Promise<MtlsError> {
  try {
    await promise;
  } catch (caught) {
    const err = isMtlsError(caught) ? caught : (caught as { cause?: unknown }).cause;
    if (isMtlsError(err)) return err;
    throw caught;
  }
  throw new Error('expected the request to fail');
}


describe('a lazy store through the adapters', () => {
  it('createDispatcher: loads a certificate at its first connection; a key that does not load fails its requests only', async () => {
    const store = await lazyStore();
    const [rsa, ec] = await Promise.all([loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.enc.key'), passphrase: PASS }), loadCertificate({ pemFile: fixture('ec256.pem') })]);
    const dispatcher = createDispatcher(store, { agentOptions: { connect: { lookup } } });
    const get = async (url: string) => (await (await request(url, { dispatcher })).body.json()) as Received;
    try {
      expect(store.list().every((e) => notLoaded(e.certificate))).toBe(true);
      expect((await get(server.url('localhost'))).fingerprint256).toBe(rsa.fingerprint256);
      expect(store.list().map((e) => notLoaded(e.certificate))).toEqual([false, true, true]);
      const err = await errorOf(request(`https://mismatch.test:${server.port}/`, { dispatcher }));
      expect(err.code).toBe('ERR_KEY_MISMATCH');
      expect(err.message).toMatch(/certificates\[2\] \("mismatch"\), field "key"/);
      expect(await errorOf(request(`https://mismatch.test:${server.port}/again`, { dispatcher }))).toBe(err); // the same error, not a new attempt
      expect((await get(server.url('127.0.0.1'))).fingerprint256).toBe(ec.fingerprint256);
      expect((await get(server.url('localhost'))).fingerprint256).toBe(rsa.fingerprint256);
    } finally {
      await dispatcher.close();
    }
  });

  it('createHttpsAgent: the same', async () => {
    const store = await lazyStore();
    const ec = await loadCertificate({ pemFile: fixture('ec256.pem') });
    const agent = createHttpsAgent(store);
    try {
      expect((await getHttps(server.url('127.0.0.1'), agent)).fingerprint256).toBe(ec.fingerprint256);
      expect(store.list().map((e) => notLoaded(e.certificate))).toEqual([true, false, true]);
      const err = await errorOf(httpsGet(`https://mismatch.test:${server.port}/`, { agent, lookup }));
      expect([err.code, err.location?.name, err.location?.field]).toEqual(['ERR_KEY_MISMATCH', 'mismatch', 'key']);
      expect((await getHttps(server.url('127.0.0.1'), agent)).fingerprint256).toBe(ec.fingerprint256);
    } finally {
      agent.destroy();
    }
  });
});
