// Certificate rotation: add the new certificate, remove the old one. Connections that used the
// old one are drained and closed; the next request presents the new one. Nothing is dropped.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/rotation.ts
import { CertificateStore, createFetch, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
const old = store.add({ host: 'localhost', port: '*', name: 'old', certificate: await loadCertificate({ pemFile: `${dir}rsa.pem` }) });
store.on('change', (change) => console.log(`change: ${change.type}`));

const fetch = createFetch(store, { ca: loadCaBundle({ file: `${dir}ca.crt` }) });
const seen = async () => ((await (await fetch(url)).json()) as { subject: string }).subject;
try {
  console.log(`before: ${await seen()}`);
  store.add({ host: 'localhost', port: '*', name: 'new', certificate: await loadCertificate({ pemFile: `${dir}ec256.pem` }) });
  store.remove(old.id);
  console.log(`after: ${await seen()}`);
} finally {
  await fetch.close();
}
