// k6's tlsAuth (domains; k6 itself ignores them).
import type { CertificateConfig } from '../config/read.js';
import { inMemory, listIn, material, pathOrMemory, record, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

/** k6's version names (options.tlsVersion) as Node's; SSL 3.0 has none. */
const K6_VERSIONS: Record<string, string> = { 'tls1.0': 'TLSv1', 'tls1.1': 'TLSv1.1', 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' };

/**
 * k6's `tlsVersion` (`'tls1.2'`, or `{ min, max }`) as the entries' TLS version bounds: k6 applies
 * it to every connection, so every entry gets it. A version Node cannot speak is left out, noted.
 */
function tlsBounds(input: unknown, notes: string[]): Pick<CertificateConfig, 'minVersion' | 'maxVersion'> {
  const top = record(input);
  const given = top.tlsVersion ?? record(top.options).tlsVersion;
  if (given === undefined) return {};
  const range = typeof given === 'string' ? { min: given, max: given } : record(given);
  const bounds: Pick<CertificateConfig, 'minVersion' | 'maxVersion'> = {};
  for (const [side, field] of [['min', 'minVersion'], ['max', 'maxVersion']] as const) {
    const value = range[side];
    if (value === undefined) continue;
    const node = typeof value === 'string' ? K6_VERSIONS[value.toLowerCase()] : undefined;
    if (node === undefined) notes.push(`tlsVersion ${side} ${JSON.stringify(value)}: not a TLS version Node speaks (tls1.0 to tls1.3); left to Node's default.`);
    else bounds[field] = node;
  }
  return bounds;
}

/**
 * k6's `tlsAuth` option: `[{ domains: ['example.com'], cert, key, password }]`, where `cert` and
 * `key` are PEM text (`open('./client.pem')` in the script) or, in an options file, paths. k6
 * itself ignores `domains`: it offers every certificate to every server and Go's TLS sends the
 * first one the server's certificate request accepts. Here each certificate goes to its
 * `domains` (any port), and the first listed wins between equals; a note says so. PEM text is
 * written to `options.materialDir`, or skipped with a note. The options' `tlsVersion` becomes
 * every entry's `minVersion`/`maxVersion`.
 */
export function convertK6TlsAuth(input: unknown, options: ImportOptions = {}): ImportResult {
  const baseDir = options.baseDir ?? process.cwd();
  const list = listIn(input, [['tlsAuth'], ['options', 'tlsAuth']], 'k6 tlsAuth', 'an array of { domains, cert, key, password }, or options with tlsAuth');
  const notes: string[] = [];
  const atoms: PeerAtom[] = [];
  const bounds = Array.isArray(input) ? {} : tlsBounds(input, notes);
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
      const config: CertificateConfig = { host: domain.trim().toLowerCase(), port: '*', ...base, ...bounds };
      addAtom(atoms, config, i, where, `${where}: domain ${JSON.stringify(domain)}`, notes);
    }
  });
  return importResult(atoms, 'k6', notes);
}
