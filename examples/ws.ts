// The ws package with createHttpsAgent: the WebSocket handshake presents the resolved certificate.
// Run: EXAMPLE_WS_URL=wss://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/ws.ts
import { WebSocket } from 'ws';
import { CertificateStore, createHttpsAgent, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_WS_URL ?? 'wss://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}rsa.pem` }) });

const agent = createHttpsAgent(store);
const ws = new WebSocket(url, { agent });
try {
  const message = await new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => resolve(String(data)));
    ws.once('error', reject);
  });
  console.log(`server received: ${(JSON.parse(message) as { subject: string }).subject}`);
} finally {
  ws.close();
  agent.destroy();
}
