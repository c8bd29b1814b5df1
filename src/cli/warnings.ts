// What the commands that load a config (resolve, fetch) say about validity: once per run, grouped
// by status, instead of the loader's one warning per entry.
import { DEFAULT_EXPIRY_WARNING_DAYS, statusAt } from '../loader/metadata.js';
import type { CertificateStore } from '../store/store.js';

// The loader's per-certificate validity warnings ("expires in 12 days", "expired on ..."), left out
// of the config's warnings in favour of the grouped lines.
const VALIDITY_WARNING = /: The certificate (expires in|expired on|is not valid until) /;

/** The config's warnings without the per-entry validity ones, and one line per validity status. */
export function groupedWarnings(store: CertificateStore, warnings: string[], configFile: string | undefined, now = new Date()): { validity: string[]; other: string[] } {
  const byStatus = new Map<string, string[]>();
  for (const entry of store.list()) {
    const { notBefore, notAfter } = entry.certificate;
    const { status, daysUntilExpiry } = statusAt(notBefore, notAfter, now, store.defaults.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS);
    if (status === 'valid') continue;
    const label = entry.name === undefined ? entry.id : JSON.stringify(entry.name);
    const detail = status === 'expiring-soon' ? `${label} in ${daysUntilExpiry} day${daysUntilExpiry === 1 ? '' : 's'}` : status === 'expired' ? `${label} on ${notAfter.toISOString().slice(0, 10)}` : `${label} from ${notBefore.toISOString().slice(0, 10)}`;
    byStatus.set(status, [...(byStatus.get(status) ?? []), detail]);
  }
  const count = (list: string[]) => `${list.length} certificate${list.length === 1 ? '' : 's'}`;
  const validity: string[] = [];
  const inspect = configFile === undefined ? 'mtls-resolver inspect shows its dates' : `mtls-resolver inspect --config ${JSON.stringify(configFile)} lists them`;
  const expired = byStatus.get('expired');
  if (expired !== undefined) validity.push(`${count(expired)} expired (servers will refuse ${expired.length === 1 ? 'it' : 'them'}): ${expired.join(', ')}; ${inspect}.`);
  const notYet = byStatus.get('not-yet-valid');
  if (notYet !== undefined) validity.push(`${count(notYet)} not valid yet: ${notYet.join(', ')}; ${inspect}.`);
  const soon = byStatus.get('expiring-soon');
  if (soon !== undefined) validity.push(`${count(soon)} expiring within ${store.defaults.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS} days: ${soon.join(', ')}; renew ${soon.length === 1 ? 'it' : 'them'} soon (${inspect}).`);
  return { validity, other: warnings.filter((w) => !VALIDITY_WARNING.test(w)) };
}
