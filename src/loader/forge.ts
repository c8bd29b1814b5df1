// The loader's ASN.1 reader (Node has no API to walk a PKCS#12 structure), and its only use of
// node-forge: RC2, which OpenSSL 3 keeps in its legacy provider and Node does not load, loaded when
// a file needs it. Everything that OpenSSL can do — hashing, PBKDF2, AES, 3DES, key parsing — goes
// to node:crypto.
// (The demo issues its certificates with node-forge too, in src/cli/issue.ts.)
import { createRequire } from 'node:module';
import type forgeTypes from 'node-forge';

let forgeModule: typeof forgeTypes | undefined;

/**
 * node-forge, loaded at its first use: only a PKCS#12 file encrypted with RC2 (OpenSSL's
 * `-legacy`, old Windows exports) needs it, so the adapters, the store and every other load never
 * load it. (ESM has no synchronous import; `require` is the one way to load it on demand.)
 */
function forge(): typeof forgeTypes {
  if (forgeModule === undefined) {
    const load = typeof require === 'function' ? require : createRequire(import.meta.url);
    forgeModule = load('node-forge') as typeof forgeTypes;
  }
  return forgeModule;
}

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

/** Deeper nesting than any certificate, key or PKCS#12 file has is refused (hostile input). */
const MAX_DEPTH = 64;

/**
 * Reads one TLV at `pos`: DER, and BER's indefinite lengths (PKCS#12 files from Java and Windows
 * use them) with constructed strings, whose node's bytes are its parts joined. Strict: a length
 * past the end, a long form of more than 4 bytes or a high tag number is an error.
 */
function readNode(input: Buffer, pos: number, end: number, depth: number): { node: Der; next: number } {
  if (depth > MAX_DEPTH) throw new Error('ASN.1 nested too deeply');
  if (pos + 2 > end) throw new Error('ASN.1 truncated');
  const tag = input[pos]!;
  const type = tag & 0x1f;
  if (type === 0x1f) throw new Error('ASN.1 high tag numbers are not supported');
  const constructed = (tag & 0x20) !== 0;
  let at = pos + 1;
  const first = input[at++]!;
  let length: number | undefined;
  if (first < 0x80) {
    length = first;
  } else if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4 || at + count > end) throw new Error('ASN.1 length too long');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + input[at++]!;
  } else if (!constructed) {
    throw new Error('ASN.1 indefinite length on a primitive');
  }
  const children: Der[] = [];
  if (length === undefined) {
    // Indefinite: children up to the end-of-contents octets.
    for (;;) {
      if (at + 2 > end) throw new Error('ASN.1 truncated');
      if (input[at] === 0 && input[at + 1] === 0) {
        at += 2;
        break;
      }
      const child = readNode(input, at, end, depth + 1);
      children.push(child.node);
      at = child.next;
    }
  } else {
    if (at + length > end) throw new Error('ASN.1 length past the end');
    const stop = at + length;
    if (!constructed) {
      return { node: { tagClass: tag & 0xc0, type, constructed, children, bytes: input.subarray(at, stop) }, next: stop };
    }
    while (at < stop) {
      const child = readNode(input, at, stop, depth + 1);
      children.push(child.node);
      at = child.next;
    }
  }
  // BER constructed strings: their parts, joined (as every constructed node's bytes).
  return { node: { tagClass: tag & 0xc0, type, constructed, children, bytes: Buffer.concat(children.map((c) => c.bytes)) }, next: at };
}

/** Parses DER (strictly: every byte must belong to the structure). Throws on malformed input. */
export function parseDer(input: Uint8Array): Der {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const { node, next } = readNode(bytes, 0, bytes.length, 0);
  if (next !== bytes.length) throw new Error('bytes after the ASN.1 structure');
  return node;
}

/** The dotted form of an OBJECT IDENTIFIER node. */
export function oidOf(node: Der | undefined): string {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== TAG.OID || node.bytes.length === 0 || node.bytes.length > 64) throw new Error('expected an OID');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of node.bytes) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new Error('OID arc too large');
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if ((node.bytes[node.bytes.length - 1]! & 0x80) !== 0) throw new Error('OID truncated');
  return arcs.join('.');
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
  const { rc2, util } = forge();
  const cipher = rc2.createDecryptionCipher(util.createBuffer(key.toString('binary')), effectiveBits);
  cipher.start(util.createBuffer(iv.toString('binary')));
  cipher.update(util.createBuffer(data.toString('binary')));
  if (!cipher.finish()) return undefined;
  return Buffer.from(cipher.output.getBytes(), 'binary');
}
