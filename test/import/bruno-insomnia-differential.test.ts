// The Bruno and Insomnia importers against faithful re-implementations of the peers' matching
// (test/import/peers.ts, citing the files they follow), on seeded random lists and URLs with
// near misses. The imported config must choose what the peer chooses for every URL, except for
// the documented differences: entries the importer skips with a note (a pattern too broad for R3,
// a port Insomnia itself refuses), Bruno's prefix matching (compared with the host matched whole),
// and Insomnia's fallback to any port (compared without it).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertBrunoConfig, convertInsomniaCertificates } from '../../src/import/index.js';
import { pickBy } from './pick.js';
import type { CertificateConfig } from '../../src/config/read.js';
import { brunoPick, brunoWholeHostPick, insomniaPick } from './peers.js';

/** Our choice (the index of the peer certificate, carried in the file name) through R1-R7. */
function ourPick(certificates: CertificateConfig[], url: string): number | undefined {
  return pickBy(certificates, url, (c) => Number(/c(\d+)\.(?:crt|pfx)$/.exec(c.cert ?? c.pfx ?? '')![1]));
}

/** The indexes the importer skipped, from its notes (`certs[3] (...)...skipped`). */
function skippedIn(notes: string[], prefix: string): Set<number> {
  const out = new Set<number>();
  for (const n of notes) {
    const m = new RegExp(`^${prefix}\\[(\\d+)\\].*(skipped|not imported)`).exec(n);
    if (m !== null && !/is never used by/.test(n)) out.add(Number(m[1]));
  }
  return out;
}

const DOMAINS = ['example.com', 'api.example.com', 'a.api.example.com', 'acme.test', 'x.acme.test'];
const host = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DOMAINS) }, { weight: 3, arbitrary: fc.constantFrom(...DOMAINS).map((d) => `*.${d}`) }, { weight: 1, arbitrary: fc.constantFrom('*', '*.com') });
const port = fc.constantFrom('', '', ':443', ':8443', ':*');
const URL_HOSTS = [...DOMAINS, 'b.a.api.example.com', 'www.example.com', 'api.example.com.evil.test', 'xexample.com', 'example.co', 'acme.test.example.com', 'other.test'];
const url = fc
  .record({ host: fc.constantFrom(...URL_HOSTS), port: fc.constantFrom('', ':443', ':8443', ':9443'), path: fc.constantFrom('/', '/v1/items?x=1') })
  .map(({ host: h, port: p, path }) => `https://${h}${p}${path}`);
const RUNS = { seed: 20261123, numRuns: 500 };

describe('the Bruno importer chooses what Bruno chooses (cert-utils.js)', () => {
  const certs = fc.array(fc.record({ host, port, disabled: fc.integer({ min: 0, max: 5 }).map((n) => n === 0) }), { minLength: 1, maxLength: 6 }).map((list) =>
    list.map(({ host: h, port: p, disabled }, i) => ({ domain: `${h}${p}`, type: 'cert', certFilePath: `/c/c${i}.crt`, keyFilePath: `/c/c${i}.key`, ...(disabled ? { enabled: false } : {}) })),
  );

  it('random lists and URLs (seeded): the same certificate as Bruno with the host matched whole', () => {
    fc.assert(
      fc.property(certs, fc.array(url, { minLength: 1, maxLength: 12 }), (list, urls) => {
        const { config, notes } = convertBrunoConfig({ clientCertificates: { enabled: true, certs: list } });
        const skipped = skippedIn(notes, 'certs');
        for (const i of skipped) expect(list[i]!.enabled === false || /^\*(\.com)?(:|$)/.test(list[i]!.domain)).toBe(true); // only disabled and too broad
        const kept = list.map((c, i) => (skipped.has(i) ? { ...c, enabled: false } : c));
        for (const u of urls) {
          expect([u, ourPick(config.certificates, u)]).toEqual([u, brunoWholeHostPick(kept, u)]);
          // Where Bruno's prefix matching chose otherwise, the notes said so for that certificate.
          const real = brunoPick(kept, u);
          if (real !== undefined && real !== brunoWholeHostPick(kept, u)) expect(notes.join('\n')).toContain(`certs[${real}] (${JSON.stringify(list[real]!.domain)}): Bruno matched`);
        }
      }),
      RUNS,
    );
  });

  it("Bruno's own precedence case: the first matching certificate is sent", () => {
    // cert-utils.js breaks out of its loop at the first match: a broad certificate listed first wins
    const list = [
      { domain: '*.example.com', type: 'cert', certFilePath: '/c/c0.crt', keyFilePath: '/c/c0.key' },
      { domain: 'api.example.com', type: 'cert', certFilePath: '/c/c1.crt', keyFilePath: '/c/c1.key' },
      { domain: 'api.example.com:8443', type: 'cert', certFilePath: '/c/c2.crt', keyFilePath: '/c/c2.key' },
    ];
    const { config, notes } = convertBrunoConfig({ clientCertificates: { enabled: true, certs: list } });
    for (const u of ['https://api.example.com/', 'https://api.example.com:8443/', 'https://www.example.com:9443/x']) {
      expect(ourPick(config.certificates, u)).toBe(brunoPick(list, u));
      expect(ourPick(config.certificates, u)).toBe(0);
    }
    expect(notes.filter((n) => n.includes('is never used by Bruno'))).toHaveLength(2);
  });
});

describe('the Insomnia importer chooses what Insomnia chooses (url-matches-cert-host.ts, certificate.ts)', () => {
  const certs = fc
    .array(fc.record({ host, port, scheme: fc.constantFrom('', '', 'https://'), disabled: fc.integer({ min: 0, max: 5 }).map((n) => n === 0) }), { minLength: 1, maxLength: 6 })
    .map((list) => list.map(({ host: h, port: p, scheme, disabled }, i) => ({ _type: 'client_certificate', host: `${scheme}${h}${p}`, cert: `/c/c${i}.crt`, key: `/c/c${i}.key`, disabled })));

  it('random lists and URLs (seeded): the same certificate as Insomnia comparing ports; its any-port fallback is noted', () => {
    fc.assert(
      fc.property(certs, fc.array(url, { minLength: 1, maxLength: 12 }), (list, urls) => {
        const { config, notes } = convertInsomniaCertificates({ resources: list });
        const skipped = skippedIn(notes, 'resources');
        for (const i of skipped) expect(list[i]!.disabled || /(^|\/)\*(\.com)?(:|$)|:\*$/.test(list[i]!.host)).toBe(true); // only disabled, too broad, or a port Insomnia refuses
        const kept = list.map((c, i) => (skipped.has(i) ? { ...c, disabled: true } : c));
        for (const u of urls) {
          expect([u, ourPick(config.certificates, u)]).toEqual([u, insomniaPick(kept, u, false)]);
          if (insomniaPick(kept, u, true) !== insomniaPick(kept, u, false)) expect(notes.join('\n')).toMatch(/fall back to a certificate for another port/);
        }
        // A port of "*" never matches in Insomnia: never imported.
        for (const [i, c] of list.entries()) if (c.host.endsWith(':*') && !c.disabled) expect(notes.join('\n')).toContain(`resources[${i}] (${JSON.stringify(c.host)}): Insomnia never matches`);
      }),
      RUNS,
    );
  });

  it("Insomnia's own filterClientCertificates test cases (the request URL and both lists of its test)", () => {
    const requestUrl = 'https://www.example.com:1234';
    const withPort = [
      { host: 'https://www.example.com:1234', cert: '/c/c0.crt', key: '/c/c0.key' },
      { host: 'https://www.example.com', cert: '/c/c1.crt', key: '/c/c1.key' },
    ];
    const { config } = convertInsomniaCertificates(withPort);
    expect(ourPick(config.certificates, requestUrl)).toBe(insomniaPick(withPort, requestUrl, true));
    expect(ourPick(config.certificates, requestUrl)).toBe(0);
    // Only the host matches: Insomnia falls back to it; here the port must match (noted).
    const onlyHost = [{ host: 'https://www.example.com', cert: '/c/c0.crt', key: '/c/c0.key' }];
    const imported = convertInsomniaCertificates(onlyHost);
    expect(insomniaPick(onlyHost, requestUrl, true)).toBe(0);
    expect(ourPick(imported.config.certificates, requestUrl)).toBeUndefined();
    expect(imported.notes.join('\n')).toMatch(/fall back to a certificate for another port/);
  });
});

describe('what the peers read as patterns of their own', () => {
  it('Bruno regular expressions and Insomnia hosts its URL parser reads otherwise are noted; unknown glob overlaps are named', () => {
    const bruno = convertBrunoConfig({
      clientCertificates: {
        certs: [
          { domain: 'api-(eu|us).example.com', certFilePath: '/c/c0.crt', keyFilePath: '/c/c0.key' },
          { domain: 'https://api.example.com', certFilePath: '/c/c1.crt', keyFilePath: '/c/c1.key' },
          { domain: 'api-*.example.com', certFilePath: '/c/c2.crt', keyFilePath: '/c/c2.key' },
          { domain: '*.eu.example.com', certFilePath: '/c/c3.crt', keyFilePath: '/c/c3.key' },
        ],
      },
    });
    const text = bruno.notes.join('\n');
    expect(text).toContain('certs[0] ("api-(eu|us).example.com"): Bruno reads "api-(eu|us).example.com" as a regular expression');
    expect(text).toContain('certs[1] ("https://api.example.com"): Bruno never matches');
    expect(text).toMatch(/certs\[2\] .* and certs\[3\] .* may both match some hosts: Bruno takes certs\[2\]/);
    expect(bruno.config.certificates.map((c) => c.host)).toEqual(['*.eu.example.com', 'api-*.example.com']);

    const insomnia = convertInsomniaCertificates([
      { host: 'api?.example.com', cert: '/c/c0.crt', key: '/c/c0.key' },
      { host: 'a{b,c}.example.com', cert: '/c/c1.crt', key: '/c/c1.key' },
      { host: 'a[1].example.com', cert: '/c/c2.crt', key: '/c/c2.key' },
      { host: 'API.Example.com:443', cert: '/c/c3.crt', key: '/c/c3.key' },
    ]);
    const notes = insomnia.notes.join('\n');
    expect(notes).toContain('resources[0] ("api?.example.com"): Insomnia reads "api?.example.com" as the host "api"; imported as that.');
    expect(notes).toContain('resources[1] ("a{b,c}.example.com"): Insomnia matches "a{b,c}.example.com" literally');
    expect(notes).toContain('resources[2] ("a[1].example.com"): Insomnia never matches');
    expect(insomnia.config.certificates.map((c) => [c.host, c.port])).toEqual([
      ['api', undefined],
      ['api.example.com', undefined],
    ]);
    for (const u of ['https://api/', 'https://api.example.com/', 'https://ab.example.com/']) {
      const list = [{ host: 'api?.example.com' }, { host: 'a{b,c}.example.com' }, { host: 'a[1].example.com' }, { host: 'API.Example.com:443' }];
      const peer = insomniaPick(list, u, false);
      const ours = ourPick(insomnia.config.certificates, u);
      expect([u, ours]).toEqual([u, peer]);
    }
  });
});
