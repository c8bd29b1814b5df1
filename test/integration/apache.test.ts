// Apache httpd asking for the client certificate per location, after the handshake (a peer we did
// not write; the Debian package, installed by .ci/run): TLS 1.2 renegotiates and works on every
// adapter; TLS 1.3 needs post-handshake authentication, which Node does not offer (403) until the
// entry caps the origin at TLS 1.2; HTTP/2 cannot renegotiate, and the HTTP_1_1_REQUIRED answer
// is followed by the same request over HTTP/1.1.
import { get as httpsGet } from 'node:https';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { startApache, type ApacheServer } from './servers.js';

let tls12: ApacheServer | undefined;
let tls13: ApacheServer | undefined;
let cert: LoadedCertificate;
beforeAll(async () => {
  [tls12, tls13, cert] = await Promise.all([startApache({ tls: '1.2', h2: true }), startApache({ tls: '1.2+1.3', h2: true }), loadCertificate({ pemFile: fixture('rsa.pem') })]);
});
afterAll(async () => {
  await Promise.all([tls12?.close(), tls13?.close()]);
});

function store(maxVersion?: 'TLSv1.2'): CertificateStore {
  const s = new CertificateStore({ ca: testCa() });
  s.add({ host: 'localhost', port: '*', certificate: cert, ...(maxVersion === undefined ? {} : { maxVersion }) });
  return s;
}

/** Status and the CN Apache saw, through the dispatcher (h1 and h2 offered), fetch with h2, and the https agent. */
async function statuses(server: ApacheServer, s: CertificateStore): Promise<Array<[string, number, string | undefined]>> {
  const url = `https://localhost:${server.port}/secure/ok.txt`;
  const h1 = createDispatcher(s);
  const h2 = createDispatcher(s, { agentOptions: { allowH2: true } });
  const fetch = createFetch(s, { agentOptions: { allowH2: true } });
  const agent = createHttpsAgent(s);
  try {
    const viaUndici = async (dispatcher: typeof h1) => {
      const res = await request(url, { dispatcher });
      await res.body.text();
      return [res.statusCode, res.headers['x-client-cn'] as string | undefined] as const;
    };
    const viaFetch = await fetch(url);
    await viaFetch.text();
    const viaAgent = await new Promise<[number, string | undefined]>((resolve, reject) => {
      httpsGet(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve([res.statusCode ?? 0, res.headers['x-client-cn'] as string | undefined]));
      }).on('error', reject);
    });
    return [
      ['dispatcher, HTTP/1.1', ...(await viaUndici(h1))],
      ['dispatcher, allowH2', ...(await viaUndici(h2))],
      ['fetch, allowH2', viaFetch.status, viaFetch.headers.get('x-client-cn') ?? undefined],
      ['https agent', ...viaAgent],
    ];
  } finally {
    await Promise.all([h1.close(), h2.close(), fetch.close()]);
    agent.destroy();
  }
}

describe('Apache with SSLVerifyClient require in a <Location>', () => {
  it('TLS 1.2: renegotiation presents the certificate on every adapter, HTTP/2 included (retried over HTTP/1.1)', async (ctx) => {
    if (tls12 === undefined) return ctx.skip(); // apache2 is not installed here (.ci/run installs it)
    for (const [adapter, status, cn] of await statuses(tls12, store())) expect([adapter, status, cn]).toEqual([adapter, 200, 'rsa client']);
  });

  it('TLS 1.3: 403 (no post-handshake authentication in Node); with the entry capped at TLS 1.2, 200 everywhere', async (ctx) => {
    if (tls13 === undefined) return ctx.skip();
    for (const [adapter, status] of await statuses(tls13, store())) expect([adapter, status]).toEqual([adapter, 403]);
    for (const [adapter, status, cn] of await statuses(tls13, store('TLSv1.2'))) expect([adapter, status, cn]).toEqual([adapter, 200, 'rsa client']);
  });
});
