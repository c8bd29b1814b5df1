// Postman and Newman client certificates (a Postman collection's or Newman's certificate list).
import type { CertificateConfig } from '../config/read.js';
import { fileOf, invalid, material, refused, type ImportOptions, type ImportResult } from './common.js';
import { importResult, type PeerAtom } from './precedence.js';

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
