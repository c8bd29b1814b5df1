// The undici users install today (8.x; this package is built against 7.x): the README's undici
// snippets type-check against undici 8's declarations (and 7's, the package's own), and on Node
// 22.19+ the adapters work composed onto and passed to undici 8 at run time. undici 8 and
// @types/node 24 come from the npm registry into .tmp/undici8 (.ci/run installs them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, createDispatcher, createFetch, createInterceptor, loadCertificate, type LoadedCertificate } from '../../src/index.js';
import { fixture, testCa } from '../helpers.js';
import { startMtlsServer, type Received, type TestServer } from './servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const prefix = join(root, '.tmp', 'undici8');
const installed = existsSync(join(prefix, 'node_modules', 'undici', 'package.json')) && existsSync(join(prefix, 'node_modules', '@types', 'node'));
if (!installed) console.warn('[undici8.test] skipped: undici 8 is not installed in .tmp/undici8 (.ci/run: npm install --prefix .tmp/undici8 undici@8 @types/node@24)');
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const runsUndici8 = installed && (major > 22 || (major === 22 && minor >= 19));

// What the README shows with undici, as a user's code with undici 8 next to this package.
const SNIPPETS = `
import { Agent, WebSocket, fetch as undiciFetch, interceptors, request } from 'undici';
import { CertificateStore, createDispatcher, createFetch, createInterceptor } from 'mtls-resolver';
const store = new CertificateStore();
const dispatcher = createDispatcher(store);
await request('https://api.acme.com/', { dispatcher });
await undiciFetch('https://api.acme.com/', { dispatcher });
await fetch('https://api.acme.com/', { dispatcher });
new WebSocket('wss://api.acme.com/', { dispatcher });
new Agent().compose(createInterceptor(store));
new Agent().compose(createInterceptor(store), interceptors.retry(), interceptors.dns());
new Agent({ allowH2: true }).compose(createInterceptor(store, { agentOptions: { allowH2: true } }));
createFetch(store, { fetch: undiciFetch });
await dispatcher.withOptions({ select: 'x' }).request({ origin: 'https://api.acme.com', path: '/', method: 'GET' });
`;

describe.skipIf(!installed)('undici 8 declarations', () => {
  it("the README's undici snippets type-check with undici 8 and @types/node 24 next to the package", () => {
    const dir = join(prefix, 'check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(root, join(dir, 'node_modules', 'mtls-resolver'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }');
    writeFileSync(join(dir, 'usage.mts'), SNIPPETS);
    const tsconfig = { compilerOptions: { target: 'ES2022', lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], typeRoots: [join(prefix, 'node_modules', '@types')], skipLibCheck: true }, files: ['usage.mts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    // `undici` resolves to .tmp/undici8/node_modules (the user's undici 8), the package's own types to its undici 7.
    const out = (() => {
      try {
        return execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
      } catch (err) {
        return String((err as { stdout?: string }).stdout);
      }
    })();
    expect(out).toBe('');
  });
});

describe.skipIf(!runsUndici8)('undici 8 at run time (Node 22.19+)', () => {
  let server: TestServer;
  let cert: LoadedCertificate;
  beforeAll(async () => {
    [server, cert] = await Promise.all([startMtlsServer(), loadCertificate({ pemFile: fixture('rsa.pem') })]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("composed onto undici 8's Agent, passed to its request and fetch: the certificate arrives", async () => {
    const undici8 = (await import(pathToFileURL(join(prefix, 'node_modules', 'undici', 'index.js')).href)) as typeof import('undici');
    const store = new CertificateStore({ ca: testCa() });
    store.add({ host: 'localhost', port: '*', certificate: cert });
    const url = server.url('localhost');
    const mtls = createInterceptor(store);
    const agent = new undici8.Agent().compose(mtls, undici8.interceptors.retry(), undici8.interceptors.dns());
    const dispatcher = createDispatcher(store);
    const viaFetch = createFetch(store, { fetch: undici8.fetch as never });
    try {
      const seen: Array<[string, Received]> = [
        ['compose', (await (await undici8.request(url, { dispatcher: agent })).body.json()) as Received],
        ['request', (await (await undici8.request(url, { dispatcher: dispatcher as never })).body.json()) as Received],
        ['fetch', (await (await undici8.fetch(url, { dispatcher: dispatcher as never })).json()) as Received],
        ['createFetch', (await (await viaFetch(url)).json()) as Received],
      ];
      for (const [how, received] of seen) expect([how, received.fingerprint256]).toEqual([how, cert.fingerprint256]);
    } finally {
      await Promise.all([mtls.close(), dispatcher.close(), viaFetch.close(), agent.close()]);
    }
  });
});
