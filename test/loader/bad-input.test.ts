// The error contract: every bad input gets an MtlsError with a stable code and a message that says
// what to do, never the passphrase or key bytes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MtlsError, loadCertificate, readConfig, type CertificateSource } from '../../src/index.js';
import { PASS, fixture, readFixture } from '../helpers.js';

const pem = (name: string) => readFixture(name).toString();
const SECRET = 'S3cret-Passphrase!';

function corruptMac(): Buffer {
  return readFixture('rsa.badmac.pfx');
}
function brokenBase64(): string {
  const text = pem('rsa.pem');
  const i = text.indexOf('\n', text.indexOf('BEGIN CERTIFICATE')) + 10;
  return `${text.slice(0, i)}!@#$${text.slice(i + 4)}`;
}
function jks(): Buffer {
  return Buffer.concat([Buffer.from('feedfeed00000002', 'hex'), randomBytes(200)]);
}

const TABLE: Array<[string, () => CertificateSource, string, RegExp]> = [
  ['empty PEM string', () => ({ pem: '' }), 'ERR_NO_CERTIFICATE', /empty/],
  ['empty bytes', () => ({ pem: new Uint8Array(0) }), 'ERR_NO_CERTIFICATE', /empty/],
  ['whitespace only', () => ({ pem: ' \n\t ' }), 'ERR_NO_CERTIFICATE', /empty/],
  ['random bytes as PEM', () => ({ pem: randomBytes(512) }), 'ERR_UNSUPPORTED_FORMAT', /neither PEM nor DER/],
  ['random bytes as PFX', () => ({ pfx: randomBytes(512), passphrase: PASS }), 'ERR_MALFORMED_PFX', /could not be read/],
  ['random text', () => ({ pem: 'hello, I am not a certificate' }), 'ERR_UNSUPPORTED_FORMAT', /neither PEM/],
  ['truncated PEM', () => ({ pem: pem('rsa.pem').slice(0, 900) }), 'ERR_MALFORMED_CERTIFICATE', /truncated/],
  ['truncated key PEM', () => ({ cert: pem('rsa.crt'), key: pem('rsa.key').slice(0, 300) }), 'ERR_MALFORMED_KEY', /truncated/],
  ['PEM with broken base64', () => ({ pem: brokenBase64() }), 'ERR_MALFORMED_CERTIFICATE', /base64/],
  ['certificate body that is not X.509', () => ({ pem: `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a cert at all').toString('base64')}\n-----END CERTIFICATE-----\n${pem('rsa.key')}` }), 'ERR_MALFORMED_CERTIFICATE', /could not be parsed/],
  ['key body that is not a key', () => ({ cert: pem('rsa.crt'), key: `-----BEGIN PRIVATE KEY-----\n${Buffer.from('garbage garbage!').toString('base64')}\n-----END PRIVATE KEY-----\n` }), 'ERR_MALFORMED_KEY', /could not be read/],
  ['a certificate with no key (PEM)', () => ({ pemFile: fixture('rsa.crt') }), 'ERR_NO_PRIVATE_KEY', /no private key/],
  ['a certificate with no key (DER)', () => ({ pem: readFixture('rsa.crt.der') }), 'ERR_NO_PRIVATE_KEY', /no private key/],
  ['a key with no certificate', () => ({ pemFile: fixture('rsa.key') }), 'ERR_NO_CERTIFICATE', /no certificate/],
  ['cert + key where the key file holds a certificate', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.crt') }), 'ERR_NO_PRIVATE_KEY', /no private key/],
  ['missing passphrase (encrypted PKCS#8)', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.enc.key') }), 'ERR_PASSPHRASE_REQUIRED', /pass its passphrase/],
  ['missing passphrase (traditional encrypted PEM)', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.trad-enc.key') }), 'ERR_PASSPHRASE_REQUIRED', /passphrase/],
  ['missing passphrase (PFX)', () => ({ pfxFile: fixture('rsa.pfx') }), 'ERR_PASSPHRASE_REQUIRED', /passphrase/],
  ['wrong passphrase (encrypted PKCS#8)', () => ({ certFile: fixture('ec256.crt'), keyFile: fixture('ec256.enc.key'), passphrase: SECRET }), 'ERR_BAD_PASSPHRASE', /does not decrypt/],
  ['wrong passphrase (traditional PEM)', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.trad-enc.key'), passphrase: SECRET }), 'ERR_BAD_PASSPHRASE', /does not decrypt/],
  ['wrong passphrase (PFX)', () => ({ pfxFile: fixture('rsa.pfx'), passphrase: SECRET }), 'ERR_BAD_PASSPHRASE', /does not open/],
  ['wrong passphrase (legacy PFX)', () => ({ pfxFile: fixture('ec256.legacy.pfx'), passphrase: SECRET }), 'ERR_BAD_PASSPHRASE', /does not open/],
  ['mismatched key, same key type', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('other-rsa.key') }), 'ERR_KEY_MISMATCH', /does not belong.*openssl x509 -noout -pubkey/],
  ['mismatched key, EC certificate with an RSA key', () => ({ certFile: fixture('ec256.crt'), keyFile: fixture('rsa.key') }), 'ERR_KEY_MISMATCH', /not even the same key type/],
  ['mismatched key, P-256 certificate with a P-384 key', () => ({ certFile: fixture('ec256.crt'), keyFile: fixture('ec384.key') }), 'ERR_KEY_MISMATCH', /does not belong/],
  ['a CSR', () => ({ pemFile: fixture('request.csr.pem') }), 'ERR_UNSUPPORTED_FORMAT', /signing request \(CSR\)/],
  ['a public key where the private key belongs', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.pub.pem') }), 'ERR_NO_PRIVATE_KEY', /public key, but a private key is needed/],
  ['a PKCS#7 bundle (PEM)', () => ({ pemFile: fixture('bundle.p7b') }), 'ERR_UNSUPPORTED_FORMAT', /openssl pkcs7 -print_certs/],
  ['a PKCS#7 bundle (DER)', () => ({ pem: readFixture('bundle.p7b.der') }), 'ERR_UNSUPPORTED_FORMAT', /openssl pkcs7 -print_certs/],
  ['a Java keystore', () => ({ pfx: jks(), passphrase: PASS }), 'ERR_UNSUPPORTED_FORMAT', /keytool -importkeystore/],
  ['a Java keystore as PEM input', () => ({ pem: jks() }), 'ERR_UNSUPPORTED_FORMAT', /keytool/],
  ['a PFX with a corrupted MAC', () => ({ pfx: corruptMac(), passphrase: PASS }), 'ERR_MALFORMED_PFX', /integrity check \(MAC\) failed/],
  ['a truncated PFX', () => ({ pfx: readFixture('rsa.pfx').subarray(0, 700), passphrase: PASS }), 'ERR_MALFORMED_PFX', /could not be read/],
  ['a PEM passed as PFX', () => ({ pfx: readFixture('rsa.pem'), passphrase: PASS }), 'ERR_UNSUPPORTED_FORMAT', /load it as \{ pem \}/],
  ['a PFX passed as PEM', () => ({ pem: readFixture('rsa.pfx'), passphrase: PASS }), 'ERR_UNSUPPORTED_FORMAT', /load it as \{ pfx \}/],
  ['a file that does not exist', () => ({ pemFile: fixture('does-not-exist.pem') }), 'ERR_FILE_READ', /does not exist/],
  ['a directory', () => ({ pfxFile: fixture('') }), 'ERR_FILE_READ', /is a directory/],
  ['a key file that does not exist', () => ({ certFile: fixture('rsa.crt'), keyFile: fixture('nope.key') }), 'ERR_FILE_READ', /key file .*nope\.key/],
  ['input over the size limit', () => ({ pem: Buffer.alloc(4 * 1024 * 1024 + 1, 0x41) }), 'ERR_INPUT_TOO_LARGE', /over the limit of 4,194,304/],
  ['a source of no known shape', () => ({ certificate: 'x' }) as never, 'ERR_INVALID_OPTION', /must be one of/],
  ['a passphrase that is not a string', () => ({ pemFile: fixture('rsa.pem'), passphrase: 1234 }) as never, 'ERR_INVALID_OPTION', /passphrase must be a string/],
];

describe('bad input gives a clear MtlsError', () => {
  it('covers at least 25 cases', () => expect(TABLE.length).toBeGreaterThanOrEqual(25));

  it.each(TABLE)('%s -> %s', async (_name, source, code, message) => {
    const err = await loadCertificate(source()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MtlsError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    const text = `${(err as Error).message} ${String((err as Error).cause ?? '')}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PASS);
    expect(text).not.toMatch(/MII[A-Za-z0-9+/]{20}/); // no base64 DER (keys, certificates)
  });

  it('a size limit applies to files before they are read, and maxInputBytes can change it', async () => {
    await expect(loadCertificate({ pemFile: fixture('rsa.pem') }, { maxInputBytes: 100 })).rejects.toMatchObject({ code: 'ERR_INPUT_TOO_LARGE' });
    await expect(loadCertificate({ pem: pem('rsa.pem') }, { maxInputBytes: 100 })).rejects.toMatchObject({ code: 'ERR_INPUT_TOO_LARGE' });
    await expect(loadCertificate({ pemFile: fixture('rsa.pem') }, { maxInputBytes: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});

describe('fuzzing: any bytes give a LoadedCertificate or an MtlsError, nothing else', () => {
  const seeds = ['rsa.pem', 'ec256.pem', 'ed25519.pem', 'rsa.crt.der', 'rsa.key.der', 'rsa.enc.key', 'rsa.pfx', 'ec256.legacy.pfx', 'rsa.nopass.pfx'].map((n) => [n, readFixture(n)] as const);
  const mutation = fc.record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    edits: fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('cut' as const), at: fc.nat(), value: fc.nat() }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    as: fc.constantFrom('pem', 'pfx', 'key'),
  });

  function apply(input: Buffer, edits: Array<{ op: 'flip' | 'cut' | 'insert'; at: number; value: number }>): Buffer {
    let b = Buffer.from(input);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.op === 'flip') b[at] = e.value;
      else if (e.op === 'cut') b = b.subarray(0, at);
      else b = Buffer.concat([b.subarray(0, at), Buffer.from([e.value]), b.subarray(at)]);
    }
    return b;
  }

  /** A message or its inspection holds no passphrase and no run of base64 that could be key or certificate text. */
  function expectNothingSecret(err: MtlsError): void {
    for (const text of [err.message, inspect(err, { depth: 4 })]) {
      expect(text).not.toContain(PASS);
      expect(text).not.toMatch(/[A-Za-z0-9+/]{40,}/);
    }
  }

  /** Fails a run that takes longer than a generous bound (a hang, or unbounded work). */
  async function bounded<T>(run: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no result within 5 s: a hang or unbounded work')), 5000)));
    try {
      return await Promise.race([run, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function outcome(source: CertificateSource): Promise<void> {
    try {
      // Iteration counts are fuzzed too: a low limit keeps each run short (the limit has tests of its own).
      const c = await bounded(loadCertificate(source, { maxIterations: 20_000 }));
      expect(typeof c.fingerprint256).toBe('string');
    } catch (err) {
      if (!(err instanceof MtlsError)) throw new Error(`not an MtlsError: ${String(err)}`, { cause: err });
      expectNothingSecret(err);
    }
  }

  it('mutated valid files (10,000 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async ({ seed, edits, as }) => {
        const bytes = apply(seeds[seed]![1], edits);
        const source: CertificateSource =
          as === 'pem' ? { pem: bytes, passphrase: PASS } : as === 'pfx' ? { pfx: bytes, passphrase: PASS } : { cert: readFixture('rsa.crt'), key: bytes, passphrase: PASS };
        await outcome(source);
      }),
      { numRuns: 10_000, seed: 20 },
    );
  });

  it('mutated certs.json with an inline passphrase and a key path (2,000 runs): a config or an MtlsError that shows neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-fuzz-'));
    const file = join(dir, 'certs.json');
    const valid = JSON.stringify(
      { ca: [fixture('ca.crt')], certificates: [{ name: 'a', host: '*.acme.com', port: 8443, cert: fixture('rsa.crt'), key: fixture('rsa.enc.key'), passphrase: PASS }, { host: 'b.test', pfx: fixture('rsa.pfx'), passphraseEnv: 'MTLS_FUZZ_UNSET' }] },
      null,
      2,
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ op: fc.constantFrom('flip' as const, 'cut' as const, 'insert' as const), at: fc.nat(), value: fc.constantFrom(...[...'"\'{}[],: \n\\aZ0.-*'].map((c) => c.charCodeAt(0)), 0, 255) }), { minLength: 1, maxLength: 3 }), async (edits) => {
          writeFileSync(file, apply(Buffer.from(valid), edits));
          try {
            await bounded(readConfig(file, { maxIterations: 20_000 }));
          } catch (err) {
            if (!(err instanceof MtlsError)) throw new Error(`not an MtlsError: ${String(err)}`, { cause: err });
            expectNothingSecret(err);
            for (let i = 0; i + 6 <= PASS.length; i++) expect(err.message).not.toContain(PASS.slice(i, i + 6));
          }
        }),
        { numRuns: 2_000, seed: 20 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('random bytes and random text (2,000 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.string(), async (bytes, text) => {
        await outcome({ pem: bytes });
        await outcome({ pfx: bytes });
        await outcome({ pem: text });
        await outcome({ pem: `-----BEGIN CERTIFICATE-----\n${text}\n-----END CERTIFICATE-----` });
      }),
      { numRuns: 2_000 },
    );
  });
});
