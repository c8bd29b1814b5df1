// The per-origin choice of every adapter, written once: the entry the request's own `select`
// names (given for this origin), else the rules (R1-R6), else the primary when nothing matches and
// the adapter has fallbackToPrimary (R7). Nothing for plain http. And, when nothing is chosen,
// why: an entry that matches but was skipped (R6) is named, with its dates.
import type { LoadedCertificate } from '../loader/types.js';
import { isSecureProtocol } from '../resolver/host.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store/store.js';

export interface ChoiceOptions {
  readonly fallbackToPrimary: boolean;
  readonly includeExpired: boolean;
}

/** A request's own part in the choice (its `mtls` options, for its origin). */
export interface OwnChoice {
  readonly select?: string;
  readonly includeExpired?: boolean;
}

/**
 * Whether a request's own options make its choice other than its origin's default one (which
 * the adapters cache per origin): a `select`, or an `includeExpired` other than the adapter's.
 */
export function changesChoice(own: OwnChoice | undefined, options: ChoiceOptions): own is OwnChoice {
  return own !== undefined && (own.select !== undefined || (own.includeExpired !== undefined && own.includeExpired !== options.includeExpired));
}

export function chooseFor(store: CertificateStore, url: URL, options: ChoiceOptions, own?: OwnChoice): Match<LoadedCertificate> | undefined {
  if (!isSecureProtocol(url.protocol)) return undefined;
  const includeExpired = own?.includeExpired ?? options.includeExpired;
  const select = own?.select;
  return select === undefined ? store.resolve(url, { fallbackToPrimary: options.fallbackToPrimary, includeExpired }) : store.resolve(url, { select, includeExpired });
}

/** An entry that matches a URL but was skipped for its dates (R6). */
export interface SkippedEntry {
  readonly entryId: string;
  readonly name: string | undefined;
  readonly host: string;
  /** `'expired'` or `'not-yet-valid'`. */
  readonly status: 'expired' | 'not-yet-valid';
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Why, in words (`certificate expired on …`). */
  readonly reason: string;
}

/** The entries that match `url` but were skipped for their dates (R6), in rank order. */
export function skippedFor(store: CertificateStore, url: string, options: ChoiceOptions): SkippedEntry[] {
  let candidates;
  try {
    candidates = store.explain(url, { fallbackToPrimary: options.fallbackToPrimary }).candidates;
  } catch {
    return [];
  }
  const now = Date.now();
  return candidates
    .filter((c) => c.verdict === 'skipped')
    .map(({ entry, reason }) => ({
      entryId: entry.id,
      name: entry.name,
      host: entry.host,
      status: now > entry.certificate.notAfter.getTime() ? 'expired' : 'not-yet-valid',
      notBefore: entry.certificate.notBefore,
      notAfter: entry.certificate.notAfter,
      reason: reason.replace(/; (renew it, or )?pass includeExpired: true to use it anyway$/, ''),
    }));
}

/**
 * Why no certificate was chosen for `url`, in a sentence that ends the error's "No client
 * certificate was presented to ..." (made only when an error needs it).
 */
export function whyNone(store: CertificateStore, url: string, options: ChoiceOptions): string {
  const skipped = skippedFor(store, url, options);
  if (skipped.length === 0) return 'no entry matches it';
  const [first] = skipped;
  const label = first!.name === undefined ? `${first!.host} (id ${first!.entryId})` : `${JSON.stringify(first!.name)} (${first!.host}, id ${first!.entryId})`;
  return `the entry ${label} matches but was skipped (R6): its ${first!.reason}${skipped.length > 1 ? ` (and ${skipped.length - 1} more)` : ''}; renew it, or set includeExpired: true (adapter option, or per request) to present it anyway`;
}
