/**
 * The port an entry applies to: a number for that port only, `'*'` for any port. Left out,
 * an entry applies to port 443 only (as in Postman).
 */
export type PortRule = number | '*';

/**
 * One certificate and the hosts it is for. `certificate` is whatever the caller resolves to
 * (a `LoadedCertificate` in the store; anything in the pure resolver).
 */
export interface CertificateEntry<C = unknown> {
  /** Unique, stable id. */
  id: string;
  /** A name a person chose; `select` accepts it as well as the id. */
  name?: string;
  /** Exact host (`api.acme.com`, `localhost`, `10.0.0.7`, `::1`) or a minimatch glob (`*.acme.com`). */
  host: string;
  /** See {@link PortRule}. Default: 443 only. */
  port?: PortRule;
  /** Used only when nothing matches and the caller passes `fallbackToPrimary: true`. */
  primary?: boolean;
  /** Insertion order: between equal matches, the higher `order` (added later) wins. */
  order: number;
  /** Certificate validity; an entry outside it is skipped unless `includeExpired`. */
  notBefore?: Date;
  notAfter?: Date;
  certificate: C;
}

/** A URL string, a `URL`, or the parts of one (as node's `https.request` options carry them). */
export type RequestTarget = string | URL | { protocol: string; hostname: string; port?: number | string };

/** Options of one resolution. */
export interface ResolveOptions {
  /** The clock for validity checks (R6). Default: `new Date()`. */
  now?: Date;
  /** An entry id or name to use whatever the host (R7); throws `ERR_CERTIFICATE_NOT_FOUND` if unknown. */
  select?: string;
  /** When nothing matches, use the primary entry (R7). Default: `false`. */
  fallbackToPrimary?: boolean;
  /** Consider expired and not-yet-valid entries too (R6). Default: `false`. */
  includeExpired?: boolean;
  /**
   * Accept globs without a two-label literal suffix, such as `*.com` (R3). Default: `false`. It
   * takes effect where entries are checked (resolveCertificate, rankCertificates,
   * explainResolution, createResolver, the store's defaults); a resolver's or a store's resolve
   * refuses another value than its own (`ERR_INVALID_OPTION`) instead of ignoring it.
   */
  allowBroadPatterns?: boolean;
}

/** Options of {@link createResolver}. */
export interface ResolverOptions {
  /** Accept globs without a two-label literal suffix, such as `*.com` (R3). Default: `false`. */
  allowBroadPatterns?: boolean;
}

/** How the chosen entry was found. */
export type MatchKind = 'exact' | 'wildcard' | 'selected' | 'primary';

/** A usable entry for a target, and why. */
export interface Match<C = unknown> {
  entry: CertificateEntry<C>;
  kind: MatchKind;
  /** In words: which rule matched, e.g. `wildcard *.acme.com matches api.acme.com on port 443`. */
  reason: string;
}

/** A target as the rules see it: lower-case ASCII host without brackets or trailing dot, numeric port. */
export interface NormalizedTarget {
  protocol: string;
  hostname: string;
  port: number;
}

/** What happened to one entry in a resolution. */
export type Verdict = 'chosen' | 'outranked' | 'skipped' | 'no-match';

/** Every entry's verdict for one target, with reasons a person can act on. */
export interface Explanation<C = unknown> {
  target: NormalizedTarget;
  chosen?: Match<C>;
  candidates: Array<{ entry: CertificateEntry<C>; verdict: Verdict; reason: string }>;
}

/** The indexed resolver returned by {@link createResolver}. */
export interface Resolver<C = unknown> {
  /** The best usable entry for `target`, or `undefined`. */
  resolve(target: RequestTarget, options?: ResolveOptions): Match<C> | undefined;
  /** All usable matches, best first; `rank(t)[0]` is `resolve(t)`. */
  rank(target: RequestTarget, options?: ResolveOptions): Match<C>[];
  /** Every entry's verdict and why. */
  explain(target: RequestTarget, options?: ResolveOptions): Explanation<C>;
}
