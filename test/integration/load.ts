// Requests for the tests under load: one request through an undici dispatcher or an https agent,
// and loops of them running until stopped.
import { request as httpsRequest, type Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { request, type Dispatcher } from 'undici';
import { CertificateStore, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { tenantCertificates, testCa } from '../helpers.js';
import { closingRoute, startMtlsServer, type Received, type TestServer } from './servers.js';

export const get = async (url: string, dispatcher: Dispatcher) => (await (await request(url, { dispatcher })).body.json()) as Received;
/** One `https.request`, answered by a test server with what it received. */
export function httpsGet(url: string, options: RequestOptions): Promise<Received> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as Received));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const getHttps = (url: string, agent: HttpsAgent) => httpsGet(url, { agent });

/** Requests running in a loop until stop(); counts what was served and what failed. */
export function underLoad(requests: Array<() => Promise<unknown>>) {
  let stop = false;
  const load = {
    failed: 0,
    served: 0,
    errors: [] as unknown[],
    stop: async () => {
      stop = true;
      await running;
    },
  };
  const running = Promise.all(
    requests.map(async (one) => {
      while (!stop) {
        await one().then(
          () => load.served++,
          (err: unknown) => {
            load.failed++;
            load.errors.push(err);
          },
        );
      }
    }),
  );
  return load;
}

/**
 * Tenants on one server that closes each connection after its answer (so that many origins leave
 * no idle sockets): `count` tenant certificates signed by a tenant CA, loaded, and a store with
 * tenant i at `t-{i}.mtls.test` on the server's port, trusting the test CA.
 */
export async function startTenants(count: number): Promise<{ server: TestServer; tenants: LoadedCertificate[]; store(): CertificateStore; url(i: number): string }> {
  const server = await startMtlsServer({ route: closingRoute });
  const { key, certs } = tenantCertificates(count);
  const tenants = await Promise.all(certs.map((cert) => loadCertificate({ cert, key })));
  return {
    server,
    tenants,
    store: () => {
      const store = new CertificateStore({ ca: testCa() });
      tenants.forEach((certificate, i) => store.add({ host: `t-${i}.mtls.test`, port: server.port, certificate }));
      return store;
    },
    url: (i) => `https://t-${i}.mtls.test:${server.port}/`,
  };
}

/** A store trusting the test CA, with `certificate` for localhost on any port. */
export function storeWith(certificate: LoadedCertificate, name?: string): CertificateStore {
  const store = new CertificateStore({ ca: testCa() });
  store.add({ host: 'localhost', port: '*', ...(name === undefined ? {} : { name }), certificate });
  return store;
}
