// The Postman/Newman importer against Postman's own matching code: postman-collection's
// CertificateList.resolveOne (what Newman and postman-runtime call), on seeded random lists and
// URLs with near misses. For every URL, the imported config must choose the certificate Postman
// chooses, except for the patterns the importer deliberately does not take (a host of "*", too
// broad under R3), each named in a note: Postman's choice is then computed without them.
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { convertNewmanCertList } from '../../src/import/index.js';
import { pickBy } from './pick.js';
import type { CertificateConfig } from '../../src/config/read.js';

const { CertificateList } = createRequire(import.meta.url)('postman-collection') as {
  CertificateList: new (parent: object, list: unknown[]) => { resolveOne(url: string): { name?: string } | undefined };
};

type Item = { name: string; matches: string[]; cert: { src: string }; key: { src: string } };

/** Postman's choice: the name of the first item whose pattern matches, or undefined. */
function postmanPick(items: Item[], url: string): string | undefined {
  return new CertificateList({}, items).resolveOne(url)?.name;
}

/** Our choice: the imported entries through the resolver (R1-R7), as the store resolves them. */
function ourPick(certificates: CertificateConfig[], url: string): string | undefined {
  return pickBy(certificates, url, (c) => c.name!);
}

const DOMAINS = ['example.com', 'api.example.com', 'a.api.example.com', 'acme.test', 'x.acme.test'];
const hostPattern = fc.oneof(fc.constantFrom(...DOMAINS), fc.constantFrom(...DOMAINS).map((d) => `*.${d}`), fc.constant('*'));
const pattern = fc
  .record({
    scheme: fc.constantFrom('https', 'https', 'https+http', '*', 'http'),
    host: hostPattern,
    port: fc.constantFrom('', '', ':443', ':8443', ':*'),
  })
  .map(({ scheme, host, port }) => `${scheme}://${host}${port}/*`);
const list = fc.array(fc.array(pattern, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }).map((lists) =>
  lists.map((matches, i): Item => ({ name: `c${i}`, matches, cert: { src: `/certs/c${i}.crt` }, key: { src: `/certs/c${i}.key` } })),
);
// Targets: the pattern hosts, deeper names, and near misses (a longer host that merely ends or
// starts the same, a sibling domain), on the default port, 443 written out, 8443 and 9443.
const URL_HOSTS = [...DOMAINS, 'b.a.api.example.com', 'www.example.com', 'api.example.com.evil.test', 'xexample.com', 'example.co', 'acme.test.example.com', 'other.test'];
const url = fc.record({ host: fc.constantFrom(...URL_HOSTS), port: fc.constantFrom('', ':443', ':8443', ':9443'), path: fc.constantFrom('/', '/v1/items?x=1') }).map(({ host, port, path }) => `https://${host}${port}${path}`);

/** The items as the importer takes them: without the patterns it deliberately drops (host "*"). */
function withoutDropped(items: Item[]): Item[] {
  return items.map((item) => ({ ...item, matches: item.matches.filter((m) => !/^[^:]+:\/\/\*(?::[^/]*)?\//.test(m)) }));
}

describe('the Postman importer chooses what Postman chooses (postman-collection CertificateList)', () => {
  it('random lists and URLs (seeded): the same certificate for every URL; dropped patterns are noted', () => {
    fc.assert(
      fc.property(list, fc.array(url, { minLength: 1, maxLength: 12 }), (items, urls) => {
        const { config, notes } = convertNewmanCertList(items);
        for (const item of items) {
          for (const m of item.matches) if (/^[^:]+:\/\/\*(?::[^/]*)?\//.test(m) && /https|\*/.test(m.split(':')[0]!)) expect(notes.join('\n')).toContain(`${JSON.stringify(m)} matches every host`);
        }
        const expected = withoutDropped(items);
        for (const u of urls) expect([u, ourPick(config.certificates, u)]).toEqual([u, postmanPick(expected, u)]);
      }),
      { seed: 20261123, numRuns: 600 },
    );
  });

  it("postman-collection's own CertificateList cases (test/unit/certificate-list.test.js)", () => {
    const items = [
      { name: '1', matches: ['https://*.google.com/*', 'https://*.youtube.com'], cert: { src: '/c/1.crt' }, key: { src: '/c/1.key' } },
      { name: '2', matches: ['https://example.com', 'https://*.foo.com'], cert: { src: '/c/2.crt' }, key: { src: '/c/2.key' } },
    ];
    const { config, notes } = convertNewmanCertList(items);
    for (const u of ['https://www.google.com', 'https://www.google.com:443', 'https://www.bla.com', 'https://www.twitter.com', 'https://www.youtube.com/', 'https://example.com/', 'https://a.foo.com/']) {
      expect([u, ourPick(config.certificates, u)]).toEqual([u, postmanPick(items, u)]);
    }
    expect(ourPick(config.certificates, 'https://www.google.com')).toBe('1');
    // Patterns without a path never match in Postman: skipped, and said so.
    expect(notes.filter((n) => n.includes('it has no path'))).toHaveLength(3);
  });

  it('hosts with "?", "[ ]" or "{ }" are text to Postman (never a host name): skipped, not read as globs', () => {
    const items = ['https://api?.example.com/*', 'https://{a,b}.example.com/*', 'https://a[12].example.com/*'].map((m, i) => ({ name: `c${i}`, matches: [m], cert: { src: `/c/c${i}.crt` }, key: { src: `/c/c${i}.key` } }));
    const { config, notes } = convertNewmanCertList(items);
    expect(config.certificates).toEqual([]);
    expect(notes.filter((n) => n.includes('they are not patterns there'))).toHaveLength(3);
    for (const u of ['https://api1.example.com/', 'https://a.example.com/', 'https://a1.example.com/']) expect(postmanPick(items, u)).toBeUndefined();
  });

  it('an earlier broad item wins over a later specific one, and a covered item is skipped', () => {
    const item = (name: string, ...matches: string[]): Item => ({ name, matches, cert: { src: `/c/${name}.crt` }, key: { src: `/c/${name}.key` } });
    const items = [item('broad', 'https://*.example.com:*/*'), item('exact', 'https://api.example.com/*'), item('port', 'https://api.example.com:8443/*')];
    const { config, notes } = convertNewmanCertList(items);
    for (const u of ['https://api.example.com/', 'https://api.example.com:8443/', 'https://www.example.com:9443/', 'https://example.com/']) {
      expect(ourPick(config.certificates, u)).toBe(postmanPick(items, u));
      expect(ourPick(config.certificates, u)).toBe('broad');
    }
    expect(config.certificates.every((c) => c.name === 'broad')).toBe(true);
    expect(notes.filter((n) => n.includes('is never used by Postman'))).toHaveLength(2);
  });
});
