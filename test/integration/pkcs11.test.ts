// Keys on a token (PKCS#11), with SoftHSM2 as the token (Debian packages softhsm2, opensc,
// libengine-pkcs11-openssl and gnutls-bin; .ci/run installs them): RSA and EC keys generated on
// the token, never extractable, their certificates issued by the test intermediate CA; real mTLS
// servers (node and `openssl s_server`) report the certificate they received through every adapter.
// The engine caches a login for the process: the wrong-PIN test runs before any successful one.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request as httpsRequest } from 'node:https';
import { inspect } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createHttpsAgent, createInterceptor, httpsRequestOptions, loadCertificate, readConfig, watchConfig, type LoadedCertificate } from '../../src/index.js';
import { secureContextsMade } from '../../src/adapter/contexts.js';
import { caught, fixture, testCa } from '../helpers.js';
import { makeSoftHsmToken, softHsmMissing, type SoftHsmToken } from '../softhsm.js';
import { runCli } from '../cli/run.js';
import { clientSubjectOnPage, fingerprintOf, startMtlsServer, startNodeProxy, startOpensslServer, type OpensslServer, type Received, type TestServer } from './servers.js';
import { getHttps, underLoad } from './load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const missing = softHsmMissing();
const available = missing === undefined;
if (!available) console.warn(`[pkcs11.test] skipped: not installed here: ${missing} (.ci/run installs them)`);

let token: SoftHsmToken;
let PIN = '';
const uri = (object: string) => token.uri(object);
const chain: Record<string, string> = {};
let dir = '';

beforeAll(() => {
  if (!available) return;
  token = makeSoftHsmToken();
  PIN = token.pin;
  for (const name of ['rsa', 'ec', 'other']) chain[name] = token.chain(name);
  dir = dirname(token.chainFile('rsa'));
});

/**
 * A load in a process of its own: what the engine prints there (its stderr) is checked too, and
 * its login cache starts empty.
 */
async function loadInChild(source: Record<string, string>): Promise<{ code?: string; message?: string; stderr: string }> {
  const script = `import { loadCertificate } from ${JSON.stringify(join(root, 'src', 'index.ts'))};
try { await loadCertificate(${JSON.stringify(source)}); console.log(JSON.stringify({ code: 'loaded' })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: process.env, timeout: 60_000 });
  return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as { code?: string; message?: string }), stderr };
}

describe.skipIf(!available)('errors, before any login succeeds', () => {
  it('a wrong PIN: ERR_BAD_PIN, not retried, the PIN in no message and not in what the engine prints', async () => {
    const run = await loadInChild({ certFile: join(dir, 'rsa.full.crt'), key: uri('rsa'), pin: '00000000' });
    expect(run).toMatchObject({ code: 'ERR_BAD_PIN', message: expect.stringContaining('It is not tried again') });
    expect(run.stderr).toContain('Login failed'); // libp11 prints the URI it was given...
    expect(`${run.message}${run.stderr}`).not.toContain('00000000'); // ...which holds no PIN
  });

  it('no PIN: ERR_PIN_REQUIRED before the token is asked (it would prompt on the terminal)', async () => {
    const err = await caught(() => loadCertificate({ certFile: join(dir, 'rsa.full.crt'), key: uri('rsa') }));
    expect(err).toMatchObject({ code: 'ERR_PIN_REQUIRED', message: expect.stringContaining('pass its PIN as pin') });
  });

  it('a token or object that does not exist: ERR_PKCS11_NOT_FOUND with the command that lists them; the right PIN printed nowhere', async () => {
    for (const key of [uri('nope'), 'pkcs11:token=no-such-token;object=rsa;type=private']) {
      const run = await loadInChild({ certFile: join(dir, 'rsa.full.crt'), key, pin: PIN });
      expect(run).toMatchObject({ code: 'ERR_PKCS11_NOT_FOUND', message: expect.stringContaining('p11tool --list-all-privkeys') });
      // libp11 prints "The private key was not found at: <the URI>": with the PIN in the URI, this printed it.
      expect(`${run.message}${run.stderr}`).not.toContain(PIN);
    }
  });

  it('a key that is not the certificate\'s (same type and another): ERR_KEY_MISMATCH, found by a signature', async () => {
    for (const [cert, key] of [['rsa', 'other'], ['ec', 'rsa']] as const) {
      const err = await caught(() => loadCertificate({ certFile: join(dir, `${cert}.full.crt`), key: uri(key), pin: PIN }));
      expect(err, `${cert} with ${key}`).toMatchObject({ code: 'ERR_KEY_MISMATCH', message: expect.stringContaining(`does not belong to the certificate "CN=token ${cert}"`) });
    }
  });

  it('a URI that is not one: ERR_INVALID_OPTION', async () => {
    const err = await caught(() => loadCertificate({ certFile: join(dir, 'rsa.full.crt'), key: 'pkcs11:token=a b', pin: PIN }));
    expect(err.code).toBe('ERR_INVALID_OPTION');
  });
});

describe.skipIf(!available)('a certificate whose key is on the token', () => {
  let rsa: LoadedCertificate;
  let ec: LoadedCertificate;
  let server: TestServer;
  let openssl: OpensslServer;
  beforeAll(async () => {
    [rsa, ec, server, openssl] = await Promise.all([
      loadCertificate({ certFile: join(dir, 'rsa.full.crt'), key: uri('rsa'), pin: PIN }),
      loadCertificate({ cert: chain.ec!, key: `${uri('ec')}?pin-value=${PIN}` }),
      startMtlsServer(),
      startOpensslServer(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), openssl?.close()]);
  });

  it('loads like any other: facts, status, chain; the URI without the PIN; no PIN in inspect or JSON', () => {
    expect(rsa).toMatchObject({ format: 'pkcs11', subject: 'CN=token rsa', keyType: 'rsa', status: 'valid', pkcs11: { uri: uri('rsa'), token: 'mtls-test', object: 'rsa' } });
    expect(rsa.chain).toHaveLength(2);
    expect(ec).toMatchObject({ keyType: 'ec', pkcs11: { uri: uri('ec') } });
    for (const c of [rsa, ec]) {
      const shown = `${JSON.stringify(c)}${inspect(c, { showHidden: true, depth: 10, getters: true })}${JSON.stringify(c.tls)}`;
      expect(shown).not.toContain(PIN);
      expect(shown).not.toContain('pin-value');
    }
    expect(rsa.tls).toEqual({ cert: chain.rsa, privateKeyEngine: 'pkcs11', privateKeyIdentifier: uri('rsa') });
  });

  it('the certificate read from the token itself when none is given', async () => {
    const fromToken = await loadCertificate({ key: uri('rsa'), pin: PIN });
    expect(fromToken).toMatchObject({ fingerprint256: rsa.fingerprint256, format: 'pkcs11' });
  });

  it('every adapter presents it (undici HTTP/1.1 and h2, fetch, interceptor, https agent, httpsRequestOptions), to node and to openssl s_server', async () => {
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: '*', certificate: rsa });
    const url = server.url('localhost');
    const dispatcher = createDispatcher(store);
    const h2 = createDispatcher(store, { agentOptions: { allowH2: true } });
    const fetch = createFetch(store);
    const composed = new Agent().compose(createInterceptor(store));
    const agent = createHttpsAgent(store);
    try {
      const seen: Array<[string, Received]> = [];
      const json = async (res: { body: { json(): Promise<unknown> } }) => (await res.body.json()) as Received;
      seen.push(['dispatcher', await json(await request(url, { dispatcher }))]);
      seen.push(['dispatcher h2', await json(await request(url, { dispatcher: h2 }))]);
      seen.push(['fetch', (await (await fetch(url)).json()) as Received]);
      seen.push(['interceptor', await json(await request(url, { dispatcher: composed }))]);
      seen.push(['https agent', await getHttps(url, agent)]);
      const viaOptions = await new Promise<Received>((resolve, reject) => {
        httpsRequest(url, httpsRequestOptions(store, url), (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(JSON.parse(body) as Received));
        })
          .on('error', reject)
          .end();
      });
      seen.push(['httpsRequestOptions', viaOptions]);
      for (const [adapter, received] of seen) expect([adapter, received.fingerprint256, received.authorized]).toEqual([adapter, rsa.fingerprint256, true]);
      const page = await (await fetch(`https://localhost:${openssl.port}/`)).text();
      expect(clientSubjectOnPage(page)).toBe('CN=token rsa');
    } finally {
      await Promise.all([dispatcher.close(), h2.close(), fetch.close(), composed.close()]);
      agent.destroy();
    }
  });

  it('one secure context per certificate and trust, reused by every request (one login, not one per request)', async () => {
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: '*', certificate: ec });
    const fetch = createFetch(store, { agentOptions: { pipelining: 0 } });
    try {
      const before = secureContextsMade();
      for (let i = 0; i < 20; i++) await (await fetch(server.url('localhost'))).json();
      expect(secureContextsMade() - before).toBe(1);
    } finally {
      await fetch.close();
    }
  });

  it('certs.json: "key": "pkcs11:..." with "pinEnv"; an inline PIN is taken with a warning; the PIN in no warning', async () => {
    process.env.MTLS_TEST_PIN = PIN;
    const config = await readConfig({ certificates: [{ host: 'localhost', port: '*', cert: join(dir, 'rsa.full.crt'), key: uri('rsa'), pinEnv: 'MTLS_TEST_PIN' }, { host: 'other.test', key: uri('ec'), cert: join(dir, 'ec.full.crt'), pin: PIN }] }, { lazy: true });
    expect(config.entries.map((e) => e.certificate.fingerprint256)).toEqual([rsa.fingerprint256, ec.fingerprint256]);
    expect(config.warnings.join('\n')).toMatch(/"pin": an inline PIN ends up wherever this file goes/);
    expect(config.warnings.join('\n')).not.toContain(PIN);
    const err = await caught(() => readConfig({ certificates: [{ host: 'localhost', key: uri('nope'), cert: join(dir, 'rsa.full.crt'), pinEnv: 'MTLS_TEST_PIN' }] }));
    expect(err).toMatchObject({ code: 'ERR_PKCS11_NOT_FOUND', location: { entry: 0, field: 'key' } });
    const store = await CertificateStore.fromConfig({ certificates: [{ host: 'localhost', port: '*', cert: join(dir, 'rsa.full.crt'), key: uri('rsa'), pinEnv: 'MTLS_TEST_PIN' }], ca: fixture('ca.crt') });
    const fetch = createFetch(store);
    try {
      expect(((await (await fetch(server.url('localhost'))).json()) as Received).fingerprint256).toBe(rsa.fingerprint256);
    } finally {
      await fetch.close();
    }
  });

  it('rotation from the token key to a file key and back under load loses no request', async () => {
    const file = await loadCertificate({ pemFile: fixture('rsa.pem') });
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: '*', certificate: rsa, id: 'client' });
    const agent = createHttpsAgent(store);
    const fetch = createFetch(store);
    try {
      const url = server.url('localhost');
      const seen = new Set<string>();
      const load = underLoad([async () => seen.add(((await (await fetch(url)).json()) as Received).fingerprint256!), async () => seen.add((await getHttps(url, agent)).fingerprint256!)]);
      for (const next of [file, rsa, file, rsa]) {
        await new Promise((r) => setTimeout(r, 40));
        store.replace([{ host: 'localhost', port: '*', certificate: next, id: 'client' }]);
      }
      await load.stop();
      expect(load.errors).toEqual([]);
      expect(load.served).toBeGreaterThan(10);
      expect(seen).toEqual(new Set([rsa.fingerprint256, file.fingerprint256]));
      expect(((await (await fetch(url)).json()) as Received).fingerprint256).toBe(rsa.fingerprint256);
    } finally {
      agent.destroy();
      await fetch.close();
    }
  });

  it('through an HTTP proxy (CONNECT): the dispatcher and the https agent present the token\'s certificate inside the tunnel', async () => {
    const proxy = await startNodeProxy();
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: '*', certificate: rsa });
    const dispatcher = createDispatcher(store, { proxy: proxy.url });
    const agent = createHttpsAgent(store, { proxy: proxy.url });
    try {
      const url = server.url('localhost');
      expect(((await (await request(url, { dispatcher })).body.json()) as Received).fingerprint256).toBe(rsa.fingerprint256);
      expect((await getHttps(url, agent)).fingerprint256).toBe(rsa.fingerprint256);
      expect(proxy.connects).toEqual([`localhost:${server.port}`, `localhost:${server.port}`]);
    } finally {
      await dispatcher.close();
      agent.destroy();
      await proxy.close();
    }
  });

  it('watchConfig: a certs.json with a token key loads, and a rewrite to a file key is taken on reload (and back)', async () => {
    process.env.MTLS_TEST_PIN = PIN;
    const file = join(dir, 'watched.json');
    const tokenEntry = { host: 'localhost', port: '*', cert: join(dir, 'rsa.full.crt'), key: uri('rsa'), pinEnv: 'MTLS_TEST_PIN' };
    const fileEntry = { host: 'localhost', port: '*', pem: fixture('ec256.pem') };
    writeFileSync(file, JSON.stringify({ ca: fixture('ca.crt'), certificates: [tokenEntry] }));
    const watcher = await watchConfig(file, { debounceMs: 50 });
    const fetch = createFetch(watcher.store);
    const reloaded = () => new Promise<void>((resolve) => watcher.once('reload', () => resolve()));
    try {
      const seen = async () => ((await (await fetch(server.url('localhost'))).json()) as Received).fingerprint256;
      expect(await seen()).toBe(rsa.fingerprint256);
      let next = reloaded();
      writeFileSync(file, JSON.stringify({ ca: fixture('ca.crt'), certificates: [fileEntry] }));
      await next;
      expect(await seen()).toBe(fingerprintOf('ec256.crt'));
      next = reloaded();
      writeFileSync(file, JSON.stringify({ ca: fixture('ca.crt'), certificates: [tokenEntry] }));
      await next;
      expect(await seen()).toBe(rsa.fingerprint256);
    } finally {
      await fetch.close();
      await watcher.close();
    }
  });

  it('the CLI: inspect shows the token and object, fetch presents it (--key pkcs11:... --pin-env)', async () => {
    const shown = await runCli(['inspect', join(dir, 'rsa.full.crt'), '--key', uri('rsa'), '--pin-env', 'MTLS_TEST_PIN', '--json'], { MTLS_TEST_PIN: PIN });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ format: 'pkcs11', pkcs11: { token: 'mtls-test', object: 'rsa' } });
    expect(shown.stdout + shown.stderr).not.toContain(PIN);
    const fetched = await runCli(['fetch', server.url('localhost'), '--cert', join(dir, 'rsa.full.crt'), '--key', uri('rsa'), '--pin-env', 'MTLS_TEST_PIN', '--cacert', fixture('ca.crt')], { MTLS_TEST_PIN: PIN });
    expect(fetched.code).toBe(0);
    expect((JSON.parse(fetched.stdout) as Received).fingerprint256).toBe(rsa.fingerprint256);
  });
});
