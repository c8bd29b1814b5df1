// Telling apart what users hand us: PEM blocks by their labels, DER by its structure, and the
// formats we cannot use (PKCS#7, Java keystores, CSRs, public keys) with what to do instead.
import { X509Certificate } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { TAG, UNIVERSAL, oidOf, parseDer } from './forge.js';

export type BlockKind = 'certificate' | 'private-key' | 'csr' | 'public-key' | 'pkcs7' | 'ignored' | 'unknown';

export interface PemBlock {
  kind: BlockKind;
  label: string;
  /** The whole block, BEGIN to END line, as text (keys keep their Proc-Type headers). */
  text: string;
  der: Buffer;
  encrypted: boolean;
}

// Armour lines, read at a known place (sticky): a label of at most 64 characters.
const BEGIN_LINE = /-----BEGIN ([A-Z0-9 ]{1,64})-----/y;
const END_LINE = /-----END ([A-Z0-9 ]{1,64})-----/y;
const KINDS: Record<string, BlockKind> = {
  CERTIFICATE: 'certificate',
  'X509 CERTIFICATE': 'certificate',
  'TRUSTED CERTIFICATE': 'certificate',
  'PRIVATE KEY': 'private-key',
  'ENCRYPTED PRIVATE KEY': 'private-key',
  'RSA PRIVATE KEY': 'private-key',
  'EC PRIVATE KEY': 'private-key',
  'DSA PRIVATE KEY': 'private-key',
  'CERTIFICATE REQUEST': 'csr',
  'NEW CERTIFICATE REQUEST': 'csr',
  'PUBLIC KEY': 'public-key',
  'RSA PUBLIC KEY': 'public-key',
  PKCS7: 'pkcs7',
  'X509 CRL': 'ignored',
  'EC PARAMETERS': 'ignored',
  'DH PARAMETERS': 'ignored',
};

export const ADVICE = {
  pkcs7:
    'PKCS#7 (.p7b) bundles hold certificates but no private key and are not supported: convert with `openssl pkcs7 -print_certs -in bundle.p7b -out chain.pem` and pass chain.pem with its key.',
  jks: 'Java keystores (JKS/JCEKS) are not supported: convert with `keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12` and load the .p12 as pfx.',
  csr: 'This is a certificate signing request (CSR), not a certificate: send it to your CA and use the certificate it issues.',
  publicKey: 'This is a public key, but a private key is needed: use the key file that was created with the certificate request (it starts with "-----BEGIN PRIVATE KEY-----" or similar).',
} as const;

/** True when the bytes look like text with PEM armour. */
export function looksLikePem(input: string | Uint8Array): boolean {
  if (typeof input === 'string') return input.includes('-----BEGIN ');
  return Buffer.from(input.buffer, input.byteOffset, Math.min(input.byteLength, 1 << 20)).includes('-----BEGIN ');
}

export function asText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

export function asBytes(input: string | Uint8Array): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'latin1') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function malformedBlock(kind: BlockKind, message: string): MtlsError {
  return kind === 'private-key'
    ? new MtlsError('ERR_MALFORMED_KEY', `The private key PEM is damaged: ${message}`)
    : new MtlsError('ERR_MALFORMED_CERTIFICATE', `The PEM data is damaged: ${message}`);
}

/**
 * Every PEM block in `text`, classified and base64-checked.
 * @throws {MtlsError} `ERR_MALFORMED_CERTIFICATE` / `ERR_MALFORMED_KEY` for a truncated block or broken base64.
 */
export function parsePem(text: string): PemBlock[] {
  // One pass with indexOf from where the previous block ended: linear in the text. (A RegExp with a
  // lazy body, tried from every BEGIN line, read the rest of the text again for each one: 4 MiB
  // of BEGIN lines without an END took minutes.)
  const blocks: PemBlock[] = [];
  let from = 0;
  for (;;) {
    const begin = armourAt(text, '-----BEGIN ', BEGIN_LINE, from);
    if (begin === undefined) break;
    const label = begin.label;
    const kind = KINDS[label] ?? 'unknown';
    const end = armourAt(text, '-----END ', END_LINE, begin.next);
    if (end === undefined) throw malformedBlock(kind, `"BEGIN ${label}" has no END line: the file is truncated.`);
    if (label !== end.label) {
      throw malformedBlock(kind, `a "BEGIN ${label}" block ends with "END ${end.label}": the file is truncated or two files were pasted into each other.`);
    }
    const lines = text.slice(begin.next, end.at).split(/\r?\n/);
    const headers = lines.filter((l) => /^[A-Za-z-]+:/.test(l));
    const base64 = lines.filter((l) => !/^[A-Za-z-]+:/.test(l)).join('').replace(/\s+/g, '');
    if (base64 === '' || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      throw malformedBlock(kind, `the base64 inside "BEGIN ${label}" is broken (copy the file again, without editing it).`);
    }
    const encrypted = label === 'ENCRYPTED PRIVATE KEY' || headers.some((h) => /^Proc-Type:\s*4,\s*ENCRYPTED/i.test(h));
    blocks.push({ kind, label, text: text.slice(begin.at, end.next), der: Buffer.from(base64, 'base64'), encrypted });
    from = end.next;
  }
  return blocks;
}

/** The next armour line (BEGIN or END) at or after `from`: where it starts and ends, and its label. */
function armourAt(text: string, prefix: string, line: RegExp, from: number): { at: number; next: number; label: string } | undefined {
  for (let at = text.indexOf(prefix, from); at !== -1; at = text.indexOf(prefix, at + 1)) {
    line.lastIndex = at;
    const m = line.exec(text);
    if (m !== null) return { at, next: line.lastIndex, label: m[1]! };
  }
  return undefined;
}

/** What a DER blob is, judged by its structure. */
export type DerKind = 'certificate' | 'private-key' | 'encrypted-private-key' | 'pfx' | 'pkcs7' | 'csr' | 'public-key' | 'jks' | 'unknown';

const PKCS7_SIGNED = '1.2.840.113549.1.7.2';
const PKCS5_ALGORITHMS = /^1\.2\.840\.113549\.1\.(5\.13|12\.1\.\d)$/;

export function sniffDer(bytes: Buffer): DerKind {
  if (bytes.length >= 4) {
    const magic = bytes.readUInt32BE(0);
    if (magic === 0xfeedfeed || magic === 0xcececece) return 'jks';
  }
  if (bytes[0] !== 0x30) return 'unknown';
  try {
    new X509Certificate(bytes);
    return 'certificate';
  } catch {
    // not a certificate: look at the structure
  }
  let root;
  try {
    root = parseDer(bytes);
  } catch {
    return 'unknown';
  }
  const [first, second] = root.children;
  try {
    if (first?.type === TAG.INTEGER && second?.type === TAG.SEQUENCE && second.children[0]?.type === TAG.OID) {
      const oid = oidOf(second.children[0]);
      if (oid === '1.2.840.113549.1.7.1' && first.bytes.length === 1 && first.bytes[0] === 3) return 'pfx';
      return 'private-key'; // PKCS#8: INTEGER version, AlgorithmIdentifier, OCTET STRING
    }
    if (first?.type === TAG.INTEGER && second?.type === TAG.INTEGER) return 'private-key'; // PKCS#1 RSA
    if (first?.type === TAG.INTEGER && second?.type === TAG.OCTETSTRING) return 'private-key'; // SEC1 EC
    if (first?.tagClass === UNIVERSAL && first.type === TAG.OID && oidOf(first) === PKCS7_SIGNED) return 'pkcs7';
    if (first?.type === TAG.SEQUENCE && first.children[0]?.type === TAG.OID && PKCS5_ALGORITHMS.test(oidOf(first.children[0]))) {
      return 'encrypted-private-key';
    }
    if (first?.type === TAG.SEQUENCE && first.children[0]?.type === TAG.OID && second?.type === 3) return 'public-key'; // SPKI
    if (first?.type === TAG.SEQUENCE && first.children[0]?.type === TAG.INTEGER && first.children.length >= 3) return 'csr';
  } catch {
    return 'unknown';
  }
  return 'unknown';
}
