// Through proxies: the target receives the resolved certificate inside the CONNECT tunnel, the
// proxy never does (it gets its own, or none), credentials go to the proxy only, and failures say
// which hop failed. Proxies: tinyproxy (system package; a peer we did not write) and the `proxy`
// npm package (plain and TLS, with and without Basic credentials).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { request as httpsRequest } from 'node:https';
import { inspect } from 'node:util';
import axios from 'axios';
import { got } from 'got';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateStore,
  createDispatcher,
  createFetch,
  createHttpsAgent,
  createInterceptor,
  isMtlsError,
  loadCaBundle,
  loadCertificate,
  type LoadedCertificate,
  type SelectEvent,
} from '../../src/index.js';
import { FIXTURES, fixture } from '../helpers.js';
import { headersRoute, startHttpServer, startMtlsServer, startNodeProxy, startTinyproxy, type Received, type TestProxy, type TestServer } from './servers.js';

type Seen = Received & { headers: Record<string, string> };
const ca = () => loadCaBundle({ file: fixture('ca.crt') });
let a: TestServer;
let b: TestServer;
let certs: LoadedCertificate[];
let tiny: Awaited<ReturnType<typeof startTinyproxy>>;

beforeAll(async () => {
  [a, b, certs, tiny] = await Promise.all([
    startMtlsServer({ route: headersRoute }),
    startMtlsServer({ route: headersRoute }),
    Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) }))),
    startTinyproxy(FIXTURES.replace(/\/$/, '')),
  ]);
  if (tiny === undefined) console.warn('tinyproxy is not installed (apt-get install tinyproxy-bin): its tests are skipped');
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), tiny?.close()]);
});

const seen = async (res: { json(): Promise<unknown> } | { body: { json(): Promise<unknown> } }) => ('body' in res && 'json' in res.body ? res.body.json() : (res as { json(): Promise<unknown> }).json()) as Promise<Seen>;

function rulesStore(): CertificateStore {
  const store = new CertificateStore({ ca: ca() });
  store.add({ host: 'localhost', port: a.port, certificate: certs[0]! });
  store.add({ host: 'localhost', port: '*', certificate: certs[1]! });
  store.add({ host: '127.0.0.1', port: '*', certificate: certs[2]! });
  return store;
}

describe.runIf(process.env.MTLS_NO_TINYPROXY !== '1')('through tinyproxy (system package)', () => {
  it('exact host and port rules reach each target through the tunnel', async (ctx) => {
    if (tiny === undefined) return ctx.skip();
    const dispatcher = createDispatcher(rulesStore(), { proxy: tiny.url });
    try {
      expect((await seen(await request(a.url('localhost'), { dispatcher }))).fingerprint256).toBe(certs[0]!.fingerprint256);
      expect((await seen(await request(b.url('localhost'), { dispatcher }))).fingerprint256).toBe(certs[1]!.fingerprint256);
      expect((await seen(await request(a.url('127.0.0.1'), { dispatcher }))).fingerprint256).toBe(certs[2]!.fingerprint256);
      expect(tiny.log()).toMatch(new RegExp(`CONNECT localhost:${a.port}`));
    } finally {
      await dispatcher.close();
    }
  });

  it('fetch, undici, the interceptor, axios and got, through the proxy', async (ctx) => {
    if (tiny === undefined) return ctx.skip();
    const store = rulesStore();
    const fetch = createFetch(store, { proxy: tiny.url });
    const interceptor = createInterceptor(store, { proxy: tiny.url });
    const { Agent } = await import('undici');
    const composed = new Agent().compose(interceptor);
    const agent = createHttpsAgent(store, { proxy: tiny.url });
    try {
      const expected = certs[0]!.fingerprint256;
      expect((await seen(await fetch(a.url()))).fingerprint256).toBe(expected);
      expect((await seen(await request(a.url(), { dispatcher: composed }))).fingerprint256).toBe(expected);
      expect((await axios.get<Seen>(a.url(), { httpsAgent: agent, proxy: false })).data.fingerprint256).toBe(expected);
      expect((await got(a.url(), { agent: { https: agent } }).json<Seen>()).fingerprint256).toBe(expected);
      const connects = tiny.log().match(new RegExp(`CONNECT localhost:${a.port}`, 'g'))?.length ?? 0;
      expect(connects).toBeGreaterThanOrEqual(4);
    } finally {
      agent.destroy();
      await Promise.all([fetch.close(), interceptor.close(), composed.close()]);
    }
  });
});

describe('through the proxy npm package', () => {
  let plain: TestProxy;
  let secure: TestProxy;
  let authed: TestProxy;
  beforeAll(async () => {
    [plain, secure, authed] = await Promise.all([startNodeProxy(), startNodeProxy({ tls: true }), startNodeProxy({ auth: { user: 'alice', password: 's3cret pass' } })]);
  });
  afterAll(() => Promise.all([plain.close(), secure.close(), authed.close()]));

  it('keep-alive requests make one CONNECT per (origin, certificate), and onSelect names the proxy', async () => {
    const events: SelectEvent[] = [];
    const dispatcher = createDispatcher(rulesStore(), { proxy: plain.url, onSelect: (e) => events.push(e) });
    const before = plain.connects.length;
    try {
      for (let i = 0; i < 20; i++) expect((await seen(await request(a.url(), { dispatcher }))).fingerprint256).toBe(certs[0]!.fingerprint256);
      expect(plain.connects.slice(before)).toEqual([`localhost:${a.port}`]);
      expect(events[0]).toMatchObject({ proxy: plain.url, fingerprint256: certs[0]!.fingerprint256 });
    } finally {
      await dispatcher.close();
    }
  });

  it('an https proxy gets its own client certificate (or none), never the target\'s', async () => {
    const store = rulesStore();
    const proxyCert = certs[3]!;
    const withOwn = createDispatcher(store, { proxy: secure.url, proxyTls: { ca: ca(), certificate: proxyCert } });
    const withNone = createHttpsAgent(store, { proxy: secure.url, proxyTls: { ca: ca() } });
    try {
      expect((await seen(await request(a.url(), { dispatcher: withOwn }))).fingerprint256).toBe(certs[0]!.fingerprint256);
      const viaAgent = await new Promise<Seen>((resolve, reject) =>
        httpsRequest(b.url(), { agent: withNone }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve(JSON.parse(body) as Seen));
        }).on('error', reject).end(),
      );
      expect(viaAgent.fingerprint256).toBe(certs[1]!.fingerprint256);
      expect(secure.clientCertificates).toEqual([proxyCert.fingerprint256, null]);
      for (const target of certs.slice(0, 3)) expect(secure.clientCertificates).not.toContain(target.fingerprint256);
    } finally {
      withNone.destroy();
      await withOwn.close();
    }
  });

  it('407 without credentials, and with them; Proxy-Authorization goes to the proxy only and is never shown', async () => {
    const store = rulesStore();
    const without = createDispatcher(store, { proxy: authed.url });
    const password = 's3cret pass';
    const creds = authed.url.replace('http://', `http://alice:${encodeURIComponent(password)}@`);
    const events: SelectEvent[] = [];
    const withCreds = createDispatcher(store, { proxy: creds, onSelect: (e) => events.push(e) });
    const wrong = createDispatcher(store, { proxy: authed.url.replace('http://', 'http://alice:nope@') });
    const connectEvents: unknown[] = [];
    const onConnect = (m: unknown) => connectEvents.push(m);
    subscribe('mtls-resolver:connect', onConnect);
    try {
      const err = await request(a.url(), { dispatcher: without }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(err, 'ERR_PROXY')).toBe(true);
      expect((err as Error).message).toMatch(/refused to open a tunnel: 407.*needs credentials/);
      const rejected = await request(a.url(), { dispatcher: wrong }).then(() => undefined, (e: unknown) => e);
      expect((rejected as Error).message).toMatch(/407.*rejected the credentials/);
      expect((rejected as Error).message).not.toContain('nope');
      const ok = await seen(await request(a.url(), { dispatcher: withCreds }));
      expect(ok.fingerprint256).toBe(certs[0]!.fingerprint256);
      expect(Object.keys(ok.headers)).not.toContain('proxy-authorization');
      const shown = inspect([events, connectEvents, withCreds], { depth: 8 });
      expect(shown).not.toContain(password);
      expect(shown).not.toContain(encodeURIComponent(password));
      expect(events[0]!.proxy).toBe(authed.url);
    } finally {
      unsubscribe('mtls-resolver:connect', onConnect);
      await Promise.all([without.close(), withCreds.close(), wrong.close()]);
    }
  });

  it('a proxy that is down is an ERR_PROXY that names it and says nothing reached the target', async () => {
    const dead = await startNodeProxy();
    const url = dead.url;
    await dead.close();
    const fetch = createFetch(rulesStore(), { proxy: url });
    try {
      const err = await fetch(a.url()).then(() => undefined, (e: unknown) => (e as Error).cause ?? e);
      expect(isMtlsError(err, 'ERR_PROXY')).toBe(true);
      expect((err as Error).message).toContain(`The proxy ${url} could not be reached (ECONNREFUSED`);
      expect((err as Error).message).toContain('Nothing was sent to the target');
    } finally {
      await fetch.close();
    }
  });

  it("a target that refuses the certificate says so, with the proxy's hop", async () => {
    const strict = await startMtlsServer({ rejectUnauthorized: true, trust: [Buffer.from(certs[3]!.tls.cert)] });
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: 'localhost', port: '*', name: 'refused', certificate: certs[0]! });
    const dispatcher = createDispatcher(store, { proxy: plain.url });
    try {
      const err = await request(strict.url(), { dispatcher }).then(async (r) => { await r.body.text(); return undefined; }, (e: unknown) => e);
      expect(isMtlsError(err, 'ERR_TLS_HANDSHAKE')).toBe(true);
      expect((err as Error).message).toContain(`reached through the proxy ${plain.url}`);
      expect((err as Error).message).toContain('"refused"');
    } finally {
      await dispatcher.close();
      await strict.close();
    }
  });

  it("'env' follows HTTPS_PROXY, HTTP_PROXY and NO_PROXY; http targets go absolute-form and present nothing", async () => {
    const http = await startHttpServer();
    const saved = { ...process.env };
    Object.assign(process.env, { HTTPS_PROXY: plain.url, HTTP_PROXY: plain.url, NO_PROXY: `example.test, 127.0.0.1:${b.port}` });
    const dispatcher = createDispatcher(rulesStore(), { proxy: 'env' });
    const before = plain.connects.length;
    try {
      expect((await seen(await request(a.url(), { dispatcher }))).fingerprint256).toBe(certs[0]!.fingerprint256); // proxied
      expect((await seen(await request(b.url('127.0.0.1'), { dispatcher }))).fingerprint256).toBe(certs[2]!.fingerprint256); // NO_PROXY host:port
      expect(plain.connects.slice(before)).toEqual([`localhost:${a.port}`]);
      const res = await request(`http://localhost:${http.port}/plain`, { dispatcher });
      expect(await res.body.json()).toEqual({ tls: false, path: '/plain' }); // through the proxy, absolute-form
    } finally {
      process.env = saved;
      await dispatcher.close();
      await http.close();
    }
  });

  it('rotation under load through the proxy: 50 changes, nothing lost, only the new certificate after each', async () => {
    const store = new CertificateStore({ ca: ca() });
    let current = store.add({ host: 'localhost', port: '*', certificate: certs[0]! });
    const dispatcher = createDispatcher(store, { proxy: plain.url });
    let stop = false;
    let lost = 0;
    const worker = async () => {
      while (!stop) await request(a.url(), { dispatcher }).then((r) => r.body.text(), () => lost++);
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      for (let i = 1; i <= 50; i++) {
        const next = certs[i % certs.length]!;
        const added = store.add({ host: 'localhost', port: '*', certificate: next });
        store.remove(current.id);
        current = added;
        const after = await seen(await request(a.url(), { dispatcher }));
        expect(after.fingerprint256).toBe(next.fingerprint256);
      }
    } finally {
      stop = true;
      await Promise.all(workers);
      await dispatcher.close();
    }
    expect(lost).toBe(0);
  });

  it('refuses a SOCKS proxy URL with a clear message', () => {
    expect(() => createDispatcher(new CertificateStore(), { proxy: 'socks5://127.0.0.1:1080' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('SOCKS') }));
  });
});
