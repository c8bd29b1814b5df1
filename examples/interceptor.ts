// The interceptor, composed with undici's own: matching origins present their certificate,
// everything else goes through your Agent unchanged.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/interceptor.ts
import { Agent, interceptors, request } from 'undici';
import { CertificateStore, createInterceptor, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec384.pem` }) });

const mtls = createInterceptor(store, { ca: loadCaBundle({ file: `${dir}ca.crt` }) });
const agent = new Agent();
const client = agent.compose(interceptors.retry({ maxRetries: 2 }), mtls);
try {
  const { statusCode, body } = await request(url, { dispatcher: client });
  console.log(`status: ${statusCode}`);
  console.log(`server received: ${((await body.json()) as { subject: string }).subject}`);
} finally {
  await mtls.close();
  await agent.close();
}
