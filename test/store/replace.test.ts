// store.replace: the whole content in one step, one change, ids and connections kept for what did
// not change, and a result that is always the one a fresh store built from the same list gives.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, loadCertificate, type LoadedCertificate, type StoreChange, type StoreEntryInput } from '../../src/index.js';
import { fixture } from '../helpers.js';

let certs: LoadedCertificate[];
beforeAll(async () => {
  certs = await Promise.all(['rsa.pem', 'ec256.pem', 'ec384.pem', 'ed25519.pem'].map((f) => loadCertificate({ pemFile: fixture(f) })));
});

const changes = (store: CertificateStore) => {
  const seen: StoreChange[] = [];
  store.on('change', (c) => seen.push(c));
  return seen;
};

describe('CertificateStore.replace', () => {
  it('swaps the content in one change: unchanged entries keep their id and object, renewed ones are new', () => {
    const store = new CertificateStore();
    const api = store.add({ host: 'api.acme.com', name: 'api', certificate: certs[0]! });
    const wild = store.add({ host: '*.acme.com', port: '*', certificate: certs[1]! });
    const gone = store.add({ host: 'old.acme.com', certificate: certs[2]! });
    const seen = changes(store);
    const result = store.replace([
      { host: 'api.acme.com', name: 'api', certificate: certs[3]! }, // renewed: a new certificate
      { host: '*.acme.com', port: '*', certificate: certs[1]! }, // unchanged
      { host: 'new.acme.com', certificate: certs[2]! },
    ]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'replace', defaultsChanged: false });
    expect(result.kept).toEqual([wild]);
    expect(store.get(wild.id)).toBe(wild); // the same object: adapters keep its connections
    expect(result.removed.map((e) => e.id).sort()).toEqual([api.id, gone.id].sort());
    expect(result.added.map((e) => [e.host, e.certificate.fingerprint256])).toEqual([
      ['api.acme.com', certs[3]!.fingerprint256],
      ['new.acme.com', certs[2]!.fingerprint256],
    ]);
    expect(result.added.map((e) => e.id)).not.toContain(api.id); // ids are never reused
    expect(store.resolve('https://api.acme.com/')?.entry.certificate).toBe(certs[3]);
    expect(store.list().map((e) => e.host)).toEqual(['api.acme.com', '*.acme.com', 'new.acme.com']); // the list's order
  });

  it('an invalid entry anywhere changes nothing and emits nothing', () => {
    const store = new CertificateStore();
    const a = store.add({ host: 'api.acme.com', certificate: certs[0]! });
    const seen = changes(store);
    const before = store.list();
    for (const bad of [
      [{ host: 'b.acme.com', certificate: certs[1]! }, { host: 'https://c.acme.com/', certificate: certs[2]! }],
      [{ host: 'b.acme.com', port: '8443' as never, certificate: certs[1]! }],
      [{ host: 'b.acme.com', certificate: { not: 'loaded' } as never }],
      [{ host: 'b.acme.com', certificate: certs[1]!, primary: true }, { host: 'c.acme.com', certificate: certs[1]!, primary: true }],
      [{ host: 'b.acme.com', certificate: certs[1]!, id: 'x' }, { host: 'c.acme.com', certificate: certs[1]!, id: 'x' }],
      [{ host: '*.com', certificate: certs[1]! }],
    ] as StoreEntryInput[][]) {
      expect(() => store.replace(bad)).toThrow(expect.objectContaining({ name: 'MtlsError' }));
    }
    expect(store.list()).toEqual(before);
    expect(store.get(a.id)).toBe(a);
    expect(seen).toEqual([]);
  });

  it('emits nothing when nothing changed; primary and defaults changes are reported', () => {
    const store = new CertificateStore({ rejectUnauthorized: true });
    const list: StoreEntryInput[] = [
      { host: 'api.acme.com', certificate: certs[0]! },
      { host: 'www.acme.com', certificate: certs[1]! },
    ];
    store.replace(list);
    const seen = changes(store);
    const same = store.replace(list.map((e) => ({ ...e })));
    expect(same).toMatchObject({ added: [], removed: [] });
    expect(seen).toEqual([]);
    store.replace([list[0]!, { ...list[1]!, primary: true }]);
    expect(seen).toHaveLength(1);
    expect(store.list()[1]!.primary).toBe(true);
    expect(store.resolve('https://other.test/', { fallbackToPrimary: true })?.entry.host).toBe('www.acme.com');
    const defaults = { rejectUnauthorized: false };
    expect(store.replace(list, defaults).defaultsChanged).toBe(true);
    expect(store.defaults).toEqual(defaults);
    expect(store.replace([{ host: '*.com', certificate: certs[2]! }], { allowBroadPatterns: true }).added).toHaveLength(1);
    expect(store.resolve('https://x.com/')?.entry.certificate).toBe(certs[2]);
  });

  it('an explicit id names its entry: same content keeps it, new content replaces it under the same id', () => {
    const store = new CertificateStore();
    store.add({ id: 'payments', host: 'pay.acme.com', certificate: certs[0]! });
    const r1 = store.replace([{ id: 'payments', host: 'pay.acme.com', certificate: certs[0]! }]);
    expect(r1.kept.map((e) => e.id)).toEqual(['payments']);
    const r2 = store.replace([{ id: 'payments', host: 'pay.acme.com', certificate: certs[1]! }]);
    expect(r2.added.map((e) => e.id)).toEqual(['payments']);
    expect(r2.removed.map((e) => e.certificate)).toEqual([certs[0]]);
    expect(store.get('payments')?.certificate).toBe(certs[1]);
  });

  it('an explicit id takes the id of an unchanged entry that had only the store\'s id', () => {
    const store = new CertificateStore();
    store.replace([{ host: 'api.acme.com', certificate: certs[0]! }]);
    const id = store.list()[0]!.id;
    const result = store.replace([{ host: 'api.acme.com', certificate: certs[0]! }, { host: 'www.acme.com', certificate: certs[1]!, id }]);
    expect(store.get(id)?.host).toBe('www.acme.com');
    expect(result.added.map((e) => e.host)).toEqual(['api.acme.com', 'www.acme.com']);
    expect(store.list().map((e) => e.host)).toEqual(['api.acme.com', 'www.acme.com']);
  });

  // The central property: after any sequence of replaces, the store ranks every target exactly as a
  // fresh store built from the last list does (R5's recency = the list's order), and kept entries
  // are the ones whose content did not change.
  it('property: after any sequence of replaces, resolution equals a fresh store built from the last list', () => {
    const entry = fc.record({
      host: fc.constantFrom('api.acme.com', 'www.acme.com', '*.acme.com', 'api-*.acme.com', '*.b.acme.com'),
      port: fc.constantFrom(undefined, 443, 8443, '*' as const),
      name: fc.constantFrom(undefined, 'n1', 'n2'),
      cert: fc.integer({ min: 0, max: 3 }),
      id: fc.constantFrom(undefined, undefined, undefined, 'x', 'cert-1', 'cert-2', 'cert-3'), // cert-N: ids the store makes
      primary: fc.boolean(),
    });
    const targets = ['https://api.acme.com/', 'https://www.acme.com:8443/', 'https://api-1.acme.com/', 'https://x.b.acme.com:9000/', 'https://z.acme.com/', 'https://other.test/'];
    fc.assert(
      fc.property(fc.array(fc.array(entry, { maxLength: 8 }), { minLength: 1, maxLength: 6 }), (lists) => {
        const store = new CertificateStore();
        // An id once per list, primary on one entry at most: what replace accepts.
        const inputsOf = (list: (typeof lists)[number]): StoreEntryInput[] => {
          const ids = new Set<string>();
          let primary = false;
          return list.map((e) => {
            const id = e.id !== undefined && !ids.has(e.id) ? e.id : undefined;
            if (id !== undefined) ids.add(id);
            const isPrimary = e.primary && !primary && e.cert === 0;
            if (isPrimary) primary = true;
            return {
              host: e.host,
              certificate: certs[e.cert]!,
              ...(e.port === undefined ? {} : { port: e.port }),
              ...(e.name === undefined ? {} : { name: e.name }),
              ...(id === undefined ? {} : { id }),
              ...(isPrimary ? { primary: true } : {}),
            };
          });
        };
        for (const list of lists) {
          const before = new Map(store.list().map((e) => [e.id, e]));
          const inputs = inputsOf(list);
          const result = store.replace(inputs);
          for (const k of result.kept) expect(before.get(k.id)?.certificate).toBe(k.certificate);
          expect(result.kept.length + result.added.length).toBe(list.length);
          const fresh = new CertificateStore();
          // add() makes cert-N ids in turn, which an explicit id may then collide with: a list with
          // explicit ids goes into an empty store with replace.
          if (inputs.some((input) => input.id !== undefined)) fresh.replace(inputs);
          else for (const input of inputs) fresh.add(input);
          const show = (s: CertificateStore, t: string) => s.rank(t, { fallbackToPrimary: true }).map((m) => `${m.entry.host}|${m.entry.port}|${m.entry.name}|${m.entry.primary}|${m.entry.certificate.fingerprint256}`);
          for (const t of targets) expect(show(store, t)).toEqual(show(fresh, t));
          expect(store.list().map((e) => e.host)).toEqual(list.map((e) => e.host));
          for (const input of inputs) if (input.id !== undefined) expect(store.get(input.id)?.host).toBe(input.host);
          // The same list again changes nothing.
          const again = store.replace(inputs);
          expect(again.added.length + again.removed.length).toBe(0);
          expect(again.kept.map((e) => e.id)).toEqual(store.list().map((e) => e.id));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('expiring and expired events', () => {
  it('one timer: expiring once within expiryWarningDays, expired once after notAfter; none without listeners', async () => {
    const { vi } = await import('vitest');
    const cert = certs[0]!;
    const end = cert.notAfter.getTime();
    const day = 86_400_000;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      vi.setSystemTime(end - 40 * day);
      const store = new CertificateStore({ expiryWarningDays: 10 });
      const entry = store.add({ host: 'api.acme.com', certificate: cert });
      expect(vi.getTimerCount()).toBe(0); // nobody listens: no timer
      const events: Array<[string, number]> = [];
      store.on('expiring', (e) => events.push(['expiring', e.daysLeft]));
      store.on('expired', (e) => events.push(['expired', e.daysLeft]));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(29 * day);
      expect(events).toEqual([]);
      vi.advanceTimersByTime(2 * day);
      expect(events).toEqual([['expiring', 10]]); // at the moment it came: 10 days left
      vi.advanceTimersByTime(5 * day);
      expect(events).toHaveLength(1); // once
      vi.advanceTimersByTime(5 * day);
      expect(events).toEqual([['expiring', 10], ['expired', -1]]);
      expect(store.get(entry.id)).toBe(entry); // R6 still decides resolution; the event only tells
      expect(store.resolve('https://api.acme.com/')).toBeUndefined();
      vi.advanceTimersByTime(100 * day);
      expect(events).toHaveLength(2);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
