// What the README documents, as a user's TypeScript sees it through the built package (compiled
// by test/package.test.ts against dist/ with the package's own exports). Not run: only typechecked.
import * as https from 'node:https';
import ky from 'ky';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, httpsRequestOptions, loadCertificate } from 'mtls-resolver';
import { createInterceptor } from 'mtls-resolver/adapter';
import { loadCaBundle } from 'mtls-resolver/loader';
import { createResolver } from 'mtls-resolver/resolver';

const store = new CertificateStore({ ca: loadCaBundle({ file: 'ca.pem' }) });
const agent = createHttpsAgent(store);

// The per-request `mtls` option of node https.
https.get('https://api.acme.com/', { agent, mtls: { select: 'ACME admin', rejectUnauthorized: true } }, (res) => res.resume());
// The runtime's fetch takes createDispatcher as its dispatcher.
await fetch('https://api.acme.com/', { dispatcher: createDispatcher(store) });
// ky takes createFetch as its fetch; per-request mtls options type-check on it.
const mtlsFetch = createFetch(store);
ky.create({ prefixUrl: 'https://api.acme.com/', fetch: mtlsFetch });
await mtlsFetch(new Request('https://api.acme.com/'), { mtls: { select: 'ACME admin' }, body: new FormData(), method: 'POST' });
// The options of httpsRequestOptions fit an https.Agent and a request.
new https.Agent(httpsRequestOptions(store, 'https://api.acme.com/'));
https.request('https://api.acme.com/', { ...httpsRequestOptions(store, 'https://api.acme.com/'), method: 'POST' });
createInterceptor(store);
createResolver([{ id: 'a', host: 'api.acme.com', order: 1, certificate: null }]);

await loadCertificate({ pemFile: 'client.pem' });
await loadCertificate({ certFile: 'client.crt', keyFile: 'client.key', passphrase: 'x' });
// @ts-expect-error a PEM file and a key file are not a source: give certFile + keyFile, or pemFile alone
await loadCertificate({ pemFile: 'client.pem', keyFile: 'client.key' });
// @ts-expect-error the mtls option takes select and rejectUnauthorized only
https.get('https://api.acme.com/', { agent, mtls: { cert: 'x' } });
