// What a certificate's DER says about its dates, names and fingerprint, read without OpenSSL: a
// lazily loaded entry needs its validity up front (R6, expiry events) and its fingerprint (the
// store's identity of a certificate), and on Node 20 `new X509Certificate` costs ~0.2 ms and a
// private key ~0.5 ms, where this costs a few microseconds.
import { createHash } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { asBytes, asText, looksLikePem, parsePem } from './pem.js';

/** The leaf certificate's facts a lazy entry knows before it is loaded. */
export interface CertificatePreview {
  /** SHA-256 of the leaf's DER. */
  sha256: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** How many certificates the input holds: with more than one, only the key says which is the leaf. */
  count: number;
  /** The leaf's SubjectPublicKeyInfo (DER), and whether another certificate of the input has the same. */
  spki: Buffer;
  spkiShared: boolean;
}

interface Tlv {
  tag: number;
  /** First content byte. */
  start: number;
  /** One past the last content byte. */
  end: number;
}

function malformed(): MtlsError {
  return new MtlsError('ERR_MALFORMED_CERTIFICATE', 'A certificate in the input could not be parsed: it is damaged or not an X.509 certificate.');
}

/** The tag-length-value at `pos`, inside `limit`. */
function tlv(der: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw malformed();
  const tag = der[pos]!;
  let length = der[pos + 1]!;
  let start = pos + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw malformed();
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw malformed();
  return { tag, start, end };
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049 as RFC 5280 says) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function timeOf(der: Buffer, t: Tlv): Date {
  const text = der.toString('latin1', t.start, t.end);
  const m = t.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text) : t.tag === 0x18 ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text) : null;
  if (m === null) throw malformed();
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  if (Number.isNaN(date.getTime())) throw malformed();
  return date;
}

/** The raw parts of one certificate that the preview and the leaf choice need. */
interface Parsed {
  der: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
}

function parseCertificate(der: Buffer): Parsed {
  const cert = tlv(der, 0, der.length); // bytes after it are ignored, as OpenSSL's d2i does (TRUSTED CERTIFICATE aux data)
  if (cert.tag !== 0x30) throw malformed();
  const tbs = tlv(der, cert.start, cert.end);
  if (tbs.tag !== 0x30) throw malformed();
  let field = tlv(der, tbs.start, tbs.end);
  if (field.tag === 0xa0) field = tlv(der, field.end, tbs.end); // [0] version
  const serial = field;
  if (serial.tag !== 0x02) throw malformed();
  const algorithm = tlv(der, serial.end, tbs.end);
  const issuer = tlv(der, algorithm.end, tbs.end);
  const validity = tlv(der, issuer.end, tbs.end);
  const subject = tlv(der, validity.end, tbs.end);
  if (algorithm.tag !== 0x30 || issuer.tag !== 0x30 || validity.tag !== 0x30 || subject.tag !== 0x30) throw malformed();
  const spki = tlv(der, subject.end, tbs.end);
  if (spki.tag !== 0x30) throw malformed();
  const notBefore = tlv(der, validity.start, validity.end);
  const notAfter = tlv(der, notBefore.end, validity.end);
  return {
    der,
    issuer: der.subarray(issuer.start, issuer.end),
    subject: der.subarray(subject.start, subject.end),
    notBefore: timeOf(der, notBefore),
    notAfter: timeOf(der, notAfter),
    spki: der.subarray(subject.end, spki.end),
  };
}

/** `AB:CD:...`, as `X509Certificate.fingerprint256` prints it. */
export function formatFingerprint(sha256: Uint8Array): string {
  return Buffer.from(sha256).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/**
 * The leaf's preview from the certificate input (PEM text with one or more certificates, or one
 * DER certificate). The leaf is the first certificate that issued none of the others, which is
 * the one the key belongs to in every leaf-plus-chain input, in any order.
 *
 * @throws {MtlsError} `ERR_NO_CERTIFICATE`, `ERR_MALFORMED_CERTIFICATE`.
 */
export function previewCertificate(input: string | Uint8Array): CertificatePreview {
  const ders = looksLikePem(input)
    ? parsePem(asText(input))
        .filter((b) => b.kind === 'certificate')
        .map((b) => b.der)
    : [asBytes(input)];
  if (ders.length === 0) throw new MtlsError('ERR_NO_CERTIFICATE', 'The input holds no certificate.');
  const certs = ders.map(parseCertificate);
  // The names that issued another certificate in the input (a set: linear in the certificates).
  const issuers = new Set(certs.filter((d) => !d.issuer.equals(d.subject)).map((d) => d.issuer.toString('latin1')));
  const leaf = certs.find((c) => !issuers.has(c.subject.toString('latin1'))) ?? certs[0]!;
  return {
    sha256: createHash('sha256').update(leaf.der).digest(),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    count: certs.length,
    spki: leaf.spki,
    spkiShared: certs.some((c) => c !== leaf && c.spki.equals(leaf.spki)),
  };
}
