// H^n(x) for the PKCS#12 key derivation (RFC 7292 B.2), whose inner loop hashes a digest again
// and again. A call into node:crypto per iteration costs far more than the hash itself (loading a
// PFX made with -iter 100000 took ~150 ms that way, 2.8x OpenSSL; BENCHMARKS.md has today's
// figures), so SHA-1 and SHA-256 over their own digest (one padded block) are computed here on
// 32-bit words; other digests use node:crypto.
import { hash } from 'node:crypto';

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV256 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

function words(digest: Buffer, count: number): Int32Array {
  const w = new Int32Array(count);
  for (let i = 0; i < count; i++) w[i] = digest.readInt32BE(i * 4);
  return w;
}

function bytes(w: Int32Array): Buffer {
  const out = Buffer.alloc(w.length * 4);
  for (let i = 0; i < w.length; i++) out.writeInt32BE(w[i]!, i * 4);
  return out;
}

/** SHA-256 applied `times` more times to a 32-byte digest. */
function iterateSha256(digest: Buffer, times: number): Buffer {
  const h = words(digest, 8);
  const W = new Int32Array(64);
  for (let n = 0; n < times; n++) {
    W.set(h);
    W[8] = 0x80000000 | 0;
    W.fill(0, 9, 15);
    W[15] = 256;
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15]!;
      const y = W[t - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
    }
    let a = IV256[0]! | 0, b = IV256[1]! | 0, c = IV256[2]! | 0, d = IV256[3]! | 0;
    let e = IV256[4]! | 0, f = IV256[5]! | 0, g = IV256[6]! | 0, k = IV256[7]! | 0;
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K256[t]! + W[t]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (IV256[0]! + a) | 0;
    h[1] = (IV256[1]! + b) | 0;
    h[2] = (IV256[2]! + c) | 0;
    h[3] = (IV256[3]! + d) | 0;
    h[4] = (IV256[4]! + e) | 0;
    h[5] = (IV256[5]! + f) | 0;
    h[6] = (IV256[6]! + g) | 0;
    h[7] = (IV256[7]! + k) | 0;
  }
  return bytes(h);
}

const IV1 = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

/** SHA-1 applied `times` more times to a 20-byte digest. */
function iterateSha1(digest: Buffer, times: number): Buffer {
  const h = words(digest, 5);
  const W = new Int32Array(80);
  for (let n = 0; n < times; n++) {
    W.set(h);
    W[5] = 0x80000000 | 0;
    W.fill(0, 6, 15);
    W[15] = 160;
    for (let t = 16; t < 80; t++) {
      const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
      W[t] = (x << 1) | (x >>> 31);
    }
    let a = IV1[0]! | 0, b = IV1[1]! | 0, c = IV1[2]! | 0, d = IV1[3]! | 0, e = IV1[4]! | 0;
    let t = 0;
    // Four branch-free loops, one per round function.
    for (; t < 20; t++) {
      const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 40; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 60; t++) {
      const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 80; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h[0] = (IV1[0]! + a) | 0;
    h[1] = (IV1[1]! + b) | 0;
    h[2] = (IV1[2]! + c) | 0;
    h[3] = (IV1[3]! + d) | 0;
    h[4] = (IV1[4]! + e) | 0;
  }
  return bytes(h);
}

/** H^iterations(data): `data` hashed, then the digest hashed again `iterations - 1` times. */
export function iteratedHash(digest: string, data: Buffer, iterations: number): Buffer {
  return rehash(digest, hash(digest, data, 'buffer') as unknown as Buffer, iterations - 1);
}

/** A digest hashed `times` more times (H^(a+b) = H^b(H^a): a long run can be done in parts). */
export function rehash(digest: string, out: Buffer, times: number): Buffer {
  if (times <= 0) return out;
  if (digest === 'sha256') return iterateSha256(out, times);
  if (digest === 'sha1') return iterateSha1(out, times);
  for (let r = 0; r < times; r++) out = hash(digest, out, 'buffer') as unknown as Buffer;
  return out;
}
