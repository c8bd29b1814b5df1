// The WHATWG WebSocket with the mTLS dispatcher: undici's WebSocket here; on Node 22+ the global
// WebSocket takes the same { dispatcher }.
// Run: EXAMPLE_WS_URL=wss://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/websocket.ts
import { WebSocket } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_WS_URL ?? 'wss://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec256.pem` }) });

const dispatcher = createDispatcher(store);
const ws = new WebSocket(url, { dispatcher });
try {
  const message = await new Promise<string>((resolve, reject) => {
    ws.addEventListener('message', (e) => resolve(String(e.data)));
    ws.addEventListener('error', () => reject(new Error('WebSocket error')));
  });
  console.log(`server received: ${(JSON.parse(message) as { subject: string }).subject}`);
} finally {
  ws.close();
  await dispatcher.close();
}
