// got with createHttpsAgent as its https agent.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/got.ts
import { got } from 'got';
import { CertificateStore, createHttpsAgent, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ed25519.pem` }) });

const agent = createHttpsAgent(store);
try {
  const seen = await got(url, { agent: { https: agent } }).json<{ subject: string }>();
  console.log(`server received: ${seen.subject}`);
} finally {
  agent.destroy();
}
