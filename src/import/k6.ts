// k6's tlsAuth (domains; k6 itself ignores them).
import type { CertificateConfig } from '../config/read.js';
import { inMemory, listIn, material, pathOrMemory, record, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

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
