// Keys that never leave a smart card, YubiKey, HSM or TPM: a PKCS#11 URI (RFC 7512) where a key
// goes. Node signs with such a key through OpenSSL's pkcs11 engine (libp11): the secure context
// names the engine and the key's URI, and OpenSSL asks the token to sign each handshake. The key
// is never exported, copied or printed; the PIN is never in a message.
//
// The engine is found the way OpenSSL finds engines (OPENSSL_ENGINES, else the system OpenSSL's
// ENGINESDIR) and loaded by id, which can be repeated (by path it works once per process). libp11
// prints the URI it was given when a key is not found or a login fails, so the PIN is never in
// that URI: it is handed over as `pin-source=file:/dev/fd/N`, an unlinked file (in RAM where
// /dev/shm exists) open only while OpenSSL reads it.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { TLSSocket, connect as tlsConnect, createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { MtlsError } from '../errors.js';

/** Where the PKCS#11 engine and module are (LoadOptions.pkcs11). */
export interface Pkcs11Options {
  /**
   * The directory of OpenSSL's engines that holds libp11's `pkcs11` engine. Default: the
   * `OPENSSL_ENGINES` environment variable, else the system OpenSSL's (`openssl version -e`),
   * else the usual places on Debian/Ubuntu, Fedora and Homebrew.
   */
  enginesDir?: string;
  /**
   * The PKCS#11 module (`.so`/`.dylib`) of the token, as libp11's `PKCS11_MODULE_PATH`. Default:
   * p11-kit's proxy, which reaches every module registered with p11-kit (OpenSC, SoftHSM, ...).
   * One module per process: the engine keeps the first.
   */
  module?: string;
}

/** A key on a token: its URI without a PIN, the PIN kept apart. */
export interface TokenKey {
  /** The URI as given, without `pin-value`: what `inspect`, JSON and messages show. */
  readonly uri: string;
  readonly token: string | undefined;
  readonly object: string | undefined;
  readonly pin: string | undefined;
}

const MAX_URI = 4096;
const ENGINE_FILES = ['pkcs11.so', 'libpkcs11.so', 'pkcs11.dylib', 'libpkcs11.dylib', 'pkcs11.dll'];
const USUAL_DIRS = [
  '/usr/lib/x86_64-linux-gnu/engines-3',
  '/usr/lib/aarch64-linux-gnu/engines-3',
  '/usr/lib64/engines-3',
  '/usr/lib/engines-3',
  '/opt/homebrew/lib/engines-3',
  '/usr/local/lib/engines-3',
];

export const isPkcs11Uri = (value: unknown): value is string => typeof value === 'string' && /^pkcs11:/i.test(value);

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Parses a PKCS#11 URI (RFC 7512): its `pin-value` taken out, the token and object named. */
export function parseTokenKey(uri: string, pin: string | undefined): TokenKey {
  if (uri.length > MAX_URI || /[\s"<>\\^`{|}]/.test(uri) || /[\u0000-\u001f\u007f-\uffff]/.test(uri)) {
    throw new MtlsError('ERR_INVALID_OPTION', `The PKCS#11 URI is not valid: it must be pkcs11:attribute=value;... (RFC 7512, at most ${MAX_URI} characters, spaces and other special characters percent-encoded), e.g. pkcs11:token=MyToken;object=client-key;type=private.`);
  }
  if (pin !== undefined && typeof pin !== 'string') throw new MtlsError('ERR_INVALID_OPTION', 'The PIN must be a string.');
  const [path = '', query = ''] = uri.slice('pkcs11:'.length).split('?', 2);
  const attrs = new Map(path.split(';').filter(Boolean).map((a) => [a.slice(0, a.indexOf('=') >>> 0).toLowerCase(), a.slice(a.indexOf('=') + 1)] as const));
  let inUri: string | undefined;
  const kept = query
    .split('&')
    .filter(Boolean)
    .filter((q) => {
      if (!/^pin-value=/i.test(q)) return true;
      inUri = decode(q.slice('pin-value='.length));
      return false;
    });
  const shown = `pkcs11:${path}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  const token = attrs.get('token');
  const object = attrs.get('object');
  return { uri: shown, token: token === undefined ? undefined : decode(token), object: object === undefined ? undefined : decode(object), pin: pin ?? inUri };
}

let chosenDir: string | undefined;
let chosenModule: string | undefined;

function hasEngine(dir: string): boolean {
  return ENGINE_FILES.some((f) => existsSync(join(dir, f)));
}

function systemEnginesDir(): string | undefined {
  try {
    const out = execFileSync('openssl', ['version', '-e'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /ENGINESDIR:\s*"([^"]*)"/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function unavailable(detail: string, cause?: unknown): MtlsError {
  return new MtlsError(
    'ERR_PKCS11_UNAVAILABLE',
    `No PKCS#11 support is available: ${detail}. Install OpenSSL's pkcs11 engine and your token's module: Debian/Ubuntu \`apt-get install libengine-pkcs11-openssl opensc\` (SoftHSM: softhsm2), Fedora \`dnf install openssl-pkcs11 opensc\`, macOS \`brew install libp11 opensc\`; or name its directory with the pkcs11.enginesDir option (\`openssl version -e\` prints it).`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Makes OpenSSL find the pkcs11 engine: OPENSSL_ENGINES set once, before the first use (OpenSSL
 * reads it when it loads an engine by id), and PKCS11_MODULE_PATH for a named module.
 */
export function prepareEngine(options: Pkcs11Options = {}): void {
  if (options.module !== undefined) {
    if (typeof options.module !== 'string' || options.module === '') throw new MtlsError('ERR_INVALID_OPTION', 'The option pkcs11.module must be the path of a PKCS#11 module (.so, .dylib).');
    if (chosenModule !== undefined && chosenModule !== options.module) {
      throw new MtlsError('ERR_INVALID_OPTION', `The PKCS#11 module is already ${chosenModule} in this process (OpenSSL's pkcs11 engine keeps the first): one module per process, or reach several through p11-kit (leave pkcs11.module out).`);
    }
    if (!existsSync(options.module)) throw unavailable(`the PKCS#11 module ${options.module} does not exist`);
    chosenModule = options.module;
    process.env.PKCS11_MODULE_PATH = options.module;
  }
  if (chosenDir !== undefined && (options.enginesDir === undefined || options.enginesDir === chosenDir)) return;
  if (options.enginesDir !== undefined && chosenDir !== undefined) {
    throw new MtlsError('ERR_INVALID_OPTION', `OpenSSL's engines directory is already ${chosenDir} in this process: it is read once.`);
  }
  const given = options.enginesDir ?? process.env.OPENSSL_ENGINES;
  if (given !== undefined && given !== '') {
    if (!hasEngine(given)) throw unavailable(`${given} holds no pkcs11 engine (${ENGINE_FILES.slice(0, 2).join(' or ')})`);
    chosenDir = given;
  } else {
    chosenDir = [systemEnginesDir(), ...USUAL_DIRS].find((d): d is string => d !== undefined && hasEngine(d));
    if (chosenDir === undefined) throw unavailable("OpenSSL's pkcs11 engine (libp11) was not found");
  }
  process.env.OPENSSL_ENGINES = chosenDir;
}

/**
 * Runs `use` with the PIN readable at a `pin-source` file that exists only meanwhile: created in a
 * private directory, unlinked at once, read through its descriptor (`/dev/fd/N`: a fresh open of
 * the same file on Linux; the same offset on macOS, so the PIN is written at 0 without moving it).
 */
function withPin<T>(pin: string | undefined, use: (query: string) => T): T {
  if (pin === undefined) return use('');
  if (process.platform === 'win32') return use(`pin-value=${encodeURIComponent(pin)}`);
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mtls-pin-'));
  const file = join(dir, 'pin');
  const fd = openSync(file, 'wx', 0o600);
  try {
    unlinkSync(file);
    rmdirSync(dir);
    const bytes = Buffer.from(pin, 'utf8');
    writeSync(fd, bytes, 0, bytes.length, 0);
    return use(`pin-source=file:/dev/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}

function tokenError(err: unknown, key: TokenKey, hadPin: boolean, subject: string | undefined): MtlsError {
  const code = (err as { code?: string }).code ?? '';
  const where = `${key.uri}`;
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return keyMismatch(key, subject, err);
  if (code === 'ERR_OSSL_PIN_INCORRECT') {
    return new MtlsError('ERR_BAD_PIN', `The token refused the PIN for ${where}: check it. It is not tried again (tokens lock after a few wrong PINs).`, { cause: err });
  }
  if (code === 'ERR_OSSL_PIN_LOCKED') return new MtlsError('ERR_BAD_PIN', `The token's PIN is locked (${where}): unlock it with its SO PIN or PUK (e.g. pkcs11-tool --init-pin, ykman piv access unblock-pin).`, { cause: err });
  if (code === 'ERR_OSSL_UI_PROCESSING_ERROR' || code === 'ERR_OSSL_USER_NOT_LOGGED_IN' || (!hadPin && /login|pin/i.test((err as Error).message ?? ''))) {
    return new MtlsError('ERR_PIN_REQUIRED', `The key ${where} needs the token's PIN: pass it as pin (certs.json: "pinEnv": "VARIABLE").`, { cause: err });
  }
  if (code === 'ERR_OSSL_OBJECT_NOT_FOUND' || code === 'ERR_OSSL_TOKEN_NOT_PRESENT' || code === 'ERR_OSSL_SLOT_ID_INVALID') {
    return new MtlsError('ERR_PKCS11_NOT_FOUND', `No private key at ${where}: the token is not present or holds no such object. \`p11tool --list-all-privkeys --login\` (or \`pkcs11-tool --list-objects --login\`) lists the keys and their URIs.`, { cause: err });
  }
  if (/^ERR_OSSL_(ENGINE|DSO)_/.test(code) || /engine|dso/i.test((err as Error).message ?? '')) return unavailable(`OpenSSL could not load its pkcs11 engine (${code || 'no code'})`, err);
  return new MtlsError('ERR_PKCS11_NOT_FOUND', `The key ${where} could not be used (${code || 'no code'}): check the token is inserted and the URI names its private key.`, { cause: err });
}

/**
 * A secure context whose private key is the token's: `options` (the chain, CAs, TLS versions) and
 * the engine's key. One per certificate and trust, reused by the adapters (each one is a login).
 */
export function tokenContext(key: TokenKey, options: SecureContextOptions, subject?: string): SecureContext {
  return withPin(key.pin, (query) => {
    const identifier = query === '' ? key.uri : `${key.uri}${key.uri.includes('?') ? '&' : '?'}${query}`;
    try {
      return createSecureContext({ ...options, privateKeyEngine: 'pkcs11', privateKeyIdentifier: identifier });
    } catch (err) {
      throw tokenError(err, key, key.pin !== undefined, subject);
    }
  });
}

function keyMismatch(key: TokenKey, subject: string | undefined, cause: unknown): MtlsError {
  return new MtlsError(
    'ERR_KEY_MISMATCH',
    `The token's key ${key.uri} does not belong to the certificate${subject === undefined ? '' : ` ${JSON.stringify(subject)}`}: a signature made with it does not verify with the certificate's public key. Pair the certificate with the key it was issued for (\`p11tool --list-all --login\` shows each key's object and id).`,
    { cause },
  );
}

/** Two streams joined back to back: a TLS client and server in this process, no socket. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const end = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, done) {
        other().push(chunk);
        done();
      },
      final(done) {
        other().push(null);
        done();
      },
    });
  ends.push(end(() => ends[1]!), end(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

/**
 * Proves the token's key belongs to the certificate, once, by a signature: a TLS handshake in
 * this process whose server is the token context, so the token signs and the client checks the
 * signature against the certificate (OpenSSL does not compare them when the key is an engine's).
 */
export async function proveTokenKey(context: SecureContext, key: TokenKey, subject: string): Promise<void> {
  const [a, b] = duplexPair();
  const server = new TLSSocket(a, { isServer: true, secureContext: context });
  const client = tlsConnect({ socket: b, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new MtlsError('ERR_PKCS11_NOT_FOUND', `The token did not sign within 30 s (${key.uri}): check it is inserted and not waiting for a touch.`)), 30_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      server.once('error', fail);
      client.once('error', fail);
      client.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw keyMismatch(key, subject, err);
  } finally {
    client.destroy();
    server.destroy();
  }
}

const tokenKeys = new WeakMap<object, TokenKey>();

/** @internal Marks a loaded certificate as one whose key is `key` on a token. */
export function registerTokenKey(certificate: object, key: TokenKey): void {
  tokenKeys.set(certificate, key);
}

/** The token key of a certificate loaded with one. */
export function tokenKeyOf(certificate: object): TokenKey | undefined {
  return tokenKeys.get(certificate);
}

/**
 * A secure context with the certificate's chain and key, plus `options` (CAs, TLS versions): the
 * key from memory, or the token's through the engine.
 */
export function secureContextOf(certificate: { readonly tls: { cert: string; key?: string } }, options: SecureContextOptions = {}): SecureContext {
  const token = tokenKeys.get(certificate);
  if (token !== undefined) return tokenContext(token, { ...options, cert: certificate.tls.cert });
  return createSecureContext({ ...options, cert: certificate.tls.cert, key: certificate.tls.key });
}
