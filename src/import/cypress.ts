// Cypress's clientCertificates (URL globs, longest path first, the URL's own ca).
import type { CertificateConfig } from '../config/read.js';
import type { PortRule } from '../resolver/types.js';
import { fileOf, invalid, listIn, material, record, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

/**
 * Cypress's `clientCertificates` (cypress.config): `[{ url, ca: [files], certs: [{ cert, key,
 * pfx, passphrase }] }]`. Cypress parses `url` with the WHATWG parser and matches the host as a
 * minimatch glob (as here), the port only when the URL has one (none: any port, kept as `"*"`),
 * and the path (not matched here: noted); of several matching URLs it takes the longest path,
 * then the first listed. `ca` is that URL's own trust: it becomes the entry's `ca` (added to
 * Node's roots here; Cypress trusts only those CAs there: noted). A `passphrase` is a file holding
 * the passphrase: noted, to be moved to an environment variable.
 */
export function convertCypressCertificates(input: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const list = listIn(input, [['clientCertificates'], ['e2e', 'clientCertificates']], 'Cypress clientCertificates', 'an array of { url, ca, certs: [{ cert, key | pfx, passphrase }] }, or a config with clientCertificates');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  const ranked = list.map((value, i) => {
    const item = record(value);
    let pathLength = 1;
    try {
      pathLength = new URL(String(item.url)).pathname.length;
    } catch {
      // reported below
    }
    return { item, i, pathLength };
  });
  // Cypress: matching URLs sorted by path length, longest first (a stable sort: then list order).
  const order = [...ranked].sort((a, b) => b.pathLength - a.pathLength || a.i - b.i);
  for (const [priority, { item, i }] of order.entries()) {
    const where = `clientCertificates[${i}]${typeof item.url === 'string' ? ` (${JSON.stringify(item.url)})` : ''}`;
    if (typeof item.url !== 'string' || item.url === '') throw invalid(where, 'it has no url (such as "https://api.example.com").');
    if (item.url === '*' || item.url === 'https://*') {
      notes.push(`${where}: ${JSON.stringify(item.url)} matches every host; not imported (too broad, R3): add the hosts this certificate is for.`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(item.url);
    } catch {
      notes.push(`${where}: Cypress refuses ${JSON.stringify(item.url)} (it is not a URL); skipped.`);
      continue;
    }
    if (url.protocol !== 'https:') {
      notes.push(`${where}: Cypress takes https: URLs only; skipped.`);
      continue;
    }
    if (url.pathname !== '/') notes.push(`${where}: Cypress matches the path ${JSON.stringify(url.pathname)} too; paths are not matched here (a connection presents one certificate for the whole host).`);
    const port: PortRule = url.port === '' ? '*' : Number(url.port);
    if (port === '*') notes.push(`${where}: Cypress applies a URL without a port (or with :443) to every port; kept as port "*".`);
    const certs = Array.isArray(item.certs) ? item.certs.map(record) : [];
    if (certs.length === 0) throw invalid(where, 'it has no certs (give [{ cert, key } or { pfx }]).');
    if (certs.length > 1) notes.push(`${where}: Cypress gives its ${certs.length} certificates to OpenSSL together, which keeps the last of each key type; here the last one is used.`);
    const last = certs[certs.length - 1]!;
    if (typeof last.passphrase === 'string' && last.passphrase !== '') {
      notes.push(`${where}: Cypress reads the passphrase from the file ${JSON.stringify(last.passphrase)}; put it in an environment variable and write "passphraseEnv": "NAME" in certs.json.`);
    }
    const files = { cert: fileOf(last.cert, baseDir), key: fileOf(last.key, baseDir), pfx: fileOf(last.pfx, baseDir) };
    const ca = (Array.isArray(item.ca) ? item.ca : item.ca === undefined ? [] : [item.ca]).flatMap((f) => fileOf(f, baseDir) ?? []);
    if (ca.length > 0) notes.push(`${where}: Cypress trusts only its "ca" for this URL; here those CAs are added to Node's default roots, for the servers of this entry only (per-entry "ca").`);
    const config: CertificateConfig = { host: url.hostname, port, ...material(where, files, undefined, notes), ...(ca.length > 0 ? { ca } : {}) };
    addAtom(atoms, config, priority, where, `${where}: ${JSON.stringify(item.url)}`, notes);
  }
  return importResult(atoms, 'Cypress', notes);
}
