// store.replace of a 10,000-entry store with 1% of the entries renewed (a new certificate), against
// re-indexing those entries alone (ResolverIndex remove + add for each changed entry), in
// interleaved rounds in one process.
import { CertificateStore, loadCertificate, type LoadedCertificate, type StoreEntryInput } from '../src/index.js';
import { ResolverIndex } from '../src/resolver/indexed.js';
import type { CertificateEntry } from '../src/resolver/types.js';
import { fixtures } from './loader.bench.js';
import { formatNs, median, table } from './util.js';

function hostOf(i: number): string {
  return i % 2 === 0 ? `host-${i}.svc-${i % 97}.example.com` : i % 4 === 1 ? `*.team-${i}.example.com` : `api-*.zone-${i}.example.com`;
}

export async function runStoreBench(rounds = 40, size = 10_000, changedShare = 0.01, warmup = 20): Promise<string> {
  const dir = fixtures();
  const [a, b] = await Promise.all([loadCertificate({ pemFile: `${dir}rsa.pem` }), loadCertificate({ pemFile: `${dir}ec256.pem` })]);
  const step = Math.round(1 / changedShare);
  const changed = Array.from({ length: size }, (_, i) => i).filter((i) => i % step === 0);
  // Each round's list has its own host strings, flat as JSON.parse makes them (a reloaded config).
  const hostsJson = JSON.stringify(Array.from({ length: size }, (_, i) => hostOf(i)));
  const list = (renewed: LoadedCertificate): StoreEntryInput[] => {
    const hosts = JSON.parse(hostsJson) as string[];
    return hosts.map((host, i) => ({ host, ...(i % 5 === 0 ? { port: 8443 } : {}), certificate: i % step === 0 ? renewed : a! }));
  };
  const store = new CertificateStore();
  store.replace(list(a!));
  const index = new ResolverIndex<LoadedCertificate>();
  let order = 0;
  const hosts = JSON.parse(hostsJson) as string[];
  const entryOf = (i: number, certificate: LoadedCertificate): CertificateEntry<LoadedCertificate> => ({ id: `e${i}`, host: hosts[i]!, ...(i % 5 === 0 ? { port: 8443 } : {}), order: ++order, certificate });
  for (let i = 0; i < size; i++) index.add(entryOf(i, a!));
  const ours: number[] = [];
  const base: number[] = [];
  const pass: number[] = [];
  let same = 0;
  let keptLast = 0;
  for (let r = -warmup; r < rounds * 2; r++) {
    const renewed = (r + warmup) % 2 === 0 ? b! : a!;
    const next = list(renewed); // built outside the timing: the caller has its list
    let t = process.hrtime.bigint();
    const result = store.replace(next);
    if (r >= 0) ours.push(Number(process.hrtime.bigint() - t));
    keptLast = result.kept.length;
    t = process.hrtime.bigint();
    for (const i of changed) {
      index.remove(`e${i}`);
      index.add(entryOf(i, renewed));
    }
    if (r >= 0) base.push(Number(process.hrtime.bigint() - t));
    // The least a replace that takes the whole list does besides re-indexing: read each input once
    // against the entry at its place.
    const current = store.list();
    const again = list(renewed);
    t = process.hrtime.bigint();
    for (let i = 0; i < again.length; i++) {
      const e = current[i]!;
      const x = again[i]!;
      if (x.certificate === e.certificate && x.host === e.host && x.port === e.port && x.name === e.name && x.primary === e.primary) same++;
    }
    if (r >= 0) pass.push(Number(process.hrtime.bigint() - t));
  }
  if (same === 0) throw new Error('bench setup: no input was the entry at its place');
  const o = median(ours.slice(2));
  const bl = median(base.slice(2));
  const p = median(pass.slice(2));
  return [
    `store: replace of a ${size.toLocaleString('en')}-entry store with ${changed.length} entries renewed (median of ${rounds * 2 - 2} interleaved rounds after ${warmup} untimed)`,
    table([
      ['case', 'time', 'vs re-indexing the changed entries alone'],
      ['re-index the changed entries alone (ResolverIndex remove + add)', formatNs(bl), '1.00x'],
      ['one pass over the list, each input against the entry at its place', formatNs(p), `${(p / bl).toFixed(2)}x`],
      ['store.replace(whole list)', formatNs(o), `${(o / bl).toFixed(2)}x`],
      ['store.replace / (re-index alone + one pass)', '', `${(o / (bl + p)).toFixed(2)}x`],
    ]),
    `kept (not re-indexed) in the last round: ${keptLast.toLocaleString('en')}`,
  ].join('\n');
}
