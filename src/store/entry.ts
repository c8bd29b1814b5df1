// The store's entries: what add() and replace() take, how they are checked, the frozen entry made
// from them, and how JSON shows one (no key, no passphrase).
import { MtlsError } from '../errors.js';
import { caListOf, caText, isCaBundle } from '../loader/ca-list.js';
import { IS_LOADED, isDeferred } from '../loader/deferred.js';
import type { CaBundle, LoadedCertificate } from '../loader/types.js';
import type { SecureVersion } from 'node:tls';
import type { CertificateEntry, PortRule } from '../resolver/types.js';

/** The TLS versions Node names (a bound outside them is refused when the entry is added). */
export const TLS_VERSIONS: readonly string[] = ['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1'];

/** What {@link CertificateStore.add} takes. */
export interface StoreEntryInput {
  host: string;
  port?: PortRule;
  name?: string;
  primary?: boolean;
  /** A certificate from `loadCertificate`. */
  certificate: LoadedCertificate;
  /** A stable id of your own; default: one the store makes (`cert-1`, `cert-2`, ...). */
  id?: string;
  /**
   * CAs that verify the server of the origins this entry is chosen for, added to Node's default
   * roots and to the adapter's (or the store's) `ca`. Connections are never shared between
   * entries of different trust.
   */
  ca?: CaBundle | CaBundle[];
  /**
   * TLS version bounds for the origins this entry is chosen for (`'TLSv1.2'`, `'TLSv1.3'`), over
   * the adapter's: e.g. `maxVersion: 'TLSv1.2'` for a server that asks for the client certificate
   * after the handshake (TLS 1.3 post-handshake authentication, which Node does not offer).
   */
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
}

/**
 * An entry of the store: the resolver's entry for a loaded certificate, and the CAs that verify
 * the servers it is chosen for (added to Node's roots and the adapter's `ca`).
 */
export interface StoreEntry extends CertificateEntry<LoadedCertificate> {
  readonly ca?: readonly CaBundle[];
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
}

/** Defaults the adapters use when their caller passes none (a config file's `ca` and `rejectUnauthorized`). */
export interface StoreDefaults {
  ca?: CaBundle | CaBundle[];
  rejectUnauthorized?: boolean;
  /** Accept broad globs such as `*.com` (R3). Default: false. */
  allowBroadPatterns?: boolean;
  /** The `expiring` event comes this many days before a certificate's notAfter. Default: 30. */
  expiryWarningDays?: number;
}

/** An input's CAs as the entry keeps them: undefined for none. */
function caOf(input: StoreEntryInput): readonly CaBundle[] | undefined {
  const list = caListOf(input.ca);
  return list.length === 0 ? undefined : Object.freeze(list.slice());
}

/** What is wrong with an add()/replace() input (after the caller's `where`), or undefined when nothing is. */
export function inputProblem(input: StoreEntryInput): string | undefined {
  if (typeof input !== 'object' || input === null) return ' takes { host, port?, name?, primary?, certificate }.';
  if (!isLoadedCertificate(input.certificate)) return ': certificate must be a LoadedCertificate: load it with loadCertificate() first.';
  if (input.name !== undefined && typeof input.name !== 'string') return ': name must be a string.';
  if (input.id !== undefined && (typeof input.id !== 'string' || input.id === '')) return ': id must be a non-empty string.';
  if (!caListOf(input.ca).every(isCaBundle)) return ': ca must be a CA bundle from loadCaBundle(), or an array of them.';
  for (const field of ['minVersion', 'maxVersion'] as const) {
    const v = input[field];
    if (v !== undefined && !TLS_VERSIONS.includes(v)) return `: ${field} must be one of ${TLS_VERSIONS.map((t) => `'${t}'`).join(', ')}.`;
  }
  return undefined;
}

/** Checks what add() and replace() take, before anything changes. */
export function checkInput(input: StoreEntryInput, where: string): void {
  const problem = inputProblem(input);
  if (problem !== undefined) throw new MtlsError('ERR_INVALID_ENTRY', `${where}${problem}`);
}

export function checkDefaults(defaults: StoreDefaults): void {
  const bad = (message: string) => new MtlsError('ERR_INVALID_OPTION', `The store's defaults: ${message}`);
  if (typeof defaults !== 'object' || defaults === null) throw bad('give an object { ca?, rejectUnauthorized?, allowBroadPatterns? }.');
  if (defaults.rejectUnauthorized !== undefined && typeof defaults.rejectUnauthorized !== 'boolean') throw bad('rejectUnauthorized must be true or false.');
  if (defaults.allowBroadPatterns !== undefined && typeof defaults.allowBroadPatterns !== 'boolean') throw bad('allowBroadPatterns must be true or false.');
  if (defaults.expiryWarningDays !== undefined && !(typeof defaults.expiryWarningDays === 'number' && defaults.expiryWarningDays >= 0)) throw bad('expiryWarningDays must be a number of days, 0 or more.');
  if (!caListOf(defaults.ca).every(isCaBundle)) throw bad('ca must be a CA bundle from loadCaBundle(), or an array of them.');
}

/** Same trust settings (the CAs compared by their PEM text: a reloaded file is the same CA). */
export function sameDefaults(a: StoreDefaults, b: StoreDefaults): boolean {
  return a.rejectUnauthorized === b.rejectUnauthorized && a.expiryWarningDays === b.expiryWarningDays && (a.allowBroadPatterns === true) === (b.allowBroadPatterns === true) && caText(a.ca) === caText(b.ca);
}

function isLoadedCertificate(value: unknown): value is LoadedCertificate {
  const v = value as Partial<LoadedCertificate> | null;
  // A lazy certificate is not loaded to be checked (its `tls` would load it).
  return isDeferred(v) || (typeof v === 'object' && v !== null && typeof v.fingerprint256 === 'string' && typeof v.tls?.cert === 'string' && (typeof v.tls.key === 'string' || typeof v.tls.privateKeyIdentifier === 'string'));
}

/** The frozen entry for an input, as add() and replace() make it. */
export function entryOf(input: StoreEntryInput, id: string, order: number, primary: boolean): StoreEntry {
  const ca = caOf(input);
  return Object.freeze({
    id,
    host: input.host,
    order,
    certificate: input.certificate,
    notBefore: input.certificate.notBefore,
    notAfter: input.certificate.notAfter,
    ...(input.port === undefined ? {} : { port: input.port }),
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(primary ? { primary: true } : {}),
    ...(ca === undefined ? {} : { ca }),
    ...(input.minVersion === undefined ? {} : { minVersion: input.minVersion }),
    ...(input.maxVersion === undefined ? {} : { maxVersion: input.maxVersion }),
  });
}

/** An entry as JSON shows it: no key, no passphrase; its CAs by subject. */
export function publicEntry(entry: StoreEntry): Record<string, unknown> {
  const { certificate, ca, ...rest } = entry;
  // A lazy certificate not yet loaded is shown by what is known, not loaded to be shown.
  const names = isDeferred(certificate) && !certificate[IS_LOADED]() ? { loaded: false } : { subject: certificate.subject, issuer: certificate.issuer };
  return {
    ...rest,
    ...(ca === undefined ? {} : { ca: ca.flatMap((bundle) => bundle.certificates.map((c) => c.subject)) }),
    certificate: {
      ...names,
      fingerprint256: certificate.fingerprint256,
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      status: certificate.status,
    },
  };
}

/** A change of the store, as the `change` event reports it. */
export type StoreChange =
  | { type: 'add'; entry: StoreEntry }
  | { type: 'remove'; entry: StoreEntry }
  | { type: 'rename'; entry: StoreEntry; previousName: string | undefined }
  | { type: 'primary'; entry: StoreEntry | undefined; previous: StoreEntry | undefined }
  | ({ type: 'replace' } & StoreReplacement);

/** What {@link CertificateStore.replace} did (also the `replace` change). */
export interface StoreReplacement {
  /** Entries that are new (a new certificate, host, port or name), in the order given. */
  added: StoreEntry[];
  /** Entries that are gone. */
  removed: StoreEntry[];
  /** Entries carried over: same id and certificate, so their connections stay open (their order or primary flag may have changed). */
  kept: StoreEntry[];
  /** The store's defaults (`ca`, `rejectUnauthorized`, `allowBroadPatterns`, `expiryWarningDays`) were replaced. */
  defaultsChanged: boolean;
}
