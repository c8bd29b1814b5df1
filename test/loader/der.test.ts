// The loader's ASN.1 reader against node-forge's (which it replaced, so that node-forge is loaded
// only for RC2): the same tree for every fixture, and the same verdict on seeded mutations of them.
import { readdirSync, readFileSync } from 'node:fs';
import forge from 'node-forge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oidOf, parseDer, type Der } from '../../src/loader/forge.js';
import { FIXTURES } from '../helpers.js';

function convert(node: forge.asn1.Asn1): Der {
  const children = Array.isArray(node.value) ? node.value.map(convert) : [];
  const bytes = Array.isArray(node.value) ? Buffer.concat(children.map((c) => c.bytes)) : Buffer.from(node.value, 'binary');
  return { tagClass: node.tagClass, type: node.type, constructed: node.constructed, children, bytes };
}

/** node-forge's reading, as the loader used it (strict, every byte, bit strings left alone). */
function forgeDer(input: Buffer): Der {
  const fromDer = forge.asn1.fromDer as unknown as (b: forge.util.ByteBuffer, o: object) => forge.asn1.Asn1;
  return convert(fromDer(forge.util.createBuffer(input.toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false }));
}

const hasBmp = (d: Der): boolean => (!d.constructed && d.type === 30) || d.children.some(hasBmp);
const plain = (d: Der): unknown => ({ c: d.tagClass, t: d.type, k: d.constructed, b: d.bytes.toString('hex'), ch: d.children.map(plain) });
const verdict = (read: () => Der): unknown => {
  try {
    return plain(read());
  } catch {
    return 'error';
  }
};

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const entry of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const name = entry.name;
    const bytes = readFileSync(`${FIXTURES}${name}`);
    if (/\.(der|pfx|p12|p7b)$/.test(name) || name.endsWith('.der')) out.push(bytes);
    for (const m of bytes.toString('latin1').matchAll(/-----BEGIN [A-Z0-9 ]+-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END/g)) out.push(Buffer.from(m[1]!, 'base64'));
  }
  return out;
}

describe('the ASN.1 reader', () => {
  const files = corpus();

  it('reads every fixture (certificates, keys, PKCS#12 with BER indefinite lengths) as node-forge did', () => {
    expect(files.length).toBeGreaterThan(40);
    for (const der of files) expect(verdict(() => parseDer(der))).toEqual(verdict(() => forgeDer(der)));
  });

  it('agrees with node-forge on seeded mutations (a byte changed, the input cut, bytes added)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: files.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'append'), (i, at, byte, how) => {
        const der = Buffer.from(files[i]!);
        const pos = at % der.length;
        const input = how === 'flip' ? (der.writeUInt8(byte, pos), der) : how === 'cut' ? der.subarray(0, pos) : Buffer.concat([der, Buffer.from([byte])]);
        const ours = verdict(() => parseDer(input));
        const theirs = verdict(() => forgeDer(input));
        // node-forge reads some malformed lengths that the loader's reader refuses; never the other way
        // round. node-forge decodes BMPString (type 30) contents as UTF-16 into its value, losing
        // bytes; the loader's reader keeps the bytes (and reads no BMPString).
        if (ours !== 'error' && !hasBmp(parseDer(input))) expect(ours).toEqual(theirs);
      }),
      { seed: 20261202, numRuns: 3000 },
    );
  });

  it('OIDs as node-forge prints them', () => {
    for (const oid of ['1.2.840.113549.1.12.10.1.2', '2.5.29.37', '1.3.6.1.5.5.7.3.2', '2.999.1', '0.0', '1.2.840.10045.3.1.7']) {
      const der = Buffer.from(forge.asn1.toDer(forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OID, false, forge.asn1.oidToDer(oid).getBytes())).getBytes(), 'binary');
      expect(oidOf(parseDer(der))).toBe(oid);
    }
  });

  it('refuses hostile nesting and lengths in bounded work', () => {
    const deep = Buffer.concat([Buffer.alloc(20_000, 0x30).map((_, i) => (i % 2 === 0 ? 0x30 : 0x80)), Buffer.alloc(20_000, 0)]);
    expect(() => parseDer(deep)).toThrow(/nested too deeply/);
    expect(() => parseDer(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow();
    expect(() => parseDer(Buffer.from([0x04, 0x80, 0x00, 0x00]))).toThrow(/indefinite length on a primitive/);
  });
});
