// watchConfig with real files in a temp directory: how certificates are really renewed on disk
// (a Kubernetes ..data symlink swap, an editor's rename-over, cert and key written apart) and what
// goes wrong (a half-written file, a bad passphrase, a deleted file, invalid JSON).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificate, watchConfig, type ConfigReload, type ConfigWatcher, type MtlsError } from '../../src/index.js';
import { PASS, fixture, readFixture, secretMount } from '../helpers.js';

const DEBOUNCE = 60;
const root = mkdtempSync(join(tmpdir(), 'mtls-watch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fingerprints: Record<string, string> = {};
beforeAll(async () => {
  for (const name of ['rsa', 'ec256', 'ec384', 'ed25519']) fingerprints[name] = (await loadCertificate({ pemFile: fixture(`${name}.pem`) })).fingerprint256;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Watched {
  dir: string;
  watcher: ConfigWatcher;
  reloads: ConfigReload[];
  errors: MtlsError[];
  /** The fingerprint the store chooses for https://a.test/ now. */
  current: () => string | undefined;
}

let open: ConfigWatcher[] = [];
afterEach(async () => {
  await Promise.all(open.map((w) => w.close()));
  open = [];
});

let n = 0;
async function watched(files: Record<string, string | Buffer>, certificate: Record<string, string>, options: { retries?: number; debounceMs?: number; lazy?: boolean } = {}): Promise<Watched> {
  const dir = join(root, `case-${++n}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'certs.json'), JSON.stringify({ certificates: [{ name: 'a', host: 'a.test', ...certificate }] }));
  const watcher = await watchConfig(join(dir, 'certs.json'), { debounceMs: DEBOUNCE, ...options });
  open.push(watcher);
  const reloads: ConfigReload[] = [];
  const errors: MtlsError[] = [];
  watcher.on('reload', (r: ConfigReload) => reloads.push(r));
  watcher.on('error', (e: MtlsError) => errors.push(e));
  return { dir, watcher, reloads, errors, current: () => watcher.store.resolve('https://a.test/')?.entry.certificate.fingerprint256 };
}

/** Waits for quiet: no reload or error for a few debounce intervals. */
const settle = () => sleep(DEBOUNCE * 6);

describe('watchConfig: renewals on disk', () => {
  it('a Kubernetes secret mount (..data symlink swap) reloads once, with the new pair', async () => {
    const dir = join(root, `k8s-${++n}`);
    const mount = secretMount(join(dir, 'mount'), { 'tls.crt': readFixture('rsa.crt'), 'tls.key': readFixture('rsa.key') });
    writeFileSync(join(dir, 'certs.json'), JSON.stringify({ certificates: [{ host: 'a.test', cert: 'mount/tls.crt', key: 'mount/tls.key' }] }));
    const watcher = await watchConfig(join(dir, 'certs.json'), { debounceMs: DEBOUNCE });
    open.push(watcher);
    const reloads: ConfigReload[] = [];
    watcher.on('reload', (r: ConfigReload) => reloads.push(r));
    watcher.on('error', (e: Error) => expect.fail(e.message));
    const current = () => watcher.store.resolve('https://a.test/')?.entry.certificate.fingerprint256;
    expect(current()).toBe(fingerprints.rsa);

    mount.update({ 'tls.crt': readFixture('ec256.crt'), 'tls.key': readFixture('ec256.key') });

    await until('the reload', () => reloads.length === 1);
    await settle();
    expect(reloads).toHaveLength(1);
    expect(reloads[0]).toMatchObject({ added: [expect.objectContaining({ host: 'a.test' })], removed: [expect.objectContaining({ host: 'a.test' })], kept: [] });
    expect(current()).toBe(fingerprints.ec256);
  });

  it('lazy: a renewal swaps in the new certificate by its dates and fingerprint, loaded at its first use', async () => {
    const w = await watched({ 'tls.crt': readFixture('rsa.crt'), 'tls.key': readFixture('rsa.key') }, { cert: 'tls.crt', key: 'tls.key' }, { lazy: true });
    expect(w.current()).toBe(fingerprints.rsa);
    writeFileSync(join(w.dir, 'tls.crt.new'), readFixture('ec256.crt'));
    writeFileSync(join(w.dir, 'tls.key.new'), readFixture('ec256.key'));
    renameSync(join(w.dir, 'tls.crt.new'), join(w.dir, 'tls.crt'));
    renameSync(join(w.dir, 'tls.key.new'), join(w.dir, 'tls.key'));
    await until('the reload', () => w.current() === fingerprints.ec256);
    const certificate = w.watcher.store.resolve('https://a.test/')!.entry.certificate;
    expect(inspect(certificate)).toContain('not loaded yet');
    expect(certificate.tls.key).toMatch(/BEGIN PRIVATE KEY/); // the ec256 key, read at first use
    expect(certificate.keyType).toBe('ec');
    expect(w.errors).toHaveLength(0);
  });

  it('an editor writing a temporary file and renaming it over the PEM reloads once', async () => {
    const w = await watched({ 'client.pem': readFixture('rsa.pem') }, { pem: 'client.pem' });
    writeFileSync(join(w.dir, '.client.pem.swp'), readFixture('ec384.pem'));
    renameSync(join(w.dir, '.client.pem.swp'), join(w.dir, 'client.pem'));
    await until('the reload', () => w.reloads.length === 1);
    await settle();
    expect(w.reloads).toHaveLength(1);
    expect(w.errors).toHaveLength(0);
    expect(w.current()).toBe(fingerprints.ec384);
  });

  it.each([
    ['longer than the gap (one debounce covers both writes)', 150],
    ['shorter than the gap (the mismatched pair is read again)', 20],
  ])('cert then key written 50 ms apart, debounce %s: one reload, no error, never a mismatched pair', async (_name, debounceMs) => {
    const w = await watched({ 'tls.crt': readFixture('rsa.crt'), 'tls.key': readFixture('rsa.key') }, { cert: 'tls.crt', key: 'tls.key' }, { debounceMs, retries: 5 });
    const seen = new Set<string | undefined>();
    w.watcher.store.on('change', () => seen.add(w.current()));
    writeFileSync(join(w.dir, 'tls.crt'), readFixture('ed25519.crt'));
    await sleep(50);
    writeFileSync(join(w.dir, 'tls.key'), readFixture('ed25519.key'));
    await until('the reload', () => w.reloads.length === 1);
    await settle();
    expect(w.reloads).toHaveLength(1);
    expect(w.errors).toHaveLength(0);
    expect([...seen]).toEqual([fingerprints.ed25519]);
    const key = w.watcher.store.list()[0]!.certificate.tls.key;
    expect(String(key)).toBe(readFileSync(join(w.dir, 'tls.key'), 'utf8'));
  });

  it('the config itself changing (a new entry) reloads, keeping the unchanged entry and its id', async () => {
    const w = await watched({ 'a.pem': readFixture('rsa.pem'), 'b.pem': readFixture('ec256.pem') }, { pem: 'a.pem' });
    const id = w.watcher.store.list()[0]!.id;
    writeFileSync(join(w.dir, 'certs.json'), JSON.stringify({ certificates: [{ name: 'a', host: 'a.test', pem: 'a.pem' }, { host: 'b.test', pem: 'b.pem' }] }));
    await until('the reload', () => w.reloads.length === 1);
    await settle();
    expect(w.reloads).toHaveLength(1);
    expect(w.reloads[0]!.kept.map((e) => e.id)).toEqual([id]);
    expect(w.watcher.store.resolve('https://b.test/')?.entry.certificate.fingerprint256).toBe(fingerprints.ec256);
  });

  it('a file in a directory the config names only after a reload is watched from then on', async () => {
    const w = await watched({ 'a.pem': readFixture('rsa.pem') }, { pem: 'a.pem' });
    mkdirSync(join(w.dir, 'more'));
    writeFileSync(join(w.dir, 'more', 'b.pem'), readFixture('ec256.pem'));
    writeFileSync(join(w.dir, 'certs.json'), JSON.stringify({ certificates: [{ name: 'a', host: 'a.test', pem: 'more/b.pem' }] }));
    await until('the first reload', () => w.reloads.length === 1);
    expect(w.watcher.files).toContain(join(w.dir, 'more', 'b.pem'));
    writeFileSync(join(w.dir, 'more', 'b.pem'), readFixture('ec384.pem'));
    await until('the second reload', () => w.reloads.length === 2);
    expect(w.current()).toBe(fingerprints.ec384);
  });

  it('a write to an unrelated file in the directory does not reload', async () => {
    const w = await watched({ 'a.pem': readFixture('rsa.pem') }, { pem: 'a.pem' });
    let reads = 0;
    w.watcher.store.on('change', () => reads++);
    writeFileSync(join(w.dir, 'app.log'), 'hello');
    writeFileSync(join(w.dir, 'a.pem'), readFixture('rsa.pem')); // the same content: read, nothing changes
    await settle();
    expect(reads).toBe(0);
    expect(w.reloads).toHaveLength(0);
  });
});

describe('watchConfig: a broken state keeps the old certificates', () => {
  it('a half-written file: one error (entry and field) after the retries, then the reload when it is complete', async () => {
    const w = await watched({ 'client.pem': readFixture('rsa.pem') }, { pem: 'client.pem' }, { retries: 2 });
    const full = readFixture('ec256.pem');
    writeFileSync(join(w.dir, 'client.pem'), full.subarray(0, full.length / 2));
    await until('the error', () => w.errors.length === 1);
    await settle();
    expect(w.errors).toHaveLength(1);
    expect(w.errors[0]!.location).toMatchObject({ file: join(w.dir, 'certs.json'), entry: 0, name: 'a', field: 'pem' });
    expect(w.errors[0]!.message).toMatch(/^certificates\[0\] \("a"\), field "pem": /);
    expect(w.current()).toBe(fingerprints.rsa); // still served
    writeFileSync(join(w.dir, 'client.pem'), full);
    await until('the reload', () => w.reloads.length === 1);
    expect(w.current()).toBe(fingerprints.ec256);
    expect(w.errors).toHaveLength(1);
  });

  it('a bad passphrase: an error naming passphraseEnv, never the passphrase; the passphrase is read again at the next reload', async () => {
    process.env.MTLS_WATCH_PASS = PASS;
    const w = await watched({ 'client.p12': readFixture('rsa.pfx') }, { pfx: 'client.p12', passphraseEnv: 'MTLS_WATCH_PASS' }, { retries: 1 });
    process.env.MTLS_WATCH_PASS = 'not the passphrase';
    writeFileSync(join(w.dir, 'client.p12'), readFixture('ec256.pfx'));
    await until('the error', () => w.errors.length === 1);
    expect(w.errors[0]).toMatchObject({ code: 'ERR_BAD_PASSPHRASE', location: { entry: 0, field: 'passphraseEnv' } });
    expect(w.errors[0]!.message).not.toContain('not the passphrase');
    expect(w.current()).toBe(fingerprints.rsa);
    process.env.MTLS_WATCH_PASS = PASS;
    await w.watcher.reload(); // no file event for an environment variable: reload() reads it now
    expect(w.current()).toBe(fingerprints.ec256);
    expect(w.reloads).toHaveLength(1);
  });

  it('a deleted key file: ERR_FILE_READ naming "key"; the renewal written afterwards reloads', async () => {
    const w = await watched({ 'tls.crt': readFixture('rsa.crt'), 'tls.key': readFixture('rsa.key') }, { cert: 'tls.crt', key: 'tls.key' }, { retries: 1 });
    unlinkSync(join(w.dir, 'tls.key'));
    await until('the error', () => w.errors.length === 1);
    expect(w.errors[0]).toMatchObject({ code: 'ERR_FILE_READ', location: { entry: 0, field: 'key' } });
    expect(w.current()).toBe(fingerprints.rsa);
    writeFileSync(join(w.dir, 'tls.crt'), readFixture('ec384.crt'));
    writeFileSync(join(w.dir, 'tls.key'), readFixture('ec384.key'));
    await until('the reload', () => w.reloads.length === 1);
    await settle();
    expect(w.errors).toHaveLength(1);
    expect(w.current()).toBe(fingerprints.ec384);
  });

  it('the directory of the files deleted, then made again with a renewal: one error, then the reload', async () => {
    const dir = join(root, `dirs-${++n}`);
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs', 'client.pem'), readFixture('rsa.pem'));
    writeFileSync(join(dir, 'certs.json'), JSON.stringify({ certificates: [{ host: 'a.test', pem: 'certs/client.pem' }] }));
    const watcher = await watchConfig(join(dir, 'certs.json'), { debounceMs: DEBOUNCE, retries: 0 });
    open.push(watcher);
    const reloads: ConfigReload[] = [];
    const errors: MtlsError[] = [];
    watcher.on('reload', (r: ConfigReload) => reloads.push(r));
    watcher.on('error', (e: MtlsError) => errors.push(e));
    rmSync(join(dir, 'certs'), { recursive: true });
    await until('the error', () => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'ERR_FILE_READ', location: { field: 'pem' } });
    await settle();
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'client.pem'), readFixture('ed25519.pem'));
    await until('the reload', () => reloads.length === 1);
    expect(watcher.store.resolve('https://a.test/')?.entry.certificate.fingerprint256).toBe(fingerprints.ed25519);
    writeFileSync(join(dir, 'certs', 'client.pem'), readFixture('ec384.pem')); // and the new directory is watched itself
    await until('the second reload', () => reloads.length === 2);
    expect(watcher.store.resolve('https://a.test/')?.entry.certificate.fingerprint256).toBe(fingerprints.ec384);
  });

  it('invalid JSON and a mismatched key: one error each, the store untouched; fixed files reload', async () => {
    const w = await watched({ 'tls.crt': readFixture('rsa.crt'), 'tls.key': readFixture('rsa.key') }, { cert: 'tls.crt', key: 'tls.key' }, { retries: 0 });
    const generation = w.watcher.store.generation;
    writeFileSync(join(w.dir, 'certs.json'), '{ "certificates": [');
    await until('the JSON error', () => w.errors.length === 1);
    expect(w.errors[0]).toMatchObject({ code: 'ERR_INVALID_CONFIG', message: expect.stringMatching(/not valid JSON/) });
    writeFileSync(join(w.dir, 'certs.json'), JSON.stringify({ certificates: [{ name: 'a', host: 'a.test', cert: 'tls.crt', key: 'tls.key' }] }));
    writeFileSync(join(w.dir, 'tls.key'), readFixture('ec256.key'));
    await until('the mismatch error', () => w.errors.length === 2);
    expect(w.errors[1]).toMatchObject({ code: 'ERR_KEY_MISMATCH', location: { entry: 0, field: 'key' } });
    expect(w.watcher.store.generation).toBe(generation);
    writeFileSync(join(w.dir, 'tls.crt'), readFixture('ec256.crt'));
    await until('the reload', () => w.reloads.length === 1);
    expect(w.current()).toBe(fingerprints.ec256);
  });

  it('with no error listener, a failed reload is a process warning, not a crash', async () => {
    const w = await watched({ 'client.pem': readFixture('rsa.pem') }, { pem: 'client.pem' }, { retries: 0 });
    w.watcher.removeAllListeners('error');
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      writeFileSync(join(w.dir, 'client.pem'), 'not a certificate');
      await until('the warning', () => warnings.some((x) => (x as Error & { code?: string }).code === 'MTLS_RESOLVER_RELOAD'));
      expect(w.current()).toBe(fingerprints.rsa);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('watchConfig: lifecycle', () => {
  it('close() stops watching: no reload afterwards, no fs watcher left open', async () => {
    const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
    await sleep(20); // handles of earlier tests finish closing
    const before = handles();
    const w = await watched({ 'client.pem': readFixture('rsa.pem') }, { pem: 'client.pem' });
    expect(handles()).toBeGreaterThan(before);
    await w.watcher.close();
    await sleep(20);
    expect(handles()).toBe(before);
    writeFileSync(join(w.dir, 'client.pem'), readFixture('ec256.pem'));
    await settle();
    expect(w.reloads).toHaveLength(0);
    expect(w.current()).toBe(fingerprints.rsa);
    await expect(w.watcher.reload()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('the first load fails like fromConfig, and bad options are refused', async () => {
    const dir = join(root, `first-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'certs.json'), JSON.stringify({ certificates: [{ host: 'a.test', pem: 'missing.pem' }] }));
    await expect(watchConfig(join(dir, 'certs.json'))).rejects.toMatchObject({ code: 'ERR_FILE_READ', location: { entry: 0, field: 'pem' } });
    await expect(watchConfig(join(dir, 'certs.json'), { debounceMs: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(watchConfig('' as string)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
