// Rules R1-R7 as fast-check properties, and the indexed resolver against the reference scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createResolver, isMtlsError, matchesHost, type CertificateEntry, type ResolveOptions } from '../../src/index.js';
import { ResolverIndex } from '../../src/resolver/indexed.js';
import { referenceResolve, type RefEntry } from './reference.js';

const RUNS = { numRuns: 1000 };
const NOW = new Date('2026-06-01T00:00:00Z');
const PAST = new Date('2025-01-01T00:00:00Z');
const FUTURE = new Date('2027-01-01T00:00:00Z');

// A small vocabulary, so that random patterns and targets collide often.
const label = fc.constantFrom('a', 'b', 'api', 'www', 'api-1', 'eu', 'us', 'acme', 'example', 'bücher', 'xn--bcher-kva', 'x_y');
const tld = fc.constantFrom('com', 'test', 'de');
const domain = fc.tuple(fc.constantFrom('acme', 'example', 'bücher', 'internal'), tld).map(([d, t]) => `${d}.${t}`);
const dnsHost = fc.tuple(fc.array(label, { maxLength: 3 }), domain).map(([ls, d]) => [...ls, d].join('.'));
const ipHost = fc.constantFrom('10.0.0.1', '127.0.0.1', '::1', 'fe80::1', '::ffff:10.0.0.1');
const host = fc.oneof({ weight: 5, arbitrary: dnsHost }, { weight: 1, arbitrary: ipHost });

const asciiDomain = fc.tuple(fc.constantFrom('acme', 'example', 'xn--bcher-kva', 'internal'), tld).map(([d, t]) => `${d}.${t}`);
const glob = fc.oneof(
  asciiDomain.map((d) => `*.${d}`),
  fc.tuple(fc.constantFrom('api-*', 'api?', '[ab]', '*.api', 'api*', '{eu,us}', '{eu,us}.api', 'w*', 'a[pq]i-[0-9]', '*.*', 'a*.b*', '?*'), asciiDomain).map(([g, d]) => `${g}.${d}`),
  fc.tuple(fc.constantFrom('*.', 'api-*.', ''), fc.constantFrom('{acme,example}'), tld).map(([g, d, t]) => `${g}${d}.${t}`),
);

/** Writes a host the way users and URLs vary it: case, trailing dot, brackets, spaces. */
const spelled = (h: string) =>
  fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).map(([upper, dot, pad]) => {
    let s = upper ? h.toUpperCase() : h;
    if (s.includes(':')) return `[${s}]`;
    if (dot) s += '.';
    return pad ? `  ${s} ` : s;
  });

const pattern = fc.oneof({ weight: 2, arbitrary: host.chain(spelled) }, { weight: 3, arbitrary: glob });
const portRule = fc.constantFrom<number | '*' | undefined>(undefined, undefined, 443, 8443, '*');
const validity = fc.constantFrom<[Date | undefined, Date | undefined]>(
  [undefined, undefined],
  [undefined, undefined],
  [PAST, FUTURE],
  [undefined, PAST],
  [FUTURE, undefined],
);

const entriesArb = fc
  .array(
    fc.record({
      host: pattern,
      port: portRule,
      validity,
      name: fc.constantFrom(undefined, 'prod', 'staging', 'e0', 'e1'), // e0, e1: another entry's id
      primary: fc.boolean(),
      order: fc.integer({ min: 0, max: 6 }),
      shared: fc.boolean(), // the certificate of another entry (as an importer's entries made from one item)
    }),
    { maxLength: 12 },
  )
  .map((raw) =>
    raw.map((r, i) => {
      const e: CertificateEntry<string> & RefEntry = { id: `e${i}`, host: r.host, order: r.order, certificate: r.shared ? 'cert-shared' : `cert-${i}` };
      if (r.port !== undefined) e.port = r.port;
      if (r.name !== undefined) e.name = r.name;
      if (r.primary) e.primary = true;
      if (r.validity[0]) e.notBefore = r.validity[0];
      if (r.validity[1]) e.notAfter = r.validity[1];
      return e;
    }),
  );

const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);
const target = fc
  .record({
    protocol: fc.constantFrom('https:', 'https:', 'https:', 'wss:', 'http:', 'ws:'),
    host,
    port: fc.constantFrom(undefined, 443, 8443, 80),
    upper: fc.boolean(),
    dot: fc.boolean(),
  })
  .map(({ protocol, host: h, port, upper, dot }) => {
    const hostPart = urlHost(upper ? h.toUpperCase() : h) + (dot && !h.includes(':') ? '.' : '');
    return `${protocol}//${hostPart}${port === undefined ? '' : `:${port}`}/path?q=1`;
  });

const options = fc.record({
  fallbackToPrimary: fc.boolean(),
  includeExpired: fc.boolean(),
  select: fc.constantFrom(undefined, undefined, undefined, 'e0', 'e3', 'prod', 'nope'),
});

/** What the indexed resolver says, in the reference's terms. */
function actual(entries: CertificateEntry<string>[], url: string, o: ResolveOptions) {
  try {
    const m = createResolver(entries).resolve(url, o);
    return m === undefined ? undefined : { id: m.entry.id, kind: m.kind };
  } catch (err) {
    if (isMtlsError(err, 'ERR_CERTIFICATE_NOT_FOUND')) return 'not-found';
    if (isMtlsError(err, 'ERR_AMBIGUOUS_SELECT')) return 'ambiguous';
    if (isMtlsError(err, 'ERR_CERTIFICATE_EXPIRED')) return 'expired';
    throw err;
  }
}

describe('indexed resolver against the reference scan', () => {
  it('always agrees on random entries, targets and options', () => {
    fc.assert(
      fc.property(entriesArb, target, options, (entries, url, o) => {
        const opts = { ...o, now: NOW };
        expect(actual(entries, url, opts)).toEqual(referenceResolve(entries, url, opts));
      }),
      { numRuns: 3000 },
    );
  });

  it('rank()[0] is resolve(), explain().chosen is resolve(), and exactly one candidate is chosen', () => {
    fc.assert(
      fc.property(entriesArb, target, (entries, url) => {
        const r = createResolver(entries);
        const chosen = r.resolve(url, { now: NOW });
        expect(r.rank(url, { now: NOW })[0]?.entry.id).toBe(chosen?.entry.id);
        const ex = r.explain(url, { now: NOW });
        expect(ex.chosen?.entry.id).toBe(chosen?.entry.id);
        expect(ex.candidates.filter((c) => c.verdict === 'chosen').map((c) => c.entry.id)).toEqual(chosen ? [chosen.entry.id] : []);
        expect(ex.candidates).toHaveLength(entries.length);
        const ranked = new Set(r.rank(url, { now: NOW }).map((m) => m.entry.id));
        for (const c of ex.candidates) {
          expect(c.reason.length).toBeGreaterThan(10);
          // outranked means "usable, but another one won": exactly the rest of rank()
          expect(c.verdict === 'outranked' || c.verdict === 'chosen').toBe(ranked.has(c.entry.id));
        }
      }),
      RUNS,
    );
  });
});

describe('rules R1-R7', () => {
  it('the result never depends on the order of the entries array', () => {
    fc.assert(
      fc.property(entriesArb, target, options, fc.infiniteStream(fc.double()), (entries, url, o, rnd) => {
        const shuffled = entries.map((e) => [rnd.next().value, e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e);
        const opts = { ...o, now: NOW };
        expect(actual(shuffled, url, opts)).toEqual(actual(entries, url, opts));
      }),
      RUNS,
    );
  });

  it('R1: plain http: and ws: never get a certificate, whatever the entries and options', () => {
    fc.assert(
      fc.property(entriesArb, host, fc.constantFrom('http:', 'ws:'), fc.boolean(), (entries, h, scheme, fallback) => {
        const url = `${scheme}//${urlHost(h)}:443/`;
        const r = createResolver(entries);
        expect(r.resolve(url, { now: NOW, fallbackToPrimary: fallback, includeExpired: true })).toBeUndefined();
        // (an id that another entry has as its name is ambiguous: ERR_AMBIGUOUS_SELECT, tested below)
        if (entries[0] && !entries.some((e) => e.name === entries[0]!.id && e !== entries[0])) expect(r.resolve(url, { now: NOW, select: entries[0].id, includeExpired: true })).toBeUndefined();
        expect(r.rank(url, { now: NOW, fallbackToPrimary: fallback })).toEqual([]);
      }),
      RUNS,
    );
  });

  it('R1: a target without a port is port 443', () => {
    fc.assert(
      fc.property(entriesArb, dnsHost, (entries, h) => {
        const r = createResolver(entries);
        expect(r.resolve(`https://${h}/`, { now: NOW })?.entry.id).toBe(r.resolve(`https://${h}:443/`, { now: NOW })?.entry.id);
      }),
      RUNS,
    );
  });

  it('R2: case, one trailing dot, IDN and IPv6 brackets do not change the result', () => {
    fc.assert(
      fc.property(entriesArb, host, (entries, h) => {
        const r = createResolver(entries);
        const plain = r.resolve(`https://${urlHost(h)}/`, { now: NOW })?.entry.id;
        const dotted = h.includes(':') ? urlHost(h) : `${h}.`;
        expect(r.resolve(`https://${urlHost(h.toUpperCase())}/`, { now: NOW })?.entry.id).toBe(plain);
        expect(r.resolve(`https://${dotted}/`, { now: NOW })?.entry.id).toBe(plain);
        expect(r.resolve({ protocol: 'https', hostname: h.toUpperCase(), port: 443 }, { now: NOW })?.entry.id).toBe(plain);
      }),
      RUNS,
    );
  });

  it('R3: a host is only compared whole: no prefix, suffix or extra label ever matches an exact entry', () => {
    fc.assert(
      fc.property(dnsHost, fc.constantFrom('evil.test', 'x', 'com'), (h, extra) => {
        expect(matchesHost(h, h)).toBe(true);
        expect(matchesHost(h, `${h}.${extra}`)).toBe(false);
        expect(matchesHost(h, `${extra}${h}`)).toBe(false);
        expect(matchesHost(h, `${extra}.${h}`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('R3: *.domain matches every subdomain at any depth, never the domain, a look-alike or a longer domain', () => {
    fc.assert(
      fc.property(asciiDomain, fc.array(label, { minLength: 1, maxLength: 3 }), (d, ls) => {
        const sub = `${ls.join('.')}.${d}`;
        expect(matchesHost(`*.${d}`, sub)).toBe(true);
        expect(matchesHost(`*.${d}`, d)).toBe(false);
        expect(matchesHost(`*.${d}`, `${sub}.evil.test`)).toBe(false);
        expect(matchesHost(`*.${d}`, `x${d}`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('R3: globs never match IP addresses; exact IP entries do', () => {
    fc.assert(
      fc.property(ipHost, glob, (ip, g) => {
        expect(matchesHost(g, ip)).toBe(false);
        expect(matchesHost('*', ip, { allowBroadPatterns: true })).toBe(false);
        expect(matchesHost(ip.includes(':') ? `[${ip}]` : ip, ip)).toBe(true);
      }),
      RUNS,
    );
  });

  it('R3: broad globs are rejected unless allowBroadPatterns', () => {
    const broad = fc.constantFrom('*', '*.com', 'acme.*', '*.*', '*acme.com', '{a.x.com,*.org}', '10.0.0.*', '?.de', 'a*');
    fc.assert(
      fc.property(broad, dnsHost, (b, h) => {
        expect(() => createResolver([{ id: 'x', host: b, order: 0, certificate: 1 }])).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_HOST_PATTERN' }),
        );
        createResolver([{ id: 'x', host: b, order: 0, certificate: 1 }], { allowBroadPatterns: true }).resolve(`https://${h}/`);
      }),
      RUNS,
    );
  });

  it('R4: no port means 443 only, a number means that port only, * means any port', () => {
    fc.assert(
      fc.property(dnsHost, fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (h, rule, port) => {
        const url = `https://${h}:${port}/`;
        const one = (p?: number | '*') => createResolver([{ id: 'x', host: h, ...(p === undefined ? {} : { port: p }), order: 0, certificate: 1 }]);
        expect(one().resolve(url) !== undefined).toBe(port === 443);
        expect(one(rule).resolve(url) !== undefined).toBe(rule === port);
        expect(one('*').resolve(url) !== undefined).toBe(true);
      }),
      RUNS,
    );
  });

  it('R5: exact beats glob, then explicit port beats omitted beats *, then the later entry wins', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 2 }), asciiDomain, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), (ls, d, o1, o2) => {
        const h = `${ls.join('.')}.${d}`;
        const url = `https://${h}/`;
        const wild = { id: 'wild', host: `*.${d}`, port: 443, order: Math.max(o1, o2) + 1, certificate: 1 };
        const exact = { id: 'exact', host: h, port: '*' as const, order: Math.min(o1, o2), certificate: 2 };
        expect(createResolver([wild, exact]).resolve(url)?.entry.id).toBe('exact');
        const explicit = { id: 'explicit', host: h, port: 443, order: o1, certificate: 3 };
        const omitted = { id: 'omitted', host: h, order: o2 + 10, certificate: 4 };
        const any = { id: 'any', host: h, port: '*' as const, order: o2 + 20, certificate: 5 };
        expect(createResolver([any, omitted, explicit]).resolve(url)?.entry.id).toBe('explicit');
        expect(createResolver([any, omitted]).resolve(url)?.entry.id).toBe('omitted');
        const first = { id: 'first', host: h, order: o1, certificate: 6 };
        const second = { id: 'second', host: h, order: o1 + 1 + o2, certificate: 7 };
        expect(createResolver([second, first]).resolve(url)?.entry.id).toBe('second');
        const specific = { id: 'specific', host: `*.${ls.at(-1)}.${d}`, order: 0, certificate: 8 };
        expect(createResolver([{ ...wild, port: undefined, order: 100 }, specific]).resolve(url)?.entry.id).toBe(
          ls.length > 1 ? 'specific' : 'wild',
        );
      }),
      RUNS,
    );
  });

  it('R6: an expired or not-yet-valid entry is never chosen unless includeExpired, and explain says skipped', () => {
    fc.assert(
      fc.property(dnsHost, fc.constantFrom<[Date | undefined, Date | undefined]>([undefined, PAST], [FUTURE, undefined]), (h, [nb, na]) => {
        const e: CertificateEntry<number> = { id: 'old', host: h, order: 1, certificate: 1 };
        if (nb) e.notBefore = nb;
        if (na) e.notAfter = na;
        const r = createResolver([e, { id: 'ok', host: '*.elsewhere.org', order: 0, certificate: 2 }]);
        const url = `https://${h}/`;
        expect(r.resolve(url, { now: NOW })).toBeUndefined();
        expect(r.resolve(url, { now: NOW, includeExpired: true })?.entry.id).toBe('old');
        expect(r.explain(url, { now: NOW }).candidates.find((c) => c.entry.id === 'old')).toMatchObject({ verdict: 'skipped' });
        expect(() => r.resolve(url, { now: NOW, select: 'old' })).toThrow(expect.objectContaining({ code: 'ERR_CERTIFICATE_EXPIRED' }));
      }),
      RUNS,
    );
  });

  it('R7: a name two entries share selects nothing (ERR_AMBIGUOUS_SELECT naming their ids); an id still does', () => {
    const entries = [
      { id: 'a', host: 'a.acme.com', name: 'prod', order: 1, certificate: 'a' },
      { id: 'b', host: 'b.acme.com', name: 'prod', order: 2, certificate: 'b' },
      { id: 'c', host: 'c.acme.com', name: 'staging', order: 3, certificate: 'c' },
    ];
    const r = createResolver(entries);
    expect(() => r.resolve('https://x.test/', { now: NOW, select: 'prod' })).toThrow(expect.objectContaining({ code: 'ERR_AMBIGUOUS_SELECT', message: expect.stringMatching(/2 certificates have the name "prod" \(ids "a", "b"\): select one by its id/) }));
    expect(r.resolve('https://x.test/', { now: NOW, select: 'b' })).toMatchObject({ kind: 'selected', entry: { id: 'b' } });
    expect(r.resolve('https://x.test/', { now: NOW, select: 'staging' })).toMatchObject({ kind: 'selected', entry: { id: 'c' } });
  });

  it('R7: entries that share a name and hold one certificate (an importer\'s wildcard, its bare domain, its overlap) are one choice: the one added last', () => {
    const cert = { pem: 'one' };
    const entries = [
      { id: 'cert-2', host: '*.acme.com', name: 'ACME wildcard', order: 2, certificate: cert },
      { id: 'cert-3', host: 'acme.com', name: 'ACME wildcard', order: 3, certificate: cert },
      { id: 'cert-4', host: 'api.acme.com', name: 'ACME wildcard', order: 4, certificate: cert },
      { id: 'cert-5', host: 'other.test', name: 'two', order: 5, certificate: cert },
      { id: 'cert-6', host: 'other.test', name: 'two', order: 6, certificate: { pem: 'another' } },
    ];
    const r = createResolver(entries);
    expect(r.resolve('https://x.test/', { now: NOW, select: 'ACME wildcard' })).toMatchObject({ kind: 'selected', entry: { id: 'cert-4' } });
    expect(() => r.resolve('https://x.test/', { now: NOW, select: 'two' })).toThrow(expect.objectContaining({ code: 'ERR_AMBIGUOUS_SELECT' }));
  });

  it("R7: a value that is one entry's id and another's name selects nothing (ERR_AMBIGUOUS_SELECT); an entry named by its own id is selected", () => {
    const entries = [
      { id: 'prod', host: 'a.acme.com', order: 1, certificate: 'a' },
      { id: 'b', host: 'b.acme.com', name: 'prod', order: 2, certificate: 'b' },
      { id: 'c', host: 'c.acme.com', name: 'c', order: 3, certificate: 'c' },
    ];
    const r = createResolver(entries);
    expect(() => r.resolve('https://x.test/', { now: NOW, select: 'prod' })).toThrow(expect.objectContaining({ code: 'ERR_AMBIGUOUS_SELECT', message: expect.stringContaining('"prod" is the id of one certificate and the name of another (id "b")') }));
    expect(r.resolve('https://x.test/', { now: NOW, select: 'c' })).toMatchObject({ kind: 'selected', entry: { id: 'c' } });
  });

  it('R7: select picks the entry whatever the host; primary only when nothing matches and fallbackToPrimary', () => {
    fc.assert(
      fc.property(entriesArb, dnsHost, (entries, h) => {
        const all = [...entries, { id: 'prim', host: 'primary.internal.test', primary: true, order: 99, certificate: 'p' }];
        const r = createResolver(all);
        const url = `https://${h}:8443/`;
        expect(r.resolve(url, { now: NOW, select: 'prim' })).toMatchObject({ kind: 'selected', entry: { id: 'prim' } });
        expect(() => r.resolve(url, { select: 'unknown-id' })).toThrow(expect.objectContaining({ code: 'ERR_CERTIFICATE_NOT_FOUND' }));
        const normal = r.resolve(url, { now: NOW });
        const fallback = r.resolve(url, { now: NOW, fallbackToPrimary: true });
        if (normal === undefined) expect(fallback).toMatchObject({ kind: 'primary', entry: { id: 'prim' } });
        else expect(fallback).toEqual(normal);
      }),
      RUNS,
    );
  });

  it('an index changed by remove and add agrees with the reference on the entries it holds', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(fc.nat(), { maxLength: 30 }), fc.array(target, { minLength: 1, maxLength: 8 }), (entries, steps, urls) => {
        const index = new ResolverIndex<string>();
        const held = new Set<number>();
        const add = (i: number) => {
          try {
            index.add(entries[i]!);
            held.add(i);
          } catch (err) {
            if (!isMtlsError(err)) throw err; // an invalid pattern is refused, as createResolver refuses it
          }
        };
        entries.forEach((_e, i) => add(i));
        for (const step of steps) {
          const i = step % Math.max(1, entries.length);
          if (entries.length === 0) break;
          if (held.has(i)) {
            expect(index.remove(entries[i]!.id)).toBe(true);
            held.delete(i);
          } else {
            add(i);
          }
        }
        const kept = entries.filter((_e, i) => held.has(i));
        for (const url of urls) {
          const m = index.resolve(url, { now: NOW });
          const ref = referenceResolve(kept, url, { now: NOW });
          expect(m === undefined ? undefined : { id: m.entry.id, kind: m.kind }).toEqual(ref);
        }
      }),
      RUNS,
    );
  });
});
