import { MtlsError } from '../errors.js';
import type { HostPattern } from './pattern.js';
import { compareRank, isValidAt, label, portMatches, prepareEntry, time, type PreparedEntry } from './entry.js';
import { isIpHost, isSecureProtocol } from './host.js';
import { matchOf, primaryMatch, selectedMatch, validityReason, verdictOf } from './explain.js';
import { parseTarget } from './target.js';
import { HASH_START, HostTable, foldChar } from './host-keys.js';
import type {
  CertificateEntry,
  Explanation,
  Match,
  NormalizedTarget,
  RequestTarget,
  ResolveOptions,
  Resolver,
  ResolverOptions,
} from './types.js';

type Bucket<C> = PreparedEntry<C>[]; // always sorted best first (compareRank)

/** What addTo and removeFrom need of a map of buckets (a Map, or a HostTable). */
interface BucketMap<C> {
  get(key: string): Bucket<C> | undefined;
  set(key: string, bucket: Bucket<C>): void;
  delete(key: string): unknown;
}

/** One resolution's target and clock. The clock is read when an entry's validity is first checked, if ever (a miss never needs it). */
class Query {
  #now: number | undefined;

  constructor(
    readonly target: NormalizedTarget,
    now: number | undefined,
    readonly includeExpired: boolean,
  ) {
    this.#now = now;
  }

  get now(): number {
    return (this.#now ??= Date.now());
  }
}

function insertSorted<C>(bucket: Bucket<C>, p: PreparedEntry<C>): void {
  let lo = 0;
  let hi = bucket.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRank(bucket[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  bucket.splice(lo, 0, p);
}

function removeFrom<C>(map: BucketMap<C>, key: string, p: PreparedEntry<C>): void {
  const bucket = map.get(key);
  if (bucket === undefined) return;
  const i = bucket.indexOf(p);
  if (i !== -1) bucket.splice(i, 1);
  if (bucket.length === 0) map.delete(key);
}

function addTo<C>(map: BucketMap<C>, key: string, p: PreparedEntry<C>): void {
  const bucket = map.get(key);
  if (bucket === undefined) map.set(key, [p]);
  else insertSorted(bucket, p);
}

function countDots(text: string): number {
  let n = 0;
  for (let i = text.indexOf('.'); i !== -1; i = text.indexOf('.', i + 1)) n++;
  return n;
}

/**
 * R3, R4, R6 for one entry of a bucket. `at`: where in the host the bucket's key was found (0: the
 * whole host, an exact bucket; a dot's place: a glob suffix; -1: not by a key of the host), so that
 * an entry with a keyPrefix matches by a prefix test instead of its pattern's.
 */
function usable(p: PreparedEntry<unknown>, q: Query, at: number): boolean {
  if (!portMatches(p, q.target.port)) return false;
  const prefix = p.keyPrefix;
  const host = q.target.hostname;
  const named = at >= 0 && prefix !== undefined ? at >= prefix.length && (prefix === '' || host.startsWith(prefix)) : p.pattern.matches(host);
  return named && (q.includeExpired || isValidAt(p, q.now));
}

/**
 * The better of `best` and the first usable entry of `bucket`. Each bucket is sorted best first:
 * its first usable entry is its best, and a bucket whose head ranks below `best` has nothing to offer.
 */
function bestIn<C>(bucket: Bucket<C>, q: Query, best: PreparedEntry<C> | undefined, at: number): PreparedEntry<C> | undefined {
  for (const p of bucket) {
    if (best !== undefined && compareRank(p, best) >= 0) return best;
    if (usable(p, q, at)) return p;
  }
  return best;
}

/**
 * The indexed resolver behind {@link createResolver} and the store: exact hosts by hash, globs
 * by their literal suffix (each compiled once, on first use), so a resolution looks at the
 * entries that can match and not at the others. Supports adding and removing single entries.
 */
export class ResolverIndex<C> implements Resolver<C> {
  readonly #allowBroadPatterns: boolean;
  readonly #byId = new Map<string, PreparedEntry<C>>();
  readonly #exact = new HostTable<Bucket<C>>();
  readonly #globs = new HostTable<Bucket<C>>();
  readonly #broad: Bucket<C> = [];
  readonly #byName = new Map<string, Bucket<C>>();
  readonly #primaries: Bucket<C> = [];

  constructor(options: ResolverOptions = {}) {
    this.#allowBroadPatterns = options.allowBroadPatterns ?? false;
  }

  /**
   * Validates and indexes one entry; `pattern`, when given, is the entry's host already parsed by
   * `prepareEntry` under the same allowBroadPatterns (the store's replace validates first).
   * @throws {MtlsError} on an invalid entry or a duplicate id.
   */
  add(entry: CertificateEntry<C>, pattern?: HostPattern): void {
    const p = prepareEntry(entry, this.#allowBroadPatterns, pattern);
    if (this.#byId.has(entry.id)) {
      throw new MtlsError('ERR_INVALID_ENTRY', `Two entries have the id ${JSON.stringify(entry.id)}: ids must be unique.`);
    }
    this.#insert(p);
  }

  #insert(p: PreparedEntry<C>): void {
    const { entry } = p;
    this.#byId.set(entry.id, p);
    if (p.pattern.kind === 'exact') {
      addTo(this.#exact, p.pattern.normalized, p);
    } else {
      for (const alt of p.pattern.alternatives) {
        if (alt.suffix === undefined) {
          if (!this.#broad.includes(p)) insertSorted(this.#broad, p);
        } else if (!this.#globs.get(alt.suffix)?.includes(p)) {
          if (!this.#globs.has(alt.suffix)) this.#countSuffix(alt.suffix, 1);
          addTo(this.#globs, alt.suffix, p);
        }
      }
    }
    if (typeof entry.name === 'string') addTo(this.#byName, entry.name, p);
    if (entry.primary === true) this.#primaries.push(p);
  }

  /**
   * Swaps an indexed entry for a copy with the same id, host and port (a new order, name or
   * primary flag): the parsed pattern is reused, nothing is validated again.
   */
  update(entry: CertificateEntry<C>): void {
    const old = this.#byId.get(entry.id);
    if (old === undefined || old.entry.host !== entry.host || old.entry.port !== entry.port) {
      this.remove(entry.id);
      this.add(entry);
      return;
    }
    this.remove(entry.id);
    this.#insert({ ...old, entry, notBefore: time(entry, 'notBefore', -Infinity), notAfter: time(entry, 'notAfter', Infinity) });
  }

  /** Removes the entry with this id; false when there is none. */
  remove(id: string): boolean {
    const p = this.#byId.get(id);
    if (p === undefined) return false;
    this.#byId.delete(id);
    if (p.pattern.kind === 'exact') {
      removeFrom(this.#exact, p.pattern.normalized, p);
    } else {
      for (const alt of p.pattern.alternatives) {
        if (alt.suffix !== undefined) {
          removeFrom(this.#globs, alt.suffix, p);
          if (!this.#globs.has(alt.suffix)) this.#countSuffix(alt.suffix, -1);
        }
      }
      const i = this.#broad.indexOf(p);
      if (i !== -1) this.#broad.splice(i, 1);
    }
    if (typeof p.entry.name === 'string') removeFrom(this.#byName, p.entry.name, p);
    const i = this.#primaries.indexOf(p);
    if (i !== -1) this.#primaries.splice(i, 1);
    return true;
  }

  #query(target: RequestTarget, options: ResolveOptions): Query {
    const { now, allowBroadPatterns } = options;
    // Patterns are checked when they are indexed: a resolution cannot change what was accepted.
    if (allowBroadPatterns !== undefined && allowBroadPatterns !== this.#allowBroadPatterns) {
      throw new MtlsError(
        'ERR_INVALID_OPTION',
        `allowBroadPatterns: ${String(allowBroadPatterns)} has no effect on one resolution: patterns are checked when the entries are indexed. Give it to createResolver (or resolveCertificate), or to the store's defaults (certs.json "allowBroadPatterns").`,
      );
    }
    if (now !== undefined && (!(now instanceof Date) || Number.isNaN(now.getTime()))) {
      throw new MtlsError('ERR_INVALID_TARGET', 'The option now must be a valid Date.');
    }
    return new Query(parseTarget(target), now?.getTime(), options.includeExpired === true);
  }

  /** R7: the selected entry, validated, or undefined when nothing is selected. */
  #selected(select: string | undefined, q: Query): PreparedEntry<C> | undefined {
    if (select === undefined) return undefined;
    const byId = this.#byId.get(select);
    const named = this.#byName.get(select) ?? [];
    const others = byId === undefined ? named : named.filter((n) => n !== byId);
    // Entries that share a name and one certificate (an importer's entries made from one item)
    // are one choice: byId, else the one added last (as R5 breaks ties). Entries with different
    // certificates are not: choosing one silently could send the other's certificate.
    const first = (byId ?? named[0])?.entry.certificate;
    if (!others.every((n) => n.entry.certificate === first)) {
      if (byId !== undefined) {
        const ids = others.map((n) => JSON.stringify(n.entry.id)).join(', ');
        throw new MtlsError('ERR_AMBIGUOUS_SELECT', `${JSON.stringify(select)} is the id of one certificate and the name of another (id ${ids}): give that one another name, so that select means one certificate.`);
      }
      const ids = [...others].sort((x, y) => x.entry.order - y.entry.order).map((n) => JSON.stringify(n.entry.id)).join(', ');
      throw new MtlsError('ERR_AMBIGUOUS_SELECT', `${others.length} certificates have the name ${JSON.stringify(select)} (ids ${ids}): select one by its id, or give them different names.`);
    }
    const p = byId ?? latest(named);
    if (p === undefined) {
      throw new MtlsError(
        'ERR_CERTIFICATE_NOT_FOUND',
        `No certificate has the id or name ${JSON.stringify(select)}; list the entries to see their ids and names.`,
      );
    }
    if (!q.includeExpired && !isValidAt(p, q.now)) {
      throw new MtlsError('ERR_CERTIFICATE_EXPIRED', `The selected certificate ${label(p.entry)}: ${validityReason(p, q.now)}.`);
    }
    return p;
  }

  #primary(q: Query): PreparedEntry<C> | undefined {
    const p = latest(this.#primaries);
    return p !== undefined && (q.includeExpired || isValidAt(p, q.now)) ? p : undefined;
  }

  /**
   * One pass over `hostname` from its end: the whole host's hash (returned) and, in #suffixes and
   * #suffixHashes, the dots whose suffix some glob may be keyed by, with the suffix's hash. A glob's
   * key is the literal suffix after its last wildcard, which starts at a dot of the host (or is the
   * whole host after a dot, for brace alternatives without a wildcard): only the suffixes with a
   * number of dots that some key has are listed.
   */
  #hashHost(hostname: string): number {
    const dots = this.#dotCounts;
    const at = this.#suffixes;
    const hashes = this.#suffixHashes;
    const look = this.#globs.size > 0 && !isIpHost(hostname); // globs never match IP addresses (R3)
    let found = 0;
    let seen = 0;
    let h = HASH_START;
    for (let i = hostname.length - 1; i >= 0; i--) {
      const c = hostname.charCodeAt(i);
      h = foldChar(h, c);
      if (c === 46 && look && (dots[++seen] ?? 0) > 0) {
        at[found] = i;
        hashes[found++] = h;
      }
    }
    if (look && (dots[seen + 1] ?? 0) > 0) {
      at[found] = -1; // ".host"
      hashes[found++] = foldChar(h, 46);
    }
    this.#found = found;
    return h;
  }

  /** Where #hashHost put one host's suffixes (the dot's place, -1 for ".host"), their hashes, and how many. */
  readonly #suffixes: number[] = [];
  readonly #suffixHashes: number[] = [];
  #found = 0;

  /** The glob bucket of the k-th suffix #hashHost listed. */
  #suffixBucket(hostname: string, k: number): Bucket<C> | undefined {
    return this.#globs.find(hostname, this.#suffixes[k]!, this.#suffixHashes[k]!);
  }

  /**
   * usable's `at` for the k-th suffix: its dot's place; -1 for ".host" (the key of a brace
   * alternative without a wildcard, which `*.host` shares and which does not match the host itself)
   * and for a dot at the host's start, which no normalised host has.
   */
  #suffixAt(k: number): number {
    const at = this.#suffixes[k]!;
    return at > 0 ? at : -1;
  }

  /** How many glob suffixes have each number of dots (".acme.com": 2). */
  readonly #dotCounts: number[] = [];

  #countSuffix(suffix: string, delta: 1 | -1): void {
    const dots = countDots(suffix);
    this.#dotCounts[dots] = (this.#dotCounts[dots] ?? 0) + delta;
  }

  /** The best usable entry by host and port (R3-R6), without select or primary. */
  #best(q: Query): PreparedEntry<C> | undefined {
    const hostname = q.target.hostname;
    const exact = this.#exact.find(hostname, 0, this.#hashHost(hostname));
    if (exact !== undefined) {
      for (const p of exact) if (usable(p, q, 0)) return p;
    }
    let best: PreparedEntry<C> | undefined;
    for (let k = 0; k < this.#found; k++) {
      const bucket = this.#suffixBucket(hostname, k);
      if (bucket !== undefined) best = bestIn(bucket, q, best, this.#suffixAt(k));
    }
    if (this.#broad.length > 0 && !isIpHost(hostname)) best = bestIn(this.#broad, q, best, -1);
    return best;
  }

  resolve(target: RequestTarget, options: ResolveOptions = {}): Match<C> | undefined {
    return this.#resolve(this.#query(target, options), options);
  }

  #resolve(q: Query, options: ResolveOptions): Match<C> | undefined {
    const selected = this.#selected(options.select, q);
    if (!isSecure(q.target)) return undefined;
    if (selected !== undefined) return selectedMatch(selected, q.target);
    const best = this.#best(q);
    if (best !== undefined) return matchOf(best, q.target);
    const primary = options.fallbackToPrimary === true ? this.#primary(q) : undefined;
    return primary === undefined ? undefined : primaryMatch(primary, q.target);
  }

  rank(target: RequestTarget, options: ResolveOptions = {}): Match<C>[] {
    const q = this.#query(target, options);
    const selected = this.#selected(options.select, q);
    if (!isSecure(q.target)) return [];
    const found = new Set<PreparedEntry<C>>();
    const hostname = q.target.hostname;
    for (const p of this.#exact.find(hostname, 0, this.#hashHost(hostname)) ?? []) if (usable(p, q, 0)) found.add(p);
    for (let k = 0; k < this.#found; k++) {
      for (const p of this.#suffixBucket(hostname, k) ?? []) if (usable(p, q, this.#suffixAt(k))) found.add(p);
    }
    if (!isIpHost(hostname)) for (const p of this.#broad) if (usable(p, q, -1)) found.add(p);
    const matches = [...found].sort(compareRank).map((p) => matchOf(p, q.target));
    if (selected !== undefined) {
      return [selectedMatch(selected, q.target), ...matches.filter((m) => m.entry !== selected.entry)];
    }
    if (matches.length > 0 || options.fallbackToPrimary !== true) return matches;
    const primary = this.#primary(q);
    return primary === undefined ? [] : [primaryMatch(primary, q.target)];
  }

  explain(target: RequestTarget, options: ResolveOptions = {}): Explanation<C> {
    const q = this.#query(target, options);
    const chosen = this.#resolve(q, options);
    const all = [...this.#byId.values()].sort((a, b) => a.entry.order - b.entry.order || (a.entry.id < b.entry.id ? -1 : 1));
    const winner = chosen === undefined ? undefined : this.#byId.get(chosen.entry.id);
    const candidates = all.map((p) => ({ entry: p.entry, ...verdictOf(p, winner, chosen, q) }));
    return chosen === undefined ? { target: q.target, candidates } : { target: q.target, chosen, candidates };
  }
}

/** The entry added last (highest order; greater id on a tie), as R5.3 and R7 break ties. */
function latest<C>(list: Bucket<C>): PreparedEntry<C> | undefined {
  let best: PreparedEntry<C> | undefined;
  for (const p of list) {
    if (best === undefined || p.entry.order > best.entry.order || (p.entry.order === best.entry.order && p.entry.id > best.entry.id)) best = p;
  }
  return best;
}

function isSecure(t: NormalizedTarget): boolean {
  return isSecureProtocol(t.protocol);
}

/**
 * Builds an indexed resolver over `entries`: exact hosts by hash, globs by their literal
 * suffix, each glob compiled once. Validates every entry first (R3, R4).
 *
 * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`, `ERR_INVALID_ENTRY`.
 * @example
 * ```ts
 * const resolver = createResolver([
 *   { id: 'a', host: '*.acme.com', order: 1, certificate: acmeWildcard },
 *   { id: 'b', host: 'api.acme.com', port: 8443, order: 2, certificate: acmeApi },
 * ]);
 * resolver.resolve('https://api.acme.com:8443/v1')?.entry.id; // 'b'
 * resolver.resolve('https://www.acme.com/')?.kind;             // 'wildcard'
 * ```
 */
export function createResolver<C>(entries: Iterable<CertificateEntry<C>>, options: ResolverOptions = {}): Resolver<C> {
  const index = new ResolverIndex<C>(options);
  for (const entry of entries) index.add(entry);
  return index;
}
