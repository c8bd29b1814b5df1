// HTTP/2 through the undici adapters, against a node:http2 secure server that requires h2 and a
// client certificate: the certificate it received, the protocol, and the connections it saw.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, createFetch, createInterceptor, isMtlsError, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture } from '../helpers.js';
import { storeWith } from './load.js';
import { startH2Server, type H2Server } from './servers.js';

interface H2Received {
  fingerprint256: string | null;
  httpVersion: string;
  session: number;
}

const h2 = { allowH2: true };
let server: H2Server;
let rsa: LoadedCertificate;
let ec: LoadedCertificate;

beforeAll(async () => {
  [server, rsa, ec] = await Promise.all([startH2Server(), loadCertificate({ pemFile: fixture('rsa.pem') }), loadCertificate({ pemFile: fixture('ec256.pem') })]);
});
afterAll(() => server.close());


describe('HTTP/2 (allowH2)', () => {
  it('createDispatcher negotiates h2, presents the resolved certificate, and multiplexes 64 concurrent requests over one connection', async () => {
    const before = server.sessions();
    const dispatcher = createDispatcher(storeWith(rsa, 'main'), { agentOptions: h2 });
    try {
      const got = await Promise.all(
        Array.from({ length: 64 }, async (_, i) => (await (await request(server.url('localhost', `/${i}`), { dispatcher })).body.json()) as H2Received),
      );
      expect(new Set(got.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
      expect(new Set(got.map((r) => r.fingerprint256))).toEqual(new Set([rsa.fingerprint256]));
      expect(server.sessions() - before).toBe(1);
      expect(new Set(got.map((r) => r.session)).size).toBe(1);
    } finally {
      await dispatcher.close();
    }
  });

  it('createFetch and createInterceptor negotiate h2 and present the certificate', async () => {
    const store = storeWith(ec, 'main');
    const fetch = createFetch(store, { agentOptions: h2 });
    const interceptor = createInterceptor(store, { agentOptions: h2 });
    const composed = new Agent().compose(interceptor);
    try {
      const viaFetch = (await (await fetch(server.url())).json()) as H2Received;
      const viaInterceptor = (await (await request(server.url(), { dispatcher: composed })).body.json()) as H2Received;
      for (const r of [viaFetch, viaInterceptor]) {
        expect(r.httpVersion).toBe('2.0');
        expect(r.fingerprint256).toBe(ec.fingerprint256);
      }
    } finally {
      await Promise.all([fetch.close(), interceptor.close(), composed.close()]);
    }
  });

  it('one connection per (origin, certificate): select opens a second one, and rotation moves to a new one', async () => {
    const store = storeWith(rsa, 'main');
    store.add({ host: 'elsewhere.test', name: 'other', certificate: ec });
    const dispatcher = createDispatcher(store, { agentOptions: h2 });
    const get = async (d = dispatcher as unknown as Agent) => (await (await request(server.url(), { dispatcher: d })).body.json()) as H2Received;
    try {
      const first = await Promise.all([get(), get(), get()]);
      expect(new Set(first.map((r) => r.session)).size).toBe(1);
      const selected = await Promise.all([1, 2, 3].map(() => get(dispatcher.withOptions({ select: 'other' }) as Agent)));
      expect(new Set(selected.map((r) => r.fingerprint256))).toEqual(new Set([ec.fingerprint256]));
      expect(new Set(selected.map((r) => r.session)).size).toBe(1);
      expect(selected[0]!.session).not.toBe(first[0]!.session);
      // Rotation: the main entry's certificate is replaced; the next requests use the new one.
      const old = store.list().find((e) => e.name === 'main')!;
      store.add({ host: 'localhost', port: '*', name: 'main 2', certificate: ec });
      store.remove(old.id);
      const after = await Promise.all([get(), get()]);
      expect(new Set(after.map((r) => r.fingerprint256))).toEqual(new Set([ec.fingerprint256]));
      expect(after[0]!.session).not.toBe(first[0]!.session);
    } finally {
      await dispatcher.close();
    }
  });

  it('without allowH2, an h2-only server is an ALPN problem, and the message says so instead of blaming the certificate', async () => {
    const dispatcher = createDispatcher(storeWith(rsa, 'main'));
    try {
      const err = await request(server.url(), { dispatcher }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMtlsError(err, 'ERR_TLS_ALPN')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain('allowH2: true');
      expect(message).toContain('ALPN: http/1.1');
      expect(message).toContain('not about the client certificate');
      expect(message).not.toMatch(/Likely causes|was presented/);
    } finally {
      await dispatcher.close();
    }
  });
});
