// The runtime's own fetch with the mTLS dispatcher: fetch(url, { dispatcher }).
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/global-fetch.ts
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec384.pem` }) });

const dispatcher = createDispatcher(store);
try {
  const res = await fetch(url, { dispatcher });
  console.log(`server received: ${((await res.json()) as { subject: string }).subject}`);
} finally {
  await dispatcher.close();
}
