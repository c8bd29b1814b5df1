// Password-based encryption of PKCS#12 files and encrypted PKCS#8 keys (RFC 7292 appendix B and
// C, RFC 8018 PBES2): the password forms, the PKCS#12 KDF, decryption, and the iteration count a
// structure asks for. Every KDF goes through kdf.ts, which bounds it.
import { createDecipheriv } from 'node:crypto';
import { CONTEXT, TAG, UNIVERSAL, intOf, oidOf, rc2Decrypt, type Der } from './forge.js';
import { boundedIteratedHash, boundedPbkdf2, checkIterations } from './kdf.js';

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';

export const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Output and block size in bytes (RFC 7292 B.2's u and v). */
export const DIGEST_SIZES: Record<string, { u: number; v: number }> = {
  sha1: { u: 20, v: 64 },
  sha224: { u: 28, v: 64 },
  sha256: { u: 32, v: 64 },
  sha384: { u: 48, v: 128 },
  sha512: { u: 64, v: 128 },
};
const HMAC_PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
// pbeWithSHAAnd... (RFC 7292 appendix C): key length and cipher.
export const PKCS12_PBE: Record<string, { cipher: 'des-ede3-cbc' | 'rc2'; keyLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede3-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, rc2Bits: 40 },
};

/** The password forms to try: OpenSSL writes "" as an empty BMPString, some tools as no password. */
export interface Password {
  /** As given; undefined for the "no password" form. */
  text: string | undefined;
  utf8: Buffer;
  bmp: Buffer | undefined;
}

export function passwords(passphrase: string | undefined): Password[] {
  const p = passphrase ?? '';
  const one = { text: p, utf8: Buffer.from(p, 'utf8'), bmp: bmpString(p) };
  return p === '' ? [one, { text: undefined, utf8: Buffer.alloc(0), bmp: undefined }] : [one];
}

function bmpString(password: string): Buffer {
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 appendix B.2 key derivation (for the MAC key and the legacy PBE ciphers). */
export function pkcs12Kdf(digest: string, password: Buffer | undefined, salt: Buffer, id: number, iterations: number, n: number, what: string): Buffer {
  const { u, v } = DIGEST_SIZES[digest]!;
  const fill = (src: Buffer | undefined): Buffer => {
    if (src === undefined || src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const result = Buffer.alloc(n);
  for (let offset = 0; offset < n; offset += u) {
    const A = boundedIteratedHash(digest, Buffer.concat([D, I]), iterations, what);
    A.copy(result, offset, 0, Math.min(u, n - offset));
    if (offset + u >= n) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u]!;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  return result;
}

/** An iteration count: over 2^48 (past intOf) is read as "too many", not as a damaged file. */
export function iterationsOf(node: Der | undefined): number {
  if (node !== undefined && node.tagClass === UNIVERSAL && node.type === TAG.INTEGER && node.bytes.length > 6 && node.bytes[0]! < 0x80) return Number.MAX_SAFE_INTEGER;
  return intOf(node);
}

export function child(node: Der | undefined, index: number): Der {
  const c = node?.children[index];
  if (c === undefined) throw new Error('structure too short');
  return c;
}

export function explicitContent(node: Der): Der {
  if (node.tagClass !== CONTEXT || node.type !== 0 || !node.constructed) throw new Error('expected [0] EXPLICIT');
  return child(node, 0);
}

export function octets(node: Der): Buffer {
  if (node.tagClass !== UNIVERSAL || node.type !== TAG.OCTETSTRING) throw new Error('expected an OCTET STRING');
  return node.bytes;
}

/**
 * Decrypts `data` with the password-based scheme named by `algorithm` (an AlgorithmIdentifier);
 * `undefined` when the padding is wrong (most likely a wrong password).
 */
export function decrypt(algorithm: Der, data: Buffer, password: Password, what: string): Buffer | undefined {
  const oid = oidOf(child(algorithm, 0));
  const params = child(algorithm, 1);
  try {
    if (oid === PBES2) {
      const kdf = child(params, 0);
      const scheme = child(params, 1);
      if (oidOf(child(kdf, 0)) !== PBKDF2) throw new Error('unsupported PBES2 key derivation');
      const kdfParams = child(kdf, 1);
      const salt = octets(child(kdfParams, 0));
      const iterations = iterationsOf(child(kdfParams, 1));
      const rest = kdfParams.children.slice(2);
      const prfNode = rest.find((n) => n.type === TAG.SEQUENCE);
      const prf = prfNode === undefined ? 'sha1' : HMAC_PRF[oidOf(child(prfNode, 0))];
      const cipher = PBES2_CIPHERS[oidOf(child(scheme, 0))];
      if (prf === undefined || cipher === undefined) throw new Error('unsupported PBES2 cipher or PRF');
      const key = boundedPbkdf2(password.utf8, salt, iterations, cipher.keyLength, prf, what);
      const decipher = createDecipheriv(cipher.name, key, octets(child(scheme, 1)));
      return Buffer.concat([decipher.update(data), decipher.final()]);
    }
    const pbe = PKCS12_PBE[oid];
    if (pbe === undefined) throw new Error(`unsupported encryption ${oid}`);
    const salt = octets(child(params, 0));
    const iterations = iterationsOf(child(params, 1));
    checkIterations(iterations, what); // before the key's KDF, and so before any of this part's work
    const key = pkcs12Kdf('sha1', password.bmp, salt, 1, iterations, pbe.keyLength, what);
    const iv = pkcs12Kdf('sha1', password.bmp, salt, 2, iterations, 8, what);
    if (pbe.cipher === 'rc2') return rc2Decrypt(key, pbe.rc2Bits!, iv, data);
    const decipher = createDecipheriv(pbe.keyLength === 16 ? 'des-ede-cbc' : 'des-ede3-cbc', key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (err) {
    if (err instanceof Error && /bad decrypt|wrong final block length/i.test(err.message)) return undefined;
    throw err;
  }
}

/** The iteration count of a password-based encryption's KDF (PBES2 with PBKDF2, PKCS#12 PBE); undefined for others. */
export function kdfIterations(algorithm: Der): number | undefined {
  try {
    const oid = oidOf(child(algorithm, 0));
    const params = child(algorithm, 1);
    if (oid === PBES2) {
      const kdf = child(params, 0);
      return oidOf(child(kdf, 0)) === PBKDF2 ? iterationsOf(child(child(kdf, 1), 1)) : undefined;
    }
    return PKCS12_PBE[oid] === undefined ? undefined : iterationsOf(child(params, 1));
  } catch {
    return undefined; // not a structure we read: OpenSSL says what is wrong with it
  }
}
