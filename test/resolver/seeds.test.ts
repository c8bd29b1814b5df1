// Behaviour our users know from the tools in ../shared/seeds, as the rules state it.
import { describe, expect, it } from 'vitest';
import { createResolver, explainResolution, rankCertificates, resolveCertificate, type CertificateEntry } from '../../src/index.js';

const entry = (id: string, host: string, order: number, extra: Partial<CertificateEntry<string>> = {}): CertificateEntry<string> => ({
  id,
  host,
  order,
  certificate: `${id}.pem`,
  ...extra,
});
const chosen = (entries: CertificateEntry<string>[], url: string, o = {}) => resolveCertificate(entries, url, o)?.entry.id;

describe('Postman (seeds 000-002)', () => {
  it('a host without a port is for the default HTTPS port 443 only', () => {
    const entries = [entry('echo', 'echo.getpostman.com', 1)];
    expect(chosen(entries, 'https://echo.getpostman.com/get')).toBe('echo');
    expect(chosen(entries, 'https://echo.getpostman.com:443/get')).toBe('echo');
    expect(chosen(entries, 'https://echo.getpostman.com:8443/get')).toBeUndefined();
  });

  it('a custom port is associated with the domain', () => {
    const entries = [entry('custom', 'postman-echo.com', 1, { port: 8443 })];
    expect(chosen(entries, 'https://postman-echo.com:8443/')).toBe('custom');
    expect(chosen(entries, 'https://postman-echo.com/')).toBeUndefined();
  });

  it('with several certificates for one domain, the last one added is used', () => {
    const entries = [entry('first', 'api.acme.com', 1), entry('second', 'api.acme.com', 2), entry('third', 'api.acme.com', 3)];
    expect(chosen(entries, 'https://api.acme.com/')).toBe('third');
    expect(chosen(entries.slice().reverse(), 'https://api.acme.com/')).toBe('third');
  });

  it('*.example.com is used for all example.com subdomains (and, unlike Postman, not for example.com itself)', () => {
    const entries = [entry('wild', '*.example.com', 1)];
    expect(chosen(entries, 'https://api.example.com/')).toBe('wild');
    expect(chosen(entries, 'https://a.b.example.com/')).toBe('wild');
    expect(chosen(entries, 'https://example.com/')).toBeUndefined();
    expect(explainResolution(entries, 'https://example.com/').candidates[0]?.reason).toContain('add an entry for example.com');
  });

  it('never sends the certificate over plain HTTP', () => {
    const entries = [entry('echo', 'postman-echo.com', 1, { port: '*' })];
    expect(chosen(entries, 'http://postman-echo.com/')).toBeUndefined();
    expect(chosen(entries, 'ws://postman-echo.com/')).toBeUndefined();
    expect(chosen(entries, 'wss://postman-echo.com/')).toBe('echo');
    expect(explainResolution(entries, 'http://postman-echo.com/').candidates[0]?.reason).toMatch(/only sent over https: and wss:/);
  });

  it('the host is entered without a protocol: a URL is refused with what to write instead', () => {
    expect(() => createResolver([entry('bad', 'https://api.acme.com:8443/v1', 1)])).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_HOST_PATTERN',
        message: expect.stringMatching(/host: "api\.acme\.com", and the port as its own field, port: 8443.*no scheme.*paths are not matched/),
      }),
    );
  });
});

describe('Checkly (seed 003)', () => {
  it('a full host name wins over a wildcard, whatever was added later', () => {
    const entries = [entry('www', 'www.acme.com', 1), entry('wild', '*.acme.com', 2)];
    expect(chosen(entries, 'https://www.acme.com/')).toBe('www');
    expect(chosen(entries, 'https://shop.acme.com/')).toBe('wild');
  });

  it('the most recently added matching certificate wins, for full host names and wildcards alike', () => {
    expect(chosen([entry('old', '*.acme.com', 1), entry('new', '*.acme.com', 2)], 'https://x.acme.com/')).toBe('new');
    expect(chosen([entry('old', 'x.acme.com', 1), entry('new', 'x.acme.com', 2)], 'https://x.acme.com/')).toBe('new');
  });

  it('uses minimatch globs', () => {
    const entries = [entry('regions', '{eu,us}.api.acme.com', 1), entry('numbered', 'node-[0-9].acme.com', 2)];
    expect(chosen(entries, 'https://eu.api.acme.com/')).toBe('regions');
    expect(chosen(entries, 'https://ap.api.acme.com/')).toBeUndefined();
    expect(chosen(entries, 'https://node-7.acme.com/')).toBe('numbered');
    expect(chosen(entries, 'https://node-x.acme.com/')).toBeUndefined();
  });
});

describe('primary certificate and explicit choice (seed 004)', () => {
  const entries = [
    entry('a', 'api.acme.com', 1, { name: 'ACME' }),
    entry('p', 'partner.test', 2, { name: 'Company default', primary: true }),
  ];

  it('the primary is used only when nothing matches and the caller asks for it', () => {
    expect(chosen(entries, 'https://elsewhere.test/')).toBeUndefined();
    expect(resolveCertificate(entries, 'https://elsewhere.test/', { fallbackToPrimary: true })).toMatchObject({ kind: 'primary', entry: { id: 'p' } });
    expect(chosen(entries, 'https://api.acme.com/', { fallbackToPrimary: true })).toBe('a');
  });

  it('in a plain array with several primaries, the one added last is the primary', () => {
    const two = [...entries, entry('p2', 'other.test', 3, { primary: true })];
    expect(chosen(two, 'https://elsewhere.test/', { fallbackToPrimary: true })).toBe('p2');
  });

  it('a manually selected certificate is used whatever the host, by id or by name', () => {
    expect(resolveCertificate(entries, 'https://api.acme.com/', { select: 'p' })).toMatchObject({ kind: 'selected', entry: { id: 'p' } });
    expect(chosen(entries, 'https://anything.test:9000/', { select: 'ACME' })).toBe('a');
    expect(chosen(entries, 'http://anything.test/', { select: 'ACME' })).toBeUndefined();
    expect(() => resolveCertificate(entries, 'https://x.test/', { select: 'missing' })).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE_NOT_FOUND', message: expect.stringContaining('"missing"') }),
    );
  });

  it('an expired certificate is skipped, and selecting it says so', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const old = [entry('old', 'api.acme.com', 2, { notAfter: new Date('2026-01-01T00:00:00Z') }), entry('wild', '*.acme.com', 1)];
    expect(chosen(old, 'https://api.acme.com/', { now })).toBe('wild');
    expect(chosen(old, 'https://api.acme.com/', { now, includeExpired: true })).toBe('old');
    expect(() => resolveCertificate(old, 'https://api.acme.com/', { now, select: 'old' })).toThrow(
      expect.objectContaining({ code: 'ERR_CERTIFICATE_EXPIRED', message: expect.stringContaining('expired on 2026-01-01') }),
    );
  });
});

describe('explainResolution', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const entries = [
    entry('wild', '*.acme.com', 1),
    entry('api', 'api.acme.com', 2),
    entry('api-8443', 'api.acme.com', 3, { port: 8443 }),
    entry('api-any', 'api.acme.com', 4, { port: '*' }),
    entry('expired', 'api.acme.com', 5, { notAfter: new Date('2026-01-01T00:00:00Z') }),
    entry('future', 'api.acme.com', 6, { notBefore: new Date('2027-01-01T00:00:00Z') }),
    entry('other', 'other.test', 7),
    entry('api-older', 'api.acme.com', 0),
    entry('more-specific', 'api*.acme.com', 8),
  ];

  it('gives every entry a verdict and a reason a user can act on', () => {
    const ex = explainResolution(entries, 'https://API.acme.com./v1', { now });
    expect(ex.target).toEqual({ protocol: 'https:', hostname: 'api.acme.com', port: 443 });
    expect(ex.chosen?.entry.id).toBe('api');
    const v = Object.fromEntries(ex.candidates.map((c) => [c.entry.id, [c.verdict, c.reason]]));
    expect(v['api']).toEqual(['chosen', 'exact host api.acme.com on port 443 (no port set)']);
    expect(v['wild']?.[0]).toBe('outranked');
    expect(v['wild']?.[1]).toMatch(/exact host api\.acme\.com \(id "api"\) beats wildcard \*\.acme\.com/);
    expect(v['api-8443']).toEqual(['no-match', 'it is for port 8443; the request uses port 443']);
    expect(v['api-any']?.[1]).toMatch(/no port \(443 only\), which beats any port/);
    expect(v['expired']).toEqual(['skipped', expect.stringContaining('expired on 2026-01-01T00:00:00.000Z; renew it')]);
    expect(v['future']).toEqual(['skipped', expect.stringContaining('not valid until 2027-01-01')]);
    expect(v['other']).toEqual(['no-match', 'host other.test is not api.acme.com']);
    expect(v['api-older']?.[1]).toMatch(/added later \(order 2 > 0\)/);
    expect(v['more-specific']?.[1]).toMatch(/beats wildcard api\*\.acme\.com/);
    expect(ex.candidates.map((c) => c.entry.id)).toEqual(entries.slice().sort((a, b) => a.order - b.order).map((e) => e.id));
  });

  it('explains ports and IP targets', () => {
    const ex = explainResolution(entries, 'https://api.acme.com:9443/', { now });
    expect(ex.chosen?.entry.id).toBe('api-any');
    expect(ex.candidates.find((c) => c.entry.id === 'api')?.reason).toBe(
      "no port set, so it applies to port 443 only; the request uses port 9443 (set port: 9443 or '*')",
    );
    const ip = explainResolution([entry('w', '*.acme.com', 1)], 'https://10.0.0.7/');
    expect(ip.candidates[0]?.reason).toBe('wildcard *.acme.com never matches an IP address; add an entry with the exact address 10.0.0.7');
  });

  it('between globs, more literal characters win', () => {
    const globs = [entry('short', '*.acme.com', 2), entry('long', '*.eu.acme.com', 1)];
    const ex = explainResolution(globs, 'https://x.eu.acme.com/');
    expect(ex.chosen?.entry.id).toBe('long');
    expect(ex.candidates.find((c) => c.entry.id === 'short')?.reason).toMatch(/more specific: 12 literal characters against 9/);
  });

  it('rankCertificates lists every usable match, best first', () => {
    expect(rankCertificates(entries, 'https://api.acme.com/', { now }).map((m) => m.entry.id)).toEqual([
      'api',
      'api-older',
      'api-any',
      'more-specific',
      'wild',
    ]);
  });

  it('with select, the other matches are outranked by the selection', () => {
    const ex = explainResolution(entries, 'https://api.acme.com/', { now, select: 'other' });
    expect(ex.chosen).toMatchObject({ kind: 'selected', entry: { id: 'other' } });
    expect(ex.candidates.find((c) => c.entry.id === 'api')?.reason).toBe('matches, but select chose id "other"');
  });
});
