#!/usr/bin/env node
// The mtls-resolver command: inspect, resolve, fetch, import, demo. Results on stdout (--json for
// machines), details (-v) and warnings on stderr; a failure is one line `error CODE: message`,
// exit 1; a usage error exits 2; no stack trace unless --debug.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ConnectEvent, SelectEvent } from '../adapter/events.js';
import { createFetch } from '../adapter/undici/index.js';
import { parseJsonFile } from '../config.js';
import { MtlsError, isMtlsError } from '../errors.js';
import { convertBrunoConfig, convertCypressCertificates, convertInsomniaCertificates, convertK6TlsAuth, convertNewmanCertList, convertPlaywrightCertificates } from '../importers.js';
import { loadCaBundle } from '../loader/ca.js';
import { loadCertificate } from '../loader/load.js';
import { DEFAULT_MAX_INPUT_BYTES, readLimited, shownEnvName } from '../loader/input.js';
import { statusAt, statusWarnings } from '../loader/metadata.js';
import { looksLikePem, parsePem, sniffDer } from '../loader/pem.js';
import type { CertificateSummary, LoadedCertificate } from '../loader/types.js';
import type { Explanation } from '../resolver/types.js';
import { caBundlesOf, storeFromConfig, type CertificateStore } from '../store.js';
import { formatDemo, runDemo } from './demo.js';
import { block, safeWriter, styleFor, table } from './output.js';
import { groupedWarnings } from './warnings.js';
import { cliMessage, usageMessage, type CliContext } from './advice.js';

// Everything printed goes through terminalSafe: text from files, servers and imports is shown
// with its control characters escaped.
const out = safeWriter(process.stdout);
const err = safeWriter(process.stderr);

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  example: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(positionals: string[], values: Record<string, unknown>): Promise<number>;
}

const COMMON = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;

function passphraseFrom(values: Record<string, unknown>): string | undefined {
  const name = values['passphrase-env'] as string | undefined;
  if (name === undefined) return undefined;
  const value = process.env[name];
  if (value === undefined) throw new MtlsError('ERR_INVALID_OPTION', `The environment variable ${shownEnvName(name, '--passphrase-env')} (--passphrase-env) is not set.`);
  return value;
}

function day(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/** What `inspect` shows for one certificate (with or without its key). */
interface Inspection {
  file: string;
  format: string;
  keyChecked: boolean;
  certificate: CertificateSummary & { status: string; daysUntilExpiry: number };
  chain: CertificateSummary[];
  warnings: string[];
}

async function inspectFile(file: string, keyFile: string | undefined, passphrase: string | undefined, now: Date): Promise<Inspection> {
  const bytes = readLimited(file, 'file', DEFAULT_MAX_INPUT_BYTES);
  const pass = passphrase === undefined ? {} : { passphrase };
  const fromLoaded = (c: LoadedCertificate): Inspection => ({
    file,
    format: c.format,
    keyChecked: true,
    certificate: { ...c, status: c.status, daysUntilExpiry: c.daysUntilExpiry },
    chain: c.chain,
    warnings: c.warnings,
  });
  if (keyFile !== undefined) return fromLoaded(await loadCertificate({ certFile: file, keyFile, ...pass }, { now }));
  const pem = looksLikePem(bytes);
  const isPfx = !pem && (sniffDer(bytes) === 'pfx' || ['.p12', '.pfx'].includes(extname(file).toLowerCase()));
  if (isPfx) return fromLoaded(await loadCertificate({ pfx: bytes, ...pass }, { now }));
  if (pem && parsePem(bytes.toString('utf8')).some((b) => b.kind === 'private-key')) return fromLoaded(await loadCertificate({ pem: bytes, ...pass }, { now }));
  // A certificate alone (a .crt, a CA bundle): describe it, no key to check.
  const bundle = loadCaBundle(bytes);
  const leaf = bundle.certificates[0]!;
  const { status, daysUntilExpiry } = statusAt(leaf.notBefore, leaf.notAfter, now, 30);
  const warnings = [
    ...statusWarnings(status, daysUntilExpiry, leaf.notBefore, leaf.notAfter),
    ...bundle.warnings.filter((w) => !/is not a CA certificate|expired on/.test(w)),
  ];
  return { file, format: pem ? 'pem (certificates only)' : 'der', keyChecked: false, certificate: { ...leaf, status, daysUntilExpiry }, chain: bundle.certificates, warnings };
}

function printInspection(i: Inspection): void {
  const s = styleFor(out);
  const c = i.certificate;
  const statusText = c.status === 'valid' ? s.green(c.status) : c.status === 'expiring-soon' ? s.yellow(c.status) : s.red(c.status);
  const days = c.daysUntilExpiry >= 0 ? `${c.daysUntilExpiry} days left` : `expired ${-c.daysUntilExpiry} days ago`;
  out.write(
    `${block([
      ['file', i.file],
      ['subject', s.bold(c.subject)],
      ['issuer', c.issuer],
      ['serial', c.serialNumber],
      ['fingerprint', c.fingerprint256],
      ['SANs', c.subjectAltNames.length > 0 ? c.subjectAltNames.join(', ') : '(none)'],
      ['valid', `${day(c.notBefore)} to ${day(c.notAfter)} (${days})`],
      ['status', statusText],
      ['key', i.keyChecked ? `${c.keyType}, matches the certificate` : `${c.keyType} (public key; no private key given)`],
      ['format', i.format],
      ['self-signed', c.selfSigned ? 'yes' : 'no'],
      ['chain', i.chain.map((x, n) => `${n + 1}. ${x.subject}${x.isCA ? ' (CA)' : ''}`)],
      ['warnings', i.warnings.map((w) => s.yellow(`- ${w}`))],
    ])}\n`,
  );
}

/** `inspect --config`: every entry of a config with its status; 1 when one is expired or not yet valid. */
async function inspectConfig(configFile: string, now: Date, json: boolean): Promise<number> {
  const { store } = await storeFromConfig(configFile);
  const rows = store.list().map((e) => {
    const c = e.certificate;
    const { status, daysUntilExpiry } = statusAt(c.notBefore, c.notAfter, now, store.defaults.expiryWarningDays ?? 30);
    return { id: e.id, name: e.name ?? null, host: e.host, port: e.port ?? null, primary: e.primary === true, subject: c.subject, fingerprint256: c.fingerprint256, notAfter: c.notAfter, status, daysUntilExpiry };
  });
  const failing = rows.filter((r) => r.status === 'expired' || r.status === 'not-yet-valid');
  if (json) {
    out.write(`${JSON.stringify({ config: configFile, entries: rows }, null, 2)}\n`);
  } else {
    const s = styleFor(out);
    const paint = (st: string) => (st === 'valid' ? s.green(st) : st === 'expiring-soon' ? s.yellow(st) : s.red(st));
    out.write(
      `${table([
        ['entry', 'host', 'port', 'subject', 'valid until', 'status'],
        ...rows.map((r) => [r.name ?? r.id, r.host, r.port === null ? '443' : String(r.port), r.subject, `${day(r.notAfter)} (${r.daysUntilExpiry} days)`, paint(r.status)]),
      ])}\n`,
    );
    if (failing.length > 0) err.write(`error: ${failing.length} of ${rows.length} certificates cannot be used now (${failing.map((r) => `${r.name ?? r.id}: ${r.status}`).join(', ')})\n`);
  }
  return failing.length > 0 ? 1 : 0;
}

function summaryJson(c: CertificateSummary): Record<string, unknown> {
  const { subject, commonName, issuer, serialNumber, fingerprint256, subjectAltNames, notBefore, notAfter, keyType, selfSigned, isCA } = c;
  return { subject, commonName, issuer, serialNumber, fingerprint256, subjectAltNames, notBefore, notAfter, keyType, selfSigned, isCA };
}

async function storeFrom(configFile: unknown): Promise<{ store: CertificateStore; warnings: string[] }> {
  if (typeof configFile !== 'string') throw new UsageError('--config <certs.json> is required');
  return storeFromConfig(configFile);
}

function explanationJson(ex: Explanation<LoadedCertificate>): unknown {
  const entry = (e: Explanation<LoadedCertificate>['candidates'][number]['entry']) => ({
    id: e.id,
    name: e.name,
    host: e.host,
    port: e.port,
    primary: e.primary === true,
    order: e.order,
    certificate: { ...summaryJson(e.certificate), status: e.certificate.status },
  });
  return {
    target: ex.target,
    chosen: ex.chosen === undefined ? null : { entry: entry(ex.chosen.entry), kind: ex.chosen.kind, reason: ex.chosen.reason },
    candidates: ex.candidates.map((c) => ({ entry: entry(c.entry), verdict: c.verdict, reason: c.reason })),
  };
}

const commands: Record<string, Command> = {
  inspect: {
    summary: 'describe a certificate file: subject, issuer, SANs, fingerprint, validity, status, chain, warnings',
    usage: 'mtls-resolver inspect <file> [--key <file>] [--passphrase-env VAR] [--json]\n       mtls-resolver inspect --config certs.json [--json]   (every entry; exit 1 if one is expired or not yet valid)',
    example: 'mtls-resolver inspect client.p12 --passphrase-env P12_PASS\n  mtls-resolver inspect client.crt --key client.key --json\n  mtls-resolver inspect --config certs.json',
    options: { key: { type: 'string' }, 'passphrase-env': { type: 'string' }, json: { type: 'boolean' }, now: { type: 'string' }, config: { type: 'string', short: 'c' } },
    async run([file, ...rest], values) {
      const now = values.now === undefined ? new Date() : new Date(values.now as string);
      if (Number.isNaN(now.getTime())) throw new UsageError('--now must be a date, such as 2027-01-31');
      if (values.config !== undefined) {
        if (file !== undefined) throw new UsageError('inspect takes a file or --config, not both');
        return inspectConfig(values.config as string, now, values.json === true);
      }
      if (file === undefined || rest.length > 0) throw new UsageError('inspect takes one file');
      const i = await inspectFile(file, values.key as string | undefined, passphraseFrom(values), now);
      if (values.json === true) {
        out.write(`${JSON.stringify({ file: i.file, format: i.format, keyChecked: i.keyChecked, ...summaryJson(i.certificate), status: i.certificate.status, daysUntilExpiry: i.certificate.daysUntilExpiry, chain: i.chain.map(summaryJson), warnings: i.warnings }, null, 2)}\n`);
      } else {
        printInspection(i);
      }
      return i.certificate.status === 'expired' || i.certificate.status === 'not-yet-valid' ? 1 : 0;
    },
  },
  resolve: {
    summary: 'show which certificate a URL gets, and why every other one won, lost or was skipped',
    usage: 'mtls-resolver resolve <url> --config certs.json [--select <id|name>] [--fallback-to-primary] [--json]',
    example: 'mtls-resolver resolve https://api.acme.com:8443/v1 --config certs.json',
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, select: { type: 'string' }, 'fallback-to-primary': { type: 'boolean' } },
    async run([url, ...rest], values) {
      if (url === undefined || rest.length > 0) throw new UsageError('resolve takes one URL');
      const { store, warnings } = await storeFrom(values.config);
      const ex = store.explain(url, {
        ...(values.select === undefined ? {} : { select: values.select as string }),
        fallbackToPrimary: values['fallback-to-primary'] === true,
      });
      if (values.json === true) {
        out.write(`${JSON.stringify(explanationJson(ex), null, 2)}\n`);
        return 0;
      }
      const grouped = groupedWarnings(store, warnings, values.config as string);
      for (const w of [...grouped.validity, ...grouped.other]) err.write(`warning: ${w}\n`);
      const s = styleFor(out);
      const { protocol, hostname, port } = ex.target;
      out.write(`${s.bold(`${protocol}//${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`)}\n`);
      out.write(
        ex.chosen === undefined
          ? `${s.yellow('no certificate')}: this request presents none\n`
          : `${s.green('chosen')}: ${ex.chosen.entry.name ?? ex.chosen.entry.id} (${ex.chosen.entry.certificate.subject}) — ${ex.chosen.reason}\n`,
      );
      out.write('\n');
      for (const c of ex.candidates) {
        const mark = { chosen: s.green('chosen   '), outranked: s.yellow('outranked'), skipped: s.red('skipped  '), 'no-match': s.dim('no match ') }[c.verdict];
        const port = c.entry.port === undefined ? '' : `:${c.entry.port}`;
        out.write(`${mark}  ${c.entry.name ?? c.entry.id}  ${s.dim(`${c.entry.host}${port}`)}\n           ${c.reason}\n`);
      }
      return 0;
    },
  },
  fetch: {
    summary: 'send a request like curl, presenting the certificate the config resolves',
    usage: 'mtls-resolver fetch <url> --config certs.json [-X METHOD] [-H "Name: value"]... [-d body] [--select <id|name>] [--ca FILE]... [--insecure] [--proxy URL | --no-proxy] [-v]\n\n--ca adds a CA bundle (PEM) to the trusted roots and the config\'s "ca", for a server with a private CA. --select presents the certificate of that entry (id or name) to this URL\'s origin instead of the one the rules choose. Like curl, fetch goes through HTTPS_PROXY / HTTP_PROXY (minus NO_PROXY) when they are set; --proxy overrides them, --no-proxy ignores them.',
    example: 'mtls-resolver fetch https://api.acme.com/v1/orders --config certs.json -v\n  mtls-resolver fetch https://api.acme.com/v1/orders -c certs.json -X POST -H "content-type: application/json" -d \'{"id":1}\'\n  mtls-resolver fetch https://api.acme.com/v1/orders -c certs.json --proxy http://proxy.corp:3128 -v',
    options: {
      config: { type: 'string', short: 'c' },
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      insecure: { type: 'boolean', short: 'k' },
      ca: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      select: { type: 'string' },
      proxy: { type: 'string' },
      'no-proxy': { type: 'boolean' },
    },
    async run([url, ...rest], values) {
      if (url === undefined || rest.length > 0) throw new UsageError('fetch takes one URL');
      if (values.proxy !== undefined && values['no-proxy'] === true) throw new UsageError('--proxy and --no-proxy exclude each other');
      const proxy = values['no-proxy'] === true ? false : ((values.proxy as string | undefined) ?? 'env');
      const { store, warnings } = await storeFrom(values.config);
      const verbose = values.verbose === true;
      const s = styleFor(err);
      const grouped = groupedWarnings(store, warnings, values.config as string);
      for (const w of [...grouped.validity, ...(verbose ? grouped.other : [])]) err.write(`${s.yellow('warning')}: ${w}\n`);
      const headers: Array<[string, string]> = ((values.header as string[] | undefined) ?? []).map((h) => {
        const i = h.indexOf(':');
        if (i <= 0) throw new UsageError(`-H ${JSON.stringify(h)} must be "Name: value"`);
        return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
      });
      const onConnect = (message: unknown) => {
        const e = message as ConnectEvent;
        err.write(
          `${block([
            ['* server', e.origin],
            ['  via proxy', e.proxy],
            ['  subject', e.server.subject],
            ['  issuer', e.server.issuer],
            ['  valid', `${e.server.validFrom} to ${e.server.validTo}`],
            ['  SANs', e.server.subjectAltName],
            ['  verified', e.authorized ? s.green('yes') : s.red(`no (${e.authorizationError ?? 'unknown'})`)],
          ])}\n`,
        );
        if (e.authorizationError !== undefined) err.write(`${s.yellow('warning')}: the server certificate did not verify: ${e.authorizationError}\n`);
        if (Date.parse(e.server.validTo) < Date.now()) err.write(`${s.yellow('warning')}: the server certificate expired on ${e.server.validTo}\n`);
      };
      const onSelect = (e: SelectEvent) => {
        const c = store.get(e.entryId)?.certificate;
        err.write(`* client certificate: ${e.name ?? e.entryId} (${c?.subject}), fingerprint ${e.fingerprint256}, valid until ${c === undefined ? '?' : day(c.notAfter)}\n  why: ${e.reason}\n`);
        if (e.proxy !== undefined) err.write(`* proxy: ${e.proxy} (CONNECT tunnel; the certificate goes to the target inside it, not to the proxy)\n`);
      };
      if (verbose) subscribe('mtls-resolver:connect', onConnect);
      // --ca FILE: added to the config's CAs (which are added to Node's roots), never replacing them.
      const extraCa = ((values.ca as string[] | undefined) ?? []).map((file) => loadCaBundle({ file }));
      const fetch = createFetch(store, { proxy, ...(verbose ? { onSelect } : {}), ...(extraCa.length > 0 ? { ca: [...caBundlesOf(store.defaults), ...extraCa] } : {}) });
      try {
        if (verbose && store.resolve(url) === undefined && values.select === undefined) err.write('* client certificate: none (no entry matches this URL)\n');
        const method = (values.request as string | undefined) ?? (values.data === undefined ? 'GET' : 'POST');
        const res = await fetch(url, {
          method,
          headers,
          ...(values.data === undefined ? {} : { body: values.data as string }),
          mtls: {
            ...(values.insecure === true ? { rejectUnauthorized: false } : {}),
            ...(values.select === undefined ? {} : { select: values.select as string }),
          },
        });
        if (verbose) {
          err.write(`< ${res.status} ${res.statusText}\n`);
          res.headers.forEach((v, k) => err.write(`< ${k}: ${v}\n`));
        }
        // The body as it came to a file or a pipe (like curl); on a terminal, as text with its
        // control characters escaped.
        const body = new Uint8Array(await res.arrayBuffer());
        if (out.isTTY === true) out.write(new TextDecoder().decode(body));
        else out.raw(body);
        return 0;
      } finally {
        if (verbose) unsubscribe('mtls-resolver:connect', onConnect);
        await fetch.close();
      }
    },
  },
  import: {
    summary: 'turn a Postman/Newman, Bruno, Insomnia, Playwright, Cypress or k6 certificate setup into certs.json',
    usage: 'mtls-resolver import --from postman|newman|bruno|insomnia|playwright|cypress|k6 <file> [--base-dir DIR] [--material-dir DIR]',
    example: 'mtls-resolver import --from newman client-certs.json > certs.json',
    options: { from: { type: 'string' }, 'base-dir': { type: 'string' }, 'material-dir': { type: 'string' } },
    async run([file, ...rest], values) {
      if (file === undefined || rest.length > 0) throw new UsageError('import takes one file');
      // postman: a Postman/Newman client certificate list (Newman's --ssl-client-cert-list);
      // playwright, cypress, k6: their clientCertificates / tlsAuth as JSON
      const converters = new Map([
        ['postman', convertNewmanCertList],
        ['newman', convertNewmanCertList],
        ['bruno', convertBrunoConfig],
        ['insomnia', convertInsomniaCertificates],
        ['playwright', convertPlaywrightCertificates],
        ['cypress', convertCypressCertificates],
        ['k6', convertK6TlsAuth],
      ]);
      const convert = converters.get(values.from as string);
      if (convert === undefined) throw new UsageError('--from must be postman, newman, bruno, insomnia, playwright, cypress or k6');
      const input = parseJsonFile(file, 'file to import');
      const materialDir = values['material-dir'] as string | undefined;
      const { config, notes } = convert(input, {
        baseDir: (values['base-dir'] as string | undefined) ?? (await import('node:path')).dirname(file),
        ...(materialDir === undefined ? {} : { materialDir }),
      });
      for (const n of notes) err.write(`note: ${n}\n`);
      out.write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    },
  },
  demo: {
    summary: 'make certificates and mTLS servers in memory and show that each request presents the certificate the resolver chose',
    usage: 'mtls-resolver demo [--json]',
    example: 'mtls-resolver demo',
    options: { json: { type: 'boolean' } },
    async run(positionals, values) {
      if (positionals.length > 0) throw new UsageError('demo takes no arguments');
      const rows = await runDemo();
      out.write(values.json === true ? `${JSON.stringify(rows, null, 2)}\n` : `${formatDemo(rows, out)}\n`);
      return rows.every((r) => r.agree) ? 0 : 1;
    },
  },
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `mtls-resolver ${version()}: which TLS client certificate each request presents, and proof that it does.

Usage: mtls-resolver <command> [options]   (mtls-resolver <command> --help for its options)

${names.map((n) => `  ${n.padEnd(width)}${commands[n]!.summary}`).join('\n')}

Example: mtls-resolver resolve https://api.acme.com/v1 --config certs.json
`;
}

function commandHelp(name: string, c: Command): string {
  return `${c.summary}

Usage: ${c.usage}

Example:
  ${c.example}
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    out.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  let context: CliContext = { command: name };
  const debug = args.includes('--debug');
  try {
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${Object.keys(commands).join(', ')}`);
    let parsed;
    try {
      parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(usageMessage(e as Error & { code?: string }, Object.keys({ ...command.options, ...COMMON })));
    }
    const config = (parsed.values as Record<string, unknown>).config;
    context = { command: name, ...(typeof config === 'string' ? { config } : {}), ...(name === 'inspect' && parsed.positionals[0] !== undefined ? { file: parsed.positionals[0] } : {}) };
    if (parsed.values.help === true) {
      out.write(commandHelp(name, command));
      return 0;
    }
    return await command.run(parsed.positionals, parsed.values as Record<string, unknown>);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error ERR_USAGE: ${e.message} (see mtls-resolver ${command === undefined ? '' : `${name} `}--help)\n`);
      return 2;
    }
    // fetch rejects with TypeError('fetch failed') whose cause is the MtlsError that says why.
    const cause = (e as { cause?: unknown }).cause;
    const shown = isMtlsError(e) ? e : isMtlsError(cause) ? cause : (e as Error & { code?: string });
    const code = isMtlsError(shown) ? shown.code : (shown.code ?? (cause as { code?: string } | undefined)?.code ?? 'ERR_UNEXPECTED');
    const message = isMtlsError(shown) ? cliMessage(shown, context) : cause instanceof Error ? `${shown.message}: ${cause.message}` : shown.message;
    err.write(`error ${code}: ${message.replace(/\s*\n\s*/g, ' ')}\n`); // one line, whatever the cause's text holds
    if (debug) err.write(`${(e as Error).stack ?? ''}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err.write(`error ERR_UNEXPECTED: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
