import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, loadCertificate, type LoadedCertificate, type StoreChange } from '../../src/index.js';
import { PASS, fixture } from '../helpers.js';

let rsa: LoadedCertificate;
let ec: LoadedCertificate;
beforeAll(async () => {
  rsa = await loadCertificate({ certFile: fixture('rsa.crt'), keyFile: fixture('rsa.enc.key'), passphrase: PASS });
  ec = await loadCertificate({ pemFile: fixture('ec256.pem') });
});

describe('CertificateStore', () => {
  it('takes the port rule of the resolver and the config file: a number or "*", never a numeric string', () => {
    const store = new CertificateStore();
    expect(() => store.add({ host: 'api.acme.com', port: '8443' as never, certificate: rsa })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_PORT', message: expect.stringContaining('a number, not the string "8443"') }),
    );
    expect(store.size).toBe(0);
    expect(store.add({ host: 'api.acme.com', port: 8443, certificate: rsa }).port).toBe(8443);
  });

  it('adds, lists in insertion order, gets, resolves and removes, with unique stable ids', () => {
    const store = new CertificateStore();
    const a = store.add({ host: '*.acme.com', certificate: rsa, name: 'wild' });
    const b = store.add({ host: 'api.acme.com', port: 8443, certificate: ec });
    expect(a.id).not.toBe(b.id);
    expect(store.size).toBe(2);
    expect(store.list().map((e) => e.id)).toEqual([a.id, b.id]);
    expect(store.get(a.id)).toBe(a);
    expect(store.resolve('https://api.acme.com:8443/')?.entry.id).toBe(b.id);
    expect(store.resolve('https://api.acme.com/')?.entry.id).toBe(a.id);
    expect(store.explain('https://api.acme.com/').candidates.find((c) => c.entry.id === b.id)?.verdict).toBe('no-match');
    expect(store.remove(b.id)).toBe(true);
    expect(store.remove(b.id)).toBe(false);
    const c = store.add({ host: 'api.acme.com', certificate: ec });
    expect(c.id).not.toBe(b.id); // ids are never reused
    expect(store.get(a.id)?.id).toBe(a.id);
  });

  it('the entry added later wins, and validity comes from the certificate', () => {
    const store = new CertificateStore();
    store.add({ host: 'api.acme.com', certificate: rsa });
    const later = store.add({ host: 'api.acme.com', certificate: ec });
    expect(store.resolve('https://api.acme.com/')?.entry.id).toBe(later.id);
    expect(later.notAfter).toEqual(ec.notAfter);
    expect(store.resolve('https://api.acme.com/', { now: new Date(ec.notAfter.getTime() + 1000) })).toBeUndefined();
  });

  it('keeps at most one primary: setting a new one clears the old', () => {
    const store = new CertificateStore();
    const a = store.add({ host: 'a.test', certificate: rsa, primary: true });
    const b = store.add({ host: 'b.test', certificate: ec });
    expect(store.resolve('https://c.test/', { fallbackToPrimary: true })?.entry.id).toBe(a.id);
    store.setPrimary(b.id);
    expect(store.list().filter((e) => e.primary).map((e) => e.id)).toEqual([b.id]);
    expect(store.resolve('https://c.test/', { fallbackToPrimary: true })).toMatchObject({ kind: 'primary', entry: { id: b.id } });
    store.add({ host: 'd.test', certificate: rsa, primary: true });
    expect(store.list().filter((e) => e.primary)).toHaveLength(1);
    store.setPrimary(null);
    expect(store.list().filter((e) => e.primary)).toHaveLength(0);
  });

  it('renames without touching the certificate; entries are immutable', () => {
    const store = new CertificateStore();
    const a = store.add({ host: 'a.test', certificate: rsa, name: 'old' });
    store.rename(a.id, 'new');
    const renamed = store.get(a.id)!;
    expect(renamed).toMatchObject({ id: a.id, name: 'new', order: a.order });
    expect(renamed.certificate).toBe(rsa);
    expect(store.resolve('https://a.test/', { select: 'new' })?.entry.id).toBe(a.id);
    expect(Object.isFrozen(renamed)).toBe(true);
    expect(() => {
      (renamed as { host: string }).host = 'evil.test';
    }).toThrow();
  });

  it('emits change for add, remove, rename and primary', () => {
    const store = new CertificateStore();
    const changes: StoreChange['type'][] = [];
    store.on('change', (c: StoreChange) => changes.push(c.type));
    const a = store.add({ host: 'a.test', certificate: rsa });
    store.rename(a.id, 'x');
    store.setPrimary(a.id);
    store.remove(a.id);
    expect(changes).toEqual(['add', 'rename', 'primary', 'remove']);
  });

  it('refuses bad input with clear errors and changes nothing', () => {
    const store = new CertificateStore();
    expect(() => store.add({ host: 'https://a.test/x', certificate: rsa })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HOST_PATTERN' }));
    expect(() => store.add({ host: '*.com', certificate: rsa })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HOST_PATTERN' }));
    expect(() => store.add({ host: 'a.test', port: 0, certificate: rsa })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PORT' }));
    expect(() => store.add({ host: 'a.test', certificate: { pem: 'x' } as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENTRY', message: expect.stringContaining('loadCertificate') }));
    expect(() => store.rename('nope', 'x')).toThrow(expect.objectContaining({ code: 'ERR_CERTIFICATE_NOT_FOUND' }));
    expect(() => store.setPrimary('nope')).toThrow(expect.objectContaining({ code: 'ERR_CERTIFICATE_NOT_FOUND' }));
    store.add({ host: 'a.test', certificate: rsa, id: 'mine' });
    expect(() => store.add({ host: 'b.test', certificate: rsa, id: 'mine' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENTRY' }));
    expect(store.size).toBe(1);
  });

  it('toJSON and util.inspect never show a key or passphrase', () => {
    const store = new CertificateStore();
    store.add({ host: 'a.test', certificate: rsa, name: 'secret holder' });
    const body = rsa.tls.key!.split('\n')[1]!;
    for (const text of [JSON.stringify(store), inspect(store, { depth: 10 }), inspect(store, { showHidden: true, depth: 10 }), inspect(store.list(), { depth: 10, showHidden: true })]) {
      expect(text).toContain('secret holder');
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(body);
      expect(text).not.toContain(PASS);
    }
  });

  it('allowBroadPatterns is the store\'s setting: a resolution that gives another value is refused, not ignored', () => {
    const store = new CertificateStore();
    store.add({ host: '*.acme.com', certificate: rsa });
    for (const call of [() => store.resolve('https://a.acme.com/', { allowBroadPatterns: true }), () => store.explain('https://a.acme.com/', { allowBroadPatterns: true }), () => store.rank('https://a.acme.com/', { allowBroadPatterns: true })]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('patterns are checked when the entries are indexed') }));
    }
    expect(store.resolve('https://a.acme.com/', { allowBroadPatterns: false })?.entry.host).toBe('*.acme.com');
    const broad = new CertificateStore({ allowBroadPatterns: true });
    broad.add({ host: '*.com', certificate: rsa });
    expect(broad.resolve('https://a.com/', { allowBroadPatterns: true })?.entry.host).toBe('*.com');
  });
});
