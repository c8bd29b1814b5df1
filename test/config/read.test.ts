import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CertificateStore, type MtlsError, convertBrunoConfig, convertInsomniaCertificates, convertNewmanCertList, readConfig } from '../../src/index.js';
import { FIXTURES, PASS, fixture } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

// Paths relative to the config file: the config lives in the fixtures directory's parent.
const rel = (name: string) => `./fixtures/${name}`;
const inFixturesParent = (name: string, config: unknown) => {
  const file = join(FIXTURES, '..', name);
  writeFileSync(file, JSON.stringify(config));
  return file;
};

describe('CertificateStore.fromConfig', () => {
  it('reads certs.json: paths relative to the file, passphraseEnv, ca, rejectUnauthorized, primary, file order', async () => {
    process.env.MTLS_TEST_PASS = PASS;
    const file = inFixturesParent('certs.test.json', {
      ca: [rel('ca.crt')],
      rejectUnauthorized: true,
      certificates: [
        { name: 'ACME prod', host: '*.acme.com', port: 8443, cert: rel('rsa.crt'), key: rel('rsa.enc.key'), passphraseEnv: 'MTLS_TEST_PASS' },
        { name: 'Example', host: 'api.example.com', pfx: rel('ec256.pfx'), passphraseEnv: 'MTLS_TEST_PASS', primary: true },
        { host: 'internal.test', pem: rel('ed25519.pem') },
        { name: 'Later wins', host: 'internal.test', pem: rel('ec384.pem') },
      ],
    });
    const store = await CertificateStore.fromConfig(file);
    expect(store.list().map((e) => [e.name, e.host, e.port])).toEqual([
      ['ACME prod', '*.acme.com', 8443],
      ['Example', 'api.example.com', undefined],
      [undefined, 'internal.test', undefined],
      ['Later wins', 'internal.test', undefined],
    ]);
    expect(store.resolve('https://shop.acme.com:8443/')?.entry.certificate.commonName).toBe('rsa client');
    expect(store.resolve('https://internal.test/')?.entry.name).toBe('Later wins');
    expect(store.resolve('https://nothing.test/', { fallbackToPrimary: true })?.entry.name).toBe('Example');
    expect(store.defaults.rejectUnauthorized).toBe(true);
    expect((store.defaults.ca as Array<{ certificates: Array<{ commonName?: string }> }>)[0]?.certificates[0]?.commonName).toBe('Test Root CA');
  });

  it('accepts a config object (paths relative to the current directory) and warns about an inline passphrase', async () => {
    const { entries, warnings } = await readConfig({ certificates: [{ host: 'a.test', cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphrase: PASS }] });
    expect(entries).toHaveLength(1);
    expect(warnings.join('\n')).toMatch(/certificates\[0\], field "passphrase": an inline passphrase .* use "passphraseEnv"/);
    expect(warnings.join('\n')).not.toContain(PASS);
  });

  it.each([
    ['not JSON', '{ certificates: ', 'ERR_INVALID_CONFIG', /not valid JSON/],
    ['no certificates array', { certificates: {} }, 'ERR_INVALID_CONFIG', /"certificates" must be an array/],
    ['an unknown field (a typo)', { certificates: [{ host: 'a.test', pem: 'x.pem', passphraseENV: 'X' }] }, 'ERR_INVALID_CONFIG', /certificates\[0\]: unknown field "passphraseENV" \(did you mean "passphraseEnv"\?\)/],
    ['a URL as host', { certificates: [{ name: 'bad', host: 'https://a.test/x', pem: 'x.pem' }] }, 'ERR_INVALID_HOST_PATTERN', /certificates\[0\] \("bad"\), field "host": .*write the host alone/],
    ['a bad port', { certificates: [{ host: 'a.test', port: 'x', pem: 'x.pem' }] }, 'ERR_INVALID_PORT', /certificates\[0\], field "port"/],
    ['a port as a string', { certificates: [{ host: 'a.test', port: '8443', pem: 'x.pem' }] }, 'ERR_INVALID_PORT', /field "port" has port "8443".*a number, not the string/],
    ['both pem and pfx', { certificates: [{ host: 'a.test', pem: 'x.pem', pfx: 'y.p12' }] }, 'ERR_INVALID_CONFIG', /exactly one of/],
    ['cert without key', { certificates: [{ host: 'a.test', cert: 'x.crt' }] }, 'ERR_INVALID_CONFIG', /field "key": a certificate and its key go together/],
    ['an unset passphraseEnv', { certificates: [{ host: 'a.test', pem: 'x.pem', passphraseEnv: 'MTLS_UNSET_VARIABLE' }] }, 'ERR_INVALID_CONFIG', /MTLS_UNSET_VARIABLE is not set/],
    ['two primaries', { certificates: [{ host: 'a.test', pem: 'x.pem', primary: true }, { name: 'second', host: 'b.test', pem: 'x.pem', primary: true }] }, 'ERR_INVALID_CONFIG', /certificates\[1\] \("second"\), field "primary"/],
    ['a missing certificate file', { certificates: [{ name: 'gone', host: 'a.test', pem: './missing.pem' }] }, 'ERR_FILE_READ', /certificates\[0\] \("gone"\), field "pem": Cannot read/],
    ['a missing CA file', { ca: './missing-ca.pem', certificates: [] }, 'ERR_FILE_READ', /field "ca"/],
  ])('%s -> %s, naming the entry and field', async (_name, config, code, message) => {
    await expect(CertificateStore.fromConfig(configFile(`bad-${code}-${Math.random()}.json`, config))).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('a wrong passphrase names the entry, keeps the loader code, and loads nothing', async () => {
    process.env.MTLS_WRONG_PASS = 'not it';
    const file = inFixturesParent('certs.bad-pass.json', {
      certificates: [
        { host: 'ok.test', pem: rel('rsa.pem') },
        { name: 'locked', host: 'locked.test', pfx: rel('rsa.pfx'), passphraseEnv: 'MTLS_WRONG_PASS' },
      ],
    });
    const err = await CertificateStore.fromConfig(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BAD_PASSPHRASE', message: expect.stringMatching(/^certificates\[1\] \("locked"\), field "passphraseEnv": /) });
    expect((err as MtlsError).location).toEqual({ file, entry: 1, name: 'locked', field: 'passphraseEnv' });
    expect((err as Error).message).not.toContain('not it');
  });
});

describe('importers', () => {
  it('Newman: Postman match patterns, the bare domain of a wildcard, ports, paths, and the reversed order', () => {
    const { config, notes } = convertNewmanCertList(
      [
        { name: 'first', matches: ['https://*.example.com/*', 'https://example.com:8080/api/*'], cert: { src: 'a.crt' }, key: { src: 'a.key' }, passphrase: 'p' },
        { name: 'second', matches: ['https://api.example.com:*/*', 'http://plain.example.com/*'], pfx: { src: '/abs/b.p12' } },
      ],
      { baseDir: '/certs' },
    );
    const first = { name: 'first', cert: '/certs/a.crt', key: '/certs/a.key', passphrase: 'p' };
    expect(config.certificates).toEqual([
      { name: 'second', host: 'api.example.com', port: '*', pfx: '/abs/b.p12' },
      // Postman takes "first" (*.example.com, port 443) before "second" for api.example.com:443
      { ...first, host: 'api.example.com' },
      { ...first, host: '*.example.com' },
      { ...first, host: 'example.com' },
      { ...first, host: 'example.com', port: 8080 },
    ]);
    const text = notes.join('\n');
    expect(text).toMatch(/also matches example\.com itself/);
    expect(text).toMatch(/paths are not matched/);
    expect(text).toMatch(/Postman presents certificates to https: only; skipped/);
    expect(text).toMatch(/item 0 \("first"\): Postman takes it before more specific entries, so it was added again for api\.example\.com, where it must win/);
    expect(text).toMatch(/passphraseEnv/);
  });

  it('Newman: the imported config keeps Postman\'s choice (first match) under our rules (last added)', () => {
    const { config } = convertNewmanCertList([
      { name: 'first', matches: ['https://api.example.com/*'], cert: 'a.crt', key: 'a.key' },
      { name: 'second', matches: ['https://api.example.com/*'], cert: 'b.crt', key: 'b.key' },
    ]);
    expect(config.certificates.at(-1)?.name).toBe('first');
  });

  it('Newman/Postman: patterns Postman never matches are skipped with a note; https+http is one it matches; the result always loads', async () => {
    const item = (name: string, matches: string[]) => ({ name, matches, cert: { src: fixture('rsa.crt') }, key: { src: fixture('rsa.key') } });
    const { config, notes } = convertNewmanCertList([
      item('both', ['https+http://*.acme.com/*']),
      item('upper', ['HTTPS://upper.acme.com/*']),
      item('ws', ['wss://ws.acme.com/*']),
      item('nopath', ['https://nopath.acme.com']),
      item('midglob', ['https://api-*.acme.com/*']),
      item('badhost', ['https://*foo/bar', 'https://*.com/*']),
      item('', ['https://unnamed.acme.com/*']),
    ]);
    // The unnamed item comes after "both", whose *.acme.com covers it: Postman never uses it, and
    // nothing is left for it (no overlap entry under "both"'s name).
    expect(config.certificates.map((c) => [c.host, c.name])).toEqual([
      ['*.acme.com', 'both'],
      ['acme.com', 'both'],
    ]);
    expect(notes).toContain('item 6 (unnamed.acme.com) is never used by Postman: item 0 ("both") (*.acme.com) matches everything it matches and comes first; skipped.');
    const text = notes.join('\n');
    expect(text).toMatch(/item 1 \("upper"\): Postman never matches "HTTPS:\/\/upper.acme.com\/\*" \(its scheme is not lower case\); skipped/);
    expect(text).toMatch(/item 2 \("ws"\): Postman never matches "wss:\/\/ws.acme.com\/\*" \(Postman sends no client certificate for wss:\)/);
    expect(text).toMatch(/item 3 \("nopath"\): Postman never matches .* \(it has no path/);
    expect(text).toMatch(/item 4 \("midglob"\): Postman never matches .* whole first label/);
    expect(text).toMatch(/item 5 \("badhost"\): Postman never matches "https:\/\/\*foo\/bar"/);
    expect(text).toMatch(/item 5 \("badhost"\): "https:\/\/\*\.com\/\*" cannot be an entry here, skipped: .*too broad/);
    await expect(readConfig(config)).resolves.toMatchObject({ entries: [{ host: '*.acme.com', name: 'both' }, { host: 'acme.com' }] });
  });

  it('Bruno: domains with and without port, cert and pfx types, disabled ones skipped', () => {
    const { config, notes } = convertBrunoConfig(
      {
        clientCertificates: {
          enabled: true,
          certs: [
            { domain: 'localhost:3000', type: 'cert', certFilePath: 'certs/a.crt', keyFilePath: 'certs/a.key' },
            { domain: '*.example.com', type: 'pfx', pfxFilePath: 'certs/b.p12', passphrase: 'x' },
            { domain: 'old.example.com', type: 'cert', certFilePath: 'certs/old.crt', keyFilePath: 'certs/old.key', disabled: true },
          ],
        },
      },
      { baseDir: '/collection' },
    );
    expect(config.certificates).toEqual([
      { host: '*.example.com', port: '*', pfx: '/collection/certs/b.p12', passphrase: 'x' },
      { host: 'localhost', port: 3000, cert: '/collection/certs/a.crt', key: '/collection/certs/a.key' },
    ]);
    expect(notes).toContain('certs[2] ("old.example.com"): disabled in Bruno; skipped.');
    expect(notes.join('\n')).toMatch(/applies "\*\.example\.com" to every port; kept as port "\*"/);
    expect(convertBrunoConfig({ clientCertificates: { enabled: false, certs: [{ domain: 'a.test' }] } }).config.certificates).toEqual([]);
  });

  it('Insomnia: client_certificate resources, host:port, disabled skipped', () => {
    const { config, notes } = convertInsomniaCertificates({
      resources: [
        { _type: 'request', url: 'https://x' },
        { _type: 'client_certificate', host: 'api.example.com:8443', cert: '/c/a.crt', key: '/c/a.key', passphrase: null },
        { _type: 'client_certificate', host: '*.example.com', pfx: '/c/b.pfx', passphrase: 'pw' },
        { _type: 'client_certificate', host: 'old.example.com', pfx: '/c/old.pfx', disabled: true },
      ],
    });
    expect(config.certificates).toEqual([
      { host: 'api.example.com', port: 8443, cert: '/c/a.crt', key: '/c/a.key' },
      { host: '*.example.com', pfx: '/c/b.pfx', passphrase: 'pw' },
    ]);
    expect(notes.join('\n')).toMatch(/disabled in Insomnia; skipped/);
  });

  it.each([
    ['Newman', () => convertNewmanCertList({})],
    ['Bruno', () => convertBrunoConfig([])],
    ['Insomnia', () => convertInsomniaCertificates({})],
    ['Newman without files', () => convertNewmanCertList([{ matches: ['https://a.test/*'] }])],
  ])('%s: bad input is an ERR_INVALID_CONFIG', (_n, run) => {
    expect(run).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG' }));
  });
});

describe('certificate material from the environment', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('certEnv + keyEnv, pemEnv and pfxBase64Env load the same certificates as the files', async () => {
    const { readFileSync } = await import('node:fs');
    Object.assign(process.env, {
      MTLS_T_CERT: readFileSync(fixture('rsa.crt'), 'utf8'),
      MTLS_T_KEY: readFileSync(fixture('rsa.enc.key'), 'utf8'),
      MTLS_T_PEM: readFileSync(fixture('ec256.pem'), 'utf8'),
      MTLS_T_PFX: readFileSync(fixture('rsa.pfx')).toString('base64').replace(/(.{64})/g, '$1\n'), // wrapped, as `base64` prints it
      MTLS_T_PASS: PASS,
    });
    const fromEnv = await readConfig({
      certificates: [
        { host: 'a.acme.com', certEnv: 'MTLS_T_CERT', keyEnv: 'MTLS_T_KEY', passphraseEnv: 'MTLS_T_PASS' },
        { host: 'b.acme.com', pemEnv: 'MTLS_T_PEM' },
        { host: 'c.acme.com', pfxBase64Env: 'MTLS_T_PFX', passphraseEnv: 'MTLS_T_PASS' },
        { host: 'd.acme.com', certEnv: 'MTLS_T_CERT', key: fixture('rsa.enc.key'), passphraseEnv: 'MTLS_T_PASS' },
      ],
    });
    const fromFiles = await readConfig({
      certificates: [
        { host: 'a.acme.com', cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphraseEnv: 'MTLS_T_PASS' },
        { host: 'b.acme.com', pem: fixture('ec256.pem') },
        { host: 'c.acme.com', pfx: fixture('rsa.pfx'), passphraseEnv: 'MTLS_T_PASS' },
        { host: 'd.acme.com', cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphraseEnv: 'MTLS_T_PASS' },
      ],
    });
    expect(fromEnv.entries.map((e) => e.certificate.fingerprint256)).toEqual(fromFiles.entries.map((e) => e.certificate.fingerprint256));
    expect(fromEnv.entries.map((e) => e.certificate.format)).toEqual(['crt+key', 'pem', 'pfx', 'crt+key']);
  });

  it('a missing variable, bad base64 or two sources name the entry and field, never the value', async () => {
    process.env.MTLS_T_BAD = 'not base64 at all!!';
    process.env.MTLS_T_SECRET_PEM = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n';
    const cases: Array<[object, RegExp]> = [
      [{ host: 'a.acme.com', pemEnv: 'MTLS_T_UNSET' }, /certificates\[0\], field "pemEnv": the environment variable MTLS_T_UNSET is not set/],
      [{ host: 'a.acme.com', pfxBase64Env: 'MTLS_T_BAD' }, /field "pfxBase64Env": the environment variable MTLS_T_BAD is not base64 \(make it with: base64 -w0 client.p12\)/],
      [{ host: 'a.acme.com', pem: 'x.pem', pemEnv: 'MTLS_T_PEM' }, /field "pemEnv": give "pem" or "pemEnv", not both/],
      [{ host: 'a.acme.com', certEnv: 'MTLS_T_CERT' }, /field "key": a certificate and its key go together/],
      [{ host: 'a.acme.com', pemEnv: 'MTLS_T_SECRET_PEM' }, /certificates\[0\], field "pemEnv"/],
    ];
    for (const [entry, message] of cases) {
      const err = await readConfig({ certificates: [entry] } as never).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain('c2VjcmV0');
      expect(err?.message).not.toContain('not base64 at all');
    }
  });

  it('an *Env field holding the secret itself is refused without repeating it', async () => {
    const secret = 'correct horse battery';
    for (const field of ['passphraseEnv', 'pemEnv']) {
      const entry = field === 'pemEnv' ? { host: 'a.acme.com', pemEnv: secret } : { host: 'a.acme.com', pem: fixture('rsa.pem'), passphraseEnv: secret };
      const err = (await readConfig({ certificates: [entry] } as never).catch((e: unknown) => e)) as MtlsError;
      expect(err.code).toBe('ERR_INVALID_CONFIG');
      expect(err.message).toMatch(new RegExp(`field "${field}": it must be the name of an environment variable`));
      expect(err.message).not.toContain('horse');
      expect(err.location).toEqual({ entry: 0, field });
    }
  });
});

describe('which field an error names', () => {
  it('a missing key file names "key", a wrong key names "key", a missing certificate names "cert"', async () => {
    const cases: Array<[object, string, string]> = [
      [{ cert: fixture('rsa.crt'), key: fixture('missing.key') }, 'ERR_FILE_READ', 'key'],
      [{ cert: fixture('missing.crt'), key: fixture('rsa.key') }, 'ERR_FILE_READ', 'cert'],
      [{ cert: fixture('rsa.crt'), key: fixture('ec256.key') }, 'ERR_KEY_MISMATCH', 'key'],
      [{ cert: fixture('rsa.crt'), key: fixture('rsa.enc.key') }, 'ERR_PASSPHRASE_REQUIRED', 'key'],
    ];
    for (const [source, code, field] of cases) {
      const err = (await readConfig({ certificates: [{ host: 'a.acme.com', ...source }] } as never).catch((e: unknown) => e)) as MtlsError;
      expect(err).toMatchObject({ code, message: expect.stringMatching(new RegExp(`^certificates\\[0\\], field "${field}": `)), location: { entry: 0, field } });
    }
  });
});

describe('settings are own properties only', () => {
  it('rejectUnauthorized and allowBroadPatterns inherited from a prototype are ignored (config, store, adapter options)', async () => {
    const inherited = Object.create({ rejectUnauthorized: false, allowBroadPatterns: true }) as Record<string, unknown>;
    inherited.certificates = [{ host: 'a.acme.com', pem: fixture('rsa.pem') }];
    const { defaults } = await readConfig(inherited as never);
    expect(defaults).toEqual({});
    const broad = Object.create({ allowBroadPatterns: true }) as Record<string, unknown>;
    broad.certificates = [{ host: '*.com', pem: fixture('rsa.pem') }];
    await expect(readConfig(broad as never)).rejects.toMatchObject({ code: 'ERR_INVALID_HOST_PATTERN' });
    const entry = Object.create({ passphrase: 'inherited' }) as Record<string, unknown>;
    Object.assign(entry, { host: 'a.acme.com', pem: fixture('rsa.pem') });
    expect((await readConfig({ certificates: [entry] } as never)).warnings).toEqual([]); // no inline-passphrase warning: not read

    const store = new CertificateStore(Object.create({ rejectUnauthorized: false }) as never);
    expect(store.defaults.rejectUnauthorized).toBeUndefined();
    store.replace([], Object.create({ rejectUnauthorized: false }) as never);
    expect(store.defaults.rejectUnauthorized).toBeUndefined();
    const { resolveAdapterOptions } = await import('../../src/adapter/options.js');
    expect(resolveAdapterOptions(store, Object.create({ rejectUnauthorized: false }) as never).rejectUnauthorized).toBe(true);
  });
});

describe('files and material named by several entries', () => {
  it('are read and loaded once: the entries share one LoadedCertificate; another passphrase is another load', async () => {
    const { readConfig: read } = await import('../../src/config/read.js');
    const certificates = Array.from({ length: 300 }, (_, i) => ({ host: `t-${i}.example.com`, cert: fixture(i % 2 === 0 ? 'rsa.crt' : 'ec256.crt'), key: fixture(i % 2 === 0 ? 'rsa.key' : 'ec256.key') }));
    certificates.push({ host: 'enc.example.com', cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphrase: PASS } as never);
    const config = await read({ certificates });
    expect(config.entries).toHaveLength(301);
    expect(new Set(config.entries.slice(0, 300).map((e) => e.certificate)).size).toBe(2);
    expect(config.entries[0]!.certificate).toBe(config.entries[298]!.certificate);
    expect(config.entries[300]!.certificate).not.toBe(config.entries[0]!.certificate);
    expect(config.entries[300]!.certificate.fingerprint256).toBe(config.entries[0]!.certificate.fingerprint256);
    expect(config.files.filter((f) => f.endsWith('rsa.crt'))).toHaveLength(1);
  });
});
