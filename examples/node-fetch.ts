// node-fetch with createHttpsAgent as its agent (node-fetch runs on node:https).
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/node-fetch.ts
import nodeFetch from 'node-fetch';
import { CertificateStore, createHttpsAgent, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec384.pem` }) });

const agent = createHttpsAgent(store);
try {
  const res = await nodeFetch(url, { agent });
  console.log(`server received: ${((await res.json()) as { subject: string }).subject}`);
} finally {
  agent.destroy();
}
