// Per-request choices bind to their origin: a hostile server that redirects elsewhere never gets
// the certificate chosen by `select` for the first host, and `rejectUnauthorized: false` given for
// an unverified test host never carries over to the host it redirects to. Real servers, and the
// clients that follow redirects: fetch, undici's redirect interceptor, follow-redirects (axios's),
// axios, got and ws.
import { createServer, request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import axios from 'axios';
import followRedirects from 'follow-redirects';
import { got } from 'got';
import { interceptors, request } from 'undici';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, isMtlsError, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, readFixture, testCa } from '../helpers.js';
import { lookup, startMtlsServer, startWsServer, type TestServer } from './servers.js';

interface Hit {
  host: string;
  path: string;
  fingerprint256: string | null;
}

let secret: LoadedCertificate;
let acme: LoadedCertificate;
/** A server with a trusted certificate for *.mtls.test: a.mtls.test redirects to evil.mtls.test (the same server). */
let trusted: TestServer;
/** A server whose certificate nobody here trusts: unverified.mtls.test redirects to an impostor api.mtls.test. */
let untrusted: TestServer;
let wss: TestServer;
const hits: Hit[] = [];

function recorder(target: () => TestServer, redirects: Record<string, string>) {
  return (req: IncomingMessage, res: import('node:http').ServerResponse, received: { fingerprint256: string | null; path: string }) => {
    const host = String(req.headers.host).split(':')[0]!;
    hits.push({ host, path: received.path, fingerprint256: received.fingerprint256 });
    const to = redirects[received.path];
    if (to === undefined) return false;
    res.statusCode = 302;
    res.setHeader('location', to.replace('PORT', String(target().port)));
    res.end();
    return true;
  };
}

beforeAll(async () => {
  [secret, acme] = await Promise.all([loadCertificate({ pemFile: fixture('rsa.pem') }), loadCertificate({ pemFile: fixture('ed25519.pem') })]);
  [trusted, untrusted, wss] = await Promise.all([
    startMtlsServer({ route: recorder(() => trusted, { '/to-evil': 'https://evil.mtls.test:PORT/landed', '/to-self': '/landed' }) }),
    startMtlsServer({
      identity: { key: readFixture('other-server.key'), cert: readFixture('other-server.crt') },
      route: recorder(() => untrusted, { '/to-acme': 'https://api.mtls.test:PORT/landed' }),
    }),
    startWsServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([trusted.close(), untrusted.close(), wss.close()]);
});

/** B is only for secret.mtls.test; ACME only for api.mtls.test; a, evil and unverified match nothing. */
function stores(): CertificateStore {
  const store = new CertificateStore({ ca: testCa() });
  store.add({ host: 'secret.mtls.test', port: '*', name: 'B', certificate: secret });
  store.add({ host: 'api.mtls.test', port: '*', name: 'ACME', certificate: acme });
  return store;
}

/** What the servers received, in order, since `from`. */
const since = (from: number) => hits.slice(from).map((h) => `${h.host}${h.path} ${h.fingerprint256 === null ? '-' : h.fingerprint256 === secret.fingerprint256 ? 'B' : h.fingerprint256 === acme.fingerprint256 ? 'ACME' : '?'}`);

const agentOptions = { connect: { lookup } };
/** The MtlsError's code: the error itself (undici, https), or fetch's TypeError's cause. */
const causeCode = (err: unknown): unknown => (isMtlsError(err) ? err.code : (err as { cause?: { code?: unknown } }).cause?.code);

describe('select given for one origin is not presented to the host it redirects to', () => {
  const url = () => trusted.url('a.mtls.test', '/to-evil');
  const expected = ['a.mtls.test/to-evil B', 'evil.mtls.test/landed -'];

  it('the runtime fetch with a withOptions view made without origin (bound to its first origin)', async () => {
    const dispatcher = createDispatcher(stores(), { agentOptions });
    const from = hits.length;
    try {
      const res = await fetch(url(), { dispatcher: dispatcher.withOptions({ select: 'B' }) as never });
      await res.text();
      expect(since(from)).toEqual(expected);
      // The view stays bound: a later request through it to another origin is not selected either.
      const view = dispatcher.withOptions({ select: 'B' });
      await (await fetch(trusted.url('a.mtls.test', '/first'), { dispatcher: view as never })).text();
      await (await fetch(trusted.url('other.mtls.test', '/second'), { dispatcher: view as never })).text();
      expect(since(from).slice(2)).toEqual(['a.mtls.test/first B', 'other.mtls.test/second -']);
    } finally {
      await dispatcher.close();
    }
  });

  it("undici's redirect interceptor on a view", async () => {
    const dispatcher = createDispatcher(stores(), { agentOptions });
    const from = hits.length;
    try {
      const view = dispatcher.withOptions({ select: 'B' }).compose(interceptors.redirect({ maxRedirections: 3 }));
      const res = await request(url(), { dispatcher: view });
      await res.body.text();
      expect(since(from)).toEqual(expected);
    } finally {
      await dispatcher.close();
    }
  });

  it('createFetch with init.mtls, and a redirect within the origin keeps the choice', async () => {
    const fetch = createFetch(stores(), { agentOptions });
    const from = hits.length;
    try {
      await (await fetch(url(), { mtls: { select: 'B' } })).text();
      await (await fetch(trusted.url('a.mtls.test', '/to-self'), { mtls: { select: 'B' } })).text();
      expect(since(from)).toEqual([...expected, 'a.mtls.test/to-self B', 'a.mtls.test/landed B']);
    } finally {
      await fetch.close();
    }
  });

  it('createHttpsAgent with mtls.select under follow-redirects, which copies the request options', async () => {
    const agent = createHttpsAgent(stores());
    const from = hits.length;
    try {
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const u = new URL(trusted.url('a.mtls.test', path));
          const options = { hostname: u.hostname, port: u.port, path: u.pathname, agent, lookup, mtls: { select: 'B' } } as RequestOptions & followRedirects.FollowOptions<RequestOptions>;
          followRedirects.https.get(options, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
      expect(await get('/to-evil')).toBe(200);
      expect(await get('/to-self')).toBe(200);
      expect(since(from)).toEqual([...expected, 'a.mtls.test/to-self B', 'a.mtls.test/landed B']);
    } finally {
      agent.destroy();
    }
  });

  it('axios and got with createHttpsAgent: every hop resolves by the rules', async () => {
    const agent = createHttpsAgent(stores());
    const from = hits.length;
    try {
      const viaAxios = await axios.get(trusted.url('secret.mtls.test', '/to-evil'), { httpsAgent: agent, lookup } as never);
      expect(viaAxios.status).toBe(200);
      const viaGot = await got(trusted.url('secret.mtls.test', '/to-evil'), { agent: { https: agent }, dnsLookup: lookup as never });
      expect(viaGot.statusCode).toBe(200);
      expect(since(from)).toEqual(['secret.mtls.test/to-evil B', 'evil.mtls.test/landed -', 'secret.mtls.test/to-evil B', 'evil.mtls.test/landed -']);
    } finally {
      agent.destroy();
    }
  });

  it('ws with followRedirects and mtls.select: the WebSocket server it is sent to gets nothing', async () => {
    // An https server that answers the upgrade with a redirect to another host's WebSocket server.
    const redirector = createServer({ key: readFixture('server.key'), cert: readFixture('server-chain.pem'), requestCert: true, rejectUnauthorized: false });
    const seen: Array<string | null> = [];
    redirector.on('upgrade', (req: IncomingMessage, socket: TLSSocket) => {
      seen.push(socket.getPeerX509Certificate?.()?.fingerprint256 ?? null);
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${wss.url('evil.mtls.test', '/landed')}\r\nContent-Length: 0\r\n\r\n`);
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const agent = createHttpsAgent(stores());
    try {
      const port = (redirector.address() as { port: number }).port;
      const ws = new WebSocket(`wss://a.mtls.test:${port}/`, { agent, lookup, followRedirects: true, mtls: { select: 'B' } } as never);
      const message = await new Promise<{ fingerprint256: string | null; path: string }>((resolve, reject) => {
        ws.on('message', (data) => resolve(JSON.parse(String(data))));
        ws.on('error', reject);
      });
      ws.close();
      expect(seen).toEqual([secret.fingerprint256]);
      expect(message).toMatchObject({ path: '/landed', fingerprint256: null });
    } finally {
      agent.destroy();
      redirector.closeAllConnections();
      await new Promise((resolve) => redirector.close(resolve));
    }
  });
});

describe('rejectUnauthorized: false given for an unverified host is not carried to the host it redirects to', () => {
  const url = () => untrusted.url('unverified.mtls.test', '/to-acme');
  // The impostor of api.mtls.test (the same untrusted server) is refused before any request.
  const expected = ['unverified.mtls.test/to-acme -'];

  it('createFetch with init.mtls', async () => {
    const fetch = createFetch(stores(), { agentOptions });
    const from = hits.length;
    try {
      const err = await fetch(url(), { mtls: { rejectUnauthorized: false } }).then(() => undefined, (e: unknown) => e);
      expect(causeCode(err)).toBe('ERR_SERVER_CERTIFICATE');
      expect(since(from)).toEqual(expected);
    } finally {
      await fetch.close();
    }
  });

  it("a withOptions view without origin, under fetch and undici's redirect interceptor", async () => {
    const dispatcher = createDispatcher(stores(), { agentOptions });
    const from = hits.length;
    try {
      const viaFetch = await fetch(url(), { dispatcher: dispatcher.withOptions({ rejectUnauthorized: false }) as never }).then(() => undefined, (e: unknown) => e);
      expect(causeCode(viaFetch)).toBe('ERR_SERVER_CERTIFICATE');
      const view = dispatcher.withOptions({ rejectUnauthorized: false }).compose(interceptors.redirect({ maxRedirections: 3 }));
      const viaInterceptor = await request(url(), { dispatcher: view }).then(() => undefined, (e: unknown) => e);
      expect(causeCode(viaInterceptor)).toBe('ERR_SERVER_CERTIFICATE');
      expect(since(from)).toEqual([...expected, ...expected]);
    } finally {
      await dispatcher.close();
    }
  });

  it('createHttpsAgent with mtls.rejectUnauthorized under follow-redirects', async () => {
    const agent = createHttpsAgent(stores());
    const from = hits.length;
    try {
      const u = new URL(url());
      const err = await new Promise<unknown>((resolve) => {
        const options = { hostname: u.hostname, port: u.port, path: u.pathname, agent, lookup, mtls: { rejectUnauthorized: false } };
        followRedirects.https.get(options as never, (res) => resolve(res.statusCode)).on('error', resolve);
      });
      expect(causeCode(err)).toBe('ERR_SERVER_CERTIFICATE');
      expect(since(from)).toEqual(expected);
      // Without a redirect, the same options reach the unverified host as asked.
      const direct = await new Promise<number | undefined>((resolve, reject) => {
        httpsRequest({ hostname: 'unverified.mtls.test', port: u.port, path: '/plain', agent, lookup, mtls: { rejectUnauthorized: false } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
          .on('error', reject)
          .end();
      });
      expect(direct).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
