// PKCS#12 (RFC 7292) at OpenSSL speed: node-forge only walks the ASN.1. The PKCS#12 KDF (of the MAC
// key and of legacy ciphers) loops in iterated-hash.ts; HMAC, PBKDF2, AES, 3DES and key parsing run
// in node:crypto; only RC2 (OpenSSL 3 "legacy") uses forge's cipher.
import { createDecipheriv, createHmac, createPrivateKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { MtlsError, isMtlsError } from '../errors.js';
import { INLINE_ITERATIONS, boundedIteratedHash, boundedPbkdf2, checkIterations, checkTotal, passKdf } from './kdf.js';
import { CONTEXT, TAG, UNIVERSAL, intOf, oidOf, parseDer, rc2Decrypt, type Der } from './forge.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Output and block size in bytes (RFC 7292 B.2's u and v). */
const DIGEST_SIZES: Record<string, { u: number; v: number }> = {
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
const PKCS12_PBE: Record<string, { cipher: 'des-ede3-cbc' | 'rc2'; keyLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede3-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, rc2Bits: 40 },
};

/** What a PFX holds. */
export interface PfxContents {
  certificates: Buffer[]; // DER, in file order
  keys: KeyObject[];
}

/** The password forms to try: OpenSSL writes "" as an empty BMPString, some tools as no password. */
interface Password {
  /** As given; undefined for the "no password" form. */
  text: string | undefined;
  utf8: Buffer;
  bmp: Buffer | undefined;
}

function passwords(passphrase: string | undefined): Password[] {
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
function pkcs12Kdf(digest: string, password: Buffer | undefined, salt: Buffer, id: number, iterations: number, n: number, what: string): Buffer {
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
function iterationsOf(node: Der | undefined): number {
  if (node !== undefined && node.tagClass === UNIVERSAL && node.type === TAG.INTEGER && node.bytes.length > 6 && node.bytes[0]! < 0x80) return Number.MAX_SAFE_INTEGER;
  return intOf(node);
}

function child(node: Der | undefined, index: number): Der {
  const c = node?.children[index];
  if (c === undefined) throw new Error('structure too short');
  return c;
}

function explicitContent(node: Der): Der {
  if (node.tagClass !== CONTEXT || node.type !== 0 || !node.constructed) throw new Error('expected [0] EXPLICIT');
  return child(node, 0);
}

function octets(node: Der): Buffer {
  if (node.tagClass !== UNIVERSAL || node.type !== TAG.OCTETSTRING) throw new Error('expected an OCTET STRING');
  return node.bytes;
}

/**
 * Decrypts `data` with the password-based scheme named by `algorithm` (an AlgorithmIdentifier);
 * `undefined` when the padding is wrong (most likely a wrong password).
 */
function decrypt(algorithm: Der, data: Buffer, password: Password, what: string): Buffer | undefined {
  const oid = oidOf(child(algorithm, 0));
  const params = child(algorithm, 1);
  try {
    if (oid === OID.pbes2) {
      const kdf = child(params, 0);
      const scheme = child(params, 1);
      if (oidOf(child(kdf, 0)) !== OID.pbkdf2) throw new Error('unsupported PBES2 key derivation');
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

interface ParsedPfx {
  authSafe: Buffer;
  mac?: { digest: string; expected: Buffer; salt: Buffer; iterations: number };
}

function parseOuter(input: Uint8Array): ParsedPfx {
  const pfx = parseDer(input);
  if (intOf(child(pfx, 0)) !== 3) throw new Error('not a PKCS#12 version 3 structure');
  const authSafeInfo = child(pfx, 1);
  const type = oidOf(child(authSafeInfo, 0));
  if (type !== OID.data) throw new Error('public-key integrity mode (signed PFX) is not supported');
  const authSafe = octets(explicitContent(child(authSafeInfo, 1)));
  const macNode = pfx.children[2];
  if (macNode === undefined) return { authSafe };
  const digestInfo = child(macNode, 0);
  const digest = DIGESTS[oidOf(child(child(digestInfo, 0), 0))];
  if (digest === undefined) throw new Error('unsupported MAC digest');
  return {
    authSafe,
    mac: {
      digest,
      expected: octets(child(digestInfo, 1)),
      salt: octets(child(macNode, 1)),
      iterations: macNode.children[2] === undefined ? 1 : iterationsOf(macNode.children[2]),
    },
  };
}

const MAC = 'The PFX/P12 file (its integrity check, MAC)';

/**
 * The iteration counts a PFX shows before anything is decrypted (its MAC, each encrypted part)
 * checked one by one and in all, before any KDF runs. What is inside encrypted parts (a shrouded
 * key among encrypted bags) is checked when it is reached, and counted by the budget (kdf.ts).
 */
function checkBeforeWork(p: ParsedPfx, passwordForms: number): void {
  let total = 0;
  if (p.mac !== undefined) {
    checkIterations(p.mac.iterations, MAC);
    total += p.mac.iterations * passwordForms;
  }
  let infos: Der[];
  try {
    infos = parseDer(p.authSafe).children;
  } catch {
    return; // a damaged structure is reported where it is read
  }
  for (const info of infos) {
    let iterations: number | undefined;
    try {
      if (oidOf(child(info, 0)) === OID.encryptedData) iterations = kdfIterations(child(child(explicitContent(child(info, 1)), 1), 1));
    } catch {
      continue;
    }
    if (iterations === undefined) continue;
    checkIterations(iterations, ENCRYPTED_PART);
    total += iterations;
  }
  checkTotal(total, 'The PFX/P12 file');
}

function macMatches(p: ParsedPfx, password: Password): boolean {
  const mac = p.mac!;
  const key = pkcs12Kdf(mac.digest, password.bmp, mac.salt, 3, mac.iterations, DIGEST_SIZES[mac.digest]!.u, MAC);
  const actual = createHmac(mac.digest, key).update(p.authSafe).digest();
  return actual.length === mac.expected.length && timingSafeEqual(actual, mac.expected);
}

/** Every safe bag of the authenticated safe, decrypted. `undefined` when a decryption fails. */
function readBags(authSafe: Buffer, password: Password): Der[] | undefined {
  const bags: Der[] = [];
  for (const info of parseDer(authSafe).children) {
    const type = oidOf(child(info, 0));
    let safeContents: Buffer;
    if (type === OID.data) {
      safeContents = octets(explicitContent(child(info, 1)));
    } else if (type === OID.encryptedData) {
      const encryptedContentInfo = child(explicitContent(child(info, 1)), 1);
      const algorithm = child(encryptedContentInfo, 1);
      const content = child(encryptedContentInfo, 2);
      if (content.tagClass !== CONTEXT || content.type !== 0) throw new Error('expected [0] IMPLICIT encrypted content');
      const plain = decrypt(algorithm, content.bytes, password, ENCRYPTED_PART);
      if (plain === undefined) return undefined;
      safeContents = plain;
    } else if (type === OID.envelopedData) {
      throw new Error('public-key encrypted (enveloped) PFX content is not supported');
    } else {
      continue;
    }
    bags.push(...parseDer(safeContents).children);
  }
  return bags;
}

interface Extracted {
  certificates: Buffer[];
  keys: KeyObject[];
  /** A shrouded key did not decrypt with this password. */
  keyDecryptFailed: boolean;
}

const ENCRYPTED_PART = 'The PFX/P12 file (an encrypted part)';
/** As MAX_PRIVATE_KEYS for PEM: each key bag is a key to decrypt and parse. */
const MAX_KEY_BAGS = 16;

function extract(bags: Der[], password: Password): Extracted {
  const out: Extracted = { certificates: [], keys: [], keyDecryptFailed: false };
  let keyBags = 0;
  for (const bag of bags) {
    const id = oidOf(child(bag, 0));
    if ((id === OID.keyBag || id === OID.shroudedKeyBag) && ++keyBags > MAX_KEY_BAGS) {
      throw new MtlsError('ERR_MALFORMED_PFX', `The PFX/P12 file holds more than ${MAX_KEY_BAGS} private keys; a client certificate needs one: export it again with its own key only.`);
    }
  }
  for (const bag of bags) {
    const id = oidOf(child(bag, 0));
    const value = explicitContent(child(bag, 1));
    if (id === OID.certBag) {
      if (oidOf(child(value, 0)) === OID.x509Certificate) out.certificates.push(octets(explicitContent(child(value, 1))));
    } else if (id === OID.keyBag || id === OID.shroudedKeyBag) {
      const key = id === OID.keyBag ? plainKey(encodeDer(value)) : shroudedKey(value, password, 'The PFX/P12 file (its private key)');
      if (key === undefined) out.keyDecryptFailed = true;
      else out.keys.push(key);
    }
  }
  return out;
}

function plainKey(pkcs8: Buffer | undefined): KeyObject | undefined {
  if (pkcs8 === undefined) return undefined;
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined; // decrypted to garbage: the password was wrong after all
  }
}

/**
 * An EncryptedPrivateKeyInfo: OpenSSL decrypts the PBES2 and PKCS#12 3DES forms itself (its
 * PKCS#12 KDF is faster than ours) when their iteration count is small; what it refuses (RC2, the
 * "no password" form) and what asks for many iterations (bounded, and off the event loop when
 * loaded asynchronously: see kdf.ts) we decrypt.
 */
function shroudedKey(value: Der, password: Password, what: string): KeyObject | undefined {
  const algorithm = child(value, 0);
  const iterations = kdfIterations(algorithm);
  if (iterations !== undefined) checkIterations(iterations, what);
  if (password.text !== undefined && (iterations === undefined || iterations <= INLINE_ITERATIONS)) {
    try {
      return createPrivateKey({ key: encodeDer(value), format: 'der', type: 'pkcs8', passphrase: password.text });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_OSSL_BAD_DECRYPT') return undefined;
    }
  }
  return plainKey(decrypt(algorithm, octets(child(value, 1)), password, what));
}

/** The iteration count of a password-based encryption's KDF (PBES2 with PBKDF2, PKCS#12 PBE); undefined for others. */
function kdfIterations(algorithm: Der): number | undefined {
  try {
    const oid = oidOf(child(algorithm, 0));
    const params = child(algorithm, 1);
    if (oid === OID.pbes2) {
      const kdf = child(params, 0);
      return oidOf(child(kdf, 0)) === OID.pbkdf2 ? iterationsOf(child(child(kdf, 1), 1)) : undefined;
    }
    return PKCS12_PBE[oid] === undefined ? undefined : iterationsOf(child(params, 1));
  } catch {
    return undefined; // not a structure we read: OpenSSL says what is wrong with it
  }
}

/**
 * A DER EncryptedPrivateKeyInfo (an `ENCRYPTED PRIVATE KEY` PEM block, an encrypted .key in DER)
 * decrypted with `passphrase`, its KDF bounded as a PFX's: undefined when the passphrase is wrong.
 * Errors other than a wrong passphrase are thrown as they are (the caller words them).
 */
export function decryptPrivateKey(der: Buffer, passphrase: string, what: string): KeyObject | undefined {
  const value = parseDer(der);
  return shroudedKey(value, passwords(passphrase)[0]!, what);
}

/** DER-encodes a parsed node again (an unencrypted key bag holds its PKCS#8 as a node). */
function encodeDer(n: Der): Buffer {
  const content = n.constructed ? Buffer.concat(n.children.map(encodeDer)) : n.bytes;
  const tag = n.tagClass | (n.constructed ? 0x20 : 0) | n.type;
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function malformed(detail: string, cause?: unknown): MtlsError {
  return new MtlsError(
    'ERR_MALFORMED_PFX',
    `The PFX/P12 file could not be read (${detail}). Check that it is a complete PKCS#12 file; 'openssl pkcs12 -info -in file.p12' shows what it holds.`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads a PKCS#12 file: verifies its MAC, decrypts its bags and returns the certificates (DER)
 * and private keys. Supports OpenSSL 3's default (PBES2/AES, SHA-256 MAC) and the legacy
 * algorithms (RC2-40 and 3DES, SHA-1 MAC) that Node's TLS refuses.
 *
 * @throws {MtlsError} `ERR_MALFORMED_PFX`, `ERR_PASSPHRASE_REQUIRED`, `ERR_BAD_PASSPHRASE`.
 */
export function readPfx(input: Uint8Array, passphrase: string | undefined): PfxContents {
  let outer: ParsedPfx;
  try {
    outer = parseOuter(input);
  } catch (err) {
    throw malformed(err instanceof Error ? err.message : 'not DER', err);
  }
  try {
    const candidates = passwords(passphrase);
    checkBeforeWork(outer, candidates.length);
    let password = candidates[0]!;
    let macFailed = false;
    if (outer.mac !== undefined) {
      const ok = candidates.find((p) => macMatches(outer, p));
      if (ok === undefined) macFailed = true;
      else password = ok;
    }
    let extracted: Extracted | undefined;
    try {
      const bags = readBags(outer.authSafe, password);
      extracted = bags === undefined ? undefined : extract(bags, password);
    } catch (err) {
      // Content that does not parse after a failed MAC was decrypted with the wrong password.
      passKdf(err);
      if (!macFailed || isMtlsError(err, 'ERR_TOO_MANY_ITERATIONS')) throw err;
    }
    const decrypted = extracted !== undefined && !extracted.keyDecryptFailed;
    if (macFailed) {
      // A MAC that fails while the content decrypts and parses: the file, not the password, is wrong.
      if (decrypted && extracted!.keys.length > 0) {
        throw malformed('its integrity check (MAC) failed although the passphrase decrypts it: the file is corrupted');
      }
      throw badPassphrase(passphrase);
    }
    if (!decrypted) throw badPassphrase(passphrase);
    return { certificates: extracted!.certificates, keys: extracted!.keys };
  } catch (err) {
    passKdf(err);
    if (err instanceof MtlsError) throw err;
    throw malformed(err instanceof Error ? err.message : 'unexpected structure', err);
  }
}

function badPassphrase(passphrase: string | undefined): MtlsError {
  return passphrase === undefined || passphrase === ''
    ? new MtlsError('ERR_PASSPHRASE_REQUIRED', 'The PFX/P12 file is protected by a passphrase: pass it as passphrase.', { reason: { kind: 'passphrase-required', fact: 'The PFX/P12 file is protected by a passphrase' } })
    : new MtlsError('ERR_BAD_PASSPHRASE', 'The passphrase does not open this PFX/P12 file: check it (passphrases are case-sensitive).');
}
