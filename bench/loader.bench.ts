// The loader against OpenSSL itself (tls.createSecureContext with the same file), in one process.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { loadCertificate, type CertificateSource } from '../src/index.js';
import { formatNs, median, table } from './util.js';

const PASS = 'correct horse';

export function fixtures(): string {
  const dir = fileURLToPath(new URL('../.tmp/bench-fixtures/', import.meta.url));
  if (!existsSync(`${dir}rsa.iter100k.pfx`)) {
    execFileSync('bash', [fileURLToPath(new URL('../test/fixtures/make-fixtures.sh', import.meta.url)), dir], { stdio: 'ignore' });
  }
  return dir;
}

async function timeAsync(calls: number, fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  return Number(process.hrtime.bigint() - start) / calls;
}

function timeSync(calls: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / calls;
}

export async function runLoaderBench(rounds = 7): Promise<string> {
  const dir = fixtures();
  const f = (name: string) => readFileSync(`${dir}${name}`);
  const cases: Array<{ name: string; calls: number; ours: CertificateSource; openssl: () => unknown }> = [
    { name: 'PEM cert + key (RSA)', calls: 60, ours: { cert: f('rsa.crt'), key: f('rsa.key') }, openssl: () => createSecureContext({ cert: f('rsa.crt'), key: f('rsa.key') }) },
    {
      name: 'encrypted PKCS#8 (RSA)',
      calls: 60,
      ours: { cert: f('rsa.crt'), key: f('rsa.enc.key'), passphrase: PASS },
      openssl: () => createSecureContext({ cert: f('rsa.crt'), key: f('rsa.enc.key'), passphrase: PASS }),
    },
    { name: 'PFX, OpenSSL 3 default', calls: 40, ours: { pfx: f('rsa.pfx'), passphrase: PASS }, openssl: () => createSecureContext({ pfx: f('rsa.pfx'), passphrase: PASS }) },
    {
      name: 'PFX made with -iter 100000',
      calls: 3,
      ours: { pfx: f('rsa.iter100k.pfx'), passphrase: PASS },
      openssl: () => createSecureContext({ pfx: f('rsa.iter100k.pfx'), passphrase: PASS }),
    },
    {
      // OpenSSL 3 refuses legacy PFX without its legacy provider: the baseline is the default PFX.
      name: 'legacy PFX (vs OpenSSL on the default PFX)',
      calls: 40,
      ours: { pfx: f('rsa.legacy.pfx'), passphrase: PASS },
      openssl: () => createSecureContext({ pfx: f('rsa.pfx'), passphrase: PASS }),
    },
  ];
  const ours = cases.map(() => [] as number[]);
  const theirs = cases.map(() => [] as number[]);
  for (const c of cases) await loadCertificate(c.ours); // warm up, and prove each case loads
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) {
      ours[i]!.push(await timeAsync(c.calls, () => loadCertificate(c.ours)));
      theirs[i]!.push(timeSync(c.calls, c.openssl));
    }
  }
  const rows = [['case', 'loadCertificate', 'OpenSSL (createSecureContext)', 'ratio']];
  for (const [i, c] of cases.entries()) {
    const a = median(ours[i]!);
    const b = median(theirs[i]!);
    rows.push([c.name, formatNs(a), formatNs(b), `${(a / b).toFixed(2)}x`]);
  }
  return `loader: loadCertificate vs tls.createSecureContext on the same file (median of ${rounds} interleaved rounds)\n${table(rows)}`;
}
