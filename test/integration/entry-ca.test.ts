// Per-entry trust: an entry's `ca` verifies the servers of the origins it is chosen for (added to
// Node's roots and the adapter's ca), nothing else; connections are never shared between entries
// of different trust. Two real servers: one issued by the test CA, one by an unrelated CA.
import type { RequestOptions } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createFetch, createHttpsAgent, httpsRequestOptions, isMtlsError, loadCaBundle, loadCertificate, readConfig, type LoadedCertificate } from '../../src/index.js';
import { fixture, readFixture, testCa } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';
import { httpsGet } from './load.js';

const otherCa = () => loadCaBundle({ file: fixture('other-ca.crt') });
let ours: TestServer; // issued by the test CA
let other: TestServer; // issued by "Other Root CA"
let rsa: LoadedCertificate;
let ec: LoadedCertificate;

beforeAll(async () => {
  ours = await startMtlsServer();
  other = await startMtlsServer({ identity: { key: readFixture('other-server.key'), cert: readFixture('other-server.crt') } });
  [rsa, ec] = (await Promise.all(['rsa.pem', 'ec256.pem'].map((f) => loadCertificate({ pemFile: fixture(f) })))) as [LoadedCertificate, LoadedCertificate];
});
afterAll(async () => {
  await ours.close();
  await other.close();
});

async function fetchReceived(fetch: ReturnType<typeof createFetch>, url: string, mtls?: { select: string }): Promise<Received> {
  const res = await fetch(url, mtls === undefined ? {} : { mtls });
  return (await res.json()) as Received;
}

async function rejected(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (caught) {
    const err = isMtlsError(caught) ? caught : (caught as { cause?: unknown }).cause; // fetch wraps it in a TypeError
    return isMtlsError(err) ? err.code : String(caught);
  }
  return 'no error';
}

const get = httpsGet;

describe('an entry with its own ca', () => {
  it('verifies the server of the origins it is chosen for, and only those', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: ours.port, certificate: rsa, ca: testCa() });
    store.add({ host: 'localhost', port: other.port, certificate: ec, ca: otherCa() });
    store.add({ host: '127.0.0.1', port: other.port, certificate: ec }); // same server, no ca of its own
    const fetch = createFetch(store);
    try {
      expect((await fetchReceived(fetch, ours.url())).fingerprint256).toBe(rsa.fingerprint256);
      expect((await fetchReceived(fetch, other.url())).fingerprint256).toBe(ec.fingerprint256);
      // The other entry's CA is not trusted here: the chosen entry has none.
      expect(await rejected(fetch(other.url('127.0.0.1')))).toBe('ERR_SERVER_CERTIFICATE');
    } finally {
      await fetch.dispatcher.close();
    }
  });

  it('adds to the adapter ca (both are trusted), and a wrong one does not replace the defaults', async () => {
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: ours.port, certificate: rsa, ca: otherCa() }); // the store's ca still applies
    store.add({ host: 'localhost', port: other.port, certificate: ec, ca: otherCa() });
    const fetch = createFetch(store);
    try {
      expect((await fetchReceived(fetch, ours.url())).fingerprint256).toBe(rsa.fingerprint256);
      expect((await fetchReceived(fetch, other.url())).fingerprint256).toBe(ec.fingerprint256);
    } finally {
      await fetch.dispatcher.close();
    }
  });

  it('never shares a connection between entries of different trust (select by name, undici)', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: other.port, name: 'trusting', certificate: ec, ca: otherCa() });
    store.add({ host: 'localhost', port: other.port, name: 'plain', certificate: ec });
    const fetch = createFetch(store);
    try {
      expect((await fetchReceived(fetch, other.url(), { select: 'trusting' })).fingerprint256).toBe(ec.fingerprint256);
      expect(await rejected(fetch(other.url(), { mtls: { select: 'plain' } }))).toBe('ERR_SERVER_CERTIFICATE');
      expect((await fetchReceived(fetch, other.url(), { select: 'trusting' })).fingerprint256).toBe(ec.fingerprint256);
      expect(await rejected(fetch(other.url(), { mtls: { select: 'plain' } }))).toBe('ERR_SERVER_CERTIFICATE');
    } finally {
      await fetch.dispatcher.close();
    }
  });

  it('never shares a socket between entries of different trust (https agent)', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: other.port, name: 'trusting', certificate: ec, ca: otherCa() });
    store.add({ host: 'localhost', port: other.port, name: 'plain', certificate: ec });
    const agent = createHttpsAgent(store);
    try {
      const as = (select: string) => ({ agent, mtls: { select } }) as RequestOptions;
      expect((await get(other.url(), as('trusting'))).fingerprint256).toBe(ec.fingerprint256);
      expect(await rejected(get(other.url(), as('plain')))).toBe('ERR_SERVER_CERTIFICATE');
      expect((await get(other.url(), as('trusting'))).fingerprint256).toBe(ec.fingerprint256);
    } finally {
      agent.destroy();
    }
  });

  it('a replace that drops an entry ca under the same id and certificate closes the trusted connection', async () => {
    for (const make of ['fetch', 'agent'] as const) {
      const store = new CertificateStore();
      const entry = { id: 'other', host: 'localhost', port: other.port, certificate: ec };
      store.replace([{ ...entry, ca: otherCa() }]);
      const fetch = make === 'fetch' ? createFetch(store) : undefined;
      const agent = make === 'agent' ? createHttpsAgent(store) : undefined;
      const request = () => (fetch !== undefined ? fetchReceived(fetch, other.url()) : get(other.url(), { agent }));
      try {
        expect((await request()).fingerprint256).toBe(ec.fingerprint256);
        const { kept, added } = store.replace([entry]);
        expect([kept.length, added.length, store.get('other')?.ca]).toEqual([0, 1, undefined]);
        expect(await rejected(request())).toBe('ERR_SERVER_CERTIFICATE');
        store.replace([{ ...entry, ca: otherCa() }]); // a reloaded file: same CA, new bundle object
        expect((await request()).fingerprint256).toBe(ec.fingerprint256);
        expect(store.replace([{ ...entry, ca: otherCa() }]).kept).toHaveLength(1); // same trust: kept
      } finally {
        await fetch?.dispatcher.close();
        agent?.destroy();
      }
    }
  });

  it('httpsRequestOptions gives the chosen entry ca with the defaults', async () => {
    const store = new CertificateStore();
    store.add({ host: 'localhost', port: other.port, certificate: ec, ca: otherCa() });
    const options = httpsRequestOptions(store, other.url());
    expect(options.ca?.some((pem) => pem.includes(otherCa().pem.trim().split('\n')[1]!))).toBe(true);
    expect(options.ca!.length).toBeGreaterThan(100); // Node's roots are still there
    expect((await get(other.url(), options)).fingerprint256).toBe(ec.fingerprint256);
    expect(httpsRequestOptions(store, ours.url()).ca).toBeUndefined(); // no entry chosen, no custom ca
  });

  it('is refused at add when it is not a CA bundle', () => {
    const store = new CertificateStore();
    const bad = () => store.add({ host: 'localhost', certificate: ec, ca: 'ca.pem' as never });
    expect(bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENTRY', message: expect.stringContaining('loadCaBundle()') }));
    expect(store.size).toBe(0);
  });
});

describe('per-entry ca in certs.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-entry-ca-'));
  const write = (config: object) => {
    const file = join(dir, `certs-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it('loads each CA file once, relative to the config, and the store presents it', async () => {
    writeFileSync(join(dir, 'other-ca.pem'), readFixture('other-ca.crt'));
    const file = write({
      certificates: [
        { host: 'localhost', port: other.port, pem: fixture('ec256.pem'), ca: 'other-ca.pem' },
        { host: '127.0.0.1', port: other.port, pem: fixture('ec256.pem'), ca: ['other-ca.pem'] },
        { host: 'localhost', port: ours.port, pem: fixture('rsa.pem') },
      ],
    });
    const config = await readConfig(file);
    expect(config.entries[0]!.ca).toHaveLength(1);
    expect(config.entries[0]!.ca![0]).toBe(config.entries[1]!.ca![0]); // read once
    expect(config.entries[2]!.ca).toBeUndefined();
    expect(config.files.filter((f) => f.endsWith('other-ca.pem'))).toHaveLength(1);
    const store = await CertificateStore.fromConfig(file);
    expect(JSON.parse(JSON.stringify(store)).entries[0].ca).toEqual([expect.stringContaining('Other Root CA')]);
    const fetch = createFetch(store);
    try {
      expect((await fetchReceived(fetch, other.url('127.0.0.1'))).fingerprint256).toBe(ec.fingerprint256);
      expect(await rejected(fetch(ours.url()))).toBe('ERR_SERVER_CERTIFICATE');
    } finally {
      await fetch.dispatcher.close();
    }
  });

  it('a missing CA file names the entry and the field', async () => {
    const file = write({ certificates: [{ name: 'api', host: 'localhost', pem: fixture('ec256.pem'), ca: ['missing.pem'] }] });
    const err = await readConfig(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FILE_READ', location: { entry: 0, name: 'api', field: 'ca' } });
    expect((err as Error).message).toContain('certificates[0] ("api"), field "ca"[0]');
  });
});
