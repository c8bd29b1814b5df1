// The loader's only node-forge import, and parse-only: its ASN.1 reader (Node has no API to walk a
// PKCS#12 structure) and RC2, which OpenSSL 3 keeps in its legacy provider and Node does not load.
// Everything that OpenSSL can do — hashing, PBKDF2, AES, 3DES, key parsing — goes to node:crypto.
// (The demo issues its certificates with node-forge too, in src/cli/issue.ts.)
import forge from 'node-forge';

/** A parsed DER node: constructed nodes hold children, primitive nodes hold their bytes. */
export interface Der {
  tagClass: number;
  type: number;
  constructed: boolean;
  children: Der[];
  bytes: Buffer;
}

export const UNIVERSAL = 0x00;
export const CONTEXT = 0x80;
export const TAG = { INTEGER: 2, OCTETSTRING: 4, OID: 6, SEQUENCE: 16 } as const;

function convert(node: forge.asn1.Asn1): Der {
  const children = Array.isArray(node.value) ? node.value.map(convert) : [];
  const bytes = Array.isArray(node.value)
    ? Buffer.concat(children.map((c) => c.bytes)) // BER constructed strings: their parts, joined
    : Buffer.from(node.value, 'binary');
  return { tagClass: node.tagClass, type: node.type, constructed: node.constructed, children, bytes };
}

/** Parses DER (strictly: every byte must belong to the structure). Throws on malformed input. */
export function parseDer(input: Uint8Array): Der {
  const buffer = forge.util.createBuffer(Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('binary'));
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  const fromDer = forge.asn1.fromDer as unknown as (b: forge.util.ByteBuffer, o: typeof options) => forge.asn1.Asn1;
  return convert(fromDer(buffer, options));
}

/** The dotted form of an OBJECT IDENTIFIER node. */
export function oidOf(node: Der | undefined): string {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== TAG.OID) throw new Error('expected an OID');
  return forge.asn1.derToOid(forge.util.createBuffer(node.bytes.toString('binary')));
}

/** A non-negative INTEGER node as a number. */
export function intOf(node: Der | undefined): number {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== TAG.INTEGER || node.bytes.length > 6) {
    throw new Error('expected a small INTEGER');
  }
  return node.bytes.readUIntBE(0, node.bytes.length || 1);
}

/** RC2-CBC decryption with PKCS#7 padding; `undefined` when the padding is wrong. */
export function rc2Decrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer | undefined {
  const cipher = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('binary')), effectiveBits);
  cipher.start(forge.util.createBuffer(iv.toString('binary')));
  cipher.update(forge.util.createBuffer(data.toString('binary')));
  if (!cipher.finish()) return undefined;
  return Buffer.from(cipher.output.getBytes(), 'binary');
}
