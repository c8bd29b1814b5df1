// One adversarial input, in a process of its own (see hostile.bench.ts): prints
// { ms, stall, outcome } as JSON. `MTLS_SRC` names the library to measure (default: this checkout's
// src), so that an older checkout can be measured with the same inputs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import forge from 'node-forge';

const [name = '', fixtures = ''] = process.argv.slice(2);
const src = process.env.MTLS_SRC ?? new URL('../src/index.ts', import.meta.url).pathname;
const lib = (await import(pathToFileURL(resolve(src)).href)) as typeof import('../src/index.js');
const PASS = 'correct horse';
const fx = (f: string) => readFileSync(join(fixtures, f));

function withMacIterations(pfx: Buffer, count: bigint): Buffer {
  const root = forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary')));
  let hex = count.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  ((root.value as forge.asn1.Asn1[])[2]!.value as forge.asn1.Asn1[])[2] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.util.hexToBytes(hex));
  return Buffer.from(forge.asn1.toDer(root).getBytes(), 'binary');
}

const line = '-----BEGIN CERTIFICATE-----\n';
const flood = (bytes: number) => line.repeat(Math.floor(bytes / line.length));
const certs = (bytes: number) => fx('ec256.crt').toString().repeat(Math.floor(bytes / fx('ec256.crt').length));
const keys = ['rsa.key', 'ec384.key', 'ed25519.key', 'other-server.key'];
const keyText = (n: number) => Array.from({ length: n }, (_, i) => fx(keys[i % keys.length]!).toString()).join('');
const glob = '*a*a*a*a*a*a*c*.b.acme.com';

const cases: Record<string, () => unknown> = {
  'pem-flood-512k': () => lib.loadCertificate({ pem: flood(512 * 1024) }),
  'pem-flood-4m': () => lib.loadCertificate({ pem: flood(4 * 1024 * 1024 - 64) }),
  'pair-1m-certs-16-keys': () => lib.loadCertificate({ cert: certs(1024 * 1024), key: keyText(16) }),
  // Small keys make many: about 4,000 Ed25519 keys against 750 certificates.
  'pair-512k-certs-512k-keys': () => lib.loadCertificate({ cert: certs(512 * 1024), key: fx('ed25519.key').toString().repeat(Math.floor((512 * 1024) / fx('ed25519.key').length)) }),
  'pfx-1m-valid': () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-bench-'));
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', join(fixtures, 'rsa.key'), '-in', join(fixtures, 'rsa.crt'), '-iter', '1000000', '-passout', `pass:${PASS}`, '-out', join(dir, 'a.pfx')]);
    const pfx = readFileSync(join(dir, 'a.pfx'));
    started = last = performance.now(); // not the file's making
    return lib.loadCertificate({ pfx, passphrase: PASS });
  },
  'pfx-mac-10m': () => lib.loadCertificate({ pfx: withMacIterations(fx('rsa.pfx'), 10_000_000n), passphrase: PASS }),
  'pfx-mac-2^31-1': () => lib.loadCertificate({ pfx: withMacIterations(fx('rsa.pfx'), 2n ** 31n - 1n), passphrase: PASS }),
  'pfx-mac-2^40': () => lib.loadCertificate({ pfx: withMacIterations(fx('rsa.pfx'), 2n ** 40n), passphrase: PASS }),
  'glob-60': () => lib.createResolver([{ id: 'g', host: glob, order: 1, certificate: 1 }]).resolve(`https://${'a'.repeat(60)}.b.acme.com/`),
  'glob-120': () => lib.createResolver([{ id: 'g', host: glob, order: 1, certificate: 1 }]).resolve(`https://${'a'.repeat(120)}.b.acme.com/`),
};

const run = cases[name];
if (run === undefined) throw new Error(`unknown case ${name}: ${Object.keys(cases).join(', ')}`);
let last = performance.now();
let stall = 0;
let ticking = true;
const tick = () => {
  const now = performance.now();
  stall = Math.max(stall, now - last);
  last = now;
  if (ticking) setImmediate(tick);
};
let started = performance.now();
last = started;
setImmediate(tick);
let outcome: string;
try {
  const result = await run();
  outcome = result === undefined ? 'no match' : 'loaded';
} catch (err) {
  outcome = (err as { code?: string }).code ?? String(err);
}
const ms = performance.now() - started;
await new Promise((r) => setImmediate(r));
ticking = false;
console.log(JSON.stringify({ ms, stall: Math.min(stall, ms), outcome }));
