// Certificates from a secrets manager (Vault, AWS Secrets Manager, GCP Secret Manager...): fetch
// them on a timer, load them from memory, and swap the store's content in one step with replace().
// Unchanged certificates keep their id and their connections; a refresh that fails (the secrets
// manager is down, a certificate does not load) keeps the current ones.
// Run: EXAMPLE_URL=https://localhost:8443/ EXAMPLE_DIR=./certs/ npx tsx examples/secrets-manager.ts
import { readFile } from 'node:fs/promises';
import { CertificateStore, createFetch, loadCaBundle, loadCertificate, type StoreEntryInput } from 'mtls-resolver';

const url = process.env.EXAMPLE_URL ?? 'https://localhost:8443/';
const dir = process.env.EXAMPLE_DIR ?? './certs/';

interface Secret {
  name: string;
  host: string;
  port?: number | '*';
  certPem: string;
  keyPem: string;
}

// A stand-in for your secrets client, e.g. `await vault.read('pki/issue/client')` or
// `await client.send(new GetSecretValueCommand({ SecretId: 'mtls/client' }))`. Here the PEM files of
// EXAMPLE_DIR play the secrets manager: the certificate is renewed from the second call on.
let calls = 0;
async function fetchSecrets(): Promise<Secret[]> {
  const name = ++calls === 1 ? 'rsa' : 'ec256';
  const [certPem, keyPem] = await Promise.all([readFile(`${dir}${name}.crt`, 'utf8'), readFile(`${dir}${name}.key`, 'utf8')]);
  return [{ name: 'partner', host: 'localhost', port: '*', certPem, keyPem }];
}

/** Everything is fetched and loaded first: if one certificate fails, the store is not touched. */
async function refresh(store: CertificateStore): Promise<string> {
  const secrets = await fetchSecrets();
  const entries: StoreEntryInput[] = await Promise.all(
    secrets.map(async (s) => ({ name: s.name, host: s.host, ...(s.port === undefined ? {} : { port: s.port }), certificate: await loadCertificate({ cert: s.certPem, key: s.keyPem }) })),
  );
  const { added, removed, kept } = store.replace(entries);
  return `+${added.length} -${removed.length} kept ${kept.length}`;
}

const store = new CertificateStore({ ca: loadCaBundle({ file: `${dir}ca.crt` }) });
console.log(`refresh: ${await refresh(store)}`);

// In a service: every 10 minutes (unref'd, so that it does not keep the process alive).
const timer = setInterval(() => {
  refresh(store).then(
    (summary) => console.log(`refresh: ${summary}`),
    (err: Error) => console.error(`refresh failed, the current certificates stay: ${err.message}`),
  );
}, 10 * 60_000);
timer.unref();

const fetch = createFetch(store);
const seen = async () => ((await (await fetch(url)).json()) as { subject: string }).subject;
try {
  console.log(`server received: ${await seen()}`);
  console.log(`refresh: ${await refresh(store)}`); // renewed: the next request presents the new certificate
  console.log(`server received: ${await seen()}`);
  console.log(`refresh: ${await refresh(store)}`); // unchanged: nothing replaced, connections kept
} finally {
  clearInterval(timer);
  await fetch.close();
}
