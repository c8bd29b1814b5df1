// A certs.json file: certificates, CA and settings without code (see examples/certs.json).
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_CONFIG=./certs.json npx tsx examples/config-file.ts
import { CertificateStore, createFetch } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const store = await CertificateStore.fromConfig(process.env.EXAMPLE_CONFIG ?? new URL('./certs.json', import.meta.url).pathname);

for (const entry of store.list()) {
  console.log(`entry: ${entry.name ?? entry.id} for ${entry.host}${entry.port === undefined ? '' : `:${entry.port}`} (${entry.certificate.status})`);
}
console.log(`resolves to: ${store.resolve(url)?.entry.name ?? '(none)'}`);

const fetch = createFetch(store); // the config's "ca" and "rejectUnauthorized" are the defaults
try {
  const res = await fetch(url);
  console.log(`server received: ${((await res.json()) as { subject: string }).subject}`);
} finally {
  await fetch.close();
}
