// Importers for the test runners and load tools: Playwright's and Cypress's clientCertificates
// and k6's tlsAuth. Same discipline as the API clients' importers: the tool's choice kept under
// our rules, a note wherever the meaning changes, and a result that always loads.
import type { CertificateConfig } from '../config.js';
import type { PortRule } from '../resolver/types.js';
import { fileOf, inMemory, invalid, material, writeMaterial, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

function listIn(input: unknown, paths: string[][], what: string, shape: string): unknown[] {
  if (Array.isArray(input)) return input;
  for (const path of paths) {
    let value: unknown = input;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(value)) return value;
  }
  throw invalid(what, `it must be ${shape}.`);
}

const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/** A file path from the input, or in-memory material written to options.materialDir; undefined (noted) when neither. */
function pathOrMemory(value: unknown, name: string, options: ImportOptions, baseDir: string, where: string, notes: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (inMemory(value)) return writeMaterial(value, name, options, where, notes);
  return fileOf(value, baseDir);
}

/**
 * Playwright's `clientCertificates` (`use.clientCertificates` in playwright.config, or
 * `browser.newContext({ clientCertificates })`): `[{ origin, certPath, keyPath, pfxPath,
 * passphrase, cert, key, pfx }]`. Playwright presents a certificate to its exact origin (scheme,
 * host and port, normalised as `new URL(origin).origin`; no wildcard): each becomes an exact host
 * and port. Several for one origin go to OpenSSL together, which keeps the last of each key type:
 * here the last one is used. In-memory `cert`/`key`/`pfx` (buffers) are written to
 * `options.materialDir`, or skipped with a note.
 */
export function convertPlaywrightCertificates(input: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const list = listIn(input, [['clientCertificates'], ['use', 'clientCertificates']], 'Playwright clientCertificates', 'an array of { origin, certPath, keyPath | pfxPath, passphrase }, or a config with use.clientCertificates');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  const origins = new Map<string, string>();
  list.forEach((value, i) => {
    const item = record(value);
    const where = `clientCertificates[${i}]${typeof item.origin === 'string' ? ` (${JSON.stringify(item.origin)})` : ''}`;
    if (typeof item.origin !== 'string' || item.origin === '') throw invalid(where, 'it has no origin (such as "https://api.example.com").');
    let url: URL;
    try {
      url = new URL(item.origin);
    } catch {
      notes.push(`${where}: Playwright never matches ${JSON.stringify(item.origin)} (it is not a URL); skipped.`);
      return;
    }
    if (url.protocol !== 'https:') {
      notes.push(`${where}: Playwright presents client certificates to https: origins only; skipped.`);
      return;
    }
    const previous = origins.get(url.origin);
    if (previous !== undefined) notes.push(`${where}: ${previous} is for the same origin: Playwright gives both to OpenSSL, which keeps the last of each key type; here the last one (${where}) is used.`);
    origins.set(url.origin, where);
    const files = {
      cert: pathOrMemory(item.certPath ?? item.cert, `playwright-${i}.crt`, options, baseDir, where, notes),
      key: pathOrMemory(item.keyPath ?? item.key, `playwright-${i}.key`, options, baseDir, where, notes),
      pfx: pathOrMemory(item.pfxPath ?? item.pfx, `playwright-${i}.p12`, options, baseDir, where, notes),
    };
    if (files.pfx === undefined && (files.cert === undefined || files.key === undefined)) {
      if (inMemory(item.cert) || inMemory(item.key) || inMemory(item.pfx)) return; // noted by writeMaterial
    }
    const port: PortRule | undefined = url.port === '' ? undefined : Number(url.port);
    const config: CertificateConfig = { host: url.hostname, ...(port === undefined ? {} : { port }), ...material(where, files, item.passphrase, notes) };
    addAtom(atoms, config, -i, where, `${where}: ${JSON.stringify(item.origin)}`, notes);
  });
  return importResult(atoms, 'Playwright', notes);
}

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

/**
 * k6's `tlsAuth` option: `[{ domains: ['example.com'], cert, key, password }]`, where `cert` and
 * `key` are PEM text (`open('./client.pem')` in the script) or, in an options file, paths. k6
 * itself ignores `domains`: it offers every certificate to every server and Go's TLS sends the
 * first one the server's certificate request accepts. Here each certificate goes to its
 * `domains` (any port), and the first listed wins between equals; a note says so. PEM text is
 * written to `options.materialDir`, or skipped with a note.
 */
export function convertK6TlsAuth(input: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const list = listIn(input, [['tlsAuth'], ['options', 'tlsAuth']], 'k6 tlsAuth', 'an array of { domains, cert, key, password }, or options with tlsAuth');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  if (list.length > 0) {
    notes.push('k6 itself ignores "domains": it offers every certificate to every server, and Go sends the first one the server accepts. Here each certificate is sent to its domains only (any port): add every host a certificate is for.');
  }
  list.forEach((value, i) => {
    const item = record(value);
    const where = `tlsAuth[${i}]`;
    const domains = Array.isArray(item.domains) ? item.domains.filter((d): d is string => typeof d === 'string' && d.trim() !== '') : [];
    if (domains.length === 0) {
      notes.push(`${where}: it has no domains (k6 would offer it to every server); not imported: add the hosts it is for.`);
      return;
    }
    const files = {
      cert: pathOrMemory(item.cert, `k6-${i}.crt`, options, baseDir, where, notes),
      key: pathOrMemory(item.key, `k6-${i}.key`, options, baseDir, where, notes),
    };
    if ((files.cert === undefined || files.key === undefined) && (inMemory(item.cert) || inMemory(item.key))) return; // noted by writeMaterial
    const base = material(where, files, item.password, notes);
    for (const domain of domains) {
      const config: CertificateConfig = { host: domain.trim().toLowerCase(), port: '*', ...base };
      addAtom(atoms, config, i, where, `${where}: domain ${JSON.stringify(domain)}`, notes);
    }
  });
  return importResult(atoms, 'k6', notes);
}
