// Insomnia's client certificates (an Insomnia export, or a list of them).
import type { CertificateConfig } from '../config/read.js';
import { fileOf, invalid, material, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

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
