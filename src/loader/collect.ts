// What an input holds: the certificates and private keys of a PEM, a CRT + KEY pair (PEM or DER
// each) or a PFX, read from files or bytes, before they are paired (load.ts).
import type { KeyObject, X509Certificate } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { checkSize, readLimited } from './input.js';
import { keyFromDer, keyFromPem } from './key.js';
import { toX509 } from './metadata.js';
import { ADVICE, asBytes, asText, looksLikePem, parsePem, sniffDer, type PemBlock } from './pem.js';
import { readPfx } from './pfx.js';
import type { CertificateSource, LoadedCertificate } from './types.js';

/** Certificates and keys found in the input, before pairing. */
export interface Material {
  format: LoadedCertificate['format'];
  certificates: X509Certificate[];
  keys: KeyObject[];
  /** Why there is no key, when the input held something else in its place. */
  noKeyReason?: MtlsError;
}

function unsupportedDer(kind: string, role: string): MtlsError {
  switch (kind) {
    case 'pkcs7':
      return new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.pkcs7);
    case 'jks':
      return new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.jks);
    case 'csr':
      return new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.csr);
    case 'pfx':
      return new MtlsError('ERR_UNSUPPORTED_FORMAT', `The ${role} is a PKCS#12 (PFX/P12) file: load it as { pfx } or { pfxFile }.`, { reason: { kind: 'pfx-not-pem', fact: `The ${role} is a PKCS#12 (PFX/P12) file` } });
    default:
      return new MtlsError(
        'ERR_UNSUPPORTED_FORMAT',
        `The ${role} is neither PEM nor DER nor PKCS#12: certificates and keys come as PEM text ("-----BEGIN ..."), DER or .pfx/.p12 files.`,
      );
  }
}

/** Reads PEM text or one DER object; collects certificates and private keys. */
export function readPemOrDer(input: string | Uint8Array, role: string, passphrase: string | undefined, into: Material): void {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new MtlsError('ERR_INVALID_OPTION', `The ${role} must be a string or a Uint8Array (Buffer).`);
  }
  const bytes = asBytes(input);
  if (bytes.length === 0 || asText(input).trim() === '') {
    throw new MtlsError('ERR_NO_CERTIFICATE', `The ${role} is empty: pass the contents of the certificate file.`);
  }
  if (!looksLikePem(input)) {
    const kind = sniffDer(bytes);
    if (kind === 'certificate') into.certificates.push(toX509(bytes));
    else if (kind === 'private-key' || kind === 'encrypted-private-key') into.keys.push(keyFromDer(bytes, passphrase));
    else if (kind === 'public-key') into.noKeyReason = new MtlsError('ERR_NO_PRIVATE_KEY', ADVICE.publicKey);
    else throw unsupportedDer(kind, role);
    return;
  }
  const blocks = parsePem(asText(input));
  const kinds = new Set(blocks.map((b) => b.kind));
  if (kinds.has('pkcs7') && !kinds.has('certificate')) throw new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.pkcs7);
  if (kinds.has('csr') && !kinds.has('certificate') && !kinds.has('private-key')) throw new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.csr);
  const keyBlocks: PemBlock[] = [];
  for (const block of blocks) {
    if (block.kind === 'certificate') into.certificates.push(toX509(block.der));
    else if (block.kind === 'private-key') keyBlocks.push(block);
    else if (block.kind === 'public-key') into.noKeyReason = new MtlsError('ERR_NO_PRIVATE_KEY', ADVICE.publicKey);
  }
  checkKeyCount(into.keys.length + keyBlocks.length);
  for (const block of keyBlocks) into.keys.push(keyFromPem(block, passphrase));
  if (blocks.length > 0 && into.certificates.length === 0 && keyBlocks.length === 0 && into.noKeyReason === undefined) {
    throw new MtlsError('ERR_UNSUPPORTED_FORMAT', `The ${role} holds only ${[...kinds].join(', ')} PEM blocks: no certificate or private key.`);
  }
}

/** More private keys than any client certificate file holds: refused before any is decrypted. */
export const MAX_PRIVATE_KEYS = 16;

function checkKeyCount(count: number): void {
  if (count > MAX_PRIVATE_KEYS) {
    throw new MtlsError('ERR_MALFORMED_KEY', `The input holds ${count} private keys; a client certificate needs one (a file holds at most ${MAX_PRIVATE_KEYS} here): pass the certificate with its own key.`);
  }
}

function fromPfx(input: unknown, passphrase: string | undefined): Material {
  if (!(input instanceof Uint8Array)) throw new MtlsError('ERR_INVALID_OPTION', 'The pfx must be a Uint8Array (Buffer) with the bytes of the .pfx/.p12 file.');
  const bytes = asBytes(input);
  if (bytes.length === 0) throw new MtlsError('ERR_MALFORMED_PFX', 'The PFX/P12 input is empty: pass the bytes of the .pfx/.p12 file.');
  if (looksLikePem(bytes)) throw new MtlsError('ERR_UNSUPPORTED_FORMAT', 'The pfx input is PEM text, not a PKCS#12 file: load it as { pem } or { pemFile }.');
  const kind = sniffDer(bytes);
  if (kind === 'jks' || kind === 'pkcs7') throw unsupportedDer(kind, 'pfx input');
  const contents = readPfx(bytes, passphrase);
  return { format: 'pfx', certificates: contents.certificates.map((der) => toX509(der)), keys: contents.keys };
}

export function collect(source: CertificateSource, o: { readonly maxInputBytes: number }): Material {
  if (typeof source !== 'object' || source === null) throw invalidSource();
  const s = source as Partial<Record<'pem' | 'cert' | 'key' | 'pfx' | 'pemFile' | 'certFile' | 'keyFile' | 'pfxFile', unknown>> & { passphrase?: unknown };
  if (s.passphrase !== undefined && typeof s.passphrase !== 'string') {
    throw new MtlsError('ERR_INVALID_OPTION', 'The passphrase must be a string.');
  }
  const passphrase = s.passphrase as string | undefined;
  const max = o.maxInputBytes;
  const sized = (value: unknown, what: string) => {
    if (typeof value === 'string' || value instanceof Uint8Array) checkSize(value, what, max);
    return value as string | Uint8Array;
  };
  if (s.pfx !== undefined || s.pfxFile !== undefined) {
    const bytes = s.pfx !== undefined ? sized(s.pfx, 'pfx input') : readLimited(s.pfxFile, 'PFX/P12 file', max);
    return fromPfx(bytes, passphrase);
  }
  if (s.pem !== undefined || s.pemFile !== undefined) {
    const input = s.pem !== undefined ? sized(s.pem, 'PEM input') : readLimited(s.pemFile, 'PEM file', max);
    const m: Material = { format: 'pem', certificates: [], keys: [] };
    readPemOrDer(input, 'PEM input', passphrase, m);
    return m;
  }
  if ((s.cert !== undefined || s.certFile !== undefined) && (s.key !== undefined || s.keyFile !== undefined)) {
    const cert = s.cert !== undefined ? sized(s.cert, 'certificate input') : readLimited(s.certFile, 'certificate file', max);
    const key = s.key !== undefined ? sized(s.key, 'key input') : readLimited(s.keyFile, 'key file', max);
    const m: Material = { format: 'crt+key', certificates: [], keys: [] };
    readPemOrDer(cert, 'certificate input', passphrase, m);
    const fromCert = m.keys.length;
    readPemOrDer(key, 'key input', passphrase, m);
    if (m.keys.length === fromCert && m.noKeyReason === undefined && m.certificates.length > 0) {
      m.noKeyReason = new MtlsError('ERR_NO_PRIVATE_KEY', 'The key input holds no private key: pass the private key file as key.');
    }
    return m;
  }
  throw invalidSource();
}

function invalidSource(): MtlsError {
  return new MtlsError(
    'ERR_INVALID_OPTION',
    'The certificate source must be one of { pem }, { cert, key }, { pfx }, { pemFile }, { certFile, keyFile } or { pfxFile }, each with an optional passphrase.',
  );
}

/** The source with the files collect() would read read into memory (with the same limits and wording). */
export function readFiles(source: CertificateSource, max: number): CertificateSource {
  if (typeof source !== 'object' || source === null) return source;
  const s: Record<string, unknown> = { ...source };
  const read = (file: string, into: string, what: string) => {
    if (s[file] === undefined || s[into] !== undefined) return;
    s[into] = readLimited(s[file], what, max);
    delete s[file];
  };
  if (s.pfx !== undefined || s.pfxFile !== undefined) read('pfxFile', 'pfx', 'PFX/P12 file');
  else if (s.pem !== undefined || s.pemFile !== undefined) read('pemFile', 'pem', 'PEM file');
  else if ((s.cert !== undefined || s.certFile !== undefined) && (s.key !== undefined || s.keyFile !== undefined)) {
    read('certFile', 'cert', 'certificate file');
    read('keyFile', 'key', 'key file');
  }
  return s as CertificateSource;
}
