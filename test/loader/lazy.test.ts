// Lazy loading (readConfig / fromConfig `{ lazy: true }`): dates and fingerprint read from the DER
// up front agree with the full load on every OpenSSL fixture; nothing else is parsed until it is
// needed; a bad key fails at first use or at store.validate(), with the eager load's error.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CertificateStore, isMtlsError, loadCertificate, readConfig, type CertificateConfig, type LoadedCertificate, type MtlsError } from '../../src/index.js';
import { LazyCertificate, RETRY_MS } from '../../src/loader/lazy.js';
import { PASS, fixture, readFixture } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = new Date();
const notLoaded = (c: unknown) => inspect(c).includes('not loaded yet');

async function failure(promise: Promise<unknown>): Promise<MtlsError> {
  try {
    await promise;
  } catch (err) {
    if (isMtlsError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** What `f` throws (undefined when it returns). */
function thrownBy(f: () => unknown): MtlsError | undefined {
  try {
    f();
  } catch (err) {
    return err as MtlsError;
  }
  return undefined;
}

describe('a lazy certificate', () => {
  // Every certificate input of the fixture matrix: PEM with chain and key in any order, DER,
  // encrypted keys, expired and not-yet-valid certificates.
  type Source = { pem: Buffer; passphrase?: string } | { cert: Buffer; key: Buffer; passphrase?: string };
  const sources: Array<[string, () => Source]> = [
    ...['rsa', 'ec256', 'ec384', 'ed25519', 'expired', 'notyet'].map((n): [string, () => Source] => [`${n}.pem`, () => ({ pem: readFixture(`${n}.pem`) })]),
    ['rsa.unordered.pem (chain out of order)', () => ({ pem: readFixture('rsa.unordered.pem') })],
    ['rsa.keyfirst.pem', () => ({ pem: readFixture('rsa.keyfirst.pem') })],
    ['rsa.crt + rsa.enc.key', () => ({ cert: readFixture('rsa.crt'), key: readFixture('rsa.enc.key'), passphrase: PASS })],
    ['ec256.crt.der + ec256.key.der', () => ({ cert: readFixture('ec256.crt.der'), key: readFixture('ec256.key.der') })],
    ['expired.full.crt + expired.key', () => ({ cert: readFixture('expired.full.crt'), key: readFixture('expired.key') })],
    ['ed25519.crt + ed25519.enc.key', () => ({ cert: readFixture('ed25519.crt'), key: readFixture('ed25519.enc.key'), passphrase: PASS })],
  ];

  it.each(sources)('%s: dates, status and fingerprint up front are the full load\'s', async (_name, source) => {
    const eager = await loadCertificate(source(), { now });
    const lazy = new LazyCertificate(source(), { now });
    const upFront = { fingerprint256: lazy.fingerprint256, notBefore: lazy.notBefore, notAfter: lazy.notAfter, status: lazy.status, daysUntilExpiry: lazy.daysUntilExpiry, format: lazy.format };
    expect(notLoaded(lazy)).toBe(true); // reading those loaded nothing
    expect(upFront).toEqual({ fingerprint256: eager.fingerprint256, notBefore: eager.notBefore, notAfter: eager.notAfter, status: eager.status, daysUntilExpiry: eager.daysUntilExpiry, format: eager.format });
    // The rest loads on first read, and is the eager load's.
    expect(lazy.subject).toBe(eager.subject);
    expect(notLoaded(lazy)).toBe(false);
    expect({ ...lazy.toJSON() }).toEqual({ ...eager });
    expect(lazy.tls).toEqual(eager.tls);
  });

  it('reads UTCTime and GeneralizedTime (after 2049) as X509Certificate does', () => {
    const cert = join(dir, 'far.crt');
    const key = join(dir, 'far.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=far', '-days', '10000'], { stdio: 'ignore' });
    const x509 = new X509Certificate(readFileSync(cert));
    const lazy = new LazyCertificate({ cert: readFileSync(cert), key: readFileSync(key) });
    expect(new Date(x509.validTo).getUTCFullYear()).toBeGreaterThan(2049); // GeneralizedTime
    expect([lazy.notBefore, lazy.notAfter, lazy.fingerprint256]).toEqual([new Date(x509.validFrom), new Date(x509.validTo), x509.fingerprint256]);
  });

  it('refuses at once what needs no key to refuse: no certificate, a damaged one', () => {
    const code = (f: () => unknown) => thrownBy(f)?.code ?? 'no error';
    expect(code(() => new LazyCertificate({ cert: readFixture('rsa.key'), key: readFixture('rsa.key') }))).toBe('ERR_NO_CERTIFICATE');
    const pem = readFixture('rsa.crt').toString('latin1');
    const body = pem.split('\n').slice(1, -2);
    const damaged = ['-----BEGIN CERTIFICATE-----', ...body.slice(0, 4), ...body.slice(6), '-----END CERTIFICATE-----', ''].join('\n');
    expect(code(() => new LazyCertificate({ cert: damaged, key: readFixture('rsa.key') }))).toBe('ERR_MALFORMED_CERTIFICATE');
    expect(code(() => new LazyCertificate({ cert: Buffer.from([0x30, 0x82, 0x01]), key: readFixture('rsa.key') }))).toBe('ERR_MALFORMED_CERTIFICATE');
  });

  it('fails its first use with the load error, and every later use with the same one; never shows the key', () => {
    const lazy = new LazyCertificate({ cert: readFixture('rsa.crt'), key: readFixture('rsa.enc.key'), passphrase: 'wrong' });
    const shown = `${inspect(lazy, { showHidden: true, depth: 5 })}${JSON.stringify(lazy)}`;
    expect(shown).not.toMatch(/PRIVATE KEY|wrong/);
    const first = thrownBy(() => lazy.tls);
    expect(first?.code).toBe('ERR_BAD_PASSPHRASE');
    expect(() => lazy.subject).toThrow(first as Error);
    expect(lazy.fingerprint256).toMatch(/^[0-9A-F:]{95}$/); // what was known up front still is
  });
});

describe('readConfig / fromConfig with { lazy: true }', () => {
  const config = (certificates: CertificateConfig[]) => ({ certificates });
  const good = { host: 'good.test', cert: fixture('rsa.crt'), key: fixture('rsa.key') };

  it('loads no key at start, resolves (R6 from the dates read up front) and loads each certificate when it is first used', async () => {
    const store = await CertificateStore.fromConfig(
      config([good, { host: 'ec.test', pem: fixture('ec256.pem') }, { host: 'ec.test', pem: fixture('expired.pem') }]),
      { lazy: true },
    );
    expect(store.list().every((e) => notLoaded(e.certificate))).toBe(true);
    // The later entry is expired: R6 skips it with no parse.
    const chosen = store.resolve('https://ec.test/');
    expect(chosen?.entry.host).toBe('ec.test');
    expect(chosen?.entry.certificate.fingerprint256).toBe((await loadCertificate({ pemFile: fixture('ec256.pem') })).fingerprint256);
    expect(store.list().every((e) => notLoaded(e.certificate))).toBe(true);
    expect(chosen?.entry.certificate.commonName).toBe('ec256 client');
    expect(store.list().map((e) => notLoaded(e.certificate))).toEqual([true, false, true]);
  });

  it('JSON and util.inspect of a lazy store show what is known, and load nothing', async () => {
    const store = await CertificateStore.fromConfig(config([good, { host: 'ec.test', pem: fixture('ec256.pem') }]), { lazy: true });
    const json = JSON.parse(JSON.stringify(store)) as { entries: Array<{ certificate: Record<string, unknown> }> };
    expect(json.entries[0]!.certificate).toMatchObject({ loaded: false, fingerprint256: expect.stringMatching(/^[0-9A-F:]{95}$/), status: 'valid' });
    expect(inspect(store, { depth: 5 })).toContain('loaded: false');
    expect(store.list().every((e) => notLoaded(e.certificate))).toBe(true);
    void store.list()[1]!.certificate.subject; // now loaded: shown with its names
    expect((JSON.parse(JSON.stringify(store)) as typeof json).entries[1]!.certificate).toMatchObject({ subject: expect.stringContaining('ec256 client') });
  });

  it('reads each file once and shares one certificate between entries naming the same files', async () => {
    const { entries, files } = await readConfig(config([good, { ...good, host: 'other.test' }]), { lazy: true });
    expect(entries[0]!.certificate).toBe(entries[1]!.certificate);
    expect(files).toEqual([fixture('rsa.crt'), fixture('rsa.key')]);
  });

  it('a bad passphrase or key: the start succeeds, validate() fails with the eager load\'s error (entry and field named)', async () => {
    process.env.MTLS_LAZY_PASS = 'not the passphrase';
    const entries = [good, { name: 'locked', host: 'locked.test', cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphraseEnv: 'MTLS_LAZY_PASS' }, { name: 'mismatch', host: 'm.test', cert: fixture('rsa.crt'), key: fixture('ec256.key') }];
    const eager = await failure(CertificateStore.fromConfig(config(entries)));
    const store = await CertificateStore.fromConfig(config(entries), { lazy: true });
    const lazy = await failure(store.validate());
    expect([lazy.code, lazy.message, lazy.location]).toEqual([eager.code, eager.message, eager.location]);
    expect(lazy.code).toBe('ERR_BAD_PASSPHRASE');
    expect(lazy.location).toMatchObject({ entry: 1, name: 'locked', field: 'passphraseEnv' });
    expect(lazy.message).not.toContain('not the passphrase');
    // The good entry was loaded by validate(); the mismatched one fails at its first use.
    expect(store.resolve('https://good.test/')?.entry.certificate.commonName).toBe('rsa client');
    expect(() => store.resolve('https://m.test/')?.entry.certificate.tls).toThrow(/certificates\[2\] \("mismatch"\), field "key": The private key/);
  });

  it('validate() resolves when everything loads, and costs nothing the second time', async () => {
    const store = await CertificateStore.fromConfig(config([good, { host: 'ec.test', pem: fixture('ec256.pem') }]), { lazy: true });
    await expect(store.validate()).resolves.toBeUndefined();
    expect(store.list().some((e) => notLoaded(e.certificate))).toBe(false);
    await expect(store.validate()).resolves.toBeUndefined();
  });

  it('refuses at start what needs no key: a damaged certificate file names its field; PFX loads up front', async () => {
    const damaged = join(dir, 'damaged.crt');
    writeFileSync(damaged, '-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n');
    const bad = await failure(readConfig(config([good, { host: 'd.test', cert: damaged, key: fixture('rsa.key') }]), { lazy: true }));
    expect([bad.code, bad.location?.entry, bad.location?.field]).toEqual(['ERR_MALFORMED_CERTIFICATE', 1, 'cert']);
    const pfx = await failure(readConfig(config([{ host: 'p.test', pfx: fixture('rsa.pfx'), passphrase: 'wrong' }]), { lazy: true }));
    expect([pfx.code, pfx.location?.field]).toEqual(['ERR_BAD_PASSPHRASE', 'passphrase']);
  });

  it('holds paths, not contents: the files are read again at first use, and refused if their certificate changed since', async () => {
    const file = (name: string, content: Buffer) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const entries = [
      { name: 'renewed', host: 'a.test', cert: file('a.crt', readFixture('rsa.crt')), key: file('a.key', readFixture('rsa.key')) },
      { name: 'rewritten', host: 'b.test', pem: file('b.pem', readFixture('ec256.pem')) },
      { name: 'gone', host: 'c.test', cert: fixture('ec384.crt'), key: file('c.key', readFixture('ec384.key')) },
    ];
    const store = await CertificateStore.fromConfig(config(entries), { lazy: true });
    file('a.crt', readFixture('ec256.crt')); // renewed behind the store's back
    file('a.key', readFixture('ec256.key'));
    file('b.pem', Buffer.concat([readFixture('ec256.pem'), readFixture('ca.crt')])); // the same certificate, rewritten
    rmSync(join(dir, 'c.key'));
    const [renewed, rewritten, gone] = store.list().map((e) => e.certificate) as [LoadedCertificate, LoadedCertificate, LoadedCertificate];
    expect(() => renewed.tls).toThrow(/certificates\[0\] \("renewed"\), field "cert": ".*a\.crt" or ".*a\.key" changed after the config was read; reload the config/);
    expect(rewritten.commonName).toBe('ec256 client');
    expect(() => gone.tls).toThrow(/certificates\[2\] \("gone"\), field "key": Cannot read the key file ".*c\.key": it does not exist/);
    const err = await failure(store.validate());
    expect([err.code, err.location?.entry]).toEqual(['ERR_FILE_READ', 0]);
  });

  it('a key that did not load is read again a second later (the key written after its certificate)', async () => {
    const [cert, key] = [join(dir, 'late.crt'), join(dir, 'late.key')];
    writeFileSync(cert, readFixture('ec256.crt'));
    writeFileSync(key, readFixture('rsa.key')); // the old key, still there
    const store = await CertificateStore.fromConfig(config([{ host: 'late.test', cert, key }]), { lazy: true });
    const certificate = store.list()[0]!.certificate;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const first = thrownBy(() => certificate.tls);
      expect(first?.code).toBe('ERR_KEY_MISMATCH');
      writeFileSync(key, readFixture('ec256.key')); // the renewal's key arrives
      expect(() => certificate.tls).toThrow(first as Error); // within the second: the same error, no new read
      vi.setSystemTime(Date.now() + RETRY_MS + 1);
      expect(certificate.tls.key).toMatch(/BEGIN PRIVATE KEY/);
      expect(certificate.keyType).toBe('ec');
    } finally {
      vi.useRealTimers();
    }
  });

  it('material held in memory that did not load is not tried again (nothing could have changed it)', async () => {
    process.env.MTLS_LAZY_BAD_PEM = `${readFixture('ec256.crt').toString('utf8')}${readFixture('rsa.key').toString('utf8')}`;
    const store = await CertificateStore.fromConfig(config([{ host: 'env.test', pemEnv: 'MTLS_LAZY_BAD_PEM' }]), { lazy: true });
    const certificate = store.list()[0]!.certificate;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const first = thrownBy(() => certificate.tls);
      vi.setSystemTime(Date.now() + RETRY_MS * 10);
      const again = thrownBy(() => certificate.tls);
      expect(again).toBe(first); // the same object: not loaded again
      expect(first?.code).toBe('ERR_KEY_MISMATCH');
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps material from environment variables in memory (the variable may change)', async () => {
    process.env.MTLS_LAZY_PEM = readFixture('ec256.pem').toString('utf8');
    const store = await CertificateStore.fromConfig(config([{ host: 'env.test', pemEnv: 'MTLS_LAZY_PEM' }]), { lazy: true });
    delete process.env.MTLS_LAZY_PEM;
    expect(store.list()[0]!.certificate.commonName).toBe('ec256 client');
  });

  it('warns up front about dates (expired, expiring), as the eager load does', async () => {
    const { warnings } = await readConfig(config([{ host: 'x.test', pem: fixture('expired.pem') }]), { lazy: true });
    expect(warnings.join('\n')).toMatch(/certificates\[0\]: The certificate expired on/);
  });

  it('takes lazy as a boolean only', async () => {
    const err = await failure(readConfig(config([good]), { lazy: 'yes' as unknown as boolean }));
    expect(err.code).toBe('ERR_INVALID_OPTION');
  });
});
