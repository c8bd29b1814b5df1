// The README's Quick start, against the example server (`npx mtls-resolver example-server`): a PFX
// for one host pattern, a CRT + KEY for another host and port, and fetch presents the right one.
// Run: npx mtls-resolver example-server --dir ./certs   (then, in another shell)
//      EXAMPLE_DIR=./certs/ EXAMPLE_PASS='correct horse' npx tsx examples/quick-start.ts
import { CertificateStore, createFetch, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
store.add({ host: '*.acme.com', certificate: await loadCertificate({ pfxFile: `${dir}ec256.pfx`, passphrase: process.env.EXAMPLE_PASS }) });
store.add({ host: 'localhost', port: Number(new URL(url).port || 443), certificate: await loadCertificate({ certFile: `${dir}rsa.crt`, keyFile: `${dir}rsa.key` }) });

const fetch = createFetch(store, { ca: loadCaBundle({ file: `${dir}ca.crt` }) });
try {
  const res = await fetch(url); // presents the localhost certificate
  console.log(`status: ${res.status}`);
  console.log(`server received: ${((await res.json()) as { subject: string }).subject}`);
} finally {
  await fetch.close();
}
