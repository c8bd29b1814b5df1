// The index's key table against a Map: any sequence of sets and deletes, and every way the
// resolver looks a key up (the whole host, a suffix at a dot, "." and the host).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_START, HostTable, foldChar, keyHash } from '../../src/resolver/host-keys.js';

const keyArb = fc.constantFrom('acme.com', '.acme.com', 'api.acme.com', '.api.acme.com', 'a.b.acme.com', '.b.acme.com', 'x', '.x', 'example.test', '.example.test', 'acme.co');
const hostArb = fc.constantFrom('acme.com', 'api.acme.com', 'a.b.acme.com', 'x', 'example.test', 'www.example.test', 'acme.co', 'b.acme.com');

/** Every lookup the resolver makes for `host`, with what a Map holding the same keys says. */
function lookups(host: string): Array<{ from: number; hash: number; key: string }> {
  const out: Array<{ from: number; hash: number; key: string }> = [];
  let h = HASH_START;
  for (let i = host.length - 1; i >= 0; i--) {
    h = foldChar(h, host.charCodeAt(i));
    if (host.charCodeAt(i) === 46) out.push({ from: i, hash: h, key: host.slice(i) });
  }
  out.push({ from: 0, hash: h, key: host });
  out.push({ from: -1, hash: foldChar(h, 46), key: `.${host}` });
  return out;
}

describe('HostTable', () => {
  it('holds what a Map holds after any sequence of sets and deletes, found whole, at a dot or as ".host"', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), keyArb, fc.nat(9)), { maxLength: 60 }), fc.array(hostArb, { minLength: 1, maxLength: 5 }), (ops, hosts) => {
        const table = new HostTable<number>();
        const map = new Map<string, number>();
        for (const [set, key, value] of ops) {
          if (set) {
            table.set(key, value);
            map.set(key, value);
          } else {
            expect(table.delete(key)).toBe(map.delete(key));
          }
          expect(table.size).toBe(map.size);
        }
        for (const key of new Set(ops.map((o) => o[1]))) {
          expect(table.get(key)).toBe(map.get(key));
          expect(table.has(key)).toBe(map.has(key));
        }
        for (const host of hosts) {
          for (const { from, hash, key } of lookups(host)) expect(table.find(host, from, hash)).toBe(map.get(key));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every key through growth, deletes and reuse of their places', () => {
    const table = new HostTable<number>();
    const keys = Array.from({ length: 20_000 }, (_, i) => `host-${i}.svc-${i % 97}.example.com`);
    keys.forEach((k, i) => table.set(k, i));
    for (let i = 0; i < keys.length; i += 2) expect(table.delete(keys[i]!)).toBe(true);
    for (let i = 0; i < keys.length; i += 4) table.set(keys[i]!, -i); // back, in freed places
    expect(table.size).toBe(15_000);
    keys.forEach((k, i) => {
      const want = i % 2 === 1 ? i : i % 4 === 0 ? -i : undefined;
      expect(table.find(k, 0, keyHash(k))).toBe(want);
    });
    expect(table.find('host-1.svc-1.example.co', 0, keyHash('host-1.svc-1.example.co'))).toBeUndefined();
  });

  it('does not fill up with deleted places when keys come and go', () => {
    const table = new HostTable<number>();
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 50; i++) table.set(`r${round}-${i}.acme.com`, i);
      for (let i = 0; i < 50; i++) table.delete(`r${round}-${i}.acme.com`);
    }
    expect(table.size).toBe(0);
    // 10,000 keys came and went: a lookup still ends (an empty place exists) and finds nothing.
    expect(table.find('r0-1.acme.com', 0, keyHash('r0-1.acme.com'))).toBeUndefined();
    table.set('a.acme.com', 1);
    expect(table.find('x.a.acme.com', 1, keyHash('.a.acme.com'))).toBeUndefined();
    expect(table.find('a.acme.com', 0, keyHash('a.acme.com'))).toBe(1);
  });
});
