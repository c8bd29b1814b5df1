// The command line, in this process: main() with collecting streams (test/cli/run.ts), as the
// commands are; packed.test.ts runs the packed binary as a user would, for what only it can show.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASS, fixture } from '../helpers.js';
import { startH2Server, startMtlsServer, startNodeProxy, type Received, type TestServer } from '../integration/servers.js';
import { runCli, type CliRun } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'mtls-cli-'));
let server: TestServer;

beforeAll(async () => {
  server = await startMtlsServer();
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

// Proxy variables of the machine running the tests are not the test's.
const NO_PROXY_ENV = Object.fromEntries(Object.keys(process.env).filter((k) => /^(https?|no)_proxy$/i.test(k) || k === 'NODE_USE_ENV_PROXY').map((k) => [k, undefined]));

function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { ...NO_PROXY_ENV, ...env }, work);
}

function config(name: string, value: unknown): string {
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

const ERROR_LINE = /^error [A-Z_]+: [^\n]+\n$/;

describe('mtls-resolver (the CLI in this process)', () => {
  it('--help lists the commands; every command has --help with an example', async () => {
    const main = await run(['--help']);
    expect(main.code).toBe(0);
    for (const c of ['inspect', 'resolve', 'fetch', 'import', 'demo']) {
      expect(main.stdout).toContain(c);
      const help = await run([c, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Usage: mtls-resolver /);
      expect(help.stdout).toMatch(/Example:\n  mtls-resolver /);
    }
  });

  it.each([
    [['nope'], /unknown command "nope"/],
    [['inspect'], /inspect takes one file/],
    [['inspect', 'a', '--bogus'], /unknown option --bogus; this command takes --key, --passphrase-env, --pin-env, --json/],
    [['resolve', 'https://a.test/', '--config'], /the option --config needs a value/],
    [['inspect', 'a', '--passphrase', 'x'], /unknown option --passphrase: a passphrase is never given on the command line .* --passphrase-env VAR/],
    [['resolve', 'https://a.test/'], /--config <certs.json> is required/],
    [['import', 'x.json', '--from', 'curl'], /--from must be postman, newman, bruno, insomnia, playwright, cypress or k6/],
    [['import', 'x.json', '--from', 'constructor'], /--from must be postman, newman, bruno, insomnia, playwright, cypress or k6/],
  ])('usage error %j: one line, exit 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr).toMatch(/^error ERR_USAGE: /);
    expect(r.stderr).toMatch(message);
  });

  describe('inspect', () => {
    it('prints a readable block for a PEM with its key', async () => {
      const r = await run(['inspect', fixture('rsa.pem')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/subject\s+C=US, O=mtls-resolver tests, CN=rsa client/);
      expect(r.stdout).toMatch(/fingerprint\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      expect(r.stdout).toMatch(/status\s+valid/);
      expect(r.stdout).toMatch(/key\s+rsa, matches the certificate/);
      expect(r.stdout).toMatch(/chain\s+1\. .*rsa client\n\s+2\. .*Test Intermediate CA \(CA\)/);
      expect(r.stdout).not.toContain('\x1b['); // no colour when not on a TTY
    });

    // `script` (util-linux) gives the command a pseudo-terminal: colour appears only there.
    it('--json, a PFX with --passphrase-env, and a certificate with --key', async () => {
      const pfx = await run(['inspect', fixture('ec256.pfx'), '--passphrase-env', 'P12_PASS', '--json'], { P12_PASS: PASS });
      expect(pfx.code).toBe(0);
      expect(JSON.parse(pfx.stdout)).toMatchObject({ format: 'pfx', keyType: 'ec', commonName: 'ec256 client', status: 'valid', keyChecked: true, chain: [{}, {}] });
      expect(pfx.stdout).not.toContain('PRIVATE KEY');
      const withKey = await run(['inspect', fixture('rsa.crt'), '--key', fixture('rsa.key'), '--json']);
      expect(JSON.parse(withKey.stdout)).toMatchObject({ format: 'crt+key', keyChecked: true });
    });

    it('works on a certificate alone and on a CA bundle', async () => {
      const crt = await run(['inspect', fixture('ed25519.crt')]);
      expect(crt.code).toBe(0);
      expect(crt.stdout).toMatch(/key\s+ed25519 \(public key; no private key given\)/);
      const bundle = await run(['inspect', fixture('ca-chain.pem'), '--json']);
      expect(JSON.parse(bundle.stdout).chain).toHaveLength(2);
    });

    it('exits 1 for expired and not-yet-valid certificates, so it can gate a CI job', async () => {
      const expired = await run(['inspect', fixture('expired.pem')]);
      expect(expired.code).toBe(1);
      expect(expired.stdout).toMatch(/status\s+expired/);
      expect(expired.stdout).toMatch(/warnings\s+- The certificate expired on 2021-01-01/);
      expect((await run(['inspect', fixture('notyet.crt')])).code).toBe(1);
      expect((await run(['inspect', fixture('rsa.pem'), '--now', '2099-01-01'])).code).toBe(1);
    });

    it('--config lists every entry with its status; exit 1 when one is expired or not yet valid', async () => {
      const good = config('inspect-good.json', { certificates: [{ name: 'api', host: 'api.acme.com', pem: fixture('rsa.pem') }, { host: '*.acme.com', port: 8443, pem: fixture('ec256.pem') }] });
      const ok = await run(['inspect', '--config', good]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/api\s+api\.acme\.com\s+443\s+C=US, O=mtls-resolver tests, CN=rsa client\s+\S+ \(\d+ days\)\s+valid/);
      expect(ok.stdout).toMatch(/\*\.acme\.com\s+8443\s+.*CN=ec256 client/);
      const bad = config('inspect-bad.json', { certificates: [{ name: 'api', host: 'api.acme.com', pem: fixture('rsa.pem') }, { name: 'old', host: 'old.acme.com', pem: fixture('expired.pem') }] });
      const failing = await run(['inspect', '--config', bad, '--json']);
      expect(failing.code).toBe(1);
      const shown = JSON.parse(failing.stdout) as { entries: Array<{ name: string; status: string }> };
      expect(shown.entries.map((e) => [e.name, e.status])).toEqual([['api', 'valid'], ['old', 'expired']]);
      expect(failing.stdout).not.toMatch(/PRIVATE KEY/);
      const later = await run(['inspect', '--config', good, '--now', '2099-01-01']);
      expect(later.code).toBe(1);
      expect(later.stderr).toMatch(/^error: 2 of 2 certificates cannot be used now/);
    });

    it.each([
      [[fixture('missing.pem')], 'ERR_FILE_READ'],
      [[fixture('rsa.pfx'), '--passphrase-env', 'WRONG_PASS'], 'ERR_BAD_PASSPHRASE'],
      [[fixture('rsa.pfx')], 'ERR_PASSPHRASE_REQUIRED'],
      [[fixture('bundle.p7b')], 'ERR_UNSUPPORTED_FORMAT'],
      [[fixture('rsa.crt'), '--key', fixture('ec256.key')], 'ERR_KEY_MISMATCH'],
    ])('failure %j -> %s: one line, exit 1, no stack, no secret', async (args, code) => {
      const r = await run(['inspect', ...args], { WRONG_PASS: 'hunter2' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(ERROR_LINE);
      expect(r.stderr.startsWith(`error ${code}: `)).toBe(true);
      expect(r.stderr).not.toContain('hunter2');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('--debug adds the stack trace', async () => {
      const r = await run(['inspect', fixture('missing.pem'), '--debug']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error ERR_FILE_READ: /);
      expect(r.stderr).toMatch(/\n\s+at /);
    });
  });

  describe('resolve', () => {
    const certs = () =>
      config('resolve.json', {
        certificates: [
          { name: 'wild', host: '*.acme.com', pem: fixture('ec256.pem') },
          { name: 'api', host: 'api.acme.com', pem: fixture('rsa.pem') },
          { name: 'admin', host: 'api.acme.com', port: 8443, pem: fixture('ed25519.pem') },
          { name: 'old', host: 'api.acme.com', pem: fixture('expired.pem') },
        ],
      });

    it('shows the chosen certificate and every candidate with its verdict', async () => {
      const r = await run(['resolve', 'https://API.acme.com/v1', '--config', certs()]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^https:\/\/api\.acme\.com:443\nchosen: api \(C=US, O=mtls-resolver tests, CN=rsa client\) — exact host api\.acme\.com/);
      expect(r.stdout).toMatch(/outranked\s+wild\s+\*\.acme\.com\n\s+matches, but exact host api\.acme\.com .* beats wildcard/);
      expect(r.stdout).toMatch(/no match\s+admin\s+api\.acme\.com:8443\n\s+it is for port 8443; the request uses port 443/);
      expect(r.stdout).toMatch(/skipped\s+old\s+api\.acme\.com\n\s+certificate expired on 2021-01-01/);
    });

    it('validity warnings come once, grouped: one line for the expired entries, not one per entry', async () => {
      const file = config('resolve-validity.json', {
        ca: fixture('ca.crt'),
        certificates: [
          { name: 'api', host: 'localhost', port: '*', pem: fixture('rsa.pem') },
          { name: 'old', host: 'old.acme.com', pem: fixture('expired.pem') },
          { name: 'older', host: 'older.acme.com', pem: fixture('expired.pem') },
          { name: 'future', host: 'new.acme.com', pem: fixture('notyet.pem') },
        ],
      });
      const r = await run(['resolve', 'https://api.acme.com/', '--config', file]);
      expect(r.code).toBe(0);
      // These PEMs hold the leaf without its intermediate: one warning each says so (not about validity).
      const all = r.stderr.trim().split('\n');
      expect(all.filter((l) => l.includes("issuer (\"C=US, O=mtls-resolver tests, CN=Test Intermediate CA\") is not in the input"))).toHaveLength(3);
      const lines = all.filter((l) => !l.includes('is not in the input'));
      expect(lines).toEqual([
        `warning: 2 certificates expired (servers will refuse them): "old" on 2021-01-01, "older" on 2021-01-01; mtls-resolver inspect --config ${JSON.stringify(file)} lists them.`,
        expect.stringMatching(/^warning: 1 certificate not valid yet: "future" from \d{4}-\d\d-\d\d; mtls-resolver inspect --config /),
      ]);
      const f = await run(['fetch', server.url('localhost'), '--config', file]); // fetch says them too (no -v needed), on stderr
      expect(f.code).toBe(0);
      expect(f.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(lines);
    });

    it('--json prints the Explanation without key material; a URL with no certificate is an answer (exit 0)', async () => {
      const r = await run(['resolve', 'http://api.acme.com/', '--config', certs(), '--json']);
      expect(r.code).toBe(0);
      const ex = JSON.parse(r.stdout);
      expect(ex).toMatchObject({ target: { protocol: 'http:', hostname: 'api.acme.com', port: 80 }, chosen: null });
      expect(ex.candidates).toHaveLength(4);
      expect(ex.candidates[0]).toMatchObject({ verdict: 'no-match', entry: { name: 'wild', host: '*.acme.com', certificate: { commonName: 'ec256 client' } } });
      expect(r.stdout).not.toMatch(/PRIVATE KEY|"tls"|"key"/);
    });

    it('a config error names the entry and field', async () => {
      const bad = config('bad.json', { certificates: [{ name: 'typo', host: 'a.test', pem: fixture('rsa.pem'), prot: 1 }] });
      const r = await run(['resolve', 'https://a.test/', '--config', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error ERR_INVALID_CONFIG: certificates\[0\] \("typo"\): unknown field "prot" \(did you mean "port"\?\)/);
    });
  });

  describe('fetch', () => {
    const certs = (extra: object = {}) =>
      config(`fetch-${Math.random()}.json`, { certificates: [{ name: 'lab', host: 'localhost', port: '*', pem: fixture('rsa.pem') }], ...extra });

    it('an expired entry: -v says it was skipped and why; --include-expired presents it; resolve --include-expired chooses it', async () => {
      const file = config('expired.json', { ca: fixture('ca.crt'), certificates: [{ name: 'old', host: 'localhost', port: '*', pem: fixture('expired.pem') }] });
      const skipped = await run(['fetch', server.url('localhost', '/old'), '--config', file, '-v']);
      expect(skipped.code).toBe(0);
      expect((JSON.parse(skipped.stdout) as Received).fingerprint256).toBeNull();
      expect(skipped.stderr).toMatch(/\* client certificate: none \(the entry "old" \(localhost, id cert-1\) matches but was skipped \(R6\): its certificate expired on 2021-01-01T00:00:00.000Z; renew it, or pass --include-expired to present it anyway\)/);
      const included = await run(['fetch', server.url('localhost', '/old'), '--config', file, '--include-expired']);
      expect(included.code).toBe(0);
      expect((JSON.parse(included.stdout) as Received).subject).toContain('CN=expired client');
      const resolved = await run(['resolve', server.url('localhost'), '--config', file, '--include-expired']);
      expect(resolved.stdout).toMatch(/chosen: old/);
      const plain = await run(['resolve', server.url('localhost'), '--config', file]);
      expect(plain.stdout).toMatch(/skipped\s+old[\s\S]*pass --include-expired/);
    });

    it('as curl: --cert/--key or --pfx with --cacert and no config, -f/--fail (exit 22), --http2 for an HTTP/2-only server', async () => {
      const viaCert = await run(['fetch', server.url('localhost', '/c'), '--cert', fixture('rsa.crt'), '--key', fixture('rsa.key'), '--cacert', fixture('ca.crt')]);
      expect(viaCert.code).toBe(0);
      expect((JSON.parse(viaCert.stdout) as Received).subject).toContain('CN=rsa client');
      const viaPfx = await run(['fetch', server.url('localhost', '/p'), '--pfx', fixture('ec256.pfx'), '--passphrase-env', 'P12_PASS', '--cacert', fixture('ca.crt')], { P12_PASS: PASS });
      expect((JSON.parse(viaPfx.stdout) as Received).subject).toContain('CN=ec256 client');
      // The certificate goes to the URL's host and port only: not to the host a redirect leads to.
      const hop = await startMtlsServer({ route: (req, res) => (req.url === '/hop' ? (res.writeHead(302, { location: server.url('127.0.0.1', '/landed') }).end(), true) : false) });
      try {
        const redirected = await run(['fetch', hop.url('localhost', '/hop'), '--cert', fixture('rsa.crt'), '--key', fixture('rsa.key'), '--cacert', fixture('ca.crt')]);
        expect(JSON.parse(redirected.stdout) as Received).toMatchObject({ path: '/landed', fingerprint256: null });
      } finally {
        await hop.close();
      }
      expect((await run(['fetch', server.url('localhost'), '--cert', fixture('rsa.crt')])).stderr).toMatch(/--cert and --key go together/);
      const capped = await run(['fetch', server.url('localhost', '/v'), '-c', certs({ ca: fixture('ca.crt') }), '--tls-max', '1.2']);
      expect((JSON.parse(capped.stdout) as Received).protocol).toBe('TLSv1.2');
      expect((await run(['fetch', server.url('localhost'), '--tls-max', '1.1'])).stderr).toMatch(/--tls-max must be 1.2 or 1.3/);
      expect((await run(['fetch', server.url('localhost'), '--pfx', fixture('ec256.pfx'), '-c', certs()])).code).toBe(2);

      const missing = await startMtlsServer({ route: (_req, res) => (res.writeHead(404, 'Not Found').end('not here'), true) });
      const h2 = await startH2Server();
      try {
        const failed = await run(['fetch', missing.url('localhost', '/nope'), '-c', certs({ ca: fixture('ca.crt') }), '-f']);
        expect(failed.code).toBe(22);
        expect(failed.stdout).toBe('');
        expect(failed.stderr).toBe('error HTTP_404: the server answered 404 Not Found (--fail: the body is not printed)\n');
        const printed = await run(['fetch', missing.url('localhost', '/nope'), '-c', certs({ ca: fixture('ca.crt') })]);
        expect([printed.code, printed.stdout]).toEqual([0, 'not here']);
        const h1 = await run(['fetch', h2.url('localhost', '/h2'), '-c', certs({ ca: fixture('ca.crt') })]);
        expect(h1.stderr).toMatch(/^error ERR_TLS_ALPN: .*--http2/);
        const viaH2 = await run(['fetch', h2.url('localhost', '/h2'), '-c', certs({ ca: fixture('ca.crt') }), '--http2']);
        expect(viaH2.code).toBe(0);
        expect(JSON.parse(viaH2.stdout)).toMatchObject({ httpVersion: '2.0' });
      } finally {
        await Promise.all([missing.close(), h2.close()]);
      }
    });

    it('sends the request like curl; -v shows the certificate sent and the server certificate', async () => {
      const r = await run(['fetch', server.url('localhost', '/hello'), '--config', certs({ ca: fixture('ca.crt') }), '-v']);
      expect(r.code).toBe(0);
      const body = JSON.parse(r.stdout) as Received;
      expect(body).toMatchObject({ path: '/hello', subject: 'C=US, O=mtls-resolver tests, CN=rsa client' });
      expect(r.stderr).toMatch(/\* client certificate: lab \(C=US, O=mtls-resolver tests, CN=rsa client\), fingerprint/);
      expect(r.stderr).toMatch(/\* server\s+https:\/\/localhost:\d+\n\s+subject\s+C=US, O=mtls-resolver tests, CN=server client/);
      expect(r.stderr).toMatch(/verified\s+yes/);
      expect(r.stderr).toMatch(/< 200 OK/);
    });

    it('-X, -H and -d, and --insecure for a server whose CA is unknown', async () => {
      const strictFails = await run(['fetch', server.url('localhost', '/x'), '--config', certs()]);
      expect(strictFails.code).toBe(1);
      expect(strictFails.stderr).toMatch(/^error ERR_SERVER_CERTIFICATE: The server certificate of https:\/\/localhost:\d+ was rejected: .*\. If the server uses a private CA, add it with --ca FILE \(or "ca" in ".*"\); only for a test server, --insecure skips the check\.\n$/);
      expect(strictFails.stderr).not.toMatch(/adapter option|rejectUnauthorized|loadCaBundle/);
      const withCa = await run(['fetch', server.url('localhost', '/ca'), '--config', certs(), '--ca', fixture('ca.crt')]);
      expect(withCa.code).toBe(0);
      expect(JSON.parse(withCa.stdout)).toMatchObject({ path: '/ca', subject: 'C=US, O=mtls-resolver tests, CN=rsa client' });
      const r = await run(['fetch', server.url('localhost', '/post'), '-c', certs(), '-X', 'PUT', '-H', 'x-test: 1', '-d', 'body', '--insecure', '-v']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ path: '/post' });
      expect(r.stderr).toMatch(/warning: the server certificate did not verify/);
    });

    it('--proxy, HTTPS_PROXY and --no-proxy: the certificate goes to the target through the tunnel; -v shows the hop without credentials', async () => {
      const proxy = await startNodeProxy();
      const withCreds = proxy.url.replace('http://', 'http://bob:hunter2@');
      try {
        const flagged = await run(['fetch', server.url('localhost', '/via'), '-c', certs({ ca: fixture('ca.crt') }), '--proxy', withCreds, '-v']);
        expect(flagged.code).toBe(0);
        expect(JSON.parse(flagged.stdout)).toMatchObject({ path: '/via', subject: 'C=US, O=mtls-resolver tests, CN=rsa client' });
        expect(flagged.stderr).toContain(`* proxy: ${proxy.url} (CONNECT tunnel`);
        expect(flagged.stderr).toMatch(new RegExp(`via proxy\\s+${proxy.url}`));
        expect(flagged.stderr + flagged.stdout).not.toContain('hunter2');
        expect(proxy.connects).toEqual([`localhost:${server.port}`]);
        const fromEnv = await run(['fetch', server.url('localhost', '/env'), '-c', certs({ ca: fixture('ca.crt') })], { HTTPS_PROXY: proxy.url });
        expect(fromEnv.code).toBe(0);
        expect(proxy.connects).toHaveLength(2);
        const ignored = await run(['fetch', server.url('localhost', '/direct'), '-c', certs({ ca: fixture('ca.crt') }), '--no-proxy', '-v'], { HTTPS_PROXY: proxy.url });
        expect(ignored.code).toBe(0);
        expect(ignored.stderr).not.toContain('proxy');
        expect(proxy.connects).toHaveLength(2);
        const excluded = await run(['fetch', server.url('localhost', '/no'), '-c', certs({ ca: fixture('ca.crt') })], { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' });
        expect(excluded.code).toBe(0);
        expect(proxy.connects).toHaveLength(2);
      } finally {
        await proxy.close();
      }
    });
  });

  it.each([
    [['import', '--from', 'bruno', 'missing.json'], 'ERR_FILE_READ'],
    [['import', '--from', 'insomnia', '__not_json__'], 'ERR_INVALID_CONFIG'],
    [['resolve', 'https://a.test/', '--config', 'missing-certs.json'], 'ERR_FILE_READ'],
    [['resolve', 'api.acme.com', '--config', '__empty_config__'], 'ERR_INVALID_TARGET'],
    [['fetch', 'https://localhost:__closed_port__/', '--config', '__empty_config__'], 'ECONNREFUSED'],
    [['fetch', 'https://localhost/', '--config', '__empty_config__', '--proxy', 'http://127.0.0.1:__closed_port__'], 'ERR_PROXY'],
  ])('failure %j -> exit 1 with one line %s', async (rawArgs, code) => {
    const closed = createNetServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = String((closed.address() as { port: number }).port);
    closed.close();
    const args = rawArgs.map((a) => a.replace('__closed_port__', port));
    writeFileSync(join(work, '__not_json__'), '{ nope');
    writeFileSync(join(work, '__empty_config__'), JSON.stringify({ certificates: [] }));
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(ERROR_LINE);
    expect(r.stderr.startsWith(`error ${code}: `)).toBe(true);
    expect(r.stderr).not.toMatch(/\.: /); // the MtlsError's own message, nothing appended to it
  });

  it('demo takes no arguments (exit 2)', async () => {
    const r = await run(['demo', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_USAGE: demo takes no arguments/);
  });

  it.each(['newman', 'postman'])('import --from %s prints certs.json and notes', async (from) => {
    const list = config('newman.json', [{ name: 'n', matches: ['https://*.example.com/*'], cert: { src: 'a.crt' }, key: { src: 'a.key' } }]);
    const r = await run(['import', '--from', from, list]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).certificates.map((c: { host: string }) => c.host)).toEqual(['*.example.com', 'example.com']);
    expect(r.stderr).toMatch(/^note: /m);
  });

  it('import --from k6 --material-dir writes the PEM text of tlsAuth to files that certs.json names', async () => {
    const input = config('k6.json', { tlsAuth: [{ domains: ['api.example.com'], cert: readFileSync(fixture('ec256.crt'), 'utf8'), key: readFileSync(fixture('ec256.key'), 'utf8') }] });
    const dir = join(dirname(input), `material-${process.pid}`);
    const r = await run(['import', '--from', 'k6', input, '--material-dir', dir]);
    expect(r.code).toBe(0);
    const imported = JSON.parse(r.stdout) as { certificates: Array<{ host: string; cert: string; key: string }> };
    expect(imported.certificates).toEqual([{ host: 'api.example.com', port: '*', cert: join(dir, 'k6-0.crt'), key: join(dir, 'k6-0.key') }]);
    expect(readFileSync(imported.certificates[0]!.key, 'utf8')).toBe(readFileSync(fixture('ec256.key'), 'utf8'));
    expect(r.stderr).toMatch(/^note: k6 itself ignores "domains"/m);
    for (const from of ['playwright', 'cypress']) expect((await run(['import', '--from', from, config(`${from}.json`, [])])).code).toBe(0);
  });

  it('fetch --help shows --select', async () => {
    const r = await run(['fetch', '--help']);
    expect(r.stdout).toMatch(/\[--select <id\|name>\]/);
  });

  describe('errors in the words of the command line', () => {
    it('inspect names the file its error is about, and speaks in flags (a key alone, a PFX without its passphrase)', async () => {
      const key = await run(['inspect', fixture('rsa.key')]);
      expect(key.stderr).toBe(`error ERR_NO_CERTIFICATE: ${JSON.stringify(fixture('rsa.key'))}: The input holds a private key but no certificate: add the certificate (and its chain) to the PEM, or inspect the certificate file and give this key with --key.\n`);
      const pfx = await run(['inspect', fixture('rsa.pfx')]);
      expect(pfx.stderr).toMatch(new RegExp(`^error ERR_PASSPHRASE_REQUIRED: ${JSON.stringify(fixture('rsa.pfx')).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*--passphrase-env VAR\\.\\n$`));
    });

    it('inspect with an encrypted key and no passphrase names --passphrase-env', async () => {
      const r = await run(['inspect', fixture('rsa.crt'), '--key', fixture('rsa.enc.key')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error ERR_PASSPHRASE_REQUIRED: The private key is encrypted: put its passphrase in an environment variable and name it with --passphrase-env VAR.\n');
    });

    it('inspect of a PFX with --key says to inspect it alone', async () => {
      const r = await run(['inspect', fixture('rsa.pfx'), '--key', fixture('rsa.key')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error ERR_UNSUPPORTED_FORMAT: The .* is a PKCS#12 \\(PFX/P12\\) file, which holds its own key: inspect ${JSON.stringify(fixture('rsa.pfx')).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} alone, without --key`));
      expect(r.stderr).not.toMatch(/\{ pfx \}|pfxFile/);
    });

    it('inspect of a file that is no certificate says so, not "CA bundle"', async () => {
      const text = join(work, 'notes.txt');
      writeFileSync(text, 'just some notes\n');
      const r = await run(['inspect', text]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error ERR_UNSUPPORTED_FORMAT: ${JSON.stringify(text)} is neither a certificate, a key, a PFX nor a PEM bundle.\n`);
    });

    it('fetch to a server that wants a certificate none of the config matches names mtls-resolver resolve', async () => {
      const strict = await startMtlsServer({ rejectUnauthorized: true });
      try {
        const file = config('no-match.json', { ca: fixture('ca.crt'), certificates: [{ host: 'other.test', pem: fixture('rsa.pem') }] });
        const r = await run(['fetch', strict.url('localhost'), '--config', file]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^error ERR_TLS_HANDSHAKE: .*No client certificate was presented: no entry of ".*no-match.json" matches https://localhost:${strict.port}\\. .*; mtls-resolver resolve https://localhost:${strict.port} --config ".*no-match.json" shows why none matched\\.\\n$`));
        expect(r.stderr).not.toMatch(/store\.explain/);
      } finally {
        await strict.close();
      }
    });
  });

  describe('untrusted text is printed with its control characters escaped', () => {
    // A title change (OSC 0), a screen clear (CSI 2J) and a right-to-left override: none may reach the terminal.
    const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\u202e';
    const ESCAPED = '\\x1b]0;pwned\\x07\\x1b[2J\\u202e';
    const raw = /[\x00-\x08\x0b-\x1f\x7f\u202e]/;

    it('resolve: entry names', async () => {
      const file = config('hostile-names.json', { certificates: [{ name: `api${HOSTILE}`, host: 'api.acme.com', pem: fixture('rsa.pem') }] });
      const r = await run(['resolve', 'https://api.acme.com/', '--config', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`api${ESCAPED}`);
      expect(r.stdout).not.toMatch(raw);
    });

    it('import: hosts and names in the notes', async () => {
      const list = config('hostile-newman.json', [{ name: `n${HOSTILE}`, matches: [`ftp://evil${HOSTILE}.test/*`], cert: { src: 'a.crt' }, key: { src: 'a.key' } }]);
      const r = await run(['import', '--from', 'newman', list]);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(raw);
      expect(r.stderr).toMatch(/note: item 0 \("n\\u001b\]0;pwned\\u0007\\u001b\[2J\\u202e"\): .*"ftp:\/\/evil\\u001b/);
    });

    it('fetch -v: the subject of a hostile server certificate', async () => {
      const dir = mkdtempSync(join(work, 'evil-'));
      const [key, crt] = [join(dir, 'evil.key'), join(dir, 'evil.crt')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-utf8', '-subj', `/CN=evil${HOSTILE}`, '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
      const evil = await startMtlsServer({ identity: { key: readFileSync(key), cert: readFileSync(crt) } });
      try {
        const file = config('hostile-fetch.json', { certificates: [{ host: 'localhost', port: '*', pem: fixture('rsa.pem') }] });
        const r = await run(['fetch', evil.url('localhost'), '--config', file, '--insecure', '-v']);
        expect(r.code).toBe(0);
        expect(r.stderr).toMatch(/subject\s+CN=evil\\x1b\]0;pwned\\x07/);
        expect(r.stderr).not.toMatch(raw);
      } finally {
        await evil.close();
      }
    });
  });

  it('demo: needs nothing, ends by itself, and the resolver and the server agree', async () => {
    const started = Date.now();
    const r = await run(['demo', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ url: string; chosen: string; received: string; agree: boolean }>;
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(rows.every((row) => row.agree)).toBe(true);
    expect(rows.map((row) => row.chosen)).toEqual(
      expect.arrayContaining(['api (exact host, any port)', 'wildcard *.demo.test', 'admin (port-specific, PFX)', '(none)']),
    );
    expect(rows.find((row) => row.url.includes('legacy'))?.chosen).toBe('wildcard *.demo.test'); // the expired one is skipped
    expect(Date.now() - started).toBeLessThan(30_000);
    const table = await run(['demo']);
    expect(table.stdout).toMatch(/All 6 requests presented the certificate the resolver chose\./);
  });
});
