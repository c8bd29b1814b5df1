// Playwright's clientCertificates (exact origins).
import type { CertificateConfig } from '../config/read.js';
import type { PortRule } from '../resolver/types.js';
import { inMemory, invalid, listIn, material, pathOrMemory, record, type ImportOptions, type ImportResult } from './common.js';
import { addAtom, importResult, type PeerAtom } from './precedence.js';

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
