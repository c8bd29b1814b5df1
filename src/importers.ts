// What users already have -> certs.json, keeping their intent, with a note wherever the meaning
// of the original differs from ours (R3-R5) and what was done about it.
import type { CertificateConfig } from './config.js';
import { fileOf, hostAndPort, invalid, material, refused, type ImportOptions, type ImportResult } from './import/common.js';
import { addAtom, importResult, type PeerAtom } from './import/precedence.js';

export type { ImportOptions, ImportResult } from './import/common.js';
export { convertCypressCertificates, convertK6TlsAuth, convertPlaywrightCertificates } from './import/tools.js';

// Postman's match pattern grammar, as postman-collection's UrlMatchPattern reads it
// (lib/url-pattern/url-match-pattern.js, `patternSplit`): lower-case schemes http, https, file,
// ftp or * joined by "+", a host that is "*", "*." + a suffix or a name without "*", an optional
// ":port" or ":*", and a path. A pattern that does not fit never matches anything in Postman.
const POSTMAN_PATTERN = /^((?:http|https|file|ftp|\*)(?:\+(?:http|https|file|ftp))*):\/\/(\*|\*\.[^*/:]+|[^*/:]+)(:\*|:\d+)?(\/.*)$/;

/**
 * Newman's `--ssl-client-cert-list` (Postman's client certificate list):
 * `[{ name, matches: ['https://*.example.com/*'], cert: { src }, key: { src }, pfx: { src }, passphrase }]`.
 *
 * Postman match patterns become host + port: `https://*.example.com/*` gives `*.example.com` and
 * `example.com` (Postman's wildcard also matches the bare domain), `:8080` gives port 8080, `:*`
 * any port, none 443; paths are not matched (noted). Postman takes the first certificate whose
 * pattern matches (postman-collection's `CertificateList.resolveOne`): where an earlier item is
 * broader than a later one, its certificate is added again for the overlap so that it still wins
 * there, and an item that an earlier one covers entirely is skipped with a note.
 */
export function convertNewmanCertList(list: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  if (!Array.isArray(list)) throw invalid('Newman certificate list', 'it must be a JSON array of { name, matches, cert, key | pfx, passphrase }.');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  list.forEach((item: unknown, i: number) => {
    const it = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const where = `item ${i}${typeof it.name === 'string' && it.name !== '' ? ` (${JSON.stringify(it.name)})` : ''}`;
    const matches = Array.isArray(it.matches) ? it.matches : typeof it.matches === 'string' ? [it.matches] : [];
    if (matches.length === 0) throw invalid(where, 'it has no "matches" patterns such as "https://example.com/*".');
    const files = material(where, { cert: fileOf(it.cert, baseDir), key: fileOf(it.key, baseDir), pfx: fileOf(it.pfx, baseDir) }, it.passphrase, notes);
    for (const pattern of matches) {
      const m = typeof pattern === 'string' ? POSTMAN_PATTERN.exec(pattern) : null;
      if (m === null) {
        const why =
          typeof pattern !== 'string'
            ? 'it is not a string'
            : /^[a-z+*]+:\/\/[^/]*$/i.test(pattern)
              ? 'it has no path (write "/*")'
              : /^[^:]*[A-Z][^:]*:\/\//.test(pattern)
                ? 'its scheme is not lower case'
                : /^[a-z+*]+:\/\//.test(pattern) && !/^(?:http|https|file|ftp|\*)(?:\+(?:http|https|file|ftp))*:/.test(pattern)
                  ? `Postman sends no client certificate for ${pattern.slice(0, pattern.indexOf(':'))}:`
                  : /^[a-z+*]+:\/\/[^/]*\*/.test(pattern)
                    ? 'Postman takes "*" only as the whole host or a whole first label ("*.example.com")'
                    : 'it is not of the form scheme://host[:port]/path';
        notes.push(`${where}: Postman never matches ${JSON.stringify(pattern)} (${why}); skipped.`);
        continue;
      }
      const [, schemes, host, portText, path] = m as unknown as [string, string, string, string | undefined, string];
      if (!schemes.split('+').some((s) => s === '*' || s === 'https')) {
        notes.push(`${where}: ${JSON.stringify(pattern)} is for ${schemes}: Postman presents certificates to https: only; skipped.`);
        continue;
      }
      if (host === '*') {
        notes.push(`${where}: ${JSON.stringify(pattern)} matches every host; not imported (too broad, R3): add the hosts this certificate is for.`);
        continue;
      }
      if (/[?[\]{}]/.test(host)) {
        notes.push(`${where}: Postman never matches ${JSON.stringify(pattern)} (it compares the host as text, and no host name holds "?", "[", "]", "{" or "}"; they are not patterns there); skipped.`);
        continue;
      }
      if (path !== '/*') {
        notes.push(`${where}: ${JSON.stringify(pattern)}: paths are not matched (a connection presents one certificate for the whole host); the certificate applies to every path.`);
      }
      if (host !== host.toLowerCase()) {
        notes.push(`${where}: ${JSON.stringify(pattern)}: Postman compares hosts case-sensitively; host names are compared in lower case here (R2).`);
      }
      const port = portText === undefined ? undefined : portText === ':*' ? ('*' as const) : Number(portText.slice(1));
      if (port !== undefined && port !== '*' && String(port) !== portText!.slice(1)) {
        notes.push(`${where}: Postman never matches ${JSON.stringify(pattern)} (it compares the port as text: ${portText!.slice(1)} is not ${port}); skipped.`);
        continue;
      }
      const base: CertificateConfig = {
        ...(typeof it.name === 'string' ? { name: it.name } : {}),
        host: host.toLowerCase(),
        ...(port === undefined ? {} : { port }),
        ...files,
      };
      if (refused(base, notes, `${where}: ${JSON.stringify(pattern)}`)) continue; // a refused wildcard takes its bare domain with it
      const hosts = host.startsWith('*.') ? [base.host, base.host.slice(2)] : [base.host];
      if (hosts.length > 1) notes.push(`${where}: Postman's ${host} also matches ${host.slice(2)} itself; added an entry for ${host.slice(2)} as well.`);
      for (const h of hosts) atoms.push({ config: { ...base, host: h }, priority: i, who: where });
    }
  });
  return importResult(atoms, 'Postman', notes);
}

// Bruno's matcher (packages/bruno-electron/src/ipc/network/cert-utils.js,
// getCertsAndProxyConfig): for each certificate in order, the domain becomes the regular
// expression '^(https:\/\/|grpc:\/\/|grpcs:\/\/)?' + domain with "." escaped and "*" as ".*",
// matched against the start of the request URL; the first match is taken (`break`).
const BRUNO_REGEX_CHARS = /[?[\]{}()+|^$\\]/;

/**
 * Bruno's `clientCertificates` (bruno.json):
 * `{ enabled, certs: [{ domain, type: 'cert' | 'pfx', certFilePath, keyFilePath, pfxFilePath, passphrase }] }`.
 * Bruno matches `domain` as a prefix of the URL after `https://`: without a port it applies to
 * every port (kept as port `'*'`), and it also matched longer host names (here hosts compare
 * whole). Bruno takes the first matching certificate; the importer keeps that choice under our
 * rules (see {@link convertNewmanCertList}). Disabled certificates are skipped.
 */
export function convertBrunoConfig(brunoJson: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const root = (typeof brunoJson === 'object' && brunoJson !== null ? brunoJson : {}) as Record<string, unknown>;
  const section = (root.clientCertificates ?? root) as Record<string, unknown>;
  const certs = section.certs;
  if (!Array.isArray(certs)) throw invalid('Bruno config', 'it has no clientCertificates.certs array (bruno.json).');
  const notes: string[] = [];
  if (section.enabled === false) {
    notes.push('clientCertificates.enabled is false in bruno.json: nothing was imported.');
    return { config: { certificates: [] }, notes };
  }
  const atoms: PeerAtom[] = [];
  certs.forEach((c: unknown, i: number) => {
    const cert = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    const where = `certs[${i}]${typeof cert.domain === 'string' ? ` (${JSON.stringify(cert.domain)})` : ''}`;
    if (cert.disabled === true || cert.enabled === false) {
      notes.push(`${where}: disabled in Bruno; skipped.`);
      return;
    }
    if (typeof cert.domain !== 'string' || cert.domain.trim() === '') throw invalid(where, 'it has no domain.');
    const raw = cert.domain.trim();
    if (/\{\{.*\}\}/.test(JSON.stringify(cert))) notes.push(`${where}: it uses a Bruno variable ({{...}}); replace it with its value in certs.json.`);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
      notes.push(`${where}: Bruno never matches ${JSON.stringify(raw)} (it puts "https://" before the domain itself, so a domain with a scheme matches no URL); skipped: write the host alone.`);
      return;
    }
    if (BRUNO_REGEX_CHARS.test(raw)) {
      notes.push(`${where}: Bruno reads ${JSON.stringify(raw)} as a regular expression (only "." and "*" are not); not imported: write the host names it is for.`);
      return;
    }
    const domain = raw.replace(/\/.*$/, '');
    if (domain !== raw) notes.push(`${where}: Bruno matched ${JSON.stringify(raw)} on that path only; paths are not matched here (a connection presents one certificate for the whole host).`);
    const { host, port } = hostAndPort(domain);
    if (port === undefined) notes.push(`${where}: Bruno applies ${JSON.stringify(domain)} to every port; kept as port "*".`);
    else if (port === '*') notes.push(`${where}: Bruno's ${JSON.stringify(domain)} matches only URLs that write a port (https://${host}:8443/); here it is any port, the default 443 included.`);
    else if (port === 443) notes.push(`${where}: Bruno matches ${JSON.stringify(domain)} only when the URL writes ":443"; here every URL of ${host} on port 443.`);
    notes.push(`${where}: Bruno matched ${JSON.stringify(domain)} as a URL prefix, so it also matched longer host names (e.g. ${host.replace(/^\*\./, 'x.')}.example) and, with "*", paths and other schemes; here the host must match whole.`);
    const type = cert.type === 'pfx' || cert.type === 'pkcs12' ? 'pfx' : 'cert';
    const files =
      type === 'pfx'
        ? { pfx: fileOf(cert.pfxFilePath ?? cert.pkcs12FilePath, baseDir) }
        : { cert: fileOf(cert.certFilePath ?? cert.certificateFilePath, baseDir), key: fileOf(cert.keyFilePath ?? cert.privateKeyFilePath, baseDir) };
    const config: CertificateConfig = { host: host.toLowerCase(), port: port ?? '*', ...material(where, files, cert.passphrase, notes) };
    addAtom(atoms, config, i, where, `${where}: ${JSON.stringify(domain)}`, notes);
  });
  return importResult(atoms, 'Bruno', notes);
}

// Insomnia's matcher (packages/insomnia/src/network/url-matches-cert-host.ts and certificate.ts,
// filterClientCertificates): the certificate's host gets "https://" when it has no scheme and is
// parsed with the WHATWG URL parser (a host it refuses, such as one with port "*", never
// matches); no port means 443; "*" in the host name is ".*" in an anchored regular expression;
// every enabled certificate that matches goes to curl, and the last one set is the one sent.
// When none matches, newer versions try again without comparing ports.

/**
 * Insomnia's client certificates, from an Insomnia export (`resources` with
 * `_type: 'client_certificate'`) or a list of them: `{ host, cert, key, pfx, passphrase, disabled }`.
 * The host is read as Insomnia reads it (see above); disabled certificates are skipped; Insomnia
 * sends the last matching certificate, and the importer keeps that choice under our rules.
 */
export function convertInsomniaCertificates(exported: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const resources = Array.isArray(exported) ? exported : (exported as { resources?: unknown } | null)?.resources;
  if (!Array.isArray(resources)) throw invalid('Insomnia export', 'it has no "resources" array (export the workspace or collection as Insomnia JSON).');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  resources.forEach((r: unknown, i: number) => {
    const res = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    if (res._type !== undefined && res._type !== 'client_certificate') return;
    const where = `resources[${i}]${typeof res.host === 'string' ? ` (${JSON.stringify(res.host)})` : ''}`;
    if (res.disabled === true) {
      notes.push(`${where}: disabled in Insomnia; skipped.`);
      return;
    }
    if (typeof res.host !== 'string' || res.host.trim() === '') throw invalid(where, 'it has no host.');
    const text = res.host.trim();
    let parsed: URL;
    try {
      parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    } catch {
      notes.push(`${where}: Insomnia never matches ${JSON.stringify(text)} (its URL parser refuses it${/:\*/.test(text) ? ': a port of "*" is not a port' : ''}); skipped.`);
      return;
    }
    const host = parsed.hostname;
    const written = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '').replace(/:[^:\]]*$/, '').toLowerCase();
    if (written !== host) notes.push(`${where}: Insomnia reads ${JSON.stringify(text)} as the host ${JSON.stringify(host)}; imported as that.`);
    if (/[?[\]{}]/.test(host)) {
      notes.push(`${where}: Insomnia matches ${JSON.stringify(host)} literally ("{", "}" are not patterns there); not imported: write the host names it is for.`);
      return;
    }
    const port = parsed.port === '' ? undefined : Number(parsed.port);
    const files = { cert: fileOf(res.cert, baseDir), key: fileOf(res.key, baseDir), pfx: fileOf(res.pfx, baseDir) };
    const config: CertificateConfig = {
      ...(typeof res.name === 'string' ? { name: res.name } : {}),
      host,
      ...(port === undefined ? {} : { port }),
      ...material(where, files, res.passphrase, notes),
    };
    addAtom(atoms, config, -i, where, `${where}: ${JSON.stringify(text)}`, notes);
  });
  if (atoms.length > 0) {
    notes.push('Newer Insomnia versions fall back to a certificate for another port of the same host when none is for the request port; here the port must match (R4): use port "*" where you relied on that.');
  }
  return importResult(atoms, 'Insomnia', notes);
}
