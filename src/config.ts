// The certificate config file (certs.json) -> the entries and defaults of a CertificateStore.
// Everything is read and checked before anything is returned: a bad entry loads nothing.
import { dirname, isAbsolute, resolve } from 'node:path';
import { MtlsError, isMtlsError, type ConfigLocation } from './errors.js';
import { loadCaBundle } from './loader/ca.js';
import { DEFAULT_MAX_INPUT_BYTES, readLimited, shownEnvName, shownPath } from './loader/input.js';
import { jsonSyntaxError } from './config/json.js';
import { isDeferred } from './loader/deferred.js';
import { LazyCertificate, plainKeyIsFor, type DeferrableSource, type LazyOrigin } from './loader/lazy.js';
import { loadCertificate } from './loader/load.js';
import { statusWarnings } from './loader/metadata.js';
import { previewCertificate } from './loader/preview.js';
import type { CaBundle, CertificateSource, LoadOptions, LoadedCertificate } from './loader/types.js';
import { ownFields } from './own.js';
import { parsePortRule } from './resolver/entry.js';
import { parseHostPattern } from './resolver/host.js';
import type { PortRule } from './resolver/types.js';

/** One certificate in certs.json. Exactly one of `cert` + `key`, `pem` or `pfx`. */
export interface CertificateConfig {
  name?: string;
  id?: string;
  host: string;
  port?: PortRule;
  primary?: boolean;
  cert?: string;
  key?: string;
  pem?: string;
  pfx?: string;
  /** Environment variables with PEM text, instead of the files: `certEnv` + `keyEnv`, or `pemEnv`. */
  certEnv?: string;
  keyEnv?: string;
  pemEnv?: string;
  /** An environment variable with a PFX as base64 (how CI systems hold binary secrets). */
  pfxBase64Env?: string;
  /** The name of the environment variable that holds the passphrase (recommended). */
  passphraseEnv?: string;
  /** An inline passphrase: accepted, with a warning (it ends up in version control). */
  passphrase?: string;
  /**
   * CA bundle files that verify the servers this certificate is chosen for, added to Node's
   * default roots and the top-level `ca`.
   */
  ca?: string | string[];
}

/** The certs.json format. File order is insertion order (the later entry wins a tie). */
export interface MtlsConfig {
  $schema?: string;
  /** CA bundle files, added to Node's default roots. */
  ca?: string | string[];
  rejectUnauthorized?: boolean;
  allowBroadPatterns?: boolean;
  certificates: CertificateConfig[];
}

/** Options of {@link readConfig}: the loader's, and whether certificates load at first use. */
export interface ConfigOptions extends LoadOptions {
  /**
   * Load each certificate when it is first needed (its key at the first connection that presents
   * it) instead of all of them now. The files are read and every entry's structure, dates and
   * fingerprint are checked up front; a bad key or passphrase fails at first use, or at
   * `store.validate()`. PFX files are loaded up front all the same (their dates are encrypted).
   * Default: false.
   */
  lazy?: boolean;
}

/** A config, read and loaded. */
export interface LoadedConfig {
  defaults: { ca?: CaBundle[]; rejectUnauthorized?: boolean; allowBroadPatterns?: boolean };
  entries: Array<{ host: string; port?: PortRule; name?: string; id?: string; primary?: boolean; certificate: LoadedCertificate; ca?: CaBundle[] }>;
  warnings: string[];
  /** Every file read: the config file, CA files, certificate, key, PEM and PFX files (absolute paths). */
  files: string[];
}

const TOP_FIELDS = ['$schema', 'ca', 'rejectUnauthorized', 'allowBroadPatterns', 'certificates'];
const ENTRY_FIELDS = ['name', 'id', 'host', 'port', 'primary', 'cert', 'key', 'pem', 'pfx', 'certEnv', 'keyEnv', 'pemEnv', 'pfxBase64Env', 'passphraseEnv', 'passphrase', 'ca'];
const SOURCE_FIELDS = { cert: ['cert', 'certEnv'], key: ['key', 'keyEnv'], pem: ['pem', 'pemEnv'], pfx: ['pfx', 'pfxBase64Env'] } as const;

/** A place in a config: printed as the prefix of a message, and kept as the error's `location`. */
class Where {
  constructor(
    readonly text: string,
    readonly location: ConfigLocation,
  ) {}
  toString(): string {
    return this.text;
  }
}

function invalid(where: string | Where, message: string, cause?: unknown): MtlsError {
  return new MtlsError('ERR_INVALID_CONFIG', `${where}: ${message}`, { ...(cause === undefined ? {} : { cause }), ...(where instanceof Where ? { location: where.location } : {}) });
}

/** Edit distance between two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Suggests the known field closest to an unknown one (a typo such as "passphraseENV" or "prot"). */
function closest(field: string, known: string[]): string | undefined {
  const f = field.toLowerCase();
  const scored = known.map((k) => [k, distance(f, k.toLowerCase())] as const).sort((x, y) => x[1] - y[1]);
  const [best, d] = scored[0]!;
  return d <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function checkFields(value: Record<string, unknown>, known: string[], where: string | Where): void {
  for (const field of Object.keys(value)) {
    if (!known.includes(field)) {
      const hint = closest(field, known);
      throw invalid(where, `unknown field ${JSON.stringify(field)}${hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`}; known fields: ${known.join(', ')}.`);
    }
  }
}

/** A JSON file, read with the loader's size limit; ERR_FILE_READ or ERR_INVALID_CONFIG. */
export function parseJsonFile(file: string, what = 'config file'): unknown {
  const text = readLimited(file, what, DEFAULT_MAX_INPUT_BYTES).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON.parse's message (nor the error as a cause): it quotes the text, passphrases included.
    const at = jsonSyntaxError(text);
    const place = at === undefined ? '' : `: ${at.what} at line ${at.line}, column ${at.column}`;
    throw invalid(`The ${what} ${shownPath(file)}`, `it is not valid JSON${place} (the text is not shown: it may hold a secret).`);
  }
}

/**
 * Reads a certs.json file (paths relative to it) or a config object (paths relative to the
 * current directory), loads every certificate and CA, and checks every entry. Nothing is returned
 * unless everything is valid; every error names the entry (index and name) and the field.
 *
 * @throws {MtlsError} `ERR_INVALID_CONFIG`, or the loader's code (`ERR_BAD_PASSPHRASE`, ...) with
 *   the entry and field named in the message.
 */
export async function readConfig(fileOrObject: string | MtlsConfig, configOptions: ConfigOptions = {}): Promise<LoadedConfig> {
  const { lazy = false, ...options } = ownFields(configOptions as Record<string, unknown>) as ConfigOptions;
  if (typeof lazy !== 'boolean') throw new MtlsError('ERR_INVALID_OPTION', 'The option lazy must be true or false.');
  const file = typeof fileOrObject === 'string' ? resolve(fileOrObject) : undefined;
  const raw = file === undefined ? fileOrObject : parseJsonFile(file);
  const baseDir = file === undefined ? process.cwd() : dirname(file);
  const fileLocation = file === undefined ? {} : { file };
  const label = new Where(file === undefined ? 'Config' : `Config ${shownPath(file)}`, fileLocation);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(label, 'it must be a JSON object with a "certificates" array.');
  const config = ownFields(raw as Record<string, unknown>);
  checkFields(config, TOP_FIELDS, label);
  if (!Array.isArray(config.certificates)) throw invalid(label, '"certificates" must be an array of { host, cert + key | pem | pfx, ... }.');
  const topField = (field: string) => new Where(`${label}, field "${field}"`, { ...fileLocation, field });
  if (config.rejectUnauthorized !== undefined && typeof config.rejectUnauthorized !== 'boolean') throw invalid(topField('rejectUnauthorized'), 'it must be true or false.');
  if (config.allowBroadPatterns !== undefined && typeof config.allowBroadPatterns !== 'boolean') throw invalid(topField('allowBroadPatterns'), 'it must be true or false.');
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const contents = new Map<string, Buffer>(); // each file read once, however many entries name it
  const paths = new Map<string, string>();
  const interned = (p: string) => paths.get(p) ?? (paths.set(p, p), p); // one string per path, however many entries name it
  const warnings: string[] = [];
  const files: string[] = file === undefined ? [] : [file];

  // CA files (top-level and per entry), each read once however many entries name it.
  const caBundles = new Map<string, CaBundle>();
  const caField = (value: unknown, at: (i: number | undefined) => Where): CaBundle[] =>
    (Array.isArray(value) ? value : [value]).map((f, i) => {
      const where = at(Array.isArray(value) ? i : undefined);
      if (typeof f !== 'string' || f === '') throw invalid(where, 'give the path of a PEM file with CA certificates.');
      const file = path(f);
      let bundle = caBundles.get(file);
      if (bundle !== undefined) return bundle;
      try {
        files.push(file);
        bundle = loadCaBundle({ file }, options.maxInputBytes === undefined ? {} : { maxInputBytes: options.maxInputBytes });
      } catch (err) {
        throw rename(err, where);
      }
      warnings.push(...bundle.warnings.map((w) => `${where}: ${w}`));
      caBundles.set(file, bundle);
      return bundle;
    });
  const ca = config.ca === undefined ? [] : caField(config.ca, (i) => new Where(`${label}, field "ca"${i === undefined ? '' : `[${i}]`}`, { ...fileLocation, field: 'ca' }));

  const allowBroad = config.allowBroadPatterns === true;
  let primaries = 0;
  const plans = config.certificates.map((value: unknown, index: number) => {
    const entryName = (value as Record<string, unknown> | null)?.name;
    const name = typeof entryName === 'string' ? entryName : undefined;
    const where = (field?: string) => entryWhere(file, index, name, field);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(where(), 'each certificate must be an object.');
    const e = ownFields(value as Record<string, unknown>);
    checkFields(e, ENTRY_FIELDS, where());
    for (const field of ['name', 'id', 'cert', 'key', 'pem', 'pfx', 'certEnv', 'keyEnv', 'pemEnv', 'pfxBase64Env', 'passphraseEnv', 'passphrase']) {
      if (e[field] !== undefined && (typeof e[field] !== 'string' || e[field] === '')) throw invalid(where(field), 'it must be a non-empty string.');
    }
    if (e.primary !== undefined && typeof e.primary !== 'boolean') throw invalid(where('primary'), 'it must be true or false.');
    if (e.primary === true && ++primaries > 1) throw invalid(where('primary'), 'only one certificate can be primary.');
    try {
      parseHostPattern(e.host, allowBroad);
    } catch (err) {
      throw rename(err, where('host'));
    }
    try {
      parsePortRule(e.port, String(where('port')));
    } catch (err) {
      throw isMtlsError(err) ? new MtlsError(err.code, err.message, { cause: err, location: where('port').location }) : err;
    }
    const given = (part: keyof typeof SOURCE_FIELDS) => SOURCE_FIELDS[part].filter((f) => e[f] !== undefined);
    for (const part of Object.keys(SOURCE_FIELDS) as Array<keyof typeof SOURCE_FIELDS>) {
      const both = given(part);
      if (both.length > 1) throw invalid(where(both[1]), `give "${both[0]}" or "${both[1]}", not both.`);
    }
    const kinds = [given('cert').length + given('key').length > 0 ? 'cert' : undefined, given('pem').length > 0 ? 'pem' : undefined, given('pfx').length > 0 ? 'pfx' : undefined].filter(Boolean);
    if (kinds.length !== 1) throw invalid(where(), 'give exactly one of "cert" + "key", "pem" or "pfx" (file paths), or their environment forms "certEnv" + "keyEnv", "pemEnv", "pfxBase64Env".');
    if (kinds[0] === 'cert' && (given('cert').length === 0 || given('key').length === 0)) throw invalid(where(given('cert').length === 0 ? 'cert' : 'key'), 'a certificate and its key go together: give both ("cert"/"certEnv" and "key"/"keyEnv").');
    // The name in an *Env field. A value that is not a variable name may be the secret itself,
    // written in the wrong field: it is never repeated in a message.
    const envName = (field: string): string => {
      const name = e[field] as string;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(where(field), `it must be the name of an environment variable (letters, digits and _, such as CLIENT_PASSPHRASE), not the secret itself; the value is not shown.`);
      return name;
    };
    // The value of an environment variable named by `field`; never shown in a message.
    const fromEnv = (field: string): string => {
      const name = envName(field);
      const value = process.env[name];
      if (value === undefined || value === '') throw invalid(where(field), `the environment variable ${shownEnvName(name, field)} is not set (or is empty).`);
      return value;
    };
    const pfxFromEnv = (): Buffer => {
      const text = fromEnv('pfxBase64Env').replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw invalid(where('pfxBase64Env'), `the environment variable ${shownEnvName(e.pfxBase64Env as string, 'pfxBase64Env')} is not base64 (make it with: base64 -w0 client.p12).`);
      return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    };
    let passphrase: string | undefined;
    if (e.passphraseEnv !== undefined) {
      const name = envName('passphraseEnv');
      passphrase = process.env[name];
      if (passphrase === undefined) throw invalid(where('passphraseEnv'), `the environment variable ${shownEnvName(name, 'passphraseEnv')} is not set.`);
    }
    if (e.passphrase !== undefined) {
      if (passphrase !== undefined) throw invalid(where('passphrase'), 'give "passphraseEnv" or "passphrase", not both.');
      passphrase = e.passphrase as string;
      warnings.push(`${where('passphrase')}: an inline passphrase ends up wherever this file goes; use "passphraseEnv" with an environment variable instead.`);
    }
    const pass = passphrase === undefined ? {} : { passphrase };
    const entryCa = (): CaBundle[] => (e.ca === undefined ? [] : caField(e.ca, (i) => (i === undefined ? where('ca') : new Where(`${where('ca')}[${i}]`, where('ca').location))));
    // Files are read here (not by the loader) so that an unreadable one names its own field
    // (after every entry's structure is checked).
    const read = (field: 'cert' | 'key' | 'pem' | 'pfx', what: string): Buffer => {
      const file = path(e[field] as string);
      const known = contents.get(file);
      if (known !== undefined) return known;
      files.push(file);
      try {
        const bytes = readLimited(file, what, options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES);
        contents.set(file, bytes);
        return bytes;
      } catch (err) {
        throw rename(err, where(field));
      }
    };
    // Entries with the same material (the same files or variables, the same passphrase) share
    // one load and one LoadedCertificate.
    const part = (fileField: string, envField: string) => (e[envField] !== undefined ? `env:${e[envField] as string}` : `file:${path(e[fileField] as string)}`);
    const sourceKey = [
      kinds[0],
      ...(kinds[0] === 'pem' ? [part('pem', 'pemEnv')] : kinds[0] === 'pfx' ? [part('pfx', 'pfxBase64Env')] : [part('cert', 'certEnv'), part('key', 'keyEnv')]),
      passphrase ?? '',
    ].join('\n');
    const source = (): CertificateSource =>
      kinds[0] === 'pem'
        ? { pem: e.pemEnv !== undefined ? fromEnv('pemEnv') : read('pem', 'PEM file'), ...pass }
        : kinds[0] === 'pfx'
          ? { pfx: e.pfxBase64Env !== undefined ? pfxFromEnv() : read('pfx', 'PFX file'), ...pass }
          : {
              cert: e.certEnv !== undefined ? fromEnv('certEnv') : read('cert', 'certificate file'),
              key: e.keyEnv !== undefined ? fromEnv('keyEnv') : read('key', 'key file'),
              ...pass,
            };
    const sourceField = (part: keyof typeof SOURCE_FIELDS) => given(part)[0] as string;
    const loadErrors = new EntryPlace(
      file,
      index,
      typeof e.name === 'string' ? e.name : undefined,
      passphrase === undefined ? undefined : e.passphraseEnv !== undefined ? 'passphraseEnv' : 'passphrase',
      kinds[0] === 'cert' ? sourceField('key') : undefined,
      sourceField(kinds[0] as 'cert' | 'pem' | 'pfx'),
    );
    // The parts that come from files, which a lazy certificate reads again at its first use.
    const fileParts: Partial<Record<FilePart, string>> = {};
    for (const part of ['pem', 'cert', 'key'] as const) if (typeof e[part] === 'string') fileParts[part] = interned(path(e[part] as string));
    return { e, where, source, loadErrors, entryCa, sourceKey, fileParts };
  });

  // Load every certificate (in parallel); the first failure names its entry and field.
  // Every entry's structure is checked before any file or variable is read.
  // Every file and variable is read first (an unreadable one fails before anything loads).
  const entryCas = plans.map((p) => p.entryCa());
  const sources = new Map<string, { source: CertificateSource; plan: (typeof plans)[number] }>();
  for (const p of plans) if (!sources.has(p.sourceKey)) sources.set(p.sourceKey, { source: p.source(), plan: p });
  const loads = new Map<string, Promise<LoadedCertificate>>();
  const lazyOptions = { ...options, now: options.now ?? new Date() }; // one object for every lazy certificate
  for (const [key, { source, plan }] of sources) {
    // A lazy certificate reads its dates and fingerprint now; a load error names the first entry that uses it.
    const defer = lazy && source.pfx === undefined;
    if (!defer) {
      loads.set(key, loadCertificate(source, options));
      continue;
    }
    // No closure here: one would keep this whole function's scope (every file read) alive.
    const files = Object.keys(plan.fileParts).length === 0 ? undefined : new Reread(source as DeferrableSource, plan.fileParts, options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, plan.loadErrors);
    loads.set(key, deferLoad(source as DeferrableSource, lazyOptions, files ?? plan.loadErrors, options));
  }
  const loaded = await Promise.allSettled(plans.map((p) => loads.get(p.sourceKey)!));
  const entries = plans.map((p, i) => {
    const result = loaded[i]!;
    if (result.status === 'rejected') throw p.loadErrors.rename(result.reason);
    const { e } = p;
    const c = result.value;
    // A lazy certificate's other warnings (key usage, chain order) come with its load.
    const certWarnings = isDeferred(c) ? statusWarnings(c.status, c.daysUntilExpiry, c.notBefore, c.notAfter) : c.warnings;
    warnings.push(...certWarnings.map((w) => `${p.where()}: ${w}`));
    return {
      host: e.host as string,
      certificate: result.value,
      ...(e.port === undefined ? {} : { port: e.port as PortRule }),
      ...(e.name === undefined ? {} : { name: e.name as string }),
      ...(e.id === undefined ? {} : { id: e.id as string }),
      ...(e.primary === true ? { primary: true } : {}),
      ...(entryCas[i]!.length === 0 ? {} : { ca: entryCas[i]! }),
    };
  });
  return {
    defaults: {
      ...(ca.length > 0 ? { ca } : {}),
      ...(config.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: config.rejectUnauthorized as boolean }),
      ...(allowBroad ? { allowBroadPatterns: true } : {}),
    },
    entries,
    warnings,
    files: [...new Set(files)],
  };
}

/** An entry of the config (and one of its fields): `certificates[2] ("name"), field "key"`, and its location. */
function entryWhere(file: string | undefined, index: number, name: string | undefined, field?: string): Where {
  const text = `certificates[${index}]${name === undefined ? '' : ` (${JSON.stringify(name)})`}${field === undefined ? '' : `, field "${field}"`}`;
  return new Where(text, { ...(file === undefined ? {} : { file }), entry: index, ...(name === undefined ? {} : { name }), ...(field === undefined ? {} : { field }) });
}

/**
 * A lazy certificate, as a promise like an eager load's (a preview error rejects). The eager load's
 * leaf is the certificate the key belongs to; the preview's, the one that issued none of the
 * others. They are the same when the input holds one certificate, or when its one plain key is
 * the preview leaf's and no other certificate has that key. Otherwise (an encrypted key with a
 * chain, unrelated certificates, several keys) it is loaded now: a lazy load presents what an
 * eager one would.
 */
async function deferLoad(source: DeferrableSource, options: LoadOptions, origin: LazyOrigin, eagerOptions: LoadOptions): Promise<LoadedCertificate> {
  const preview = previewCertificate('pem' in source ? source.pem : source.cert);
  if (preview.count > 1 && (preview.spkiShared || !plainKeyIsFor('pem' in source ? source.pem : source.key, preview.spki))) return loadCertificate(source, eagerOptions);
  return new LazyCertificate(source, options, origin, preview);
}

/**
 * An entry's place in the config, and the field a load error is about: the passphrase's, the
 * key's, or the certificate's. Small on purpose: a lazy certificate keeps it (and nothing of the
 * config read), so the messages' text is built when an error happens.
 */
class EntryPlace implements LazyOrigin {
  constructor(
    readonly file: string | undefined,
    readonly index: number,
    readonly name: string | undefined,
    readonly passphraseField: string | undefined,
    readonly keyField: string | undefined,
    readonly mainField: string,
  ) {}

  at(field: string): Where {
    return entryWhere(this.file, this.index, this.name, field);
  }

  rename(err: unknown): MtlsError {
    if (isMtlsError(err) && err.location !== undefined) return err; // already named (a file read again)
    const code = (err as { code?: unknown } | null)?.code;
    const field =
      (code === 'ERR_BAD_PASSPHRASE' || code === 'ERR_PASSPHRASE_REQUIRED') && this.passphraseField !== undefined
        ? this.passphraseField
        : this.keyField !== undefined && typeof code === 'string' && /KEY|PASSPHRASE/.test(code)
          ? this.keyField
          : this.mainField;
    return rename(err, this.at(field));
  }
}

type FilePart = 'pem' | 'cert' | 'key';
const PARTS = ['pem', 'cert', 'key'] as const;
const FILE_WHAT = { pem: 'PEM file', cert: 'certificate file', key: 'key file' } as const;

/**
 * A lazy entry's files, read again at its first use (and its place, as one object): the store
 * holds their paths, not their contents. Files whose certificate is no longer the one read at
 * start are refused (the store's dates and fingerprint came from that one): reloading the config
 * takes the new ones. The same certificate with a rewritten chain or key file is taken.
 */
class Reread extends EntryPlace {
  /** The source with its file parts as paths: one object, no more (there may be 100,000). */
  readonly #pem: string | Uint8Array | undefined;
  readonly #cert: string | Uint8Array | undefined;
  readonly #key: string | Uint8Array | undefined;
  /** Which of pem, cert and key are paths (the others: a variable's value, kept). */
  readonly #files: number;
  readonly #passphrase: string | undefined;
  readonly #max: number;

  constructor(source: DeferrableSource, files: Partial<Record<FilePart, string>>, max: number, place: EntryPlace) {
    super(place.file, place.index, place.name, place.passphraseField, place.keyField, place.mainField);
    const given = source as Partial<Record<FilePart, string | Uint8Array>>;
    const at = (part: FilePart) => files[part] ?? given[part];
    [this.#pem, this.#cert, this.#key] = [at('pem'), at('cert'), at('key')];
    this.#files = PARTS.reduce((bits, part, i) => (files[part] === undefined ? bits : bits | (1 << i)), 0);
    this.#passphrase = source.passphrase;
    this.#max = max;
  }

  read(sha256: Buffer): DeferrableSource {
    const source: Partial<Record<FilePart, string | Uint8Array>> & { passphrase?: string } = this.#passphrase === undefined ? {} : { passphrase: this.#passphrase };
    const paths: string[] = [];
    const values = [this.#pem, this.#cert, this.#key];
    let first: FilePart | undefined;
    PARTS.forEach((part, i) => {
      const value = values[i];
      if (value === undefined) return;
      if ((this.#files & (1 << i)) === 0) {
        source[part] = value;
        return;
      }
      first ??= part;
      paths.push(JSON.stringify(value));
      try {
        source[part] = readLimited(value, FILE_WHAT[part], this.#max);
      } catch (err) {
        throw rename(err, this.at(part));
      }
    });
    let same = false;
    try {
      same = previewCertificate((source.pem ?? source.cert)!).sha256.equals(sha256);
    } catch {
      // a certificate that no longer reads is not the same one
    }
    if (!same) {
      const where = this.at(first!);
      throw new MtlsError('ERR_FILE_READ', `${where}: ${paths.join(' or ')} changed after the config was read; reload the config to use the new certificate (watchConfig reloads on its own).`, { location: where.location });
    }
    return source as DeferrableSource;
  }
}

/** The same error (same code), its message prefixed with where it happened in the config. */
function rename(err: unknown, where: Where): MtlsError {
  if (isMtlsError(err)) return new MtlsError(err.code, `${where}: ${err.message}`, { cause: err, location: where.location });
  return invalid(where, err instanceof Error ? err.message : String(err), err);
}
