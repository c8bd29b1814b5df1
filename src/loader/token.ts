// A certificate whose key is on a token (PKCS#11): the certificate from `cert`/`certFile` or from
// the token itself, the key proven to belong to it by a signature, and the secure contexts made
// with the token's key. Nothing here reads or exports the key.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { MtlsError } from '../errors.js';
import { readPemOrDer, type Material } from './collect.js';
import { checkSize, readLimited } from './input.js';
import { finishLoad, type ResolvedLoadOptions } from './load.js';
import { parseTokenKey, prepareEngine, proveTokenKey, registerTokenKey, tokenContext, type Pkcs11Options, type TokenKey } from './pkcs11.js';
import type { LoadedCertificate } from './types.js';

/** The certificate the URI names, read from the token with p11tool (GnuTLS, through p11-kit). */
async function certificateFromToken(key: TokenKey): Promise<Buffer> {
  const uri = key.uri.replace(/;type=[^;?]*/i, '').replace(/^pkcs11:/i, 'pkcs11:type=cert;');
  try {
    const { stdout } = await promisify(execFile)('p11tool', ['--export-chain', uri], { encoding: 'buffer', timeout: 30_000, maxBuffer: 1024 * 1024 });
    if (stdout.length === 0) throw new Error('no certificate');
    return stdout;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    throw new MtlsError(
      'ERR_NO_CERTIFICATE',
      missing
        ? `The certificate of ${key.uri} was not given, and p11tool, which reads it from the token, is not installed (Debian/Ubuntu: gnutls-bin; Fedora: gnutls-utils; macOS: brew install gnutls): pass cert or certFile.`
        : `The token holds no certificate for ${key.uri}: pass cert or certFile (the certificate issued for the token's key).`,
      { cause: err },
    );
  }
}

/** Loads a certificate whose key is the PKCS#11 URI `source.key`. */
export async function loadFromToken(
  source: { cert?: string | Uint8Array; certFile?: string; key: string; pin?: string },
  o: ResolvedLoadOptions,
  pkcs11: Pkcs11Options | undefined,
): Promise<LoadedCertificate> {
  const key = parseTokenKey(source.key, source.pin);
  if (key.pin === undefined && !/[?&]pin-source=/i.test(key.uri)) {
    // Never left to the engine: without a PIN it asks for one on the terminal (/dev/tty), which
    // would hold the process. A token that needs no login takes any PIN, e.g. pin: ''.
    throw new MtlsError('ERR_PIN_REQUIRED', `The key ${key.uri} is on a token: pass its PIN as pin (certs.json: "pinEnv": "VARIABLE"; CLI: --pin-env VARIABLE). A token that needs no login takes pin: ''.`);
  }
  prepareEngine(pkcs11);
  let input: string | Uint8Array;
  if (source.cert !== undefined) {
    checkSize(source.cert, 'certificate input', o.maxInputBytes);
    input = source.cert;
  } else if (source.certFile !== undefined) {
    input = readLimited(source.certFile, 'certificate file', o.maxInputBytes);
  } else {
    input = await certificateFromToken(key);
  }
  const m: Material = { format: 'crt+key', certificates: [], keys: [] };
  readPemOrDer(input, 'certificate input', undefined, m);
  if (m.certificates.length === 0) throw new MtlsError('ERR_NO_CERTIFICATE', `The certificate input for ${key.uri} holds no certificate.`);
  const warnings = m.keys.length > 0 ? ['The certificate input also holds a private key, which is not used: the key is the token\'s.'] : [];
  const leaf: X509Certificate = m.certificates.find((c) => !c.ca) ?? m.certificates[0]!;
  const pkcs11Facts = { uri: key.uri, ...(key.token === undefined ? {} : { token: key.token }), ...(key.object === undefined ? {} : { object: key.object }) };
  const loaded = finishLoad('pkcs11', leaf, m.certificates, o, (cert) => ({ cert, privateKeyEngine: 'pkcs11', privateKeyIdentifier: key.uri }), { warnings, pkcs11: pkcs11Facts });
  // One login and one signature, now: a wrong PIN, a missing key or a key of another certificate
  // is this load's error, not every request's.
  await proveTokenKey(tokenContext(key, { cert: loaded.tls.cert }, loaded.subject), key, loaded.subject);
  registerTokenKey(loaded, key);
  return loaded;
}
