// Start-up of a 10,000-entry store from a config object: every certificate distinct against 100
// certificates shared by the entries (run: node --expose-gc --import tsx bench/startup.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { CertificateStore } from '../src/index.js';
import { tenantCertificates } from '../test/helpers.js';
const dir = `${process.env.TMPDIR ?? '/tmp'}/mtls-startup/`;
mkdirSync(dir, { recursive: true });
const { key, certs } = tenantCertificates(10000);
writeFileSync(dir + 'tenant.key', key);
certs.forEach((c, i) => writeFileSync(`${dir}t${i}.crt`, c));
const config = (distinct: number) => ({ certificates: Array.from({ length: 10000 }, (_, i) => ({ host: `t-${i}.example.com`, cert: `${dir}t${i % distinct}.crt`, key: `${dir}tenant.key` })) });
for (const distinct of [10000, 100, 10000, 100]) {
  globalThis.gc?.();
  const t = process.hrtime.bigint();
  const store = await CertificateStore.fromConfig(config(distinct));
  console.log(`10,000 entries, ${distinct} distinct certificates: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms (${store.size})`);
}
