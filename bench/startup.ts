// One start-up of a 10,000-entry store, in a process of its own so that its heap is its own
// (run by `npm run bench -- startup`, bench/startup.bench.ts): prints one JSON line.
// argv: <dir> <eager|lazy> <distinct certificates>
import { readdirSync, statSync } from 'node:fs';
import { CertificateStore } from '../src/index.js';

const [dir, mode, distinctText] = process.argv.slice(2) as [string, string, string];
const distinct = Number(distinctText);
const entries = 10_000;
const config = {
  certificates: Array.from({ length: entries }, (_, i) => ({ host: `t-${i}.example.com`, cert: `${dir}t${i % distinct}.crt`, key: `${dir}t${i % distinct}.key` })),
};
// The raw PEM: every file the config names, once.
const raw = readdirSync(dir)
  .filter((f) => Number(/^t(\d+)\./.exec(f)?.[1] ?? Infinity) < distinct)
  .reduce((n, f) => n + statSync(dir + f).size, 0);
const gc = (globalThis as { gc?: () => void }).gc!;
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
};
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
await settle();
const before = used();
const start = performance.now();
const store = await CertificateStore.fromConfig(config, { lazy: mode === 'lazy', expiryWarningDays: 7 });
const startMs = performance.now() - start;
await settle();
const heap = used() - before;
const validateStart = performance.now();
await store.validate();
const validateMs = performance.now() - validateStart;
if (store.resolve('https://t-7.example.com/')?.entry.certificate.commonName !== `tenant-${7 % distinct}`) throw new Error('wrong certificate');
console.log(JSON.stringify({ startMs, validateMs, heap, raw }));
