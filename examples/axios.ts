// axios with createHttpsAgent as its httpsAgent (axios runs on node:https).
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/axios.ts
import axios from 'axios';
import { CertificateStore, createHttpsAgent, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec256.pem` }) });

const agent = createHttpsAgent(store);
try {
  const { data } = await axios.get<{ subject: string }>(url, { httpsAgent: agent });
  console.log(`server received: ${data.subject}`);
} finally {
  agent.destroy();
}
