// The certificate config file (certs.json) -> the entries and defaults of a CertificateStore.
// Everything is read and checked before anything is returned: a bad entry loads nothing.
import { dirname, resolve } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { MtlsError, isMtlsError } from '../errors.js';
import { isDeferred } from '../loader/deferred.js';
import { DEFAULT_MAX_INPUT_BYTES, readLimited, shownEnvName, shownPath } from '../loader/input.js';
import { LazyCertificate, plainKeyIsFor, type DeferrableSource, type LazyOrigin } from '../loader/lazy.js';
import { loadCertificate } from '../loader/load.js';
import { isPkcs11Uri } from '../loader/pkcs11.js';
import { statusWarnings } from '../loader/metadata.js';
import { previewCertificate } from '../loader/preview.js';
import { FileReread, type FilePart } from '../loader/reread.js';
import type { CaBundle, CertificateSource, LoadOptions, LoadedCertificate } from '../loader/types.js';
import { ownFields } from '../own.js';
import { parsePortRule } from '../resolver/entry.js';
import { parseHostPattern } from '../resolver/pattern.js';
import type { PortRule } from '../resolver/types.js';
import { TLS_VERSIONS } from '../store/entry.js';
import { jsonSyntaxError } from './json.js';
import { Material, envName, fromEnv, pfxFromEnv } from './material.js';
import { EntryPlace, Where, entryWhere, invalid, rename } from './place.js';

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
  /** For a `key` that is a PKCS#11 URI: the environment variable that holds the token's PIN. */
  pinEnv?: string;
  /** An inline PIN: accepted, with a warning. */
  pin?: string;
  /**
   * CA bundle files that verify the servers this certificate is chosen for, added to Node's
   * default roots and the top-level `ca`.
   */
  ca?: string | string[];
  /** TLS version bounds for this entry's origins: "TLSv1.2" or "TLSv1.3" (Node's names). */
  minVersion?: string;
  maxVersion?: string;
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
  entries: Array<{ host: string; port?: PortRule; name?: string; id?: string; primary?: boolean; certificate: LoadedCertificate; ca?: CaBundle[]; minVersion?: SecureVersion; maxVersion?: SecureVersion }>;
  warnings: string[];
  /** Every file read: the config file, CA files, certificate, key, PEM and PFX files (absolute paths). */
  files: string[];
}

const TOP_FIELDS = ['$schema', 'ca', 'rejectUnauthorized', 'allowBroadPatterns', 'certificates'];
const ENTRY_FIELDS = ['name', 'id', 'host', 'port', 'primary', 'cert', 'key', 'pem', 'pfx', 'certEnv', 'keyEnv', 'pemEnv', 'pfxBase64Env', 'passphraseEnv', 'passphrase', 'pinEnv', 'pin', 'ca', 'minVersion', 'maxVersion'];
const SOURCE_FIELDS = { cert: ['cert', 'certEnv'], key: ['key', 'keyEnv'], pem: ['pem', 'pemEnv'], pfx: ['pfx', 'pfxBase64Env'] } as const;

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
  const fileLocation = file === undefined ? {} : { file };
  const label = new Where(file === undefined ? 'Config' : `Config ${shownPath(file)}`, fileLocation);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(label, 'it must be a JSON object with a "certificates" array.');
  const config = ownFields(raw as Record<string, unknown>);
  checkFields(config, TOP_FIELDS, label);
  if (!Array.isArray(config.certificates)) throw invalid(label, '"certificates" must be an array of { host, cert + key | pem | pfx, ... }.');
  const topField = (field: string) => new Where(`${label}, field "${field}"`, { ...fileLocation, field });
  if (config.rejectUnauthorized !== undefined && typeof config.rejectUnauthorized !== 'boolean') throw invalid(topField('rejectUnauthorized'), 'it must be true or false.');
  if (config.allowBroadPatterns !== undefined && typeof config.allowBroadPatterns !== 'boolean') throw invalid(topField('allowBroadPatterns'), 'it must be true or false.');
  const warnings: string[] = [];
  const material = new Material(file === undefined ? process.cwd() : dirname(file), options.maxInputBytes, warnings, file);
  const ca = config.ca === undefined ? [] : material.cas(config.ca, (i) => new Where(`${label}, field "ca"${i === undefined ? '' : `[${i}]`}`, { ...fileLocation, field: 'ca' }));

  // Every entry's structure is checked before any file or variable is read.
  const context: PlanContext = { file, material, warnings, allowBroad: config.allowBroadPatterns === true, primaries: 0 };
  const plans = config.certificates.map((value: unknown, index: number) => planEntry(value, index, context));

  // Every file and variable is read first (an unreadable one fails before anything loads); then
  // every certificate loads (in parallel), and the first failure names its entry and field.
  const entryCas = plans.map((p) => p.entryCa());
  const sources = new Map<string, { source: CertificateSource; plan: EntryPlan }>();
  for (const p of plans) if (!sources.has(p.sourceKey)) sources.set(p.sourceKey, { source: p.source(), plan: p });
  const loads = new Map<string, Promise<LoadedCertificate>>();
  const lazyOptions = { ...options, now: options.now ?? new Date() }; // one object for every lazy certificate
  for (const [key, { source, plan }] of sources) {
    // A lazy certificate reads its dates and fingerprint now; a load error names the first entry that uses it.
    const defer = lazy && source.pfx === undefined && !isPkcs11Uri(source.key);
    if (!defer) {
      loads.set(key, loadCertificate(source, options));
      continue;
    }
    // No closure here: one would keep this whole function's scope (every file read) alive.
    const origin = Object.keys(plan.fileParts).length === 0 ? plan.place : new FileReread(source as DeferrableSource, plan.fileParts, options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, plan.place);
    loads.set(key, deferLoad(source as DeferrableSource, lazyOptions, origin, options));
  }
  const loaded = await Promise.allSettled(plans.map((p) => loads.get(p.sourceKey)!));
  const entries = plans.map((p, i) => {
    const result = loaded[i]!;
    if (result.status === 'rejected') throw p.place.rename(result.reason);
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
      ...(e.minVersion === undefined ? {} : { minVersion: e.minVersion as SecureVersion }),
      ...(e.maxVersion === undefined ? {} : { maxVersion: e.maxVersion as SecureVersion }),
      ...(entryCas[i]!.length === 0 ? {} : { ca: entryCas[i]! }),
    };
  });
  return {
    defaults: {
      ...(ca.length > 0 ? { ca } : {}),
      ...(config.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: config.rejectUnauthorized as boolean }),
      ...(context.allowBroad ? { allowBroadPatterns: true } : {}),
    },
    entries,
    warnings,
    files: [...new Set(material.files)],
  };
}

/** What planning an entry shares with the others. */
interface PlanContext {
  file: string | undefined;
  material: Material;
  warnings: string[];
  allowBroad: boolean;
  primaries: number;
}

/** One entry, checked, with how to read its material and CAs (after every entry is checked). */
interface EntryPlan {
  e: Record<string, unknown>;
  where(field?: string): Where;
  /** The entry's certificate source: reads its files and variables. */
  source(): CertificateSource;
  /** The entry's own CAs: reads their files. */
  entryCa(): CaBundle[];
  /** Entries with the same material (files or variables, and passphrase) share one load. */
  sourceKey: string;
  /** Names load errors by the field they are about. */
  place: EntryPlace;
  /** The parts that come from files, which a lazy certificate reads again at its first use. */
  fileParts: Partial<Record<FilePart, string>>;
}

/** Checks one entry's structure, host, port, fields and passphrase; reads nothing yet. */
function planEntry(value: unknown, index: number, context: PlanContext): EntryPlan {
  const { file, material } = context;
  const entryName = (value as Record<string, unknown> | null)?.name;
  const name = typeof entryName === 'string' ? entryName : undefined;
  const where = (field?: string) => entryWhere(file, index, name, field);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(where(), 'each certificate must be an object.');
  const e = ownFields(value as Record<string, unknown>);
  checkFields(e, ENTRY_FIELDS, where());
  for (const field of ['name', 'id', 'cert', 'key', 'pem', 'pfx', 'certEnv', 'keyEnv', 'pemEnv', 'pfxBase64Env', 'passphraseEnv', 'passphrase', 'pinEnv', 'pin']) {
    if (e[field] !== undefined && (typeof e[field] !== 'string' || e[field] === '')) throw invalid(where(field), 'it must be a non-empty string.');
  }
  if (e.primary !== undefined && typeof e.primary !== 'boolean') throw invalid(where('primary'), 'it must be true or false.');
  for (const field of ['minVersion', 'maxVersion']) {
    if (e[field] !== undefined && !TLS_VERSIONS.includes(e[field] as string)) throw invalid(where(field), `it must be one of ${TLS_VERSIONS.map((v) => JSON.stringify(v)).join(', ')} (e.g. "maxVersion": "TLSv1.2" for a server that asks for the certificate after the handshake).`);
  }
  if (e.primary === true && ++context.primaries > 1) throw invalid(where('primary'), 'only one certificate can be primary.');
  try {
    parseHostPattern(e.host, context.allowBroad);
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
  const entryCa = (): CaBundle[] => (e.ca === undefined ? [] : material.cas(e.ca, (i) => (i === undefined ? where('ca') : new Where(`${where('ca')}[${i}]`, where('ca').location))));
  if (isPkcs11Uri(e.key)) return planTokenEntry(e, index, name, where, entryCa, context);
  if (e.pin !== undefined || e.pinEnv !== undefined) throw invalid(where(e.pin !== undefined ? 'pin' : 'pinEnv'), 'a PIN goes with a "key" that is a PKCS#11 URI (pkcs11:...); a key file\'s password is "passphraseEnv".');
  const kinds = [given('cert').length + given('key').length > 0 ? 'cert' : undefined, given('pem').length > 0 ? 'pem' : undefined, given('pfx').length > 0 ? 'pfx' : undefined].filter(Boolean);
  if (kinds.length !== 1) throw invalid(where(), 'give exactly one of "cert" + "key", "pem" or "pfx" (file paths), or their environment forms "certEnv" + "keyEnv", "pemEnv", "pfxBase64Env".');
  const kind = kinds[0] as 'cert' | 'pem' | 'pfx';
  if (kind === 'cert' && (given('cert').length === 0 || given('key').length === 0)) throw invalid(where(given('cert').length === 0 ? 'cert' : 'key'), 'a certificate and its key go together: give both ("cert"/"certEnv" and "key"/"keyEnv").');
  const env = (field: string) => fromEnv(e[field] as string, field, where(field));
  const { value: passphrase, field: passphraseField } = secretOf(e, 'passphraseEnv', 'passphrase', where, context);
  const pass = passphrase === undefined ? {} : { passphrase };
  // Files are read by the material (not by the loader) so that an unreadable one names its own
  // field, after every entry's structure is checked.
  const read = (field: 'cert' | 'key' | 'pem' | 'pfx', what: string) => material.read(e[field] as string, what, where(field));
  const part = (fileField: string, envField: string) => (e[envField] !== undefined ? `env:${e[envField] as string}` : `file:${material.path(e[fileField] as string)}`);
  const sourceKey = [kind, ...(kind === 'pem' ? [part('pem', 'pemEnv')] : kind === 'pfx' ? [part('pfx', 'pfxBase64Env')] : [part('cert', 'certEnv'), part('key', 'keyEnv')]), passphrase ?? ''].join('\n');
  const source = (): CertificateSource =>
    kind === 'pem'
      ? { pem: e.pemEnv !== undefined ? env('pemEnv') : read('pem', 'PEM file'), ...pass }
      : kind === 'pfx'
        ? { pfx: e.pfxBase64Env !== undefined ? pfxFromEnv(e.pfxBase64Env as string, where('pfxBase64Env')) : read('pfx', 'PFX file'), ...pass }
        : { cert: e.certEnv !== undefined ? env('certEnv') : read('cert', 'certificate file'), key: e.keyEnv !== undefined ? env('keyEnv') : read('key', 'key file'), ...pass };
  const sourceField = (p: keyof typeof SOURCE_FIELDS) => given(p)[0] as string;
  const place = new EntryPlace(file, index, name, passphraseField, kind === 'cert' ? sourceField('key') : undefined, sourceField(kind));
  const fileParts: Partial<Record<FilePart, string>> = {};
  for (const p of ['pem', 'cert', 'key'] as const) if (typeof e[p] === 'string') fileParts[p] = material.path(e[p] as string);
  return { e, where, source, entryCa, sourceKey, place, fileParts };
}

/**
 * A secret of an entry (a passphrase, a PIN): from the environment variable `envField` names, or
 * inline in `inlineField` with a warning (it travels wherever the file goes); not both. The field
 * it came from names its load errors.
 */
function secretOf(e: Record<string, unknown>, envField: 'passphraseEnv' | 'pinEnv', inlineField: 'passphrase' | 'pin', where: (field?: string) => Where, context: PlanContext): { value?: string; field?: string } {
  let value: string | undefined;
  if (e[envField] !== undefined) {
    const variable = envName(e[envField] as string, where(envField));
    value = process.env[variable];
    if (value === undefined) throw invalid(where(envField), `the environment variable ${shownEnvName(variable, envField)} is not set.`);
  }
  if (e[inlineField] === undefined) return value === undefined ? {} : { value, field: envField };
  if (value !== undefined) throw invalid(where(inlineField), `give "${envField}" or "${inlineField}", not both.`);
  context.warnings.push(`${where(inlineField)}: an inline ${inlineField === 'pin' ? 'PIN' : 'passphrase'} ends up wherever this file goes; use "${envField}" with an environment variable instead.`);
  return { value: e[inlineField] as string, field: inlineField };
}

/**
 * An entry whose key is on a token: `"key": "pkcs11:..."` with `"pinEnv"` (or an inline `"pin"`,
 * with a warning), the certificate from `"cert"`/`"certEnv"` or from the token. Loaded at start,
 * lazy or not (the load is one login and one signature).
 */
function planTokenEntry(e: Record<string, unknown>, index: number, name: string | undefined, where: (field?: string) => Where, entryCa: () => CaBundle[], context: PlanContext): EntryPlan {
  const { material, file } = context;
  for (const field of ['pem', 'pfx', 'pemEnv', 'pfxBase64Env', 'keyEnv', 'passphrase', 'passphraseEnv']) {
    if (e[field] !== undefined) throw invalid(where(field), `a "key" that is a PKCS#11 URI goes with "cert" or "certEnv" (or neither: the certificate is read from the token) and "pinEnv", not "${field}".`);
  }
  const { value: pin, field: pinField } = secretOf(e, 'pinEnv', 'pin', where, context);
  if (/[?&]pin-value=/i.test(e.key as string)) context.warnings.push(`${where('key')}: the URI holds the PIN (pin-value), which ends up wherever this file goes; use "pinEnv" instead.`);
  const uri = e.key as string;
  const cert = (): { cert?: string | Uint8Array } =>
    e.certEnv !== undefined ? { cert: fromEnv(e.certEnv as string, 'certEnv', where('certEnv')) } : e.cert !== undefined ? { cert: material.read(e.cert as string, 'certificate file', where('cert')) } : {};
  const sourceKey = ['pkcs11', e.certEnv !== undefined ? `env:${e.certEnv as string}` : e.cert !== undefined ? `file:${material.path(e.cert as string)}` : 'token', uri, pin ?? ''].join('\n');
  const source = (): CertificateSource => ({ ...cert(), key: uri, ...(pin === undefined ? {} : { pin }) }) as CertificateSource;
  const place = new EntryPlace(file, index, name, pinField, 'key', e.certEnv !== undefined ? 'certEnv' : 'cert');
  return { e, where, source, entryCa, sourceKey, place, fileParts: {} };
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
