// Through proxies: the target receives the resolved certificate inside the CONNECT tunnel, the
// proxy never does (it gets its own, or none), credentials go to the proxy only, and failures say
// which hop failed. Proxies: tinyproxy (system package; a peer we did not write) and the `proxy`
// npm package (plain and TLS, with and without Basic credentials).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import dns from 'node:dns';
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
  loadCertificate,
  type LoadedCertificate,
  type SelectEvent,
} from '../../src/index.js';
import { fixture, FIXTURES, testCa } from '../helpers.js';
import { headersRoute, startHttpServer, startMicrosocks, startMtlsServer, startNodeProxy, startTinyproxy, type Received, type TestProxy, type TestServer } from './servers.js';

type Seen = Received & { headers: Record<string, string> };

/** Makes this process's dns.lookup answer 127.0.0.1 for names that match (the in-process proxy resolves targets). */
function resolveInProcess(names: RegExp): () => void {
  const original = dns.lookup;
  const patched = ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    if (!names.test(hostname)) return (original as (...args: unknown[]) => void)(hostname, options, callback);
    return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  }) as typeof dns.lookup;
  dns.lookup = patched;
  return () => {
    dns.lookup = original;
  };
}
const ca = () => testCa();
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

  it('wildcard, exact and port rules through the proxy: the proxy resolves the names, the target gets the resolved certificate', async () => {
    // The proxy (in this process) resolves *.mtls.test to 127.0.0.1; the client never looks the name up.
    const restore = resolveInProcess(/\.mtls\.test$/);
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: '*.mtls.test', port: '*', certificate: certs[0]! });
    store.add({ host: 'api.mtls.test', port: '*', certificate: certs[1]! });
    store.add({ host: '*.b.mtls.test', port: b.port, certificate: certs[2]! });
    const fetch = createFetch(store, { proxy: plain.url });
    try {
      const cases: Array<[string, LoadedCertificate]> = [
        [a.url('x.mtls.test'), certs[0]!],
        [a.url('api.mtls.test'), certs[1]!],
        [b.url('y.b.mtls.test'), certs[2]!],
        [a.url('y.b.mtls.test'), certs[0]!], // *.b.mtls.test is for port b only; * crosses dots (R3)
      ];
      for (const [url, expected] of cases) {
        const got = await seen(await fetch(url));
        expect({ url, fingerprint: got.fingerprint256, servername: got.servername }).toEqual({ url, fingerprint: expected.fingerprint256, servername: new URL(url).hostname });
      }
      expect(plain.connects).toEqual(expect.arrayContaining(cases.map(([url]) => new URL(url).host)));
    } finally {
      restore();
      await fetch.close();
    }
  });

  it('select, redirects and per-request rejectUnauthorized behave as without a proxy', async () => {
    const store = new CertificateStore(); // no CA: the test servers' certificate does not verify
    const first = store.add({ host: 'localhost', port: a.port, name: 'first', certificate: certs[0]! });
    store.add({ host: 'localhost', port: b.port, name: 'second', certificate: certs[1]! });
    const hop = await startMtlsServer({ route: (_req, res) => (res.writeHead(302, { location: b.url('localhost', '/after') }).end(), true) });
    store.add({ host: 'localhost', port: hop.port, name: 'hop', certificate: certs[2]! });
    const fetch = createFetch(store, { proxy: plain.url });
    const verifying = createFetch(store, { proxy: plain.url, ca: testCa() });
    const dispatcher = createDispatcher(store, { proxy: plain.url });
    try {
      const refused = await fetch(a.url()).then(() => undefined, (e: unknown) => (e as Error).cause ?? e);
      expect(isMtlsError(refused, 'ERR_SERVER_CERTIFICATE')).toBe(true);
      expect((refused as Error).message).toContain(`through the proxy ${plain.url}`);
      const insecure = { mtls: { rejectUnauthorized: false } };
      expect((await seen(await fetch(a.url(), insecure))).fingerprint256).toBe(certs[0]!.fingerprint256);
      // select: a named entry for this origin, through the same proxy
      expect((await seen(await fetch(a.url(), { mtls: { rejectUnauthorized: false, select: 'second' } }))).fingerprint256).toBe(certs[1]!.fingerprint256);
      expect((await seen(await request(a.url(), { dispatcher: dispatcher.withOptions({ rejectUnauthorized: false, select: first.id, origin: a.url() }) }))).fingerprint256).toBe(certs[0]!.fingerprint256);
      // a redirect to another origin resolves anew (R7): the hop gets its own, the target its own,
      // and the hop's rejectUnauthorized: false does not carry over to the target, which is verified
      const unverified = await fetch(hop.url(), { mtls: { rejectUnauthorized: false, select: 'hop' } }).then(() => undefined, (e: unknown) => (e as Error).cause ?? e);
      expect(isMtlsError(unverified, 'ERR_SERVER_CERTIFICATE')).toBe(true);
      expect((unverified as Error).message).toContain(`https://localhost:${b.port}`);
      const after = await verifying(hop.url(), { mtls: { select: 'hop' } }).then(async (r) => ({ status: r.status, seen: (await r.json()) as Seen }), (e: unknown) => e);
      expect(after).toMatchObject({ status: 200, seen: { path: '/after' } });
      expect((after as { seen: Seen }).seen.fingerprint256).toBe(certs[1]!.fingerprint256);
      expect(plain.connects).toEqual(expect.arrayContaining([`localhost:${hop.port}`, `localhost:${b.port}`]));
    } finally {
      await Promise.all([fetch.close(), verifying.close(), dispatcher.close(), hop.close()]);
    }
  });

  it('refuses a SOCKS4 proxy URL with a clear message', () => {
    expect(() => createDispatcher(new CertificateStore(), { proxy: 'socks4://127.0.0.1:1080' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('use socks5://') }));
  });
});

describe.runIf(process.env.MTLS_NO_MICROSOCKS !== '1')('through a SOCKS5 proxy (microsocks, system package)', () => {
  let socks: Awaited<ReturnType<typeof startMicrosocks>>;
  let authed: Awaited<ReturnType<typeof startMicrosocks>>;
  beforeAll(async () => {
    [socks, authed] = await Promise.all([startMicrosocks(), startMicrosocks({ user: 'carol', password: 'sock s3cret' })]);
    if (socks === undefined) console.warn('microsocks is not installed (apt-get install microsocks): the SOCKS5 tests are skipped');
  });
  afterAll(() => Promise.all([socks?.close(), authed?.close()]));

  it('socks5h and socks5: each target gets its certificate inside the tunnel, on every adapter; http presents nothing', async (ctx) => {
    if (socks === undefined) return ctx.skip();
    const store = rulesStore();
    const local = socks.url.replace('socks5h:', 'socks5:');
    const dispatcher = createDispatcher(store, { proxy: socks.url });
    const fetch = createFetch(store, { proxy: local });
    const composed = new (await import('undici')).Agent().compose(createInterceptor(store, { proxy: socks.url }));
    const agent = createHttpsAgent(store, { proxy: socks.url });
    const http = await startHttpServer();
    try {
      for (const [url, cert] of [[a.url('localhost'), certs[0]!], [b.url('localhost'), certs[1]!], [a.url('127.0.0.1'), certs[2]!]] as const) {
        const viaDispatcher = await seen(await request(url, { dispatcher }));
        expect(viaDispatcher).toMatchObject({ fingerprint256: cert.fingerprint256, remoteAddress: '127.0.0.2' }); // 127.0.0.2: it came out of microsocks
        expect(await seen(await fetch(url))).toMatchObject({ fingerprint256: cert.fingerprint256, remoteAddress: '127.0.0.2' });
        expect(await seen(await request(url, { dispatcher: composed }))).toMatchObject({ fingerprint256: cert.fingerprint256, remoteAddress: '127.0.0.2' });
        expect((await axios.get<Seen>(url, { httpsAgent: agent, proxy: false })).data).toMatchObject({ fingerprint256: cert.fingerprint256, remoteAddress: '127.0.0.2' });
      }
      const res = await request(`http://localhost:${http.port}/plain`, { dispatcher });
      expect(await res.body.json()).toEqual({ tls: false, path: '/plain' });
    } finally {
      agent.destroy();
      await Promise.all([dispatcher.close(), fetch.close(), composed.close(), http.close()]);
    }
  });

  it('credentials go to the SOCKS proxy only and are never shown; missing or wrong ones say so', async (ctx) => {
    if (authed === undefined) return ctx.skip();
    const store = rulesStore();
    const password = 'sock s3cret';
    const good = authed.url.replace('socks5h://', `socks5h://carol:${encodeURIComponent(password)}@`);
    const events: SelectEvent[] = [];
    const withCreds = createDispatcher(store, { proxy: good, onSelect: (e) => events.push(e) });
    const without = createDispatcher(store, { proxy: authed.url });
    const wrong = createDispatcher(store, { proxy: authed.url.replace('socks5h://', 'socks5h://carol:nope@') });
    try {
      expect((await seen(await request(a.url(), { dispatcher: withCreds }))).fingerprint256).toBe(certs[0]!.fingerprint256);
      expect(events[0]!.proxy).toBe(authed.url);
      const missing = await request(a.url(), { dispatcher: without }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(missing, 'ERR_PROXY')).toBe(true);
      expect((missing as Error).message).toMatch(/needs credentials: put them in the proxy URL, socks5:\/\/user:password@host:port/);
      const rejected = await request(a.url(), { dispatcher: wrong }).then(() => undefined, (e: unknown) => e);
      expect((rejected as Error).message).toMatch(/rejected the credentials/);
      expect(inspect([missing, rejected, events, withCreds], { depth: 8 })).not.toMatch(/sock s3cret|sock%20s3cret|nope/);
    } finally {
      await Promise.all([withCreds.close(), without.close(), wrong.close()]);
    }
  });

  it('a target the proxy cannot reach, and a proxy that is down, are ERR_PROXY that say which', async (ctx) => {
    if (socks === undefined) return ctx.skip();
    const closed = await startHttpServer();
    await closed.close();
    const dispatcher = createDispatcher(rulesStore(), { proxy: socks.url });
    const down = createDispatcher(rulesStore(), { proxy: `socks5h://127.0.0.1:${closed.port}` });
    try {
      const refused = await request(`https://localhost:${closed.port}/`, { dispatcher }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(refused, 'ERR_PROXY')).toBe(true);
      expect((refused as Error).message).toContain(`The proxy ${socks.url} refused to open a tunnel:`);
      expect((refused as Error).message).toContain(`(target localhost:${closed.port})`);
      const unreachable = await request(a.url(), { dispatcher: down }).then(() => undefined, (e: unknown) => e);
      expect((unreachable as Error).message).toMatch(/could not be reached \(ECONNREFUSED/);
    } finally {
      await Promise.all([dispatcher.close(), down.close()]);
    }
  });
});
