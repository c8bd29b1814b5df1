// PKCS#12 (RFC 7292) at OpenSSL speed: node-forge only walks the ASN.1. The password-based
// encryption (the PKCS#12 KDF, PBES2) is in pbe.ts; HMAC, PBKDF2, AES, 3DES and key parsing run in
// node:crypto; only RC2 (OpenSSL 3 "legacy") uses forge's cipher.
import { createHmac, createPrivateKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { MtlsError, isMtlsError } from '../errors.js';
import { CONTEXT, intOf, oidOf, parseDer, type Der } from './forge.js';
import { INLINE_ITERATIONS, checkIterations, checkTotal, passKdf } from './kdf.js';
import { DIGESTS, DIGEST_SIZES, child, decrypt, explicitContent, iterationsOf, kdfIterations, octets, passwords, pkcs12Kdf, type Password } from './pbe.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
} as const;

/** What a PFX holds. */
export interface PfxContents {
  certificates: Buffer[]; // DER, in file order
  keys: KeyObject[];
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
/** `decrypted` counts the parts the password opened: a PFX whose contents are not encrypted has none. */
function readBags(authSafe: Buffer, password: Password, decrypted: { parts: number }): Der[] | undefined {
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
      decrypted.parts++;
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

function extract(bags: Der[], password: Password, decrypted: { parts: number }): Extracted {
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
      if (key === undefined) {
        out.keyDecryptFailed = true;
      } else {
        if (id === OID.shroudedKeyBag) decrypted.parts++;
        out.keys.push(key);
      }
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
    const opened = { parts: 0 };
    try {
      const bags = readBags(outer.authSafe, password, opened);
      extracted = bags === undefined ? undefined : extract(bags, password, opened);
    } catch (err) {
      // Content that does not parse after a failed MAC was decrypted with the wrong password.
      passKdf(err);
      if (!macFailed || isMtlsError(err, 'ERR_TOO_MANY_ITERATIONS')) throw err;
    }
    const decrypted = extracted !== undefined && !extracted.keyDecryptFailed;
    if (macFailed) {
      // A MAC that fails while the password decrypts the content: the file, not the password, is
      // wrong. Contents that are not encrypted (-keypbe NONE -certpbe NONE) say nothing of the
      // password: then the MAC is the password's only check, and it failed.
      if (decrypted && extracted!.keys.length > 0 && opened.parts > 0) {
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
