// HTTP/2 through undici: allowH2 negotiates h2 (ALPN) and multiplexes the requests of each
// (origin, certificate) over one connection.
// Run: EXAMPLE_H2_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/undici-http2.ts
import { request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_H2_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ed25519.pem` }) });

const dispatcher = createDispatcher(store, { agentOptions: { allowH2: true } });
try {
  const answers = await Promise.all([1, 2, 3].map(async () => (await (await request(url, { dispatcher })).body.json()) as { subject: string; httpVersion: string }));
  for (const a of answers) console.log(`HTTP/${a.httpVersion}: server received ${a.subject}`);
} finally {
  await dispatcher.close();
}
