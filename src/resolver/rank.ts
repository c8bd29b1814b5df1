import { createResolver } from './indexed.js';
import type { CertificateEntry, Explanation, Match, RequestTarget, ResolveOptions } from './types.js';

/**
 * The entry that should present its certificate for `target`, by rules R1-R7, or `undefined`
 * when none should (plain http, nothing matches). For many resolutions over the same entries,
 * build a {@link createResolver} once instead.
 *
 * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`, `ERR_INVALID_ENTRY` for a
 *   bad entry; `ERR_INVALID_TARGET` for a bad target; `ERR_CERTIFICATE_NOT_FOUND` or
 *   `ERR_CERTIFICATE_EXPIRED` for a bad `select`.
 * @example
 * ```ts
 * const entries = [
 *   { id: 'wild', host: '*.acme.com', order: 1, certificate: 'wild.pem' },
 *   { id: 'api', host: 'api.acme.com', order: 2, certificate: 'api.pem' },
 * ];
 * resolveCertificate(entries, 'https://api.acme.com/v1')?.entry.id; // 'api' (exact beats wildcard)
 * resolveCertificate(entries, 'http://api.acme.com/');              // undefined (R1)
 * ```
 */
export function resolveCertificate<C>(
  entries: Iterable<CertificateEntry<C>>,
  target: RequestTarget,
  options: ResolveOptions = {},
): Match<C> | undefined {
  return createResolver(entries, options).resolve(target, options);
}

/**
 * Every usable entry for `target`, best first (R5): `rankCertificates(...)[0]` is what
 * {@link resolveCertificate} returns. Expired entries are left out unless `includeExpired`.
 *
 * @example
 * ```ts
 * rankCertificates(entries, 'https://api.acme.com').map((m) => `${m.entry.id}: ${m.reason}`);
 * ```
 */
export function rankCertificates<C>(
  entries: Iterable<CertificateEntry<C>>,
  target: RequestTarget,
  options: ResolveOptions = {},
): Match<C>[] {
  return createResolver(entries, options).rank(target, options);
}

/**
 * Every entry's verdict for `target` (chosen, outranked, skipped, no-match) with the reason in
 * words a person can act on; entries are listed in insertion order.
 *
 * @example
 * ```ts
 * for (const c of explainResolution(entries, 'https://api.acme.com:8443').candidates) {
 *   console.log(c.entry.id, c.verdict, c.reason);
 * }
 * // wild no-match  no port set, so it applies to port 443 only; the request uses port 8443 ...
 * ```
 */
export function explainResolution<C>(
  entries: Iterable<CertificateEntry<C>>,
  target: RequestTarget,
  options: ResolveOptions = {},
): Explanation<C> {
  return createResolver(entries, options).explain(target, options);
}
