// No secret in any message: key text given where a path belongs, a config file with an inline
// passphrase and a JSON syntax error, a secret written where an environment variable's name
// belongs. Checked in the error, its util.inspect (causes included), the CLI's stderr, the
// watcher's error event and the process warning.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../src/config/json.js';
import { CertificateStore, loadCaBundle, loadCertificate, readConfig, watchConfig, type MtlsError } from '../src/index.js';
import { runCli } from './cli/run.js';
import { caught, fixture, readFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSPHRASE = 'S3cr3t-hunter2-Passphrase';
const keyText = () => readFileSync(fixture('ec256.key'), 'utf8');
/** The base64 body of a PEM, one line: what a key looks like pasted into one JSON string. */
const base64Of = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

/** Fails when `text` holds any 8 characters in a row of `secret` (or its base64 body). */
function expectNoSecret(text: string, secret: string): void {
  const body = secret.includes('-----') ? base64Of(secret) : secret;
  for (let i = 0; i + 8 <= body.length; i++) {
    const window = body.slice(i, i + 8);
    if (text.includes(window)) throw new Error(`the message shows ${JSON.stringify(window)} of the secret:\n${text}`);
  }
  expect(text).not.toContain('BEGIN');
}


/** Both the message and everything util.inspect shows (the cause chain too). */
const shown = (err: MtlsError) => `${err.message}\n${inspect(err, { depth: 5 })}`;

describe('key text given where a path is expected is never echoed', () => {
  const cases: Array<[string, (text: string) => unknown]> = [
    ['loadCertificate keyFile', (text) => loadCertificate({ certFile: fixture('ec256.crt'), keyFile: text })],
    ['loadCertificate certFile', (text) => loadCertificate({ certFile: text, keyFile: fixture('ec256.key') })],
    ['loadCertificate pemFile', (text) => loadCertificate({ pemFile: text })],
    ['loadCertificate pfxFile', (text) => loadCertificate({ pfxFile: text })],
    ['loadCaBundle file', (text) => loadCaBundle({ file: text })],
    ['a config object key', (text) => readConfig({ certificates: [{ host: 'a.test', cert: fixture('ec256.crt'), key: text }] })],
    ['a config object pem', (text) => readConfig({ certificates: [{ host: 'a.test', pem: text }] })],
    ['a config object ca', (text) => readConfig({ ca: [text], certificates: [] })],
    ['a lazy config', (text) => readConfig({ certificates: [{ host: 'a.test', cert: fixture('ec256.crt'), key: text }] }, { lazy: true })],
  ];
  it.each(cases)('%s: PEM text, and one line of base64', async (_, run) => {
    for (const text of [keyText(), base64Of(keyText())]) {
      const err = await caught(() => run(text));
      expect(err.code).toMatch(/^ERR_(FILE_READ|INVALID_CONFIG)$/);
      expect(err.message).toContain('not a file path, not shown');
      expectNoSecret(shown(err), keyText());
    }
  });

  it('a certs.json whose key field holds base64 (resolved against the config directory): not shown', async () => {
    const file = join(dir, 'inline-key.json');
    writeFileSync(file, JSON.stringify({ certificates: [{ host: 'a.test', cert: fixture('ec256.crt'), key: base64Of(keyText()) }] }));
    const err = await caught(() => CertificateStore.fromConfig(file));
    expect(err.message).toContain('field "key"');
    expectNoSecret(shown(err), keyText());
  });

  it('a real path that does not exist is still shown, so the user can fix it', async () => {
    const err = await caught(() => loadCertificate({ pemFile: '/etc/ssl/private/missing-client.pem' }));
    expect(err.message).toContain('"/etc/ssl/private/missing-client.pem": it does not exist');
    const deep = `/srv/certificates/production/tenants/acme/clients/${'x'.repeat(30)}/client.pem`;
    expect((await caught(() => loadCertificate({ pemFile: deep }))).message).toContain(JSON.stringify(deep));
  });
});

describe('an inline passphrase in a certs.json with a syntax error', () => {
  // The mistake people make: single quotes, right after the passphrase.
  const text = `{\n  "certificates": [\n    { "host": "a.test", "pem": "./a.pem",\n      "passphrase":'${PASSPHRASE}' }\n  ]\n}\n`;
  const file = join(dir, 'broken.json');
  writeFileSync(file, text);

  it('readConfig says where, not what', async () => {
    const err = await caught(() => readConfig(file));
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.message).toContain('line 4, column 20');
    expectNoSecret(shown(err), PASSPHRASE);
  });

  it('nor does the CLI', async () => {
    const { code, stdout, stderr } = await runCli(['resolve', 'https://a.test/', '--config', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error ERR_INVALID_CONFIG: .*line 4, column 20/);
    expectNoSecret(stdout + stderr, PASSPHRASE);
  });

  it("nor the watcher's error event, nor the reload warning", async () => {
    const watched = join(dir, 'watched.json');
    writeFileSync(join(dir, 'a.pem'), readFixture('ec256.pem'));
    writeFileSync(watched, JSON.stringify({ certificates: [{ host: 'a.test', pem: './a.pem' }] }));
    const withListener = await watchConfig(watched, { debounceMs: 20, retries: 0, persistent: false });
    const errors: MtlsError[] = [];
    withListener.on('error', (e: MtlsError) => errors.push(e));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const silent = await watchConfig(watched, { debounceMs: 20, retries: 0, persistent: false });
    try {
      writeFileSync(watched, text);
      const end = Date.now() + 5000;
      while ((errors.length === 0 || !warnings.some((w) => w.message.includes('not reloaded'))) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(errors.length).toBeGreaterThan(0);
      const warning = warnings.find((w) => w.message.includes('not reloaded'));
      expect(warning?.message).toContain('line 4, column 20');
      for (const e of errors) expectNoSecret(shown(e), PASSPHRASE);
      expectNoSecret(inspect(warning), PASSPHRASE);
    } finally {
      process.off('warning', onWarning);
      await Promise.all([withListener.close(), silent.close()]);
    }
  });
});

describe('environment variable names', () => {
  it('a secret written where the name belongs is not echoed, even one that looks like a name', async () => {
    for (const secret of ['Summer_2024', 'correct horse battery', 'hunter2']) {
      const err = await caught(() => readConfig({ certificates: [{ host: 'a.test', pem: fixture('rsa.pem'), passphraseEnv: secret }] }));
      expect(err.code).toBe('ERR_INVALID_CONFIG');
      expect(err.message).toContain('field "passphraseEnv"');
      expect(shown(err)).not.toContain(secret);
    }
  });

  it('a name in the usual upper-case form is shown, so the user knows what to set', async () => {
    const err = await caught(() => readConfig({ certificates: [{ host: 'a.test', pem: fixture('rsa.pem'), passphraseEnv: 'MTLS_TEST_UNSET_PASS' }] }));
    expect(err.message).toContain('the environment variable MTLS_TEST_UNSET_PASS is not set');
    const keyEnv = await caught(() => readConfig({ certificates: [{ host: 'a.test', certEnv: 'MTLS_TEST_UNSET_CERT', keyEnv: 'Winter_2025' }] }));
    expect(keyEnv.message).toContain('MTLS_TEST_UNSET_CERT');
    expect(shown(keyEnv)).not.toContain('Winter_2025');
  });
});

describe('jsonSyntaxError', () => {
  it('agrees with JSON.parse on valid and mutated JSON, and places the error', () => {
    const valid = (t: string) => {
      try {
        JSON.parse(t);
        return true;
      } catch {
        return false;
      }
    };
    const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom('', "'", '"', ',', '}', ']', '\n', '\\', '\u0001', 'x', '{', '[', ':', '-', '0', '.', 'e')).map(([json, at, insert]) => {
      const i = at % (json.length + 1);
      return json.slice(0, i) + insert + json.slice(i + (at % 3 === 0 ? 1 : 0));
    });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated, fc.string()), (text) => {
        const error = jsonSyntaxError(text);
        expect(error === undefined).toBe(valid(text));
        if (error !== undefined) expect(error.line).toBeLessThanOrEqual(text.split('\n').length);
      }),
      { numRuns: 3000 },
    );
  });

  it('deep nesting does not overflow the stack', () => {
    expect(jsonSyntaxError('['.repeat(1_000_000))).toMatchObject({ what: 'the text ends too early' });
    expect(jsonSyntaxError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
  });
});
