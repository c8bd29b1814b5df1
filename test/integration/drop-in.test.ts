// createDispatcher and createInterceptor where a plain undici Agent goes: through compose() (a
// Proxy) close() and destroy() work, undici's connect TLS options mean what they mean there (or are
// refused, saying what to pass), and the interceptor composes with undici's dns interceptor in
// either order, choosing the certificate by the request's host name, never by its address.
import { createServer as createNetServer } from 'node:net';
import { Agent, interceptors, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createInterceptor, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { caught, fixture, readFixture, testCa } from '../helpers.js';
import { echoRoute, startMtlsServer, type Received, type TestServer } from './servers.js';

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

describe('bodies made with another copy of undici', () => {
  it("a FormData of the runtime's own undici (or the app's) goes through this package's copy (it failed: action is not a function)", async () => {
    const echo = await startMtlsServer({ route: echoRoute });
    const dispatcher = createDispatcher(store());
    try {
      const form = new globalThis.FormData(); // Node's bundled undici: not the npm copy this package uses
      form.append('field', 'value from another undici');
      const res = await request(echo.url('localhost'), { dispatcher, method: 'POST', body: form as never });
      const seen = (await res.body.json()) as Received & { body: string; contentType: string };
      expect(seen.fingerprint256).toBe(cert.fingerprint256);
      expect(seen.contentType).toMatch(/^multipart\/form-data; boundary=/);
      expect(seen.body).toContain('value from another undici');
    } finally {
      await Promise.all([dispatcher.close(), echo.close()]);
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

  it("the Agent's connectTimeout reaches the connections (it was ignored: always 10 s)", async () => {
    // A server that accepts and never answers the TLS handshake.
    const silent = createNetServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const dispatcher = createDispatcher(store(), { agentOptions: { connectTimeout: 100 } });
    const started = Date.now();
    try {
      const err = await request(`https://localhost:${(silent.address() as { port: number }).port}/`, { dispatcher }).then(() => undefined, (e: unknown) => e as Error & { code?: string; cause?: { code?: string } });
      expect(err?.code === 'UND_ERR_CONNECT_TIMEOUT' || err?.cause?.code === 'UND_ERR_CONNECT_TIMEOUT').toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await dispatcher.close();
      silent.close();
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

  it("composed first or last among all of undici's interceptors (dns, retry, redirect, cache, decompress)", async () => {
    const staticDns = interceptors.dns({ lookup: (_o, _p, cb) => cb(null, [{ address: '127.0.0.1', family: 4, ttl: 60_000 }] as never) });
    const others = () => [staticDns, interceptors.retry(), interceptors.redirect({ maxRedirections: 2 }), interceptors.cache(), interceptors.decompress()];
    for (const where of ['first', 'last'] as const) {
      const mtls = createInterceptor(store());
      const agent = new Agent();
      const composed = agent.compose(...(where === 'first' ? [mtls, ...others()] : [...others(), mtls]));
      try {
        const seen = await received(await request(`https://localhost:${server.port}/all`, { dispatcher: composed }));
        expect([where, seen.fingerprint256]).toEqual([where, cert.fingerprint256]);
      } finally {
        await Promise.all([agent.close(), mtls.close()]);
      }
    }
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
