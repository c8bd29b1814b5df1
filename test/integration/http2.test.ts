// HTTP/2 through the undici adapters, against a node:http2 secure server that requires h2 and a
// client certificate: the certificate it received, the protocol, and the connections it saw.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, createFetch, createInterceptor, isMtlsError, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, readFixture } from '../helpers.js';
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
  it('createDispatcher negotiates h2, presents the resolved certificate, and spreads 64 concurrent requests over at most 8 connections (multiplexed)', async () => {
    const before = server.sessions();
    const dispatcher = createDispatcher(storeWith(rsa, 'main'), { agentOptions: h2 });
    try {
      const got = await Promise.all(
        Array.from({ length: 64 }, async (_, i) => (await (await request(server.url('localhost', `/${i}`), { dispatcher })).body.json()) as H2Received),
      );
      expect(new Set(got.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
      expect(new Set(got.map((r) => r.fingerprint256))).toEqual(new Set([rsa.fingerprint256]));
      const sessions = server.sessions() - before;
      expect(sessions).toBeGreaterThan(1);
      expect(sessions).toBeLessThanOrEqual(8);
      expect(new Set(got.map((r) => r.session)).size).toBe(sessions);
      // Sequential requests afterwards: on the connections already open, no new handshake.
      for (let i = 0; i < 20; i++) await (await request(server.url('localhost', `/s${i}`), { dispatcher })).body.json();
      expect(server.sessions() - before).toBe(sessions);
    } finally {
      await dispatcher.close();
    }
  });

  it('sequential requests: one HTTP/2 connection, one handshake', async () => {
    const before = server.sessions();
    const dispatcher = createDispatcher(storeWith(rsa, 'main'), { agentOptions: h2 });
    try {
      for (let i = 0; i < 50; i++) expect(((await (await request(server.url('localhost', `/${i}`), { dispatcher })).body.json()) as H2Received).httpVersion).toBe('2.0');
      expect(server.sessions() - before).toBe(1);
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

  it('connections per (origin, certificate): select opens others, and rotation moves to new ones', async () => {
    const store = storeWith(rsa, 'main');
    store.add({ host: 'elsewhere.test', name: 'other', certificate: ec });
    const dispatcher = createDispatcher(store, { agentOptions: h2 });
    const get = async (d = dispatcher as unknown as Agent) => (await (await request(server.url(), { dispatcher: d })).body.json()) as H2Received;
    try {
      const first = await Promise.all([get(), get(), get()]);
      const firstSessions = new Set(first.map((r) => r.session));
      const selected = await Promise.all([1, 2, 3].map(() => get(dispatcher.withOptions({ select: 'other' }) as Agent)));
      expect(new Set(selected.map((r) => r.fingerprint256))).toEqual(new Set([ec.fingerprint256]));
      expect(selected.filter((r) => firstSessions.has(r.session))).toEqual([]);
      // Rotation: the main entry's certificate is replaced; the next requests use the new one.
      const old = store.list().find((e) => e.name === 'main')!;
      store.add({ host: 'localhost', port: '*', name: 'main 2', certificate: ec });
      store.remove(old.id);
      const after = await Promise.all([get(), get()]);
      expect(new Set(after.map((r) => r.fingerprint256))).toEqual(new Set([ec.fingerprint256]));
      expect(after.filter((r) => firstSessions.has(r.session))).toEqual([]);
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

describe('an HTTP/2 server that answers HTTP_1_1_REQUIRED (as Apache with client authentication per location)', () => {
  let picky: { url: string; h2Streams(): number; close(): Promise<void> };
  beforeAll(async () => {
    const { createSecureServer, constants } = await import('node:http2');
    let h2Streams = 0;
    const s = createSecureServer({ key: readFixture('server.key'), cert: readFixture('server-chain.pem'), allowHTTP1: true, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      if (req.httpVersion === '2.0') {
        h2Streams++;
        (req as unknown as { stream: { close(code: number): void } }).stream.close(constants.NGHTTP2_HTTP_1_1_REQUIRED);
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(JSON.stringify({ httpVersion: req.httpVersion, body, fingerprint256: (req.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? null })));
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    picky = {
      url: `https://localhost:${(s.address() as { port: number }).port}/`,
      h2Streams: () => h2Streams,
      close: () => new Promise<void>((resolve) => s.close(() => resolve())),
    };
  });
  afterAll(() => picky.close());

  it('the request is sent again over HTTP/1.1, with the same certificate, and the origin stays on HTTP/1.1 (fetch and the dispatcher)', async () => {
    const fetch = createFetch(storeWith(rsa, 'main'), { agentOptions: h2 });
    const dispatcher = createDispatcher(storeWith(ec, 'main'), { agentOptions: h2 });
    try {
      // fetch hands its body to the dispatcher as a stream: a GET (no body) is sent again.
      const first = (await (await fetch(picky.url)).json()) as { httpVersion: string; body: string; fingerprint256: string };
      expect(first).toEqual({ httpVersion: '1.1', body: '', fingerprint256: rsa.fingerprint256 });
      const second = (await (await fetch(picky.url)).json()) as { httpVersion: string };
      expect(second.httpVersion).toBe('1.1');
      expect(picky.h2Streams()).toBe(1); // the second went straight to HTTP/1.1
      // A string body can be sent twice.
      const viaDispatcher = (await (await request(picky.url, { dispatcher, method: 'POST', body: 'hello' })).body.json()) as { httpVersion: string; body: string; fingerprint256: string };
      expect(viaDispatcher).toEqual({ httpVersion: '1.1', body: 'hello', fingerprint256: ec.fingerprint256 });
      expect(picky.h2Streams()).toBe(2);
    } finally {
      await Promise.all([fetch.close(), dispatcher.close()]);
    }
  });

  it('a body that cannot be sent twice: ERR_HTTP_1_1_REQUIRED says so, and the next request goes over HTTP/1.1', async () => {
    const dispatcher = createDispatcher(storeWith(rsa, 'main'), { agentOptions: h2 });
    try {
      const { Readable } = await import('node:stream');
      const err = await request(picky.url, { dispatcher, method: 'POST', body: Readable.from(['streamed']) }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(err, 'ERR_HTTP_1_1_REQUIRED')).toBe(true);
      expect((err as Error).message).toContain('the next requests to this origin use HTTP/1.1');
      const next = (await (await request(picky.url, { dispatcher, method: 'POST', body: Readable.from(['streamed']) })).body.json()) as { httpVersion: string; body: string };
      expect(next).toEqual(expect.objectContaining({ httpVersion: '1.1', body: 'streamed' }));
    } finally {
      await dispatcher.close();
    }
  });
});
