import { MtlsError } from '../errors.js';
import type { HostPattern } from './host.js';
import { compareRank, isValidAt, label, portMatches, prepareEntry, time, type PreparedEntry } from './entry.js';
import { isIpHost, isSecureProtocol, parseTarget } from './host.js';
import type {
  CertificateEntry,
  Explanation,
  Match,
  NormalizedTarget,
  RequestTarget,
  ResolveOptions,
  Resolver,
  ResolverOptions,
  Verdict,
} from './types.js';

type Bucket<C> = PreparedEntry<C>[]; // always sorted best first (compareRank)

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

function removeFrom<C>(map: Map<string, Bucket<C>>, key: string, p: PreparedEntry<C>): void {
  const bucket = map.get(key);
  if (bucket === undefined) return;
  const i = bucket.indexOf(p);
  if (i !== -1) bucket.splice(i, 1);
  if (bucket.length === 0) map.delete(key);
}

function addTo<C>(map: Map<string, Bucket<C>>, key: string, p: PreparedEntry<C>): void {
  const bucket = map.get(key);
  if (bucket === undefined) map.set(key, [p]);
  else insertSorted(bucket, p);
}

function countDots(text: string): number {
  let n = 0;
  for (let i = text.indexOf('.'); i !== -1; i = text.indexOf('.', i + 1)) n++;
  return n;
}

function usable(p: PreparedEntry<unknown>, q: Query): boolean {
  return portMatches(p, q.target.port) && p.pattern.matches(q.target.hostname) && (q.includeExpired || isValidAt(p, q.now));
}

/**
 * The better of `best` and the first usable entry of `bucket`. Each bucket is sorted best first:
 * its first usable entry is its best, and a bucket whose head ranks below `best` has nothing to offer.
 */
function bestIn<C>(bucket: Bucket<C>, q: Query, best: PreparedEntry<C> | undefined): PreparedEntry<C> | undefined {
  for (const p of bucket) {
    if (best !== undefined && compareRank(p, best) >= 0) return best;
    if (usable(p, q)) return p;
  }
  return best;
}

function portText(p: PreparedEntry<unknown>): string {
  return p.port === undefined ? 'port 443 (no port set)' : p.port === '*' ? 'any port' : `port ${p.port}`;
}

const PORT_RANK_TEXT = ["any port ('*')", 'no port (443 only)', 'an explicit port'];

// An exact entry's match says the same for every target: made once per entry, frozen.
const exactMatches = new WeakMap<PreparedEntry<unknown>, Match<unknown>>();

function matchOf<C>(p: PreparedEntry<C>, target: NormalizedTarget): Match<C> {
  const kind = p.pattern.kind;
  if (kind === 'exact') {
    let match = exactMatches.get(p) as Match<C> | undefined;
    if (match === undefined) exactMatches.set(p, (match = Object.freeze({ entry: p.entry, kind, reason: `exact host ${p.pattern.normalized} on ${portText(p)}` })));
    return match;
  }
  return { entry: p.entry, kind, reason: `wildcard ${p.pattern.source} matches ${target.hostname} on ${portText(p)}` };
}

function outrankedReason(loser: PreparedEntry<unknown>, winner: PreparedEntry<unknown>): string {
  const w = label(winner.entry);
  if (winner.hostRank !== loser.hostRank) {
    if (winner.pattern.kind === 'exact') {
      return `matches, but exact host ${winner.pattern.source} (${w}) beats wildcard ${loser.pattern.source} (R5: exact beats wildcard)`;
    }
    return `matches, but wildcard ${winner.pattern.source} (${w}) is more specific: ${winner.pattern.literalCount} literal characters against ${loser.pattern.literalCount} (R5: more literal characters win)`;
  }
  if (winner.portRank !== loser.portRank) {
    return `matches, but ${w} has ${PORT_RANK_TEXT[winner.portRank]}, which beats ${PORT_RANK_TEXT[loser.portRank]} (R5: explicit port beats no port beats '*')`;
  }
  if (winner.entry.order !== loser.entry.order) {
    return `matches, but ${w} was added later (order ${winner.entry.order} > ${loser.entry.order}): the most recently added certificate wins (R5); remove this one if it is obsolete`;
  }
  return `matches, but ${w} ranks the same and was added at the same order; the greater id wins the tie`;
}

function noMatchReason(p: PreparedEntry<unknown>, t: NormalizedTarget): string | undefined {
  const { pattern } = p;
  if (!pattern.matches(t.hostname)) {
    if (pattern.kind === 'exact') return `host ${pattern.normalized} is not ${t.hostname}`;
    if (isIpHost(t.hostname)) {
      return `wildcard ${pattern.source} never matches an IP address; add an entry with the exact address ${t.hostname}`;
    }
    const bare = pattern.normalized.startsWith('*.') && pattern.normalized.slice(2) === t.hostname;
    return bare
      ? `wildcard ${pattern.source} matches subdomains of ${t.hostname}, not ${t.hostname} itself; add an entry for ${t.hostname}`
      : `wildcard ${pattern.source} does not match ${t.hostname}`;
  }
  if (!portMatches(p, t.port)) {
    return p.port === undefined
      ? `no port set, so it applies to port 443 only; the request uses port ${t.port} (set port: ${t.port} or '*')`
      : `it is for port ${p.port}; the request uses port ${t.port}`;
  }
  return undefined;
}

function validityReason(p: PreparedEntry<unknown>, now: number): string | undefined {
  if (now > p.notAfter) {
    return `certificate expired on ${new Date(p.notAfter).toISOString()}; renew it, or pass includeExpired: true to use it anyway`;
  }
  if (now < p.notBefore) {
    return `certificate is not valid until ${new Date(p.notBefore).toISOString()}; pass includeExpired: true to use it anyway`;
  }
  return undefined;
}

/**
 * The indexed resolver behind {@link createResolver} and the store: exact hosts by hash, globs
 * by their literal suffix (each compiled once, on first use), so a resolution looks at the
 * entries that can match and not at the others. Supports adding and removing single entries.
 */
export class ResolverIndex<C> implements Resolver<C> {
  readonly #allowBroadPatterns: boolean;
  readonly #byId = new Map<string, PreparedEntry<C>>();
  readonly #exact = new Map<string, Bucket<C>>();
  readonly #globs = new Map<string, Bucket<C>>();
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
    const { now } = options;
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
    // Choosing one silently could send the other's certificate.
    if (byId !== undefined && others.length > 0) {
      const ids = others.map((n) => JSON.stringify(n.entry.id)).join(', ');
      throw new MtlsError('ERR_AMBIGUOUS_SELECT', `${JSON.stringify(select)} is the id of one certificate and the name of another (id ${ids}): give that one another name, so that select means one certificate.`);
    }
    if (others.length > 1) {
      const ids = [...others].sort((x, y) => x.entry.order - y.entry.order).map((n) => JSON.stringify(n.entry.id)).join(', ');
      throw new MtlsError('ERR_AMBIGUOUS_SELECT', `${others.length} certificates have the name ${JSON.stringify(select)} (ids ${ids}): select one by its id, or give them different names.`);
    }
    const p = byId ?? named[0];
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
   * The glob buckets that can hold a match for `hostname`: keyed by the literal suffix after a
   * glob's last wildcard, which starts at a dot of the host (or is the whole host, for brace
   * alternatives without a wildcard); then the broad globs. Never for IP addresses (R3).
   */
  #globBuckets(hostname: string, into: Bucket<C>[] = []): Bucket<C>[] {
    if (isIpHost(hostname) || (this.#globs.size === 0 && this.#broad.length === 0)) return into;
    const dots = this.#dotCounts;
    let left = countDots(hostname);
    // Only the suffixes whose number of dots some glob's suffix has: one lookup each, not one per dot.
    if (dots.has(left + 1)) {
      const whole = this.#globs.get(`.${hostname}`);
      if (whole !== undefined) into.push(whole);
    }
    for (let i = hostname.indexOf('.'); i !== -1; i = hostname.indexOf('.', i + 1), left--) {
      if (!dots.has(left)) continue;
      const bucket = this.#globs.get(hostname.slice(i));
      if (bucket !== undefined) into.push(bucket);
    }
    if (this.#broad.length > 0) into.push(this.#broad);
    return into;
  }

  /** #best's list of glob buckets, reused by every resolution (nothing it calls lists buckets). */
  readonly #scratch: Bucket<C>[] = [];

  /** How many glob suffixes have each number of dots (".acme.com": 2); only counts above 0. */
  readonly #dotCounts = new Map<number, number>();

  #countSuffix(suffix: string, delta: 1 | -1): void {
    const dots = countDots(suffix);
    const n = (this.#dotCounts.get(dots) ?? 0) + delta;
    if (n > 0) this.#dotCounts.set(dots, n);
    else this.#dotCounts.delete(dots);
  }

  /** The best usable entry by host and port (R3-R6), without select or primary. */
  #best(q: Query): PreparedEntry<C> | undefined {
    const exact = this.#exact.get(q.target.hostname);
    if (exact !== undefined) {
      for (const p of exact) if (usable(p, q)) return p;
    }
    const buckets = this.#globBuckets(q.target.hostname, this.#scratch);
    try {
      let best: PreparedEntry<C> | undefined;
      for (const bucket of buckets) best = bestIn(bucket, q, best);
      return best;
    } finally {
      buckets.length = 0;
    }
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
    for (const bucket of [this.#exact.get(q.target.hostname) ?? [], ...this.#globBuckets(q.target.hostname)]) {
      for (const p of bucket) if (usable(p, q)) found.add(p);
    }
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

function verdictOf<C>(
  p: PreparedEntry<C>,
  winner: PreparedEntry<C> | undefined,
  chosen: Match<C> | undefined,
  q: Query,
): { verdict: Verdict; reason: string } {
  if (!isSecure(q.target)) {
    return { verdict: 'no-match', reason: `plain ${q.target.protocol} request: a client certificate is only sent over https: and wss: (R1)` };
  }
  if (p === winner && chosen !== undefined) return { verdict: 'chosen', reason: chosen.reason };
  const noMatch = noMatchReason(p, q.target);
  const invalid = q.includeExpired ? undefined : validityReason(p, q.now);
  if (noMatch !== undefined) {
    if (invalid !== undefined && p.entry.primary === true && chosen === undefined) {
      return { verdict: 'skipped', reason: `primary certificate, but ${invalid}` };
    }
    return { verdict: 'no-match', reason: noMatch };
  }
  if (invalid !== undefined) return { verdict: 'skipped', reason: invalid };
  if (winner === undefined) return { verdict: 'no-match', reason: 'no certificate was chosen' };
  if (chosen?.kind === 'selected') {
    return { verdict: 'outranked', reason: `matches, but select chose ${label(winner.entry)}` };
  }
  return { verdict: 'outranked', reason: outrankedReason(p, winner) };
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

function selectedMatch<C>(p: PreparedEntry<C>, t: NormalizedTarget): Match<C> {
  return { entry: p.entry, kind: 'selected', reason: `selected by name or id for ${t.hostname}:${t.port}, whatever the host (R7)` };
}

function primaryMatch<C>(p: PreparedEntry<C>, t: NormalizedTarget): Match<C> {
  return {
    entry: p.entry,
    kind: 'primary',
    reason: `no certificate matches ${t.hostname}:${t.port}; the primary certificate is used (fallbackToPrimary)`,
  };
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
