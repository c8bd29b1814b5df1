// Bun and Deno (from the npm registry; .ci/run installs them into .tmp/runtimes): createFetch
// presents the resolved certificate with the runtime's own fetch, never to a host a redirect goes
// to; the https agent works; where an undici dispatcher cannot work, it is refused with a message.
// Each runtime runs a script against the built package and a real mTLS server in this process.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, startMtlsServer, type Received, type TestServer } from './servers.js';
import { FIXTURES } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const binary = (name: string) => [join(root, '.tmp', 'runtimes', 'node_modules', '.bin', name)].find((b) => existsSync(b));
const runtimes = { bun: binary('bun'), deno: binary('deno') };
for (const [name, path] of Object.entries(runtimes)) {
  if (path === undefined) console.warn(`[runtimes.test] ${name} skipped: not installed in .tmp/runtimes (.ci/run installs it: npm install --prefix .tmp/runtimes bun deno)`);
}

let target: TestServer;
let other: TestServer;
beforeAll(async () => {
  other = await startMtlsServer();
  target = await startMtlsServer({
    route: (req, res) => {
      if (!req.url?.startsWith('/to-other')) return false;
      res.writeHead(302, { location: other.url('127.0.0.1', '/landed') });
      res.end();
      return true;
    },
  });
});
afterAll(async () => {
  await Promise.all([target?.close(), other?.close()]);
});

/** The script each runtime runs: JSON lines of what the servers received, and the errors. */
function script(): string {
  return `
import { request as httpsGet } from 'node:https';
import * as m from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const F = ${JSON.stringify(FIXTURES)};
const out = (k, v) => console.log(JSON.stringify([k, v]));
const certificate = await m.loadCertificate({ pemFile: F + 'rsa.pem' });
const store = new m.CertificateStore({ ca: m.loadCaBundle({ file: F + 'ca.crt' }) });
store.add({ host: 'localhost', port: ${target.port}, certificate });
const fetch = m.createFetch(store);
out('fetch', await (await fetch(${JSON.stringify(target.url('localhost', '/direct'))})).json());
out('redirect', await (await fetch(${JSON.stringify(target.url('localhost', '/to-other'))})).json());
out('manual', (await fetch(${JSON.stringify(target.url('localhost', '/to-other'))}, { redirect: 'manual' })).status);
out('no entry', await (await fetch(${JSON.stringify(other.url('localhost', '/none'))})).json());
// select: the entry presented to an origin no rule gives it, for that request only.
out('select', await (await fetch(${JSON.stringify(other.url('localhost', '/selected'))}, { mtls: { select: 'cert-1' } })).json());
// A store change: the next request presents the new certificate.
store.replace([{ host: 'localhost', port: ${target.port}, certificate: await m.loadCertificate({ pemFile: F + 'ec256.pem' }) }]);
out('after replace', await (await fetch(${JSON.stringify(target.url('localhost', '/replaced'))})).json());
store.replace([{ host: 'localhost', port: ${target.port}, certificate }]);
await fetch.close();
const agent = m.createHttpsAgent(store);
out('https agent', await new Promise((resolve, reject) => httpsGet(${JSON.stringify(target.url('localhost', '/agent'))}, { agent }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(JSON.parse(b))); }).on('error', reject).end()));
agent.destroy();
try { await m.createDispatcher(store).close(); out('createDispatcher', 'made'); } catch (e) { out('createDispatcher', e.code ?? e.message); }
try { await m.createInterceptor(store).close(); out('createInterceptor', 'made'); } catch (e) { out('createInterceptor', e.code ?? e.message); }
`;
}

async function run(name: keyof typeof runtimes): Promise<Map<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `mtls-${name}-`));
  const file = join(dir, 'smoke.mjs');
  writeFileSync(file, script());
  // A package.json beside the script: Deno then resolves bare specifiers from node_modules (the package's own).
  writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }');
  const args = name === 'bun' ? ['run', file] : ['run', '-A', '--quiet', file];
  const { stdout } = await promisify(execFile)(runtimes[name]!, args, { cwd: dir, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return new Map(stdout.split('\n').filter((l) => l.startsWith('[')).map((l) => JSON.parse(l) as [string, unknown]));
}

describe.each(['bun', 'deno'] as const)('%s', (name) => {
  it.skipIf(runtimes[name] === undefined)('createFetch presents the certificate (rules, select, a store change); a redirect to another host gets none; the https agent works; createDispatcher and createInterceptor say what to use on Bun', async () => {
    const seen = await run(name);
    const rsa = fingerprintOf('rsa.crt');
    expect((seen.get('fetch') as Received).fingerprint256).toBe(rsa);
    // Followed here, hop by hop: the other origin matches no entry, so nothing is presented there.
    expect(seen.get('redirect')).toMatchObject({ path: '/landed', fingerprint256: null });
    expect(seen.get('manual')).toBe(302);
    expect((seen.get('no entry') as Received).fingerprint256).toBeNull();
    expect((seen.get('select') as Received).fingerprint256).toBe(rsa);
    expect((seen.get('after replace') as Received).fingerprint256).toBe(fingerprintOf('ec256.crt'));
    expect((seen.get('https agent') as Received).fingerprint256).toBe(rsa);
    // Bun's fetch ignores dispatchers: refused there. Deno can use one with undici's own fetch.
    expect(seen.get('createDispatcher')).toBe(name === 'bun' ? 'ERR_INVALID_OPTION' : 'made');
    expect(seen.get('createInterceptor')).toBe(name === 'bun' ? 'ERR_INVALID_OPTION' : 'made');
  }, 90_000);
});
