// nginx with `ssl_verify_client on` (a peer we did not write; the Debian package, installed by
// .ci/run) refuses a client certificate with an HTTP answer, not a TLS alert: it completes the
// handshake whatever it receives and answers 400 with its own page. So every adapter gets a
// response (no error to put the server's words in), the right certificate is the one that
// arrives, and the CLI, which reads the page, says what the refusal means.
import { get as httpsGet } from 'node:https';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, readFixture, testCa } from '../helpers.js';
import { runCli } from '../cli/run.js';
import { nginxInstalled, startNginx, type DaemonServer } from './servers.js';

// Skipped, saying so, where nginx is not installed (.ci/run installs it).
const installed = nginxInstalled();
let nginx: DaemonServer | undefined;
const certs: Record<string, LoadedCertificate> = {};
beforeAll(async () => {
  if (installed) nginx = await startNginx();
  [certs.good, certs.otherCa, certs.leafOnly, certs.expired] = await Promise.all([
    loadCertificate({ pemFile: fixture('rsa.pem') }), // with its intermediate
    loadCertificate({ certFile: fixture('other-server.crt'), keyFile: fixture('other-server.key') }),
    loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.key') }),
    loadCertificate({ cert: Buffer.concat([readFixture('expired.crt'), readFixture('int.crt')]), key: readFixture('expired.key') }),
  ]);
});
afterAll(async () => {
  await nginx?.close();
});

function storeWith(certificate: LoadedCertificate | undefined): CertificateStore {
  const store = new CertificateStore({ ca: testCa() });
  if (certificate !== undefined) store.add({ host: 'localhost', port: '*', certificate });
  return store;
}

/** Status and body of one request through each adapter (HTTP/1.1 and HTTP/2 for undici). */
async function answers(store: CertificateStore, url: string): Promise<Array<[string, number, string]>> {
  const options = { includeExpired: true };
  const h1 = createDispatcher(store, options);
  const h2 = createDispatcher(store, { ...options, agentOptions: { allowH2: true } });
  const fetch = createFetch(store, options);
  const agent = createHttpsAgent(store, options);
  try {
    const viaUndici = async (dispatcher: typeof h1): Promise<[number, string]> => {
      const res = await request(url, { dispatcher });
      return [res.statusCode, await res.body.text()];
    };
    const viaFetch = await fetch(url);
    const viaAgent = await new Promise<[number, string]>((resolve, reject) => {
      httpsGet(url, { agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve([res.statusCode ?? 0, body]));
      }).on('error', reject);
    });
    return [
      ['dispatcher, HTTP/1.1', ...(await viaUndici(h1))],
      ['dispatcher, allowH2', ...(await viaUndici(h2))],
      ['fetch', viaFetch.status, await viaFetch.text()],
      ['https agent', ...viaAgent],
    ];
  } finally {
    await Promise.all([h1.close(), h2.close(), fetch.close()]);
    agent.destroy();
  }
}

describe.skipIf(!installed)('nginx with ssl_verify_client on', () => {
  const url = () => `https://localhost:${nginx!.port}/`;

  it('the right certificate arrives on every adapter, HTTP/2 included', async () => {
    for (const [adapter, status, body] of await answers(storeWith(certs.good), url())) expect([adapter, status, body]).toEqual([adapter, 200, 'CN=rsa client,O=mtls-resolver tests,C=US\n']);
  });

  it.each([
    ['another CA', 'otherCa', 'The SSL certificate error'],
    ['a leaf without its intermediate', 'leafOnly', 'The SSL certificate error'],
    ['an expired certificate (includeExpired)', 'expired', 'The SSL certificate error'],
    ['no certificate', undefined, 'No required SSL certificate was sent'],
  ])('%s: 400 with nginx\'s page on every adapter', async (_, name, page) => {
    for (const [adapter, status, body] of await answers(storeWith(name === undefined ? undefined : certs[name]), url())) {
      expect([adapter, status, body.includes(page)]).toEqual([adapter, 400, true]);
    }
  });
});

describe.skipIf(!installed)('the CLI reads nginx\'s refusal', () => {
  const url = () => `https://localhost:${nginx!.port}/`;

  it('a refused certificate: named, with what to check; exit 22 with -f', async () => {
    const run = await runCli(['fetch', url(), '--cert', fixture('other-server.crt'), '--key', fixture('other-server.key'), '--cacert', fixture('ca.crt'), '-f']);
    expect(run.code).toBe(22);
    expect(run.stderr).toContain('the server says "The SSL certificate error": it refused');
    expect(run.stderr).toContain(certs.otherCa!.fingerprint256);
    expect(run.stderr).toContain('does not trust the certificate\'s issuer');
  });

  it('no certificate: says none was presented, and why (an expired entry skipped)', async () => {
    const run = await runCli(['fetch', url(), '--cert', fixture('expired.full.crt'), '--key', fixture('expired.key'), '--cacert', fixture('ca.crt')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No required SSL certificate was sent');
    expect(run.stderr).toMatch(/the server says "No required SSL certificate was sent": no client certificate was presented \(the entry .* matches but was skipped \(R6\): its certificate expired on \d{4}-.*--include-expired/);
  });

  it('an accepted certificate: nothing added', async () => {
    const run = await runCli(['fetch', url(), '--cert', fixture('rsa.pem'), '--key', fixture('rsa.key'), '--cacert', fixture('ca.crt')]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('the server says');
  });
});
