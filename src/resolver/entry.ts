import { MtlsError } from '../errors.js';
import { parseHostPattern, type HostPattern } from './pattern.js';
import type { CertificateEntry, PortRule } from './types.js';

/** An entry validated once, with what ranking needs precomputed. */
export interface PreparedEntry<C> {
  entry: CertificateEntry<C>;
  pattern: HostPattern;
  /** `undefined`: port omitted (443 only). */
  port: PortRule | undefined;
  /** R5.2: explicit number 2, omitted 1, `'*'` 0. */
  portRank: number;
  /** R5.1: exact hosts above every glob; globs by literal characters. */
  hostRank: number;
  notBefore: number;
  notAfter: number;
  /**
   * What a host found by the index's key must start with, its key being at the host's start (an
   * exact host: '') or at a dot (a glob whose every alternative is this literal, `*`, and its key
   * suffix: '' for `*.acme.com`, 'api-' for `api-*.acme.com`); undefined when the pattern must be
   * tested.
   */
  keyPrefix: string | undefined;
}

/** PreparedEntry.keyPrefix of a pattern. */
function keyPrefixOf(pattern: HostPattern): string | undefined {
  if (pattern.kind === 'exact') return '';
  let prefix: string | undefined;
  for (const { text, suffix } of pattern.alternatives) {
    if (suffix === undefined || text.length <= suffix.length || !text.endsWith(suffix)) return undefined;
    const head = text.slice(0, text.length - suffix.length);
    if (!head.endsWith('*') || /[*?[\]]/.test(head.slice(0, -1)) || (prefix !== undefined && prefix !== head.slice(0, -1))) return undefined;
    prefix = head.slice(0, -1);
  }
  return prefix;
}

/** Names an entry in messages: its name and id, never its certificate. */
export function label(entry: { id?: unknown; name?: unknown }): string {
  const id = JSON.stringify(String(entry.id));
  return typeof entry.name === 'string' && entry.name !== '' ? `${JSON.stringify(entry.name)} (id ${id})` : `id ${id}`;
}

/**
 * R4, the one port rule of every entry point (store, config, resolver): a whole number from 1 to
 * 65535, `'*'`, or nothing (443 only). A numeric string such as `"8443"` is refused everywhere,
 * so that the same entry never means one thing in code and another in a config file.
 * @param where names the entry (and field) in the message.
 * @throws {MtlsError} `ERR_INVALID_PORT`.
 */
export function parsePortRule(port: unknown, where: string): PortRule | undefined {
  if (port === undefined) return undefined;
  if (port === '*') return '*';
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return port;
  const hint = typeof port === 'string' && /^\d{1,5}$/.test(port) ? ` (a number, not the string ${JSON.stringify(port)})` : '';
  throw new MtlsError(
    'ERR_INVALID_PORT',
    `${where} has port ${JSON.stringify(port) ?? String(port)}: write a number from 1 to 65535${hint}, '*' for any port, or leave it out for 443 only.`,
  );
}

export function time(entry: CertificateEntry<unknown>, field: 'notBefore' | 'notAfter', missing: number): number {
  const value = entry[field];
  if (value === undefined || value === null) return missing;
  const ms = value instanceof Date ? value.getTime() : NaN;
  if (Number.isNaN(ms)) {
    throw new MtlsError('ERR_INVALID_ENTRY', `Entry ${label(entry)} has an invalid ${field}: give a valid Date or leave it out.`);
  }
  return ms;
}

/**
 * Validates one entry (R3, R4) and precomputes its ranks.
 * @throws {MtlsError} `ERR_INVALID_ENTRY`, `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`.
 */
export function prepareEntry<C>(entry: CertificateEntry<C>, allowBroadPatterns: boolean, parsed?: HostPattern): PreparedEntry<C> {
  if (typeof entry !== 'object' || entry === null) {
    throw new MtlsError('ERR_INVALID_ENTRY', 'Each certificate entry must be an object with id, host, order and certificate.');
  }
  if (typeof entry.id !== 'string' || entry.id === '') {
    throw new MtlsError('ERR_INVALID_ENTRY', `Entry ${label(entry)} needs an id: a non-empty string, unique among the entries.`);
  }
  if (typeof entry.order !== 'number' || !Number.isFinite(entry.order)) {
    throw new MtlsError('ERR_INVALID_ENTRY', `Entry ${label(entry)} needs an order: a finite number, higher for entries added later.`);
  }
  let pattern: HostPattern;
  try {
    pattern = parsed ?? parseHostPattern(entry.host, allowBroadPatterns);
  } catch (err) {
    const message = err instanceof MtlsError ? err.message : String(err);
    throw new MtlsError('ERR_INVALID_HOST_PATTERN', `Entry ${label(entry)}: ${message}`, { cause: err });
  }
  const port = parsePortRule(entry.port, `Entry ${label(entry)}`);
  return {
    entry,
    pattern,
    port,
    portRank: port === undefined ? 1 : port === '*' ? 0 : 2,
    // Exact hosts rank above every glob: no glob has more than 253 literal characters.
    hostRank: pattern.kind === 'exact' ? 1_000_000 : pattern.literalCount,
    notBefore: time(entry, 'notBefore', -Infinity),
    notAfter: time(entry, 'notAfter', Infinity),
    keyPrefix: keyPrefixOf(pattern),
  };
}

/** R4: does the entry's port rule cover `port`? */
export function portMatches(p: PreparedEntry<unknown>, port: number): boolean {
  return p.port === '*' || (p.port === undefined ? port === 443 : p.port === port);
}

/** R6: is the certificate valid at `now` (ms)? */
export function isValidAt(p: PreparedEntry<unknown>, now: number): boolean {
  return now >= p.notBefore && now <= p.notAfter;
}

/**
 * R5 as a comparator: negative when `a` ranks above `b`. Host, then port, then recency; the
 * id breaks the last tie so that the result never depends on array order.
 */
export function compareRank(a: PreparedEntry<unknown>, b: PreparedEntry<unknown>): number {
  return (
    b.hostRank - a.hostRank ||
    b.portRank - a.portRank ||
    b.entry.order - a.entry.order ||
    (a.entry.id < b.entry.id ? 1 : a.entry.id > b.entry.id ? -1 : 0)
  );
}
