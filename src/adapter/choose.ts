// The per-origin choice of every adapter, written once: the entry the request's own `select`
// names (given for this origin), else the rules (R1-R6), else the primary when nothing matches and
// the adapter has fallbackToPrimary (R7). Nothing for plain http.
import type { LoadedCertificate } from '../loader/types.js';
import { isSecureProtocol } from '../resolver/host.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store/store.js';

export function chooseFor(store: CertificateStore, url: URL, options: { readonly fallbackToPrimary: boolean }, select?: string): Match<LoadedCertificate> | undefined {
  if (!isSecureProtocol(url.protocol)) return undefined;
  return select === undefined ? store.resolve(url, { fallbackToPrimary: options.fallbackToPrimary }) : store.resolve(url, { select });
}
