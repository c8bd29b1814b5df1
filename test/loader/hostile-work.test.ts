// Inputs made to cost work: PFX iteration counts (in clear, so no password is needed to set them),
// a flood of PEM BEGIN lines, many certificates against many keys. Each is refused or loaded in
// bounded time, and an allowed high-iteration file loads without stalling the event loop. The
// times asserted are generous ceilings (the old code took seconds to days), not benchmarks.
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { loadCertificate, readConfig, type LoadedCertificate } from '../../src/index.js';
import { PASS, fixture, readFixture } from '../helpers.js';

/** The PFX with its MAC's iteration count set to `count` (re-encoded: the MAC itself is not recomputed). */
function withMacIterations(pfx: Buffer, count: bigint): Buffer {
  const root = forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary')));
  const macData = (root.value as forge.asn1.Asn1[])[2]!;
  let hex = count.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  (macData.value as forge.asn1.Asn1[])[2] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.util.hexToBytes(hex));
  return Buffer.from(forge.asn1.toDer(root).getBytes(), 'binary');
}

/** Every PBKDF2 and PKCS#12 iteration count of 2,048 (`02 02 08 00`) set to 32,767, lengths unchanged. */
function withInnerIterations(pfx: Buffer): Buffer {
  return Buffer.from(pfx.toString('hex').replaceAll('020208000', '02027fff0').replaceAll('02020800', '02027fff'), 'hex');
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T | undefined; error: unknown }> {
  const started = performance.now();
  try {
    const result = await run();
    return { ms: performance.now() - started, result, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, result: undefined, error };
  }
}

/** The longest time the event loop did not turn while `run` ran. */
async function longestStall<T>(run: () => Promise<T>): Promise<{ stall: number; result: T }> {
  let last = performance.now();
  let stall = 0;
  let on = true;
  const tick = () => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await run();
    await new Promise((resolve) => setImmediate(resolve)); // the tick after the load measures its last stretch
    return { stall, result };
  } finally {
    on = false;
  }
}

describe('PFX iteration counts', () => {
  it.each([
    ['10 million', 10_000_000n],
    ['2^31 - 1', 2n ** 31n - 1n],
    ['2^40', 2n ** 40n],
    ['2^64 - 1', 2n ** 64n - 1n],
  ])('a MAC of %s iterations is refused before any work', async (_, count) => {
    const pfx = withMacIterations(readFixture('rsa.pfx'), count);
    const { ms, error } = await timed(() => loadCertificate({ pfx, passphrase: PASS }));
    expect(error).toMatchObject({ code: 'ERR_TOO_MANY_ITERATIONS', message: expect.stringContaining('maxIterations') });
    expect(ms).toBeLessThan(1000); // 10 million took 8.3 s, 2^40 days
  });

  it('the limit is an option, and each KDF of the file is checked: MAC, encrypted parts, shrouded key', async () => {
    const pfx = readFixture('rsa.pfx');
    await expect(loadCertificate({ pfx, passphrase: PASS }, { maxIterations: 2048 })).resolves.toBeDefined();
    await expect(loadCertificate({ pfx, passphrase: PASS }, { maxIterations: 2047 })).rejects.toMatchObject({ code: 'ERR_TOO_MANY_ITERATIONS', message: expect.stringContaining('MAC') });
    // Only the encrypted parts and the key at 32,767 (the MAC still 2,048 and valid): refused at the first of them.
    const inner = withMacIterations(withInnerIterations(pfx), 2048n);
    const macOnly = readFixture('rsa.pfx').toString('hex').split('02020800').length;
    expect(inner.toString('hex').split('02027fff').length).toBeGreaterThan(1);
    expect(macOnly).toBeGreaterThan(2);
    await expect(loadCertificate({ pfx: inner, passphrase: PASS }, { maxIterations: 10_000 })).rejects.toMatchObject({ code: 'ERR_TOO_MANY_ITERATIONS', message: expect.stringMatching(/encrypted part|private key/) });
    await expect(loadCertificate({ pfx: readFixture('rsa.legacy.pfx'), passphrase: PASS }, { maxIterations: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('an encrypted PKCS#8 key over the limit is refused before OpenSSL runs its KDF', async () => {
    const { error } = await timed(() => loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.iter500k.enc.key'), passphrase: PASS }, { maxIterations: 100_000 }));
    expect(error).toMatchObject({ code: 'ERR_TOO_MANY_ITERATIONS', message: expect.stringContaining('encrypted private key') });
  });

  it('files of 500,000 iterations load, and the event loop keeps turning meanwhile', async () => {
    const expected = (await loadCertificate({ pemFile: fixture('rsa.pem') })).fingerprint256;
    for (const source of [
      { pfxFile: fixture('rsa.iter500k.pfx'), passphrase: PASS },
      { certFile: fixture('rsa.crt'), keyFile: fixture('rsa.iter500k.enc.key'), passphrase: PASS },
    ]) {
      const started = performance.now();
      const { stall, result } = await longestStall(() => loadCertificate(source));
      const elapsed = performance.now() - started;
      expect(result.fingerprint256).toBe(expected);
      // Loaded at once, the whole load is one stall (0.1 s for the key, 0.4 s for the PFX here).
      expect(stall).toBeLessThan(Math.max(60, elapsed / 3));
    }
    // A wrong passphrase is still a wrong passphrase.
    await expect(loadCertificate({ pfxFile: fixture('rsa.iter500k.pfx'), passphrase: 'wrong' })).rejects.toMatchObject({ code: 'ERR_BAD_PASSPHRASE' });
    await expect(loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.iter500k.enc.key'), passphrase: 'wrong' })).rejects.toMatchObject({ code: 'ERR_BAD_PASSPHRASE' });
  });
});

describe('PEM parsing and key pairing are linear', () => {
  it('4 MiB of BEGIN lines without an END: refused in well under 2 s (it took about 10 minutes)', async () => {
    const line = '-----BEGIN CERTIFICATE-----\n';
    const pem = line.repeat(Math.floor((4 * 1024 * 1024) / line.length));
    const { ms, error } = await timed(() => loadCertificate({ pem }));
    expect(error).toMatchObject({ code: 'ERR_MALFORMED_CERTIFICATE', message: expect.stringContaining('no END line') });
    expect(ms).toBeLessThan(2000);
    // BEGIN lines followed by one END at the very end, and END lines of another label.
    const mixed = `${line.repeat(50_000)}-----END CERTIFICATE-----\n`;
    expect((await timed(() => loadCertificate({ pem: mixed }))).error).toMatchObject({ code: 'ERR_MALFORMED_CERTIFICATE' });
    const ends = `${line}${'-----END X-----\n'.repeat(100_000)}`;
    const t = await timed(() => loadCertificate({ pem: ends }));
    expect(t.error).toMatchObject({ code: 'ERR_MALFORMED_CERTIFICATE' });
    expect(t.ms).toBeLessThan(2000);
  });

  it('a MiB of certificates with keys that belong to none: ERR_KEY_MISMATCH quickly (it took 23 s)', async () => {
    const cert = readFileSync(fixture('ec256.crt'), 'utf8');
    const certs = cert.repeat(Math.floor((1024 * 1024) / cert.length));
    const keys = ['rsa.key', 'ec384.key', 'ed25519.key', 'other-server.key'].map((f) => readFileSync(fixture(f), 'utf8'));
    const sixteen = Array.from({ length: 16 }, (_, i) => keys[i % keys.length]).join('');
    const { ms, error } = await timed(() => loadCertificate({ cert: certs, key: sixteen }));
    expect(error).toMatchObject({ code: 'ERR_KEY_MISMATCH' });
    expect(ms).toBeLessThan(5000);
    // More keys than any client certificate file holds: refused before one is parsed.
    const many = await timed(() => loadCertificate({ cert, key: keys[0]!.repeat(1000) }));
    expect(many.error).toMatchObject({ code: 'ERR_MALFORMED_KEY', message: expect.stringContaining('1000 private keys') });
    expect(many.ms).toBeLessThan(2000);
  });

  it('the right pair is still found among others, first key first, as before', async () => {
    const pem = ['ed25519.crt', 'rsa.crt', 'int.crt', 'ec256.crt', 'other-rsa.key', 'ec256.key', 'rsa.key'].map((f) => readFileSync(fixture(f), 'utf8')).join('');
    const loaded = await loadCertificate({ pem });
    expect(loaded.fingerprint256).toBe((await loadCertificate({ pemFile: fixture('ec256.pem') })).fingerprint256);
  });
});

describe('a lazy load presents what an eager one would', () => {
  const loadBoth = async (pem: string): Promise<[LoadedCertificate, LoadedCertificate]> => {
    const config = { certificates: [{ host: 'a.test', pem }] };
    const [eager, lazy] = await Promise.all([readConfig(config), readConfig(config, { lazy: true })]);
    return [eager.entries[0]!.certificate, lazy.entries[0]!.certificate];
  };

  it('an unrelated certificate before the leaf: the same leaf (loaded now), a plain chain stays lazy', async () => {
    const dir = `${fixture('')}`;
    const unrelatedFirst = `${dir}unrelated-first.pem`;
    const chain = `${dir}chain-lazy.pem`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(unrelatedFirst, ['ed25519.crt', 'rsa.crt', 'int.crt', 'rsa.key'].map((f) => readFileSync(fixture(f), 'utf8')).join(''));
    writeFileSync(chain, ['int.crt', 'rsa.crt', 'rsa.key'].map((f) => readFileSync(fixture(f), 'utf8')).join(''));
    const [eager, lazy] = await loadBoth(unrelatedFirst);
    expect(lazy.fingerprint256).toBe(eager.fingerprint256);
    expect(JSON.stringify(lazy)).not.toContain('"loaded":false');
    const [eagerChain, lazyChain] = await loadBoth(chain);
    expect(lazyChain.fingerprint256).toBe(eagerChain.fingerprint256);
    expect(JSON.stringify(lazyChain)).toContain('"loaded":false');
  });
});
