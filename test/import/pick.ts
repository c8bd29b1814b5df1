// What an imported config chooses for a URL: its entries, in order, through the resolver (R1-R7),
// as the store resolves them; each entry shown as `label(entry)` (its name, its file...).
import { resolveCertificate, type CertificateEntry } from '../../src/index.js';
import type { CertificateConfig } from '../../src/config/read.js';

export function pickBy<T>(certificates: CertificateConfig[], url: string, label: (c: CertificateConfig) => T): T | undefined {
  const entries: CertificateEntry<T>[] = certificates.map((c, i) => ({ id: `e${i}`, host: c.host, ...(c.port === undefined ? {} : { port: c.port }), order: i + 1, certificate: label(c) }));
  return resolveCertificate(entries, url)?.entry.certificate;
}
