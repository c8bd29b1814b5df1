// node:https, as axios and got use it: TLS options for one request, or an Agent for many.
//   axios.get(url, { httpsAgent: agent })      got(url, { agent: { https: agent } })
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/https-request.ts
import * as https from 'node:https';
import { CertificateStore, createHttpsAgent, httpsRequestOptions, loadCaBundle, loadCertificate } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

const store = new CertificateStore();
store.add({ host: 'localhost', port: '*', certificate: await loadCertificate({ pemFile: `${dir}ed25519.pem` }) });
const ca = loadCaBundle({ file: `${dir}ca.crt` });

function get(options: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, options, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve((JSON.parse(body) as { subject: string }).subject));
      })
      .on('error', reject);
  });
}

// One request: spread the TLS fields (no agent of ours; Node's agent keys sockets by cert and key).
console.log(`options: server received ${await get({ ...httpsRequestOptions(store, url, { ca }), agent: false })}`);

// Many requests: an Agent that picks the certificate per request and keeps connections alive.
const agent = createHttpsAgent(store, { ca });
console.log(`agent: server received ${await get({ agent })}`);
agent.destroy();
