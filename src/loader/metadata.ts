import { X509Certificate } from 'node:crypto';
import { MtlsError } from '../errors.js';
import type { CertificateStatus, CertificateSummary } from './types.js';

const DAY_MS = 86_400_000;

/** The subject or issuer as one line, `C=US, O=b, CN=c` (node prints one attribute per line). */
export function nameOf(x509: X509Certificate, which: 'subject' | 'issuer'): string {
  return (x509[which] ?? '').split('\n').join(', ');
}

function commonNameOf(subject: string): string | undefined {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3);
}

function altNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san === undefined || san === null || san === '') return [];
  // Entries are separated by ", " before the next "Type:"; values themselves may hold commas.
  return san.split(/, (?=[A-Za-z][A-Za-z ]*:)/);
}

const summaries = new WeakMap<X509Certificate, CertificateSummary>();

/** The public facts of one certificate (computed once per certificate object). */
export function summarize(x509: X509Certificate): CertificateSummary {
  const known = summaries.get(x509);
  if (known !== undefined) return { ...known, subjectAltNames: [...known.subjectAltNames] };
  const summary = readSummary(x509);
  summaries.set(x509, summary);
  return { ...summary, subjectAltNames: [...summary.subjectAltNames] };
}

function readSummary(x509: X509Certificate): CertificateSummary {
  const commonName = commonNameOf(x509.subject ?? '');
  const summary: CertificateSummary = {
    subject: nameOf(x509, 'subject'),
    issuer: nameOf(x509, 'issuer'),
    serialNumber: x509.serialNumber.toUpperCase(),
    fingerprint256: x509.fingerprint256,
    subjectAltNames: altNames(x509),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    keyType: x509.publicKey.asymmetricKeyType ?? 'unknown',
    selfSigned: isSelfSigned(x509),
    isCA: x509.ca,
  };
  if (commonName !== undefined) summary.commonName = commonName;
  return summary;
}

export function isSelfSigned(x509: X509Certificate): boolean {
  if (x509.subject !== x509.issuer) return false;
  try {
    return x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}

/** Status and whole days left at `now` (R6's view of validity, plus the warning window). */
/** The default of `expiryWarningDays` (loader, store, CLI): a certificate within 30 days of its end is expiring soon. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

export function statusAt(notBefore: Date, notAfter: Date, now: Date, expiryWarningDays: number): { status: CertificateStatus; daysUntilExpiry: number } {
  const left = notAfter.getTime() - now.getTime();
  const daysUntilExpiry = Math.floor(left / DAY_MS);
  if (left < 0) return { status: 'expired', daysUntilExpiry };
  if (now.getTime() < notBefore.getTime()) return { status: 'not-yet-valid', daysUntilExpiry };
  return { status: daysUntilExpiry <= expiryWarningDays ? 'expiring-soon' : 'valid', daysUntilExpiry };
}

/** The warnings that a status calls for (none for 'valid'). */
export function statusWarnings(status: CertificateStatus, days: number, notBefore: Date, notAfter: Date): string[] {
  if (status === 'expired') return [`The certificate expired on ${notAfter.toISOString()}: servers will refuse it; renew it.`];
  if (status === 'not-yet-valid') return [`The certificate is not valid until ${notBefore.toISOString()}: servers will refuse it until then.`];
  if (status === 'expiring-soon') return [`The certificate expires in ${days} day${days === 1 ? '' : 's'} (${notAfter.toISOString()}): renew it soon.`];
  return [];
}

/** Puts the chain leaf first, each certificate followed by its issuer; reports whether it moved anything. */
/** The longest chain put together (leaf included); real ones hold 2 to 4 certificates. */
export const MAX_CHAIN = 16;

export function orderChain(leaf: X509Certificate, all: X509Certificate[]): { chain: X509Certificate[]; reordered: boolean; unrelated: X509Certificate[] } {
  const rest = all.filter((c) => c !== leaf);
  const chain = [leaf];
  // Each step looks through the rest: bounded by MAX_CHAIN, so a file of thousands of certificates
  // issued one by the next costs thousands of comparisons, not millions.
  for (let current = leaf; chain.length < MAX_CHAIN; ) {
    if (isSelfSigned(current)) break;
    const i = rest.findIndex((c) => current.checkIssued(c));
    if (i === -1) break;
    current = rest.splice(i, 1)[0]!;
    chain.push(current);
  }
  const given = all.filter((c) => chain.includes(c));
  const reordered = given.some((c, i) => c !== chain[i]);
  return { chain, reordered, unrelated: rest };
}

/**
 * Parses one DER certificate completely (public key and dates too), so that a damaged one fails
 * here with `ERR_MALFORMED_CERTIFICATE` and not later with an OpenSSL error.
 */
export function toX509(der: Buffer, where = 'the input'): X509Certificate {
  try {
    const x509 = new X509Certificate(der);
    const { notBefore, notAfter } = summarize(x509); // reads the public key, names and extensions
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new Error('bad validity');
    return x509;
  } catch (err) {
    throw new MtlsError('ERR_MALFORMED_CERTIFICATE', `A certificate in ${where} could not be parsed: it is damaged or not an X.509 certificate.`, { cause: err });
  }
}

