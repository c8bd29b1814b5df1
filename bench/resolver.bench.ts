// Resolves per second: the indexed resolver against the naive linear scan with one minimatch
// call per entry (what peers do), at 10 to 100,000 entries, half exact and half glob.
import { minimatch } from 'minimatch';
import { createResolver, type CertificateEntry } from '../src/resolver/index.js';
import { formatNs, median, table, timePerCall } from './util.js';

const SIZES = [10, 1_000, 10_000, 100_000];

function makeEntries(n: number): CertificateEntry<number>[] {
  const entries: CertificateEntry<number>[] = [];
  for (let i = 0; i < n; i++) {
    const host = i % 2 === 0 ? `host-${i}.svc-${i % 97}.example.com` : i % 4 === 1 ? `*.team-${i}.example.com` : `api-*.zone-${i}.example.com`;
    const port = i % 5 === 0 ? 8443 : i % 7 === 0 ? ('*' as const) : undefined;
    entries.push({ id: `e${i}`, host, ...(port === undefined ? {} : { port }), order: i, certificate: i });
  }
  return entries;
}

/** Fresh strings every call (built at run time), so no string-hash or parse cache can help. */
function makeTargets(n: number, count: number, seed: number): string[] {
  const targets: string[] = [];
  let x = Math.imul(seed, 2654435761) >>> 0;
  for (let k = 0; k < count; k++) {
    // 32-bit arithmetic: in doubles the product loses its low bits, and i would keep one parity.
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const i = (x >>> 8) % n; // the high bits: an LCG's low bits repeat with a short period
    const port = k % 3 === 0 ? ':8443' : '';
    switch (k % 4) {
      case 0:
        targets.push(`https://host-${i - (i % 2)}.svc-${(i - (i % 2)) % 97}.example.com${port}/v1/items?k=${k}`);
        break;
      case 1:
        targets.push(`https://node${k}.team-${i | 1}.example.com${port}/`);
        break;
      case 2:
        targets.push(`https://api-${k}.zone-${i | 1}.example.com${port}/`);
        break;
      default:
        targets.push(`https://miss-${k}.nowhere.test${port}/`);
    }
  }
  return targets;
}

/** What peers do: for each entry, minimatch the host; keep the best by the same rules. */
function naiveResolve(entries: CertificateEntry<number>[], url: string): CertificateEntry<number> | undefined {
  const u = new URL(url);
  const host = u.hostname;
  const port = u.port === '' ? 443 : Number(u.port);
  let best: CertificateEntry<number> | undefined;
  let bestKey: number[] = [];
  for (const e of entries) {
    const portOk = e.port === '*' || (e.port === undefined ? port === 443 : e.port === port);
    if (!portOk || !minimatch(host, e.host, { nocase: true })) continue;
    const glob = /[*?[{]/.test(e.host);
    const key = [glob ? 0 : 1, glob ? e.host.replace(/[*?]/g, '').length : 0, e.port === undefined ? 1 : e.port === '*' ? 0 : 2, e.order];
    if (best === undefined || key.some((v, j) => v !== bestKey[j] && (v > bestKey[j]! ? true : false) && key.slice(0, j).every((w, m) => w === bestKey[m]))) {
      best = e;
      bestKey = key;
    }
  }
  return best;
}

export function runResolverBench(rounds = 7): string {
  const resolvers = new Map(SIZES.map((n) => [n, { entries: makeEntries(n), resolver: createResolver(makeEntries(n)) }]));
  // Sanity: both agree on what they pick, so the comparison is fair.
  for (const [n, { entries, resolver }] of resolvers) {
    for (const url of makeTargets(n, Math.max(4, Math.min(200, Math.floor(2e5 / n))), 99)) {
      const a = resolver.resolve(url)?.entry.id;
      const b = naiveResolve(entries, url)?.id;
      if (a !== b) throw new Error(`bench setup: indexed and naive disagree at ${n} entries for ${url}: ${a} vs ${b}`);
    }
  }
  const indexed = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const naive = new Map<number, number[]>(SIZES.map((n) => [n, []]));
  const CALLS = 20_000;
  for (let r = 0; r < rounds; r++) {
    for (const n of SIZES) {
      const { entries, resolver } = resolvers.get(n)!;
      const targets = makeTargets(n, CALLS, r + 1);
      let found = 0;
      indexed.get(n)!.push(timePerCall(CALLS, (i) => (found += resolver.resolve(targets[i]!) ? 1 : 0)));
      // The naive scan costs about 10 µs per entry: a bounded number of calls keeps the run short.
      const naiveCalls = Math.max(2, Math.min(200, Math.floor(2e5 / n)));
      const naiveTargets = makeTargets(n, naiveCalls, r + 101);
      if (r < 3) naive.get(n)!.push(timePerCall(naiveCalls, (i) => (found += naiveResolve(entries, naiveTargets[i]!) ? 1 : 0)));
      if (found < 0) console.log(found);
    }
  }
  const base = median(indexed.get(10)!);
  const rows = [['entries', 'indexed / resolve', 'resolves/s', 'naive / resolve', 'indexed vs naive', `time vs 10 entries`]];
  for (const n of SIZES) {
    const i = median(indexed.get(n)!);
    const v = median(naive.get(n)!);
    rows.push([n.toLocaleString('en'), formatNs(i), Math.round(1e9 / i).toLocaleString('en'), formatNs(v), `${Math.round(v / i).toLocaleString('en')}x faster`, `${(i / base).toFixed(2)}x`]);
  }
  return `resolver: createResolver().resolve vs a linear minimatch scan (median of ${rounds} interleaved rounds, ${CALLS.toLocaleString('en')} fresh targets per round)\n${table(rows)}\n\n${floorTable(resolvers, rounds)}`;
}

const KINDS = ['exact hit', 'glob hit (*.team)', 'glob hit (api-*.zone)', 'miss'] as const;

/**
 * resolve(url) against the floor of any resolver that takes a URL string: `new URL(url)` and one
 * `Map.get` of its hostname. Per kind of target (makeTargets cycles through them: k % 4).
 */
function floorTable(resolvers: Map<number, { entries: CertificateEntry<number>[]; resolver: ReturnType<typeof createResolver<number>> }>, rounds: number): string {
  rounds = Math.max(rounds, 10);
  const CALLS = 20_000;
  const rows = [['entries', ...KINDS.map((k) => `${k}: resolve / floor`)]];
  for (const n of SIZES) {
    const { entries, resolver } = resolvers.get(n)!;
    const map = new Map(entries.map((e) => [e.host, e]));
    const ours = KINDS.map(() => [] as number[]);
    const floor = KINDS.map(() => [] as number[]);
    // How many targets of each kind the resolver matches (untimed): a "hit" kind that never hits
    // would measure misses.
    const hits = KINDS.map((_, kind) => {
      const targets = makeTargets(n, CALLS * 4, 200).filter((_t, k) => k % 4 === kind);
      return targets.filter((t) => resolver.resolve(t) !== undefined).length / targets.length;
    });
    for (let r = 0; r < rounds; r++) {
      const all = makeTargets(n, CALLS * 4, r + 201);
      KINDS.forEach((_, kind) => {
        const targets = all.filter((_t, k) => k % 4 === kind);
        let sink = 0;
        const runFloor = () => floor[kind]!.push(timePerCall(targets.length, (i) => (sink += map.get(new URL(targets[i]!).hostname) === undefined ? 0 : 1)));
        const runOurs = () => ours[kind]!.push(timePerCall(targets.length, (i) => (sink += resolver.resolve(targets[i]!) === undefined ? 0 : 1)));
        // Alternate which goes first, so that neither always runs on a warmer or a fuller heap.
        if (r % 2 === 0) {
          runFloor();
          runOurs();
        } else {
          runOurs();
          runFloor();
        }
        if (sink < 0) console.log(sink);
      });
    }
    rows.push([n.toLocaleString('en'), ...KINDS.map((_, kind) => `${formatNs(median(ours[kind]!))} / ${formatNs(median(floor[kind]!))} = ${(median(ours[kind]!) / median(floor[kind]!)).toFixed(2)}x (${Math.round(hits[kind]! * 100)}% hit)`)]);
  }
  return `resolve(url) against the floor: new URL(url) + one Map.get (median of ${rounds} interleaved rounds)\n${table(rows)}`;
}
