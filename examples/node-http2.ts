// node:http2 directly: httpsRequestOptions gives the TLS fields for http2.connect.
// Run: EXAMPLE_H2_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/node-http2.ts
import * as http2 from 'node:http2';
import { CertificateStore, httpsRequestOptions, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_H2_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ec384.pem` }) });

const session = http2.connect(url, httpsRequestOptions(store, url));
try {
  const body = await new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': '/' });
    let data = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (data += chunk));
    stream.on('end', () => resolve(data));
    stream.on('error', reject);
    session.on('error', reject);
  });
  const seen = JSON.parse(body) as { subject: string; httpVersion: string };
  console.log(`HTTP/${seen.httpVersion}: server received ${seen.subject}`);
} finally {
  session.close();
}
