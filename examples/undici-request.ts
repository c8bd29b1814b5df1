// undici's request() with the mTLS dispatcher (an undici Agent).
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/undici-request.ts
import { request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ certFile: `${dir}ec256.crt`, keyFile: `${dir}ec256.key` }) });

const dispatcher = createDispatcher(store, {
  ca: loadCaBundle({ file: `${dir}ca.crt` }),
  onSelect: (e) => console.log(`selected: ${e.entryId} for ${e.origin} (${e.reason})`),
});
try {
  const { statusCode, body } = await request(url, { dispatcher });
  const seen = (await body.json()) as { subject: string | null };
  console.log(`status: ${statusCode}`);
  console.log(`server received: ${seen.subject}`);
} finally {
  await dispatcher.close();
}
