// ky on top of createFetch: every request ky makes presents the resolved certificate.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/ky.ts
import ky from 'ky';
import { CertificateStore, createFetch, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}rsa.pem` }) });

const fetch = createFetch(store);
try {
  const api = ky.create({ prefixUrl: url, fetch });
  const seen = await api.get('orders').json<{ subject: string; path: string }>();
  console.log(`server received: ${seen.subject} at ${seen.path}`);
} finally {
  await fetch.close();
}
