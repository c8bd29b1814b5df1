import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iteratedHash } from '../../src/loader/iterated-hash.js';

/** The obvious definition, one node:crypto call per round. */
function reference(digest: string, data: Buffer, iterations: number): Buffer {
  let out = createHash(digest).update(data).digest();
  for (let i = 1; i < iterations; i++) out = createHash(digest).update(out).digest();
  return out;
}

describe('iteratedHash (the PKCS#12 KDF inner loop)', () => {
  it.each(['sha1', 'sha256', 'sha384', 'sha512'])('%s agrees with repeated node:crypto hashing', (digest) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 300 }), (data, n) => {
        expect(iteratedHash(digest, Buffer.from(data), n).equals(reference(digest, Buffer.from(data), n))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
