// `inspect`: one certificate file (with or without its key), or every entry of a config.
import { extname } from 'node:path';
import { storeFromConfig } from '../../config/store.js';
import { loadCaBundle } from '../../loader/ca.js';
import { DEFAULT_MAX_INPUT_BYTES, readLimited } from '../../loader/input.js';
import { loadCertificate } from '../../loader/load.js';
import { DEFAULT_EXPIRY_WARNING_DAYS, statusAt, statusWarnings } from '../../loader/metadata.js';
import { looksLikePem, parsePem, sniffDer } from '../../loader/pem.js';
import type { CertificateSummary, LoadedCertificate } from '../../loader/types.js';
import { UsageError, certAndKey, day, passphraseFrom, summaryJson, type Command, type Io } from '../command.js';
import { isPkcs11Uri } from '../../loader/pkcs11.js';
import { block, styleFor, table } from '../output.js';

/** What `inspect` shows for one certificate (with or without its key). */
interface Inspection {
  file: string;
  format: string;
  keyChecked: boolean;
  /** A key on a token: its URI (never the PIN), token and object. */
  pkcs11?: LoadedCertificate['pkcs11'];
  certificate: CertificateSummary & { status: string; daysUntilExpiry: number };
  chain: CertificateSummary[];
  warnings: string[];
}

async function inspectFile(file: string, keyFile: string | undefined, values: Record<string, unknown>, now: Date): Promise<Inspection> {
  const passphrase = isPkcs11Uri(keyFile) ? undefined : passphraseFrom(values);
  const bytes = readLimited(file, 'file', DEFAULT_MAX_INPUT_BYTES);
  const pass = passphrase === undefined ? {} : { passphrase };
  const fromLoaded = (c: LoadedCertificate): Inspection => ({
    file,
    format: c.format,
    keyChecked: true,
    ...(c.pkcs11 === undefined ? {} : { pkcs11: c.pkcs11 }),
    certificate: { ...c, status: c.status, daysUntilExpiry: c.daysUntilExpiry },
    chain: c.chain,
    warnings: c.warnings,
  });
  if (keyFile !== undefined) return fromLoaded(await loadCertificate(certAndKey(file, keyFile, values), { now }));
  const pem = looksLikePem(bytes);
  const isPfx = !pem && (sniffDer(bytes) === 'pfx' || ['.p12', '.pfx'].includes(extname(file).toLowerCase()));
  if (isPfx) return fromLoaded(await loadCertificate({ pfx: bytes, ...pass }, { now }));
  if (pem && parsePem(bytes.toString('utf8')).some((b) => b.kind === 'private-key')) return fromLoaded(await loadCertificate({ pem: bytes, ...pass }, { now }));
  // A certificate alone (a .crt, a CA bundle): describe it, no key to check.
  const bundle = loadCaBundle(bytes);
  const leaf = bundle.certificates[0]!;
  const { status, daysUntilExpiry } = statusAt(leaf.notBefore, leaf.notAfter, now, DEFAULT_EXPIRY_WARNING_DAYS);
  const warnings = [
    ...statusWarnings(status, daysUntilExpiry, leaf.notBefore, leaf.notAfter),
    ...bundle.warnings.filter((w) => !/is not a CA certificate|expired on/.test(w)),
  ];
  return { file, format: pem ? 'pem (certificates only)' : 'der', keyChecked: false, certificate: { ...leaf, status, daysUntilExpiry }, chain: bundle.certificates, warnings };
}

function printInspection(i: Inspection, io: Io): void {
  const s = styleFor(io.out);
  const c = i.certificate;
  const statusText = c.status === 'valid' ? s.green(c.status) : c.status === 'expiring-soon' ? s.yellow(c.status) : s.red(c.status);
  const days = c.daysUntilExpiry >= 0 ? `${c.daysUntilExpiry} days left` : `expired ${-c.daysUntilExpiry} days ago`;
  io.out.write(
    `${block([
      ['file', i.file],
      ['subject', s.bold(c.subject)],
      ['issuer', c.issuer],
      ['serial', c.serialNumber],
      ['fingerprint', c.fingerprint256],
      ['SANs', c.subjectAltNames.length > 0 ? c.subjectAltNames.join(', ') : '(none)'],
      ['valid', `${day(c.notBefore)} to ${day(c.notAfter)} (${days})`],
      ['status', statusText],
      ['key', i.pkcs11 !== undefined ? `${c.keyType}, on token ${JSON.stringify(i.pkcs11.token ?? '?')}, object ${JSON.stringify(i.pkcs11.object ?? '?')} (${i.pkcs11.uri}), signs for the certificate` : i.keyChecked ? `${c.keyType}, matches the certificate` : `${c.keyType} (public key; no private key given)`],
      ['format', i.format],
      ['self-signed', c.selfSigned ? 'yes' : 'no'],
      ['chain', i.chain.map((x, n) => `${n + 1}. ${x.subject}${x.isCA ? ' (CA)' : ''}`)],
      ['warnings', i.warnings.map((w) => s.yellow(`- ${w}`))],
    ])}\n`,
  );
}

/** `inspect --config`: every entry of a config with its status; 1 when one is expired or not yet valid. */
async function inspectConfig(configFile: string, now: Date, json: boolean, io: Io): Promise<number> {
  const { store } = await storeFromConfig(configFile);
  const rows = store.list().map((e) => {
    const c = e.certificate;
    const { status, daysUntilExpiry } = statusAt(c.notBefore, c.notAfter, now, store.defaults.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS);
    return { id: e.id, name: e.name ?? null, host: e.host, port: e.port ?? null, primary: e.primary === true, subject: c.subject, fingerprint256: c.fingerprint256, notAfter: c.notAfter, status, daysUntilExpiry };
  });
  const failing = rows.filter((r) => r.status === 'expired' || r.status === 'not-yet-valid');
  if (json) {
    io.out.write(`${JSON.stringify({ config: configFile, entries: rows }, null, 2)}\n`);
  } else {
    const s = styleFor(io.out);
    const paint = (st: string) => (st === 'valid' ? s.green(st) : st === 'expiring-soon' ? s.yellow(st) : s.red(st));
    io.out.write(
      `${table([
        ['entry', 'host', 'port', 'subject', 'valid until', 'status'],
        ...rows.map((r) => [r.name ?? r.id, r.host, r.port === null ? '443' : String(r.port), r.subject, `${day(r.notAfter)} (${r.daysUntilExpiry} days)`, paint(r.status)]),
      ])}\n`,
    );
    if (failing.length > 0) io.err.write(`error: ${failing.length} of ${rows.length} certificates cannot be used now (${failing.map((r) => `${r.name ?? r.id}: ${r.status}`).join(', ')})\n`);
  }
  return failing.length > 0 ? 1 : 0;
}

export const inspectCommand: Command = {
    summary: 'describe a certificate file: subject, issuer, SANs, fingerprint, validity, status, chain, warnings',
    usage: 'mtls-resolver inspect <file> [--key <file> | --key pkcs11:URI --pin-env VAR] [--passphrase-env VAR] [--json]\n       mtls-resolver inspect --config certs.json [--json]   (every entry; exit 1 if one is expired or not yet valid)',
    example: 'mtls-resolver inspect client.p12 --passphrase-env P12_PASS\n  mtls-resolver inspect client.crt --key client.key --json\n  mtls-resolver inspect --config certs.json',
    options: { key: { type: 'string' }, 'passphrase-env': { type: 'string' }, 'pin-env': { type: 'string' }, json: { type: 'boolean' }, now: { type: 'string' }, config: { type: 'string', short: 'c' } },
    async run([file, ...rest], values, io) {
      const now = values.now === undefined ? new Date() : new Date(values.now as string);
      if (Number.isNaN(now.getTime())) throw new UsageError('--now must be a date, such as 2027-01-31');
      if (values.config !== undefined) {
        if (file !== undefined) throw new UsageError('inspect takes a file or --config, not both');
        return inspectConfig(values.config as string, now, values.json === true, io);
      }
      if (file === undefined || rest.length > 0) throw new UsageError('inspect takes one file');
      const i = await inspectFile(file, values.key as string | undefined, values, now);
      if (values.json === true) {
        io.out.write(`${JSON.stringify({ file: i.file, format: i.format, keyChecked: i.keyChecked, ...(i.pkcs11 === undefined ? {} : { pkcs11: i.pkcs11 }), ...summaryJson(i.certificate), status: i.certificate.status, daysUntilExpiry: i.certificate.daysUntilExpiry, chain: i.chain.map(summaryJson), warnings: i.warnings }, null, 2)}\n`);
      } else {
        printInspection(i, io);
      }
      return i.certificate.status === 'expired' || i.certificate.status === 'not-yet-valid' ? 1 : 0;
    },
  };
