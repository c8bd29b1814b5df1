import type { X509Certificate } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { DEFAULT_MAX_INPUT_BYTES, checkSize, readLimited } from './input.js';
import { nameOf, summarize, toX509 } from './metadata.js';
import { ADVICE, asBytes, asText, looksLikePem, parsePem, sniffDer } from './pem.js';
import type { CaBundle } from './types.js';

/**
 * Loads trusted CA certificates: a PEM file with one or more certificates (as Postman's and
 * Checkly's CA field take), or one DER certificate. The result's `pem` goes to TLS `ca`, added to
 * Node's default roots by the adapters.
 *
 * @throws {MtlsError} `ERR_NO_CERTIFICATE`, `ERR_MALFORMED_CERTIFICATE`, `ERR_UNSUPPORTED_FORMAT`,
 *   `ERR_FILE_READ`, `ERR_INPUT_TOO_LARGE`.
 * @example
 * ```ts
 * const ca = loadCaBundle({ file: './corporate-ca.pem' });
 * console.log(ca.certificates.map((c) => c.subject));
 * ```
 */
export function loadCaBundle(input: string | Uint8Array | { file: string }, options: { maxInputBytes?: number } = {}): CaBundle {
  const max = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  let data: string | Uint8Array;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    checkSize(input, 'CA bundle', max);
    data = input;
  } else if (typeof input === 'object' && input !== null && 'file' in input) {
    data = readLimited(input.file, 'CA bundle file', max);
  } else {
    throw new MtlsError('ERR_INVALID_OPTION', 'The CA bundle must be PEM text, DER bytes, or { file: path }.');
  }
  const warnings: string[] = [];
  const certs: X509Certificate[] = [];
  // A certificate this runtime cannot read (a key algorithm Node does not decode, such as a GOST
  // root) is left out with a warning: the others are used, as OpenSSL and Node's own `ca` do.
  const unreadable: MtlsError[] = [];
  let seen = 0;
  const parse = (der: Buffer) => {
    seen++;
    try {
      certs.push(toX509(der, 'the CA bundle'));
    } catch (err) {
      if (!(err instanceof MtlsError)) throw err;
      unreadable.push(err);
      warnings.push(`Certificate ${seen} of the CA bundle could not be read (it is damaged, or its key algorithm is not supported here) and is left out; the others are used.`);
    }
  };
  if (looksLikePem(data)) {
    for (const block of parsePem(asText(data))) {
      if (block.kind === 'certificate') parse(block.der);
      else if (block.kind === 'pkcs7') throw new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.pkcs7);
      else if (block.kind === 'private-key') warnings.push('The CA bundle contains a private key, which it should not: it was ignored. Keep private keys out of CA files.');
    }
  } else if (asBytes(data).length > 0) {
    const kind = sniffDer(asBytes(data));
    if (kind === 'pkcs7') throw new MtlsError('ERR_UNSUPPORTED_FORMAT', ADVICE.pkcs7);
    if (kind !== 'certificate') throw new MtlsError('ERR_UNSUPPORTED_FORMAT', 'The CA bundle is neither PEM nor a DER certificate.', { reason: { kind: 'not-a-certificate', fact: 'It is neither PEM nor a DER certificate' } });
    parse(asBytes(data));
  }
  if (certs.length === 0 && unreadable.length > 0) throw unreadable[0]!;
  if (certs.length === 0) throw new MtlsError('ERR_NO_CERTIFICATE', 'The CA bundle holds no certificate: pass a PEM file with one or more "BEGIN CERTIFICATE" blocks.');
  const now = Date.now();
  for (const c of certs) {
    const s = nameOf(c, 'subject');
    if (!c.ca) warnings.push(`${JSON.stringify(s)} is not a CA certificate: it can only vouch for itself (a self-signed server).`);
    if (new Date(c.validTo).getTime() < now) warnings.push(`${JSON.stringify(s)} expired on ${new Date(c.validTo).toISOString()}.`);
  }
  return { certificates: certs.map(summarize), pem: certs.map((c) => c.toString()).join(''), warnings };
}
