// createHttpsAgent under store changes: no request presents a certificate that is no longer the
// resolved one, stale sockets close, pools do not grow, nothing crashes or hangs, and errors name
// the certificate presented.
import type { RequestOptions } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createHttpsAgent, isMtlsError, loadCertificate, type LoadedCertificate, type MtlsHttpsAgent } from '../../src/index.js';
import { followerCount } from '../../src/store/followers.js';
import { fixture, readFixture, testCa } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';
import { httpsGet } from './load.js';

const ca = () => testCa();
let server: TestServer;
let pool: LoadedCertificate[];

beforeAll(async () => {
  server = await startMtlsServer();
  pool = await Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) })));
});
afterAll(() => server.close());

const get = httpsGet;

type Pools = { sockets: object; freeSockets: object; requests: object };
const poolNames = (agent: MtlsHttpsAgent) => {
  const a = agent as unknown as Pools;
  return Object.keys(a.sockets).length + Object.keys(a.freeSockets).length + Object.keys(a.requests).length;
};
const socketCount = (agent: MtlsHttpsAgent) => {
  const a = agent as unknown as { sockets: Record<string, unknown[]>; freeSockets: Record<string, unknown[]> };
  return [...Object.values(a.sockets), ...Object.values(a.freeSockets)].reduce((n, list) => n + list.length, 0);
};

describe('createHttpsAgent pool names', () => {
  it('getName outside a request is the name of the pool a request uses, by certificate, verification and store change', async () => {
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    store.add({ host: '127.0.0.1', port: '*', certificate: pool[1]! });
    const agent = createHttpsAgent(store);
    const names = () => Object.keys((agent as unknown as Pools).freeSockets);
    const options = (host: string, more: RequestOptions = {}): RequestOptions => ({ host, port: server.port, servername: host === 'localhost' ? host : '', ...more });
    try {
      await get(server.url(), { agent, servername: 'localhost' });
      expect(names()).toEqual([agent.getName(options('localhost'))]);
      expect(agent.getName(options('localhost'))).toContain(pool[0]!.fingerprint256);
      expect(agent.getName(options('127.0.0.1'))).toContain(pool[1]!.fingerprint256);
      expect(agent.getName(options('localhost', { rejectUnauthorized: false }))).not.toBe(agent.getName(options('localhost')));
      expect(agent.getName(options('localhost', { mtls: { select: store.list()[1]!.id } }))).toContain(pool[1]!.fingerprint256);
      store.add({ host: 'localhost', port: '*', certificate: pool[2]! }); // a later entry wins
      expect(agent.getName(options('localhost'))).toContain(pool[2]!.fingerprint256);
    } finally {
      agent.destroy();
    }
  });
});

describe('createHttpsAgent and store changes', () => {
  it('after a change the next request presents the new certificate, and the idle socket of the old one is closed', async () => {
    const store = new CertificateStore({ ca: ca() });
    const first = store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    const agent = createHttpsAgent(store);
    try {
      expect((await get(server.url(), { agent })).fingerprint256).toBe(pool[0]!.fingerprint256);
      expect(socketCount(agent)).toBe(1); // kept alive
      store.add({ host: 'localhost', port: '*', certificate: pool[1]! });
      expect(socketCount(agent)).toBe(0); // the old certificate's idle socket is gone at once
      expect((await get(server.url(), { agent })).fingerprint256).toBe(pool[1]!.fingerprint256);
      store.remove(first.id);
      expect((await get(server.url(), { agent })).fingerprint256).toBe(pool[1]!.fingerprint256);
    } finally {
      agent.destroy();
    }
  });

  it('rotation under load: every answer carries a certificate resolved while its request ran; pools do not grow; destroy releases all', async () => {
    const store = new CertificateStore({ ca: ca() });
    const agent = createHttpsAgent(store, { agentOptions: { keepAlive: true, maxSockets: 4 } });
    // history[g]: the fingerprint resolved at generation g of the rotation.
    const history: string[] = [];
    let current = store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    history.push(pool[0]!.fingerprint256);
    let stop = false;
    let done = 0;
    const bad: string[] = [];
    const worker = async () => {
      while (!stop) {
        const start = history.length - 1;
        const got = await get(server.url(), { agent });
        const allowed = history.slice(start);
        if (!allowed.includes(got.fingerprint256!)) bad.push(`${got.fingerprint256} not in ${allowed.join(', ')}`);
        done++;
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      for (let i = 1; i <= 300; i++) {
        const next = pool[i % pool.length]!;
        const added = store.add({ host: 'localhost', port: '*', certificate: next });
        store.remove(current.id);
        current = added;
        history.push(next.fingerprint256);
        await new Promise((r) => setTimeout(r, 2));
      }
      stop = true;
      await Promise.all(workers);
      await new Promise((r) => setTimeout(r, 50)); // sockets closed at their last request's end are gone
      expect(bad).toEqual([]);
      expect(done).toBeGreaterThanOrEqual(100);
      expect(poolNames(agent)).toBeLessThanOrEqual(2);
      expect(socketCount(agent)).toBeLessThanOrEqual(4);
    } finally {
      stop = true;
      agent.destroy();
    }
    expect(socketCount(agent)).toBe(0);
    expect(followerCount(store)).toBe(0); // destroy() stops following the store
  });

  it('a request queued (maxSockets: 1) across an add and a remove completes, with the new certificate', async () => {
    const delayed = await startMtlsServer({ delayMs: 150 });
    const store = new CertificateStore({ ca: ca() });
    const old = store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    const agent = createHttpsAgent(store, { agentOptions: { keepAlive: true, maxSockets: 1 } });
    try {
      const first = get(delayed.url(), { agent });
      const queued = get(delayed.url(), { agent });
      await new Promise((r) => setTimeout(r, 30));
      store.add({ host: 'localhost', port: '*', certificate: pool[2]! });
      store.remove(old.id);
      const [a, b] = await Promise.all([first, queued]);
      expect(a.fingerprint256).toBe(pool[0]!.fingerprint256); // in flight: finishes as it started
      expect(b.fingerprint256).toBe(pool[2]!.fingerprint256);
    } finally {
      agent.destroy();
      await delayed.close();
    }
  });

  it('a socket whose selected entry was removed closes without an uncaught exception', async () => {
    const local = await startMtlsServer();
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: 'localhost', port: '*', certificate: pool[0]! });
    const picked = store.add({ host: 'other.test', name: 'picked', certificate: pool[1]! });
    const agent = createHttpsAgent(store);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      expect((await get(local.url(), { agent, mtls: { select: 'picked' } })).fingerprint256).toBe(pool[1]!.fingerprint256);
      store.remove(picked.id);
      await local.close(); // the server closes the kept-alive socket
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
      const err = await get(server.url(), { agent, mtls: { select: 'picked' } }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(err, 'ERR_CERTIFICATE_NOT_FOUND')).toBe(true);
    } finally {
      process.off('uncaughtException', onUncaught);
      agent.destroy();
    }
  });

  it('a refused certificate is an ERR_TLS_HANDSHAKE that names it, not a bare "socket hang up"', async () => {
    // This server trusts only its own intermediate's sibling: the client's chain is refused.
    const strict = await startMtlsServer({ rejectUnauthorized: true, trust: [readFixture('server.crt')] });
    const store = new CertificateStore({ ca: ca() });
    store.add({ host: 'localhost', port: '*', name: 'refused one', certificate: pool[0]! });
    const agent = createHttpsAgent(store);
    try {
      const err = await get(strict.url(), { agent }).then(() => undefined, (e: unknown) => e);
      expect(isMtlsError(err, 'ERR_TLS_HANDSHAKE')).toBe(true);
      expect((err as Error).message).toContain('"refused one"');
      expect((err as Error).message).toContain(pool[0]!.fingerprint256);
    } finally {
      agent.destroy();
      await strict.close();
    }
  });
});
