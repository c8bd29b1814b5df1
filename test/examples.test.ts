// Every example in examples/ runs against a local mTLS server (they are typechecked by `tsc`).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, PASS, fixture } from './helpers.js';
import { startH2Server, startMtlsServer, startWsServer, type TestServer } from './integration/servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let server: TestServer;
let h2: TestServer;
let wss: TestServer;
let config: string;

beforeAll(async () => {
  [server, h2, wss] = await Promise.all([startMtlsServer(), startH2Server(), startWsServer()]);
  config = join(FIXTURES, '..', 'examples-certs.json');
  writeFileSync(
    config,
    JSON.stringify({
      ca: [fixture('ca.crt')],
      certificates: [
        { name: 'Lab', host: 'localhost', port: '*', pem: fixture('ed25519.pem') },
        { name: 'Example', host: 'api.example.com', pfx: fixture('rsa.pfx'), passphraseEnv: 'EXAMPLE_PASS', primary: true },
      ],
    }),
  );
});
afterAll(() => Promise.all([server.close(), h2.close(), wss.close()]));

function runExample(name: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('examples', name)],
      { cwd: root, timeout: 60_000, env: { ...process.env, EXAMPLE_URL: server.url('localhost'), EXAMPLE_H2_URL: h2.url('localhost'), EXAMPLE_WS_URL: wss.url('localhost'), EXAMPLE_DIR: `${fixture('')}`, EXAMPLE_PASS: PASS, EXAMPLE_CONFIG: config } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

const subject = (cn: string) => `C=US, O=mtls-resolver tests, CN=${cn}`;

describe('examples', () => {
  it.each([
    ['fetch.ts', [`status: 200`, `server received: ${subject('rsa client')}`]],
    ['undici-request.ts', [/selected: cert-1 for https:\/\/localhost:\d+ \(exact host localhost on any port\)/, `server received: ${subject('ec256 client')}`]],
    ['https-request.ts', [`options: server received ${subject('ed25519 client')}`, `agent: server received ${subject('ed25519 client')}`]],
    ['interceptor.ts', ['status: 200', `server received: ${subject('ec384 client')}`]],
    ['config-file.ts', ['entry: Lab for localhost:* (valid)', 'resolves to: Lab', `server received: ${subject('ed25519 client')}`]],
    ['rotation.ts', [`before: ${subject('rsa client')}`, 'change: add', 'change: remove', `after: ${subject('ec256 client')}`]],
    ['secrets-manager.ts', [`refresh: +1 -0 kept 0\nserver received: ${subject('rsa client')}\nrefresh: +1 -1 kept 0\nserver received: ${subject('ec256 client')}\nrefresh: +0 -0 kept 1`]],
    ['global-fetch.ts', [`server received: ${subject('ec384 client')}`]],
    ['ky.ts', [`server received: ${subject('rsa client')} at /orders`]],
    ['axios.ts', [`server received: ${subject('ec256 client')}`]],
    ['got.ts', [`server received: ${subject('ed25519 client')}`]],
    ['node-fetch.ts', [`server received: ${subject('ec384 client')}`]],
    ['ws.ts', [`server received: ${subject('rsa client')}`]],
    ['websocket.ts', [`server received: ${subject('ec256 client')}`]],
    ['undici-http2.ts', [/(HTTP\/2\.0: server received C=US, O=mtls-resolver tests, CN=ed25519 client\n){3}/]],
    ['node-http2.ts', [`HTTP/2.0: server received ${subject('ec384 client')}`]],
    ['resolve-table.ts', [/https:\/\/api\.acme\.com\/v1\/orders\s+ACME API\s+exact/, /http:\/\/api\.acme\.com\/\s+\(none\)/]],
  ] as Array<[string, Array<string | RegExp>]>)('%s', async (name, expected) => {
    const r = await runExample(name);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const line of expected) {
      if (typeof line === 'string') expect(r.stdout).toContain(line);
      else expect(r.stdout).toMatch(line);
    }
  });
});
