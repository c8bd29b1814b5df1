// Bruno's client certificates (bruno.json `clientCertificates`).
import type { CertificateConfig } from '../config/read.js';
import { fileOf, hostAndPort, invalid, material, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

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
