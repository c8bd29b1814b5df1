// fetch with a certificate store: the request presents the certificate the store resolves.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/fetch.ts
import { CertificateStore, createFetch, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
store.add({ host: 'localhost', port: '*', name: 'lab', certificate: await loadCertificate({ pemFile: `${dir}rsa.pem` }) });
store.add({ host: '*.acme.com', certificate: await loadCertificate({ pfxFile: `${dir}ec256.pfx`, passphrase: process.env.EXAMPLE_PASS }) });

const fetch = createFetch(store, { ca: loadCaBundle({ file: `${dir}ca.crt` }) });
try {
  const res = await fetch(url);
  const seen = (await res.json()) as { subject: string | null };
  console.log(`status: ${res.status}`);
  console.log(`server received: ${seen.subject}`);
} finally {
  await fetch.close();
}
