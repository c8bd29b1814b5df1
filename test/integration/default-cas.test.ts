// A custom CA is added to Node's default roots, never replacing them. "Default" includes the file
// named by NODE_EXTRA_CA_CERTS, so a server trusted only through it stands for a public host here.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore } from '../../src/index.js';
import { defaultCaCertificates } from '../../src/adapter/trust.js';
import { resolveAdapterOptions } from '../../src/adapter/options.js';
import { FIXTURES, fixture, readFixture } from '../helpers.js';
import { startMtlsServer, type TestServer } from './servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let server: TestServer;
let script: string;

beforeAll(async () => {
  server = await startMtlsServer();
  script = join(FIXTURES, '..', 'default-cas-probe.ts');
  // The probe adds an unrelated CA (the server certificate itself) and requests the test server,
  // whose chain ends at the test root: only the defaults can verify it.
  writeFileSync(
    script,
    `import { request } from 'undici';
import { CertificateStore, createDispatcher, loadCaBundle } from '${join(root, 'src/index.ts')}';
const store = new CertificateStore();
const dispatcher = createDispatcher(store, ${'process.argv[3] === "custom"'} ? { ca: loadCaBundle({ file: ${JSON.stringify(fixture('server.crt'))} }) } : {});
try {
  const res = await request(process.argv[2], { dispatcher });
  await res.body.text();
  console.log('status', res.statusCode);
} catch (err) {
  console.log('failed', err.code ?? err.cause?.code);
} finally {
  await dispatcher.close();
}
`,
  );
});
afterAll(() => server.close());

function probe(mode: 'custom' | 'none', extraCa: boolean): Promise<string> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    if (extraCa) env.NODE_EXTRA_CA_CERTS = fixture('ca.crt');
    else delete env.NODE_EXTRA_CA_CERTS;
    execFile(process.execPath, ['--import', 'tsx', script, server.url('localhost'), mode], { cwd: root, env, timeout: 30_000 }, (_e, stdout) => resolve(stdout.trim()));
  });
}

describe('default CAs', () => {
  it('the CA list holds every root Node trusts, plus the custom ones', () => {
    const store = new CertificateStore();
    const ca = resolveAdapterOptions(store, { ca: readFixture('ca.crt').toString() }).trust.list();
    expect(ca).toEqual(expect.arrayContaining([...rootCertificates]));
    expect(ca).toContain(readFixture('ca.crt').toString());
    expect(defaultCaCertificates().length).toBeGreaterThanOrEqual(rootCertificates.length);
    // No custom CA: Node's defaults are used as they are.
    expect(resolveAdapterOptions(store, {}).trust.list()).toBeUndefined();
  });

  it('a host trusted by the defaults (NODE_EXTRA_CA_CERTS) still verifies when a custom CA is given', async () => {
    expect(await probe('none', false)).toBe('failed ERR_SERVER_CERTIFICATE'); // the control: not trusted at all
    expect(await probe('none', true)).toBe('status 200');
    expect(await probe('custom', true)).toBe('status 200'); // the custom CA did not replace the defaults
  });
});
