// The Playwright, Cypress and k6 importers: each tool's matching kept (exact origin; URL glob with
// the longest path first; k6's domains, which k6 itself ignores), a note wherever the meaning
// changes, in-memory material written only where asked, and a Cypress URL's own CA carried to a
// real server as the entry's ca.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, convertCypressCertificates, convertK6TlsAuth, convertPlaywrightCertificates, createFetch, readConfig } from '../../src/index.js';
import { pickBy } from './pick.js';
import type { CertificateConfig } from '../../src/config/read.js';
import { fixture, readFixture } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from '../integration/servers.js';

function pick(certificates: CertificateConfig[], url: string): string | undefined {
  return pickBy(certificates, url, (c) => c.cert ?? c.pfx ?? '');
}

describe('Playwright clientCertificates', () => {
  it('exact origins (scheme, host, port): no other host or port gets the certificate; the last of one origin wins', () => {
    const { config, notes } = convertPlaywrightCertificates(
      {
        use: {
          clientCertificates: [
            { origin: 'https://api.example.com', certPath: 'a.crt', keyPath: 'a.key' },
            { origin: 'https://API.example.com:8443/path', pfxPath: 'b.p12', passphrase: 'pw' },
            { origin: 'https://api.example.com:443', certPath: 'c.crt', keyPath: 'c.key' },
            { origin: 'http://plain.example.com', certPath: 'd.crt', keyPath: 'd.key' },
          ],
        },
      },
      { baseDir: '/pw' },
    );
    expect(pick(config.certificates, 'https://api.example.com/')).toBe('/pw/c.crt');
    expect(pick(config.certificates, 'https://api.example.com:8443/x')).toBe('/pw/b.p12');
    expect(pick(config.certificates, 'https://api.example.com:9443/')).toBeUndefined();
    expect(pick(config.certificates, 'https://www.example.com/')).toBeUndefined();
    const text = notes.join('\n');
    expect(text).toContain('clientCertificates[2] ("https://api.example.com:443"): clientCertificates[0] ("https://api.example.com") is for the same origin');
    expect(text).toContain('clientCertificates[3] ("http://plain.example.com"): Playwright presents client certificates to https: origins only; skipped.');
    expect(text).toMatch(/clientCertificates\[1\].*passphrase was copied inline/);
  });

  it('in-memory buffers: written to materialDir (mode 0600) when given, skipped with a note when not', async () => {
    const cert = readFixture('ec256.crt');
    const key = readFixture('ec256.key');
    const list = [{ origin: 'https://localhost', cert, key }];
    const skipped = convertPlaywrightCertificates(list);
    expect(skipped.config.certificates).toEqual([]);
    expect(skipped.notes.join('\n')).toMatch(/held in memory.*--material-dir/);
    const dir = join(mkdtempSync(join(tmpdir(), 'mtls-pw-')), 'material');
    const written = convertPlaywrightCertificates(list, { materialDir: dir });
    const entry = written.config.certificates[0]!;
    expect(readFileSync(entry.cert!)).toEqual(cert);
    expect(statSync(entry.key!).mode & 0o777).toBe(0o600);
    await expect(readConfig(written.config)).resolves.toMatchObject({ entries: [{ host: 'localhost' }] });
    // Buffers that went through JSON ({ type: 'Buffer', data }) too
    const json = JSON.parse(JSON.stringify(list)) as unknown;
    expect(readFileSync(convertPlaywrightCertificates(json, { materialDir: dir }).config.certificates[0]!.key!)).toEqual(key);
  });
});

describe('Cypress clientCertificates', () => {
  it('URL globs, any port without one, the longest path first, then the first listed; passphrase files and several certs noted', () => {
    const { config, notes } = convertCypressCertificates(
      {
        clientCertificates: [
          { url: 'https://*.example.com', certs: [{ cert: 'wild.crt', key: 'wild.key' }] },
          { url: 'https://api.example.com', certs: [{ cert: 'api.crt', key: 'api.key' }] },
          { url: 'https://api.example.com/admin/*', certs: [{ pfx: 'admin.p12', passphrase: 'admin.pass' }] },
          { url: 'https://b.example.org:8443', certs: [{ cert: 'one.crt', key: 'one.key' }, { cert: 'two.crt', key: 'two.key' }] },
          { url: '*', certs: [{ cert: 'all.crt', key: 'all.key' }] },
        ],
      },
      { baseDir: '/cy' },
    );
    // Cypress: the admin URL has the longest path, so it comes first wherever it matches (paths aside).
    expect(pick(config.certificates, 'https://api.example.com/')).toBe('/cy/admin.p12');
    expect(pick(config.certificates, 'https://www.example.com:9443/')).toBe('/cy/wild.crt');
    expect(pick(config.certificates, 'https://b.example.org:8443/')).toBe('/cy/two.crt');
    expect(pick(config.certificates, 'https://b.example.org/')).toBeUndefined();
    const text = notes.join('\n');
    expect(text).toContain('clientCertificates[1] ("https://api.example.com") (api.example.com:*) is never used by Cypress');
    expect(text).toMatch(/clientCertificates\[2\].*Cypress matches the path "\/admin\/\*" too; paths are not matched here/);
    expect(text).toMatch(/clientCertificates\[2\].*reads the passphrase from the file "admin.pass"/);
    expect(text).toMatch(/clientCertificates\[3\].*2 certificates to OpenSSL together.*the last one is used/);
    expect(text).toMatch(/clientCertificates\[4\] \("\*"\): "\*" matches every host; not imported/);
  });

  let server: TestServer;
  beforeAll(async () => {
    server = await startMtlsServer({ identity: { key: readFixture('other-server.key'), cert: readFixture('other-server.crt') } });
  });
  afterAll(() => server.close());

  it("a URL's own ca becomes the entry's ca: the imported config reaches a server only that CA vouches for", async () => {
    const { config, notes } = convertCypressCertificates([{ url: `https://localhost:${server.port}`, ca: [fixture('other-ca.crt')], certs: [{ cert: fixture('ec256.crt'), key: fixture('ec256.key') }] }]);
    expect(notes.join('\n')).toMatch(/Cypress trusts only its "ca" for this URL; here those CAs are added to Node's default roots/);
    expect(config.certificates[0]!.ca).toEqual([fixture('other-ca.crt')]);
    const store = await CertificateStore.fromConfig(config);
    const fetch = createFetch(store);
    try {
      const received = (await (await fetch(server.url())).json()) as Received;
      expect(received.subject).toContain('ec256');
    } finally {
      await fetch.dispatcher.close();
    }
  });
});

describe('k6 tlsAuth', () => {
  it('each certificate goes to its domains on any port, the first listed winning; the note says k6 itself ignores domains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-k6-'));
    const { config, notes } = convertK6TlsAuth(
      {
        options: {
          tlsAuth: [
            { domains: ['api.example.com', '*.example.com'], cert: readFixture('rsa.crt').toString(), key: readFixture('rsa.key').toString() },
            { domains: ['api.example.com'], cert: fixture('ec256.crt'), key: fixture('ec256.key'), password: 'x' },
            { domains: [], cert: fixture('ec256.crt'), key: fixture('ec256.key') },
          ],
        },
      },
      { materialDir: dir },
    );
    expect(notes[0]).toMatch(/^k6 itself ignores "domains"/);
    expect(pick(config.certificates, 'https://api.example.com:6443/')).toBe(join(dir, 'k6-0.crt'));
    expect(pick(config.certificates, 'https://w.example.com/')).toBe(join(dir, 'k6-0.crt'));
    expect(notes.join('\n')).toContain('tlsAuth[1] (api.example.com:*) is never used by k6');
    expect(notes.join('\n')).toMatch(/tlsAuth\[2\]: it has no domains .* not imported/);
    await expect(readConfig(config)).resolves.toMatchObject({ entries: [{ host: 'api.example.com' }, { host: '*.example.com' }] });
  });
});

describe('k6 tlsVersion', () => {
  it('becomes every entry\'s TLS version bounds (one version, or min and max); what Node cannot speak is noted', async () => {
    const item = { domains: ['api.example.com'], cert: fixture('rsa.crt'), key: fixture('rsa.key') };
    const one = convertK6TlsAuth({ options: { tlsVersion: 'tls1.2', tlsAuth: [item] } });
    expect(one.config.certificates).toEqual([expect.objectContaining({ host: 'api.example.com', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })]);
    const range = convertK6TlsAuth({ tlsVersion: { min: 'ssl3.0', max: 'tls1.2' }, tlsAuth: [item] });
    expect(range.config.certificates[0]).toMatchObject({ maxVersion: 'TLSv1.2' });
    expect(range.config.certificates[0]).not.toHaveProperty('minVersion');
    expect(range.notes.join('\n')).toContain('tlsVersion min "ssl3.0": not a TLS version Node speaks');
    const store = await CertificateStore.fromConfig(range.config);
    expect(store.list()[0]).toMatchObject({ maxVersion: 'TLSv1.2' });
    expect(convertK6TlsAuth([item]).config.certificates[0]).not.toHaveProperty('maxVersion');
  });
});

describe('an item the peer never reaches', () => {
  it('is skipped with no overlap entry left for it; the one certificate under one name can be selected', async () => {
    const { convertNewmanCertList } = await import('../../src/index.js');
    const { config, notes } = convertNewmanCertList([
      { name: 'ACME wildcard', matches: ['https://*.acme.com/*'], cert: { src: fixture('rsa.crt') }, key: { src: fixture('rsa.key') } },
      { name: 'API', matches: ['https://api.acme.com/*'], cert: { src: fixture('ec256.crt') }, key: { src: fixture('ec256.key') } },
    ]);
    expect(config.certificates.map((c) => [c.name, c.host])).toEqual([
      ['ACME wildcard', '*.acme.com'],
      ['ACME wildcard', 'acme.com'],
    ]);
    expect(notes.join('\n')).toMatch(/item 1 \("API"\) .* is never used by Postman: .* skipped\./);
    const store = await CertificateStore.fromConfig(config);
    expect(store.resolve('https://api.acme.com/', { select: 'ACME wildcard' })).toMatchObject({ kind: 'selected' });
  });
});
