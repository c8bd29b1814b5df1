// createDispatcher / createFetch / createInterceptor against real TLS servers on 127.0.0.1: what
// the server received is what the resolver chose.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateStore,
  createDispatcher,
  createFetch,
  createInterceptor,
  loadCertificate,
  type ConnectEvent,
  type LoadedCertificate,
  type SelectEvent,
} from '../../src/index.js';
import { fixture, PASS, readFixture, testCa } from '../helpers.js';
import { clientSubjectOnPage, fingerprintOf, lookup, startHttpServer, startMtlsServer, startOpensslServer, type Received, type TestServer } from './servers.js';

const ca = () => testCa();
const agentOptions = { connect: { lookup } };
const certs: Record<string, LoadedCertificate> = {};

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const load = (name: string, source: Parameters<typeof loadCertificate>[0]) => loadCertificate(source).then((c) => (certs[name] = c));
  await Promise.all([
    load('rsa', { pemFile: fixture('rsa.pem') }),
    load('ec256', { certFile: fixture('ec256.crt'), keyFile: fixture('ec256.enc.key'), passphrase: PASS }),
    load('ec384', { pemFile: fixture('ec384.pem') }),
    load('ed25519', { pemFile: fixture('ed25519.pem') }),
    load('pfx', { pfxFile: fixture('ec256.pfx'), passphrase: PASS }),
    load('legacy', { pfxFile: fixture('rsa.legacy.pfx'), passphrase: PASS }),
  ]);
  [a, b] = await Promise.all([startMtlsServer(), startMtlsServer()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

async function received(res: Response | { json(): Promise<unknown> }): Promise<Received> {
  return (await res.json()) as Received;
}

describe('createDispatcher: exact, wildcard and port rules end to end', () => {
  it('each request presents the certificate the rules choose, and none where nothing matches', async () => {
    const store = new CertificateStore();
    store.add({ host: 'api.mtls.test', port: a.port, certificate: certs.rsa! });
    store.add({ host: '*.mtls.test', port: '*', certificate: certs.ec256! });
    store.add({ host: 'api.mtls.test', port: b.port, certificate: certs.ed25519! });
    const dispatcher = createDispatcher(store, { ca: ca(), agentOptions });
    try {
      const get = async (url: string) => (await request(url, { dispatcher })).body.json() as Promise<Received>;
      expect((await get(a.url('api.mtls.test'))).fingerprint256).toBe(certs.rsa!.fingerprint256);
      expect((await get(b.url('api.mtls.test'))).fingerprint256).toBe(certs.ed25519!.fingerprint256);
      expect((await get(a.url('shop.mtls.test'))).fingerprint256).toBe(certs.ec256!.fingerprint256);
      expect((await get(a.url('a.b.mtls.test'))).fingerprint256).toBe(certs.ec256!.fingerprint256);
      // A glob never matches an IP, and localhost has no entry: nothing is presented.
      expect((await get(a.url('127.0.0.1'))).fingerprint256).toBeNull();
      expect((await get(a.url('localhost'))).fingerprint256).toBeNull();
    } finally {
      await dispatcher.close();
    }
  });

  it('plain http goes through untouched', async () => {
    const http = await startHttpServer();
    const store = new CertificateStore();
    store.add({ host: 'api.mtls.test', port: '*', certificate: certs.rsa! });
    const dispatcher = createDispatcher(store, { agentOptions });
    try {
      const res = await request(`http://api.mtls.test:${http.port}/x`, { dispatcher });
      expect(await res.body.json()).toEqual({ tls: false, path: '/x' });
    } finally {
      await dispatcher.close();
      await http.close();
    }
  });

  it.each(['rsa', 'ec256', 'ec384', 'ed25519', 'pfx', 'legacy'])('a %s certificate completes a handshake', async (name) => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', certificate: certs[name]! });
    const fetch = createFetch(store, { ca: ca() });
    try {
      const got = await received(await fetch(a.url('localhost')));
      expect(got.fingerprint256).toBe(certs[name]!.fingerprint256);
      expect(got.authorized).toBe(true); // the server verified the chain we sent
    } finally {
      await fetch.close();
    }
  });
});

describe('keep-alive, contexts and rotation', () => {
  it('1,000 sequential requests to one origin make one TLS handshake', async () => {
    const server = await startMtlsServer();
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', certificate: certs.ec256! });
    const dispatcher = createDispatcher(store, { ca: ca() });
    try {
      for (let i = 0; i < 1000; i++) {
        const res = await request(server.url('localhost', `/${i}`), { dispatcher });
        const body = (await res.body.json()) as Received;
        if (body.fingerprint256 !== certs.ec256!.fingerprint256) throw new Error(`request ${i} presented ${body.fingerprint256}`);
      }
      expect(server.handshakes()).toBe(1);
    } finally {
      await dispatcher.close();
      await server.close();
    }
  });

  it('rotation under continuous load: 50 changes, no request lost, only the new certificate after each change', async () => {
    const server = await startMtlsServer();
    const store = new CertificateStore();
    const pool = [certs.rsa!, certs.ec256!, certs.ed25519!, certs.ec384!];
    let current = store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    const dispatcher = createDispatcher(store, { ca: ca() });
    let failures = 0;
    let done = 0;
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          const res = await request(server.url('localhost', '/load'), { dispatcher });
          await res.body.json();
          done++;
        } catch {
          failures++;
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    try {
      for (let i = 1; i <= 50; i++) {
        const next = pool[i % pool.length]!;
        const added = store.add({ host: 'localhost', port: '*', certificate: next });
        store.remove(current.id);
        current = added;
        // After the change, every new request presents the new certificate.
        for (let k = 0; k < 3; k++) {
          const res = await request(server.url('localhost', `/check-${i}-${k}`), { dispatcher });
          expect(((await res.body.json()) as Received).fingerprint256).toBe(next.fingerprint256);
        }
      }
    } finally {
      running = false;
      await Promise.all(workers);
      await dispatcher.close();
      await server.close();
    }
    expect(failures).toBe(0);
    expect(done).toBeGreaterThan(50);
  });
});

describe('verification and CAs', () => {
  it('fails with a clear error when the server CA is unknown, and rejectUnauthorized: false applies to that request only', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', certificate: certs.rsa! });
    const fetch = createFetch(store); // no custom CA: the test CA is unknown
    try {
      const err = await fetch(a.url('localhost')).then(() => undefined, (e: Error) => e);
      expect((err as Error & { cause: { code: string; message: string } }).cause).toMatchObject({
        code: 'ERR_SERVER_CERTIFICATE',
        message: expect.stringMatching(/add that CA.*loadCaBundle/),
      });
      const insecure = await received(await fetch(a.url('localhost'), { mtls: { rejectUnauthorized: false } }));
      expect(insecure.fingerprint256).toBe(certs.rsa!.fingerprint256);
      // The insecure connection is not reused by a verifying request.
      const again = await fetch(a.url('localhost')).then(() => 'ok', (e: Error & { cause?: { code?: string } }) => e.cause?.code);
      expect(again).toBe('ERR_SERVER_CERTIFICATE');
    } finally {
      await fetch.close();
    }
  });

  it('a custom CA is added to the default roots, not replacing them', async () => {
    const store = new CertificateStore();
    const dispatcher = createDispatcher(store, { ca: ca() });
    try {
      // The bundle the secure contexts use holds Node's roots and the test CA.
      const { defaultCaCertificates } = await import('../../src/adapter/trust.js');
      const tls = await import('node:tls');
      expect(defaultCaCertificates().length).toBeGreaterThanOrEqual(tls.rootCertificates.length);
      const res = await request(a.url('localhost'), { dispatcher });
      expect(res.statusCode).toBe(200);
    } finally {
      await dispatcher.close();
    }
  });

  it('the store default rejectUnauthorized is used when the caller passes none', async () => {
    const store = new CertificateStore({ rejectUnauthorized: false });
    const fetch = createFetch(store);
    try {
      expect((await fetch(a.url('localhost'))).status).toBe(200);
    } finally {
      await fetch.close();
    }
  });
});

describe('per-request choice and redirects', () => {
  it('select picks an entry for the request origin only; a redirect to another origin resolves again', async () => {
    const from = await startMtlsServer({
      route: (req, res) => {
        if (req.url !== '/go') return false;
        res.statusCode = 302;
        res.setHeader('location', b.url('second.mtls.test', '/landed'));
        res.end();
        return true;
      },
    });
    const store = new CertificateStore();
    store.add({ host: 'first.mtls.test', port: '*', name: 'first', certificate: certs.rsa! });
    store.add({ host: 'second.mtls.test', port: '*', name: 'second', certificate: certs.ed25519! });
    store.add({ host: 'unrelated.test', name: 'chosen by hand', certificate: certs.ec384! });
    const fetch = createFetch(store, { ca: ca(), agentOptions });
    try {
      const landed = await received(await fetch(from.url('first.mtls.test', '/go')));
      expect(landed).toMatchObject({ path: '/landed', fingerprint256: certs.ed25519!.fingerprint256 });
      const selected = await received(await fetch(from.url('first.mtls.test', '/go'), { mtls: { select: 'chosen by hand' } }));
      // The selection applied to first.mtls.test only; second.mtls.test got its own certificate.
      expect(selected).toMatchObject({ path: '/landed', fingerprint256: certs.ed25519!.fingerprint256 });
      const direct = await received(await fetch(from.url('first.mtls.test', '/plain'), { mtls: { select: 'chosen by hand' } }));
      expect(direct.fingerprint256).toBe(certs.ec384!.fingerprint256);
    } finally {
      await fetch.close();
      await from.close();
    }
  });
});

describe('observability', () => {
  it('onSelect and the diagnostics channels say which certificate went where, and what the server showed', async () => {
    const store = new CertificateStore();
    const entry = store.add({ host: 'localhost', port: '*', name: 'lab', certificate: certs.ec256! });
    const selects: SelectEvent[] = [];
    const channelSelects: unknown[] = [];
    const connects: ConnectEvent[] = [];
    const onSelectChannel = (m: unknown) => channelSelects.push(m);
    const onConnect = (m: unknown) => connects.push(m as ConnectEvent);
    subscribe('mtls-resolver:select', onSelectChannel);
    subscribe('mtls-resolver:connect', onConnect);
    const fetch = createFetch(store, { ca: ca(), onSelect: (e) => selects.push(e) });
    try {
      await (await fetch(a.url('localhost'))).text();
    } finally {
      unsubscribe('mtls-resolver:select', onSelectChannel);
      unsubscribe('mtls-resolver:connect', onConnect);
      await fetch.close();
    }
    const expected = { origin: `https://localhost:${a.port}`, entryId: entry.id, name: 'lab', kind: 'exact', fingerprint256: certs.ec256!.fingerprint256 };
    expect(selects).toEqual([expect.objectContaining(expected)]);
    expect(channelSelects).toEqual([expect.objectContaining(expected)]);
    expect(connects).toHaveLength(1);
    expect(connects[0]).toMatchObject({
      origin: `https://localhost:${a.port}`,
      entryId: entry.id,
      authorized: true,
      authorizationError: undefined,
      server: { subject: expect.stringContaining('CN=server client'), issuer: expect.stringContaining('Test Intermediate CA') },
    });
  });

  it('when the server refuses the client certificate, the error says which one was presented and why that may be', async () => {
    // This server trusts only its own certificate, so our client certificates are refused.
    const strict = await startMtlsServer({ rejectUnauthorized: true, trust: [readFixture('server.crt')] });
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', name: 'refused', certificate: certs.rsa! });
    const fetch = createFetch(store, { ca: ca() });
    try {
      const err = (await fetch(strict.url('localhost')).then(() => undefined, (e: Error) => e)) as Error & { cause: Error & { code: string } };
      expect(err.cause).toMatchObject({ code: 'ERR_TLS_HANDSHAKE' });
      expect(err.cause.message).toContain('"refused"');
      expect(err.cause.message).toContain(certs.rsa!.fingerprint256);
      expect(err.cause.message).toMatch(/valid until .*Likely causes: the server does not trust the issuer/);
      const none = (await fetch(strict.url('127.0.0.1')).then(() => undefined, (e: Error) => e)) as Error & { cause: Error & { code: string } };
      expect(none.cause).toMatchObject({ code: 'ERR_TLS_HANDSHAKE', message: expect.stringContaining('No client certificate was presented') });
    } finally {
      await fetch.close();
      await strict.close();
    }
  });
});

describe('createInterceptor', () => {
  it('sends matching origins through the mTLS pools and everything else to the composed dispatcher', async () => {
    const store = new CertificateStore();
    store.add({ host: 'api.mtls.test', port: '*', certificate: certs.ed25519! });
    const interceptor = createInterceptor(store, { ca: ca(), agentOptions });
    const base = new Agent({ connect: { lookup, ca: ca().pem } });
    const client = base.compose(interceptor);
    try {
      const withCert = (await (await request(a.url('api.mtls.test'), { dispatcher: client })).body.json()) as Received;
      expect(withCert.fingerprint256).toBe(certs.ed25519!.fingerprint256);
      const without = (await (await request(a.url('other.mtls.test'), { dispatcher: client })).body.json()) as Received;
      expect(without.fingerprint256).toBeNull();
    } finally {
      await interceptor.close();
      await base.close();
    }
  });
});

describe('createInterceptor and store changes', () => {
  it('decides per origin, and decides again after a store change (an entry added with its own ca)', async () => {
    const store = new CertificateStore();
    const interceptor = createInterceptor(store, { agentOptions });
    const base = new Agent({ connect: { lookup, ca: ca().pem } });
    const client = base.compose(interceptor);
    try {
      for (let i = 0; i < 3; i++) {
        const before = (await (await request(a.url('api.mtls.test'), { dispatcher: client })).body.json()) as Received;
        expect(before.fingerprint256).toBeNull(); // the composed Agent: no certificate
      }
      store.add({ host: 'api.mtls.test', port: '*', certificate: certs.ed25519!, ca: ca() });
      const after = (await (await request(a.url('api.mtls.test'), { dispatcher: client })).body.json()) as Received;
      expect(after.fingerprint256).toBe(certs.ed25519!.fingerprint256);
    } finally {
      await interceptor.close();
      await base.close();
    }
  });
});

describe('openssl s_server -Verify (a peer we did not write)', () => {
  it.each(['rsa', 'ec384', 'ed25519', 'pfx', 'legacy'])('receives and verifies the %s certificate (chain included) the resolver chose', async (name) => {
    const server = await startOpensslServer();
    const store = new CertificateStore();
    store.add({ host: 'api.mtls.test', port: server.port, certificate: certs[name]! });
    store.add({ host: '*.mtls.test', port: '*', certificate: certs.ec384! });
    const dispatcher = createDispatcher(store, { ca: ca(), agentOptions });
    try {
      const res = await request(`https://api.mtls.test:${server.port}/`, { dispatcher });
      expect(res.statusCode).toBe(200);
      expect(clientSubjectOnPage(await res.body.text())).toBe(certs[name]!.subject);
    } finally {
      await dispatcher.close();
      await server.close();
    }
  });
});

describe("Node's global fetch with createDispatcher", () => {
  it(`works on Node ${process.versions.node}`, async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', certificate: certs.rsa! });
    const dispatcher = createDispatcher(store, { ca: ca() });
    try {
      const res = await globalThis.fetch(a.url('localhost'), { dispatcher } as unknown as RequestInit);
      expect(((await res.json()) as Received).fingerprint256).toBe(fingerprintOf('rsa.crt'));
    } finally {
      await dispatcher.close();
    }
  });
});

describe('a bad per-request choice', () => {
  it('select naming no entry fails that request with ERR_CERTIFICATE_NOT_FOUND, and the next request works', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: '*', certificate: certs.rsa! });
    const fetch = createFetch(store, { ca: ca() });
    try {
      const err = (await fetch(a.url('localhost'), { mtls: { select: 'nobody' } }).then(() => undefined, (e: Error) => e)) as Error & { cause: { code: string } };
      expect(err.cause).toMatchObject({ code: 'ERR_CERTIFICATE_NOT_FOUND', message: expect.stringContaining('"nobody"') });
      expect((await received(await fetch(a.url('localhost')))).fingerprint256).toBe(certs.rsa!.fingerprint256);
    } finally {
      await fetch.close();
    }
  });
});

describe('primary changes', () => {
  it('with fallbackToPrimary, setPrimary switches the certificate of an unmatched origin for the next request', async () => {
    const store = new CertificateStore();
    const first = store.add({ host: 'one.example', name: 'first', primary: true, certificate: certs.rsa! });
    const second = store.add({ host: 'two.example', name: 'second', certificate: certs.ed25519! });
    const fetch = createFetch(store, { ca: ca(), fallbackToPrimary: true });
    try {
      expect((await received(await fetch(a.url('localhost')))).fingerprint256).toBe(certs.rsa!.fingerprint256);
      store.setPrimary(second.id);
      expect((await received(await fetch(a.url('localhost')))).fingerprint256).toBe(certs.ed25519!.fingerprint256);
      store.setPrimary(null);
      expect((await received(await fetch(a.url('localhost')))).fingerprint256).toBeNull();
      expect(store.get(first.id)?.primary).toBeUndefined();
    } finally {
      await fetch.close();
    }
  });
});
