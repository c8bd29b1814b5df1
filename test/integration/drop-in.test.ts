// createDispatcher and createInterceptor where a plain undici Agent goes: through compose() (a
// Proxy) close() and destroy() work, undici's connect TLS options mean what they mean there (or are
// refused, saying what to pass), and the interceptor composes with undici's dns interceptor in
// either order, choosing the certificate by the request's host name, never by its address.
import { Agent, interceptors, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createInterceptor, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { caught, fixture, readFixture, testCa } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';

let cert: LoadedCertificate;
let server: TestServer;
let untrusted: TestServer;
beforeAll(async () => {
  [cert, server, untrusted] = await Promise.all([
    loadCertificate({ pemFile: fixture('rsa.pem') }),
    startMtlsServer(),
    // A server whose certificate the test CA did not issue (as undici's tests' self-signed servers).
    startMtlsServer({ identity: { key: readFixture('other-server.key'), cert: readFixture('other-server.crt') } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), untrusted?.close()]);
});

function store(): CertificateStore {
  const s = new CertificateStore({ ca: testCa() });
  s.add({ host: 'localhost', port: '*', certificate: cert });
  return s;
}

const received = async (res: { body: { json(): Promise<unknown> } }) => (await res.body.json()) as Received;

describe('through compose()', () => {
  it('close() and destroy() work on the composed dispatcher (they threw on #private fields)', async () => {
    for (const end of ['close', 'destroy'] as const) {
      const composed = createDispatcher(store()).compose(interceptors.retry(), interceptors.redirect({ maxRedirections: 2 }));
      expect((await received(await request(server.url('localhost'), { dispatcher: composed }))).fingerprint256).toBe(cert.fingerprint256);
      await composed[end](); // threw TypeError: Cannot read private member #unfollow
      await expect(request(server.url('localhost'), { dispatcher: composed })).rejects.toMatchObject({ code: expect.stringMatching(/^UND_ERR_(CLOSED|DESTROYED)$/) });
    }
    const viaCallback = createDispatcher(store()).compose(interceptors.retry());
    await new Promise<void>((resolve) => viaCallback.close(resolve));
  });

  it('withOptions() on a composed dispatcher', async () => {
    const composed = createDispatcher(store()).compose(interceptors.retry()) as ReturnType<typeof createDispatcher>;
    try {
      const view = composed.withOptions({ select: 'cert-1' });
      expect((await received(await request(server.url('127.0.0.1'), { dispatcher: view }))).fingerprint256).toBe(cert.fingerprint256);
    } finally {
      await composed.close();
    }
  });
});

describe("undici's connect options", () => {
  it('connect.rejectUnauthorized: false means what it means on undici\'s Agent (it was silently ignored)', async () => {
    const strict = createDispatcher(store());
    const lax = createDispatcher(store(), { agentOptions: { connect: { rejectUnauthorized: false } } });
    try {
      await expect(request(untrusted.url('localhost'), { dispatcher: strict })).rejects.toMatchObject({ code: 'ERR_SERVER_CERTIFICATE' });
      const seen = await received(await request(untrusted.url('localhost'), { dispatcher: lax }));
      expect(seen.fingerprint256).toBe(cert.fingerprint256);
    } finally {
      await Promise.all([strict.close(), lax.close()]);
    }
  });

  it('connect.maxVersion bounds the TLS version as the adapter option does', async () => {
    const capped = createDispatcher(store(), { agentOptions: { connect: { maxVersion: 'TLSv1.2' } } });
    try {
      expect((await received(await request(server.url('localhost'), { dispatcher: capped }))).protocol).toBe('TLSv1.2');
    } finally {
      await capped.close();
    }
  });

  it('fields that would replace the certificate or the trust are refused, naming what to pass; one field given twice must agree', async () => {
    for (const [field, value, says] of [
      ['cert', 'x', "the store's entries"],
      ['key', 'x', "the store's entries"],
      ['ca', 'x', 'the ca option'],
    ] as const) {
      const err = await caught(() => createDispatcher(store(), { agentOptions: { connect: { [field]: value } } }));
      expect(err, field).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(`agentOptions.connect.${field} is not taken`) });
      expect(err.message).toContain(says);
    }
    const twice = await caught(() => createDispatcher(store(), { rejectUnauthorized: true, agentOptions: { connect: { rejectUnauthorized: false } } }));
    expect(twice).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('given twice') });
    const agreeing = createDispatcher(store(), { rejectUnauthorized: false, agentOptions: { connect: { rejectUnauthorized: false } } });
    await agreeing.close();
  });
});

describe("the interceptor and undici's dns interceptor", () => {
  it('in either order the certificate is the host name\'s, and the connection goes to the address the dns interceptor picked', async () => {
    const lookups: string[] = [];
    // The dns interceptor's own lookup: the name goes to 127.0.0.1 (no DNS server needed).
    const dns = interceptors.dns({ lookup: (origin, _opts, cb) => (lookups.push(origin.hostname), cb(null, [{ address: '127.0.0.1', family: 4, ttl: 60_000 }] as never)) });
    for (const order of ['mtls then dns', 'dns then mtls'] as const) {
      const mtls = createInterceptor(store());
      const agent = new Agent();
      const composed = order === 'mtls then dns' ? agent.compose(mtls, dns) : agent.compose(dns, mtls);
      try {
        const seen = await received(await request(`https://localhost:${server.port}/`, { dispatcher: composed }));
        expect([order, seen.fingerprint256, seen.servername]).toEqual([order, cert.fingerprint256, 'localhost']);
      } finally {
        await Promise.all([agent.close(), mtls.close()]);
      }
    }
    expect(lookups.length).toBeGreaterThan(0);
  });

  it('an entry for the address is not what a request to the name presents', async () => {
    const ec = await loadCertificate({ pemFile: fixture('ec256.pem') });
    const s = new CertificateStore({ ca: testCa() });
    s.add({ host: '127.0.0.1', port: '*', certificate: ec });
    s.add({ host: 'localhost', port: '*', certificate: cert });
    const mtls = createInterceptor(s);
    const agent = new Agent();
    const composed = agent.compose(mtls, interceptors.dns({ lookup: (_o, _p, cb) => cb(null, [{ address: '127.0.0.1', family: 4, ttl: 60_000 }] as never) }));
    try {
      expect((await received(await request(`https://localhost:${server.port}/`, { dispatcher: composed }))).fingerprint256).toBe(cert.fingerprint256);
      expect((await received(await request(`https://127.0.0.1:${server.port}/`, { dispatcher: composed }))).fingerprint256).toBe(ec.fingerprint256);
    } finally {
      await Promise.all([agent.close(), mtls.close()]);
    }
  });
});
