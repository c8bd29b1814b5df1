// Every format users bring, made by the OpenSSL CLI, loads; the fields agree with `openssl x509`.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadCaBundle, loadCertificate, type CertificateSource } from '../../src/index.js';
import { PASS, caught, fixture, opensslX509, readFixture } from '../helpers.js';

const IDENTITIES = [
  ['rsa', 'rsa'],
  ['ec256', 'ec'],
  ['ec384', 'ec'],
  ['ed25519', 'ed25519'],
] as const;

type Case = [string, () => CertificateSource, number];
function sources(id: string): Case[] {
  return [
    ['single PEM file (chain + key)', () => ({ pemFile: fixture(`${id}.pem`) }), 2],
    ['single PEM as bytes', () => ({ pem: readFixture(`${id}.pem`) }), 2],
    ['single PEM as a string', () => ({ pem: readFixture(`${id}.pem`).toString() }), 2],
    ['CRT + KEY files (PEM, PKCS#8)', () => ({ certFile: fixture(`${id}.crt`), keyFile: fixture(`${id}.key`) }), 1],
    ['CRT + KEY as DER bytes', () => ({ cert: readFixture(`${id}.crt.der`), key: readFixture(`${id}.key.der`) }), 1],
    ['encrypted PKCS#8 key (AES-256-CBC, PBKDF2)', () => ({ certFile: fixture(`${id}.crt`), keyFile: fixture(`${id}.enc.key`), passphrase: PASS }), 1],
    ['PFX, OpenSSL 3 default (AES-256-CBC, PBKDF2, SHA-256 MAC)', () => ({ pfxFile: fixture(`${id}.pfx`), passphrase: PASS }), 2],
    ['PFX, -legacy (RC2-40 / 3DES, SHA-1 MAC)', () => ({ pfxFile: fixture(`${id}.legacy.pfx`), passphrase: PASS }), 2],
    ['PFX with an empty password, no passphrase given', () => ({ pfxFile: fixture(`${id}.nopass.pfx`) }), 2],
    ['PFX with an empty password, passphrase ""', () => ({ pfx: readFixture(`${id}.nopass.pfx`), passphrase: '' }), 2],
  ];
}

const EXTRAS: Array<[string, () => CertificateSource, string, number]> = [
  ['RSA PKCS#1 key', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.pkcs1.key') }), 'rsa', 1],
  ['traditional encrypted PEM (Proc-Type: 4,ENCRYPTED)', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.trad-enc.key'), passphrase: PASS }), 'rsa', 1],
  ['PEM with the key first', () => ({ pemFile: fixture('rsa.keyfirst.pem') }), 'rsa', 2],
  ['EC P-256 SEC1 key', () => ({ certFile: fixture('ec256.crt'), keyFile: fixture('ec256.sec1.key') }), 'ec', 1],
  ['EC P-384 SEC1 key', () => ({ certFile: fixture('ec384.crt'), keyFile: fixture('ec384.sec1.key') }), 'ec', 1],
  ['PFX without a chain', () => ({ pfxFile: fixture('rsa.nochain.pfx'), passphrase: PASS }), 'rsa', 1],
  ['PFX made with -iter 100000', () => ({ pfxFile: fixture('rsa.iter100k.pfx'), passphrase: PASS }), 'rsa', 2],
  ['CRT as DER + KEY as PEM', () => ({ cert: readFixture('ec256.crt.der'), key: readFixture('ec256.key').toString() }), 'ec', 1],
];

async function checkAgainstOpenssl(source: CertificateSource, id: string, keyType: string, chainLength: number) {
  const c = await loadCertificate(source);
  const ref = opensslX509(fixture(`${id}.crt`));
  expect(c.subject.replace(/, /g, ',')).toBe(ref.subject);
  expect(c.issuer.replace(/, /g, ',')).toBe(ref.issuer);
  expect(c.serialNumber).toBe(ref.serial);
  expect(c.fingerprint256).toBe(ref.fingerprint);
  expect(c.notBefore.toISOString()).toBe(ref.notBefore);
  expect(c.notAfter.toISOString()).toBe(ref.notAfter);
  expect(c.subjectAltNames.join(', ')).toBe(ref.san);
  expect(c.commonName).toBe(`${id} client`);
  expect(c.keyType).toBe(keyType);
  expect(c.selfSigned).toBe(false);
  expect(c.status).toBe('valid');
  expect(c.chain).toHaveLength(chainLength);
  expect(c.chain[0]?.fingerprint256).toBe(c.fingerprint256);
  if (chainLength > 1) expect(c.chain[1]?.commonName).toBe('Test Intermediate CA');
  // The TLS material is usable as is, and its key is the certificate's.
  expect(() => createSecureContext(c.tls)).not.toThrow();
  expect(new X509Certificate(c.tls.cert).checkPrivateKey(createPrivateKey(c.tls.key!))).toBe(true);
  expect(c.tls.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(chainLength);
  return c;
}

describe.each(IDENTITIES)('%s identity', (id, keyType) => {
  it.each(sources(id))('%s', async (_name, source, chainLength) => {
    const c = await checkAgainstOpenssl(source(), id, keyType, chainLength);
    expect(c.format).toBe(_name.startsWith('PFX') ? 'pfx' : _name.startsWith('single') ? 'pem' : 'crt+key');
  });
});

describe('other key encodings and layouts', () => {
  it.each(EXTRAS)('%s', async (_name, source, keyType, chainLength) => {
    const id = keyType === 'rsa' ? 'rsa' : _name.includes('384') ? 'ec384' : 'ec256';
    await checkAgainstOpenssl(source(), id, keyType, chainLength);
  });

  it('puts a chain given out of order leaf first, with a warning', async () => {
    const c = await loadCertificate({ pemFile: fixture('rsa.unordered.pem') });
    expect(c.chain.map((s) => s.commonName)).toEqual(['rsa client', 'Test Intermediate CA']);
    expect(c.tls.cert.indexOf(new X509Certificate(readFixture('rsa.crt')).toString())).toBe(0);
    expect(c.warnings).toContain('The certificate chain was out of order; it has been put leaf first, each certificate followed by its issuer.');
  });
});

describe('status against an injected clock', () => {
  it('valid, expiring-soon, expired and not-yet-valid', async () => {
    const c = await loadCertificate({ pemFile: fixture('rsa.pem') });
    const day = 86_400_000;
    const at = (ms: number, expiryWarningDays?: number) =>
      loadCertificate({ pemFile: fixture('rsa.pem') }, { now: new Date(ms), ...(expiryWarningDays === undefined ? {} : { expiryWarningDays }) });
    expect(await at(c.notAfter.getTime() - 100 * day)).toMatchObject({ status: 'valid', daysUntilExpiry: 100, warnings: [] });
    const soon = await at(c.notAfter.getTime() - 10 * day - 1000);
    expect(soon).toMatchObject({ status: 'expiring-soon', daysUntilExpiry: 10 });
    expect(soon.warnings[0]).toMatch(/expires in 10 days/);
    expect(await at(c.notAfter.getTime() - 10 * day - 1000, 7)).toMatchObject({ status: 'valid' });
    expect(await at(c.notAfter.getTime() + 2 * day)).toMatchObject({ status: 'expired', daysUntilExpiry: -2 });
    expect(await at(c.notBefore.getTime() - 1000)).toMatchObject({ status: 'not-yet-valid' });
  });

  it('flags the OpenSSL-made expired and not-yet-valid certificates', async () => {
    const expired = await loadCertificate({ pemFile: fixture('expired.pem') });
    expect(expired).toMatchObject({ status: 'expired', notAfter: new Date('2021-01-01T00:00:00Z') });
    expect(expired.daysUntilExpiry).toBeLessThan(0);
    expect(expired.warnings[0]).toMatch(/expired on 2021-01-01/);
    const notYet = await loadCertificate({ pemFile: fixture('notyet.pem') });
    expect(notYet).toMatchObject({ status: 'not-yet-valid', notBefore: new Date('2099-01-01T00:00:00Z') });
  });
});

describe('secrets stay secret', () => {
  it('JSON.stringify and util.inspect (even showHidden) never show the key', async () => {
    const c = await loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.enc.key'), passphrase: PASS });
    const keyBody = c.tls.key!.split('\n')[1]!;
    for (const text of [JSON.stringify(c), inspect(c), inspect(c, { showHidden: true, depth: 10, getters: true })]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(keyBody);
      expect(text).not.toContain(PASS);
      expect(text).toContain('rsa client');
    }
    expect(Object.keys(c)).not.toContain('tls');
    expect(Object.isFrozen(c.tls)).toBe(true);
  });
});

describe('loadCaBundle', () => {
  it('reads a PEM with several CA certificates', () => {
    const ca = loadCaBundle({ file: fixture('ca-chain.pem') });
    expect(ca.certificates.map((c) => c.commonName)).toEqual(['Test Intermediate CA', 'Test Root CA']);
    expect(ca.certificates.every((c) => c.isCA)).toBe(true);
    expect(ca.certificates[1]?.selfSigned).toBe(true);
    expect(ca.pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(ca.warnings).toEqual([]);
    expect(() => createSecureContext({ ca: ca.pem })).not.toThrow();
  });

  it('accepts one DER certificate, and warns about a non-CA certificate', () => {
    const der = loadCaBundle(readFixture('rsa.crt.der'));
    expect(der.certificates).toHaveLength(1);
    expect(der.warnings[0]).toMatch(/is not a CA certificate/);
  });

  it.each([
    ['an empty string', '', 'ERR_NO_CERTIFICATE'],
    ['a PKCS#7 bundle', () => readFixture('bundle.p7b'), 'ERR_UNSUPPORTED_FORMAT'],
    ['a missing file', { file: fixture('missing.pem') }, 'ERR_FILE_READ'],
    ['random bytes', Buffer.from('0102030405', 'hex'), 'ERR_UNSUPPORTED_FORMAT'],
  ])('rejects %s', (_n, input, code) => {
    const value = typeof input === 'function' ? input() : input;
    expect(() => loadCaBundle(value as never)).toThrow(expect.objectContaining({ code }));
  });
});

describe('a PFX whose contents are not encrypted (only its MAC uses the passphrase)', () => {
  it('loads with the passphrase; a wrong one is ERR_BAD_PASSPHRASE and none ERR_PASSPHRASE_REQUIRED, not a corrupted file', async () => {
    const pfx = readFixture('rsa.noenc.pfx');
    expect((await loadCertificate({ pfx, passphrase: PASS })).subject).toContain('CN=rsa client');
    await expect(loadCertificate({ pfx, passphrase: 'wrong' })).rejects.toMatchObject({ code: 'ERR_BAD_PASSPHRASE' });
    await expect(loadCertificate({ pfx })).rejects.toMatchObject({ code: 'ERR_PASSPHRASE_REQUIRED' });
    // A file whose MAC fails although the passphrase decrypts its contents is still a damaged file.
    await expect(loadCertificate({ pfxFile: fixture('rsa.badmac.pfx'), passphrase: PASS })).rejects.toMatchObject({ code: 'ERR_MALFORMED_PFX' });
  });
});

describe('keys that cannot sign a TLS handshake', () => {
  it.each(['x25519', 'x448'] as const)('%s: refused at load with ERR_UNSUPPORTED_FORMAT and the command that makes a key that signs', async (type) => {
    const { privateKey } = generateKeyPairSync(type as 'x25519');
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const err = await loadCertificate({ cert: readFixture('rsa.crt'), key }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_UNSUPPORTED_FORMAT', message: expect.stringContaining(`an ${type.toUpperCase()} key, which can agree on keys but not sign`) });
    expect((err as Error).message).toContain('openssl req -x509 -newkey ec');
  });
});

describe('an RSA key whose numbers do not hold together', () => {
  // As pyca's rsa-bad-1025-q-is-2.pem: n = 2p. `openssl pkey -check` calls it valid, Node loads it,
  // and every signature fails (no inverse): the handshake would fail at connect time.
  const modinv = (a: bigint, m: bigint): bigint => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return ((s0 % m) + m) % m;
  };
  const b64 = (x: bigint): string => Buffer.from(x.toString(16).padStart(Math.ceil(x.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
  const num = (s: string | undefined): bigint => BigInt(`0x${Buffer.from(s!, 'base64url').toString('hex')}`);

  function badPair(): { cert: string; key: string } {
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const k: Record<string, bigint> = { p: num(good.p), q: 2n, e: 65537n };
    k.n = k.p! * k.q!;
    k.d = modinv(k.e!, k.p! - 1n);
    k.dp = k.d % (k.p! - 1n);
    k.dq = 0n;
    k.qi = modinv(k.q!, k.p!);
    const key = createPrivateKey({ key: { kty: 'RSA', ...Object.fromEntries(Object.entries(k).map(([name, v]) => [name, b64(v)])) }, format: 'jwk' });
    const dir = mkdtempSync(join(tmpdir(), 'rsa-bad-'));
    writeFileSync(join(dir, 'pub.pem'), createPublicKey(key).export({ type: 'spki', format: 'pem' }));
    // The certificate for that public key, issued by the test CA (the key itself cannot sign a request).
    execFileSync('openssl', ['x509', '-new', '-force_pubkey', join(dir, 'pub.pem'), '-CA', fixture('ca.crt'), '-CAkey', fixture('ca.key'), '-subj', '/CN=bad-rsa', '-days', '30', '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: key.export({ type: 'pkcs1', format: 'pem' }) as string };
  }

  it('a prime factor of 2 (Node signs nothing with it): ERR_MALFORMED_KEY at load, naming the fault', async () => {
    const { cert, key } = badPair();
    // What happened before: it loaded, and failed at connect time (every signature fails).
    expect(() => sign('sha256', Buffer.from('handshake'), key)).toThrow(/no inverse/);
    const err = await caught(() => loadCertificate({ cert, key }));
    expect(err).toMatchObject({ code: 'ERR_MALFORMED_KEY', message: expect.stringContaining('fails its consistency check (a prime factor is 2 or even)') });
    expect(err.message).toContain('openssl req -x509 -newkey rsa:2048');
    expect(err.message).not.toContain('BEGIN');
  });

  it('every fixture RSA key passes the check (PEM, DER, PFX, encrypted)', async () => {
    for (const source of [{ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.key') }, { pfxFile: fixture('rsa.pfx'), passphrase: PASS }, { certFile: fixture('rsa.crt'), keyFile: fixture('rsa.enc.key'), passphrase: PASS }]) {
      await expect(loadCertificate(source)).resolves.toMatchObject({ keyType: 'rsa' });
    }
  });
});

describe('a CA bundle with a certificate this runtime cannot read', () => {
  it('keeps the others, with a warning; a bundle of nothing readable is still refused', () => {
    const unreadable = `-----BEGIN CERTIFICATE-----\n${Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const bundle = loadCaBundle(`${unreadable}${readFixture('ca.crt').toString()}`);
    expect(bundle.certificates.map((c) => c.subject)).toEqual([expect.stringContaining('Test Root CA')]);
    expect(bundle.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^Certificate 1 of the CA bundle could not be read .* left out; the others are used\.$/)]));
    expect(bundle.pem).not.toContain(unreadable.split('\n')[1]);
    expect(() => loadCaBundle(unreadable)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_CERTIFICATE' }));
  });
});

describe('extended key usage, read from the certificate itself', () => {
  it('agrees with what Node reports for every fixture (Deno reports the key usage there instead)', async () => {
    const { extendedKeyUsage } = await import('../../src/loader/extensions.js');
    for (const name of ['rsa.crt', 'ec256.crt', 'ed25519.crt', 'server.crt', 'other-server.crt', 'ca.crt', 'int.crt', 'expired.crt']) {
      const x509 = new X509Certificate(readFixture(name));
      expect(extendedKeyUsage(x509.raw), name).toEqual(x509.keyUsage);
    }
    expect(extendedKeyUsage(Buffer.from('not der'))).toBeUndefined();
  });
});

describe('a leaf without its intermediate', () => {
  it('loads with a warning that names the missing issuer; with its chain, or self-signed, no such warning', async () => {
    const leafOnly = await loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.key') });
    expect(leafOnly.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^The certificate's issuer \(".*CN=Test Intermediate CA"\) is not in the input: most servers need the intermediate certificates/)]));
    const withChain = await loadCertificate({ pemFile: fixture('rsa.pem') });
    expect(withChain.warnings.join('\n')).not.toContain('is not in the input');
    const selfSigned = await loadCertificate({ pemFile: fixture('ed25519.pem') });
    expect(selfSigned.warnings.join('\n')).not.toContain('is not in the input');
  });
});
