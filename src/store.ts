import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { readConfig, type ConfigOptions, type MtlsConfig } from './config.js';
import { MtlsError } from './errors.js';
import { notifyFollowers } from './follow.js';
import { ownFields } from './own.js';
import { IS_LOADED, LOAD_NOW, isDeferred } from './loader/deferred.js';
import type { CaBundle, LoadedCertificate } from './loader/types.js';
import { prepareEntry } from './resolver/entry.js';
import type { HostPattern } from './resolver/host.js';
import { ResolverIndex } from './resolver/indexed.js';
import type { CertificateEntry, Explanation, Match, PortRule, RequestTarget, ResolveOptions } from './resolver/types.js';

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

/** What the `expiring` and `expired` events carry. */
export interface ExpiryEvent {
  entry: StoreEntry;
  notAfter: Date;
  /** Whole days left (negative once expired). */
  daysLeft: number;
}

const DAY = 86_400_000;
const MAX_TIMER = 2 ** 31 - 1;

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
  /** The store's defaults (`ca`, `rejectUnauthorized`, `allowBroadPatterns`) were replaced. */
  defaultsChanged: boolean;
}

/**
 * An entry of the store: the resolver's entry for a loaded certificate, and the CAs that verify
 * the servers it is chosen for (added to Node's roots and the adapter's `ca`).
 */
export interface StoreEntry extends CertificateEntry<LoadedCertificate> {
  readonly ca?: readonly CaBundle[];
}

type Entry = StoreEntry;

/** A `ca` field (one bundle, a list, or none) as a list. */
function caListOf(ca: CaBundle | readonly CaBundle[] | undefined): readonly CaBundle[] {
  return ca === undefined ? [] : Array.isArray(ca) ? (ca as readonly CaBundle[]) : [ca as CaBundle];
}

/** An input's CAs as the entry keeps them: undefined for none. */
function caOf(input: StoreEntryInput): readonly CaBundle[] | undefined {
  const list = caListOf(input.ca);
  return list.length === 0 ? undefined : Object.freeze(list.slice());
}

/** CAs as text, for comparing trust ('' for none): a reloaded file is the same CA. */
function caText(ca: CaBundle | readonly CaBundle[] | undefined): string {
  return caListOf(ca).map((c) => c.pem).join('\n');
}

/** What makes an entry the same across a replace: its certificate, host, port, name and CAs. */
function contentKey(e: { certificate: LoadedCertificate; host: string; port?: PortRule; name?: string; ca?: CaBundle | readonly CaBundle[] }): string {
  return `${e.certificate.fingerprint256}\n${e.host}\n${e.port ?? ''}\n${e.name ?? ''}\n${caText(e.ca)}`;
}

function sameContent(e: Entry, input: StoreEntryInput): boolean {
  return (
    e.host === input.host &&
    e.port === input.port &&
    e.name === input.name &&
    (e.certificate === input.certificate || e.certificate.fingerprint256 === input.certificate.fingerprint256) &&
    (e.ca === input.ca || caText(e.ca) === caText(input.ca))
  );
}

/** What is wrong with an add()/replace() input (after the caller's `where`), or undefined when nothing is. */
function inputProblem(input: StoreEntryInput): string | undefined {
  if (typeof input !== 'object' || input === null) return ' takes { host, port?, name?, primary?, certificate }.';
  if (!isLoadedCertificate(input.certificate)) return ': certificate must be a LoadedCertificate: load it with loadCertificate() first.';
  if (input.name !== undefined && typeof input.name !== 'string') return ': name must be a string.';
  if (input.id !== undefined && (typeof input.id !== 'string' || input.id === '')) return ': id must be a non-empty string.';
  if (!caListOf(input.ca).every(isCaBundle)) return ': ca must be a CA bundle from loadCaBundle(), or an array of them.';
  return undefined;
}

/** Checks what add() and replace() take, before anything changes. */
function checkInput(input: StoreEntryInput, where: string): void {
  const problem = inputProblem(input);
  if (problem !== undefined) throw new MtlsError('ERR_INVALID_ENTRY', `${where}${problem}`);
}

function isCaBundle(value: unknown): value is CaBundle {
  return typeof (value as Partial<CaBundle> | null)?.pem === 'string';
}

/** A defaults object's CA bundles as a list. */
export function caBundlesOf(defaults: StoreDefaults): readonly CaBundle[] {
  return caListOf(defaults.ca);
}

function checkDefaults(defaults: StoreDefaults): void {
  const bad = (message: string) => new MtlsError('ERR_INVALID_OPTION', `The store's defaults: ${message}`);
  if (typeof defaults !== 'object' || defaults === null) throw bad('give an object { ca?, rejectUnauthorized?, allowBroadPatterns? }.');
  if (defaults.rejectUnauthorized !== undefined && typeof defaults.rejectUnauthorized !== 'boolean') throw bad('rejectUnauthorized must be true or false.');
  if (defaults.allowBroadPatterns !== undefined && typeof defaults.allowBroadPatterns !== 'boolean') throw bad('allowBroadPatterns must be true or false.');
  if (defaults.expiryWarningDays !== undefined && !(typeof defaults.expiryWarningDays === 'number' && defaults.expiryWarningDays >= 0)) throw bad('expiryWarningDays must be a number of days, 0 or more.');
  if (!caBundlesOf(defaults).every(isCaBundle)) throw bad('ca must be a CA bundle from loadCaBundle(), or an array of them.');
}

/** Same trust settings (the CAs compared by their PEM text: a reloaded file is the same CA). */
function sameDefaults(a: StoreDefaults, b: StoreDefaults): boolean {
  return a.rejectUnauthorized === b.rejectUnauthorized && a.expiryWarningDays === b.expiryWarningDays && (a.allowBroadPatterns === true) === (b.allowBroadPatterns === true) && caText(a.ca) === caText(b.ca);
}

/** Positions (in `values`) of one longest strictly increasing subsequence: O(n log n). */
function longestIncreasing(values: number[]): Set<number> {
  const tails: number[] = []; // tails[k]: index of the smallest last value of an increasing run of length k + 1
  const previous = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[tails[mid]!]! < values[i]!) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const kept = new Set<number>();
  for (let i = tails.length === 0 ? -1 : tails[tails.length - 1]!; i !== -1; i = previous[i]!) kept.add(i);
  return kept;
}

/** An entry as JSON shows it: no key, no passphrase; its CAs by subject. */
function publicEntry(entry: StoreEntry): Record<string, unknown> {
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

function isLoadedCertificate(value: unknown): value is LoadedCertificate {
  const v = value as Partial<LoadedCertificate> | null;
  // A lazy certificate is not loaded to be checked (its `tls` would load it).
  return isDeferred(v) || (typeof v === 'object' && v !== null && typeof v.fingerprint256 === 'string' && typeof v.tls?.cert === 'string' && typeof v.tls.key === 'string');
}

/**
 * The registry of client certificates the adapters read: add, remove, rename, mark one primary,
 * resolve. Certificate material is immutable (replace = add the new one, remove the old), at most
 * one entry is primary, ids are unique and stable, and every change emits `change`.
 *
 * @example
 * ```ts
 * const store = new CertificateStore();
 * const api = store.add({ host: 'api.acme.com', certificate: await loadCertificate({ pfxFile: 'api.p12', passphrase }) });
 * store.add({ host: '*.acme.com', port: 8443, name: 'ACME admin', certificate: admin });
 * store.resolve('https://api.acme.com/v1')?.entry.id === api.id; // true
 * store.on('change', (change) => console.log(change.type));
 * ```
 */
export class CertificateStore extends EventEmitter {
  #index: ResolverIndex<LoadedCertificate>;
  readonly #entries = new Map<string, StoreEntry>();
  /** The entries in order, kept between changes (replace sets it; add, remove and edits clear it). */
  #ordered: Entry[] | undefined;
  #order = 0;
  #generation = 0;
  #defaults: Readonly<StoreDefaults>;

  constructor(defaults: StoreDefaults = {}) {
    super();
    this.#defaults = Object.freeze(ownFields(defaults));
    this.#index = new ResolverIndex<LoadedCertificate>({ allowBroadPatterns: this.#defaults.allowBroadPatterns === true });
  }

  /** Defaults for the adapters (from a config file, or given here); `replace` can change them. */
  get defaults(): Readonly<StoreDefaults> {
    return this.#defaults;
  }

  /**
   * A store from a certs.json file (paths relative to the file) or a config object (paths relative
   * to the current directory). File order is insertion order; `ca` and `rejectUnauthorized` become
   * the store's defaults. Everything is loaded and checked first: a bad entry loads nothing, and
   * the error names the entry (index and name) and the field. Warnings (an inline passphrase, a
   * certificate expiring soon...) go to `process.emitWarning`. With `{ lazy: true }` each
   * certificate is parsed when first needed instead (see {@link ConfigOptions.lazy} and
   * {@link CertificateStore.validate}).
   *
   * @example
   * ```ts
   * const store = await CertificateStore.fromConfig('./certs.json');
   * const fetch = createFetch(store);
   * ```
   */
  static async fromConfig(fileOrObject: string | MtlsConfig, options?: ConfigOptions): Promise<CertificateStore> {
    const { store, warnings } = await storeFromConfig(fileOrObject, options);
    emitConfigWarnings(warnings);
    return store;
  }

  /** Increases on every change; adapters use it to drop what they cached. */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Loads every certificate that a lazy config left for first use (`fromConfig(file, { lazy: true })`)
   * and throws the first error in entry order, as the eager load would have: the same
   * all-or-nothing check, when the caller chooses to pay for it. Loaded certificates cost nothing.
   * Yields to the event loop about every 20 ms, so that a large store does not block it.
   *
   * @throws {MtlsError} The load error of the first entry that fails, naming its entry and field.
   */
  async validate(): Promise<void> {
    let slice = performance.now();
    for (const entry of this.list()) {
      if (isDeferred(entry.certificate)) entry.certificate[LOAD_NOW]();
      if (performance.now() - slice > 20) {
        await new Promise(setImmediate);
        slice = performance.now();
      }
    }
  }

  /**
   * Adds a certificate for a host pattern (and port). Setting `primary` clears the previous primary.
   * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`, `ERR_INVALID_ENTRY`.
   */
  add(input: StoreEntryInput): StoreEntry {
    checkInput(input, 'add()');
    const order = ++this.#order;
    const id = input.id ?? this.#nextId(order);
    if (this.#entries.has(id)) throw new MtlsError('ERR_INVALID_ENTRY', `The id ${JSON.stringify(id)} is already in the store: ids must be unique.`);
    const entry = entryOf(input, id, order, false); // primary through setPrimary below, which reports it
    this.#index.add(entry); // validates host and port before anything changes
    this.#entries.set(id, entry);
    this.#ordered = undefined;
    this.#changed({ type: 'add', entry });
    if (input.primary === true) this.setPrimary(id);
    return this.#entries.get(id)!;
  }

  #nextId(order: number, taken?: Set<string>): string {
    let id = `cert-${order}`;
    for (let n = 2; this.#entries.has(id) || taken?.has(id) === true; n++) id = `cert-${order}-${n}`;
    return id;
  }

  /**
   * Swaps the whole content of the store in one step: afterwards it holds exactly `entries`, in
   * that order (the later one wins a tie, as in a config file), and `defaults` if given. An entry
   * whose certificate (fingerprint), host, port, name and CAs are unchanged keeps its id and its
   * connections; the others are added or removed. One `change` event (`type: 'replace'`) reports
   * it, and none when nothing changed. Everything is checked first: an invalid entry changes
   * nothing. Requests in flight finish with what they started with; the next one sees the new
   * content, and no state in between is ever visible.
   *
   * @throws {MtlsError} `ERR_INVALID_ENTRY`, `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`.
   *
   * @example
   * ```ts
   * const { entries, defaults } = await readConfig('./certs.json');
   * const { added, removed, kept } = store.replace(entries, defaults);
   * ```
   */
  replace(entries: readonly StoreEntryInput[], defaults?: StoreDefaults): StoreReplacement {
    if (!Array.isArray(entries)) throw new MtlsError('ERR_INVALID_ENTRY', 'replace() takes an array of { host, port?, name?, primary?, certificate, id? }.');
    if (defaults !== undefined) checkDefaults(defaults);
    const given = defaults === undefined ? undefined : ownFields(defaults);
    const nextDefaults = given === undefined || sameDefaults(given, this.#defaults) ? this.#defaults : Object.freeze(given);
    const allowBroad = nextDefaults.allowBroadPatterns === true;
    const rebuild = allowBroad !== (this.#defaults.allowBroadPatterns === true);
    // 1. Check every input; ids given explicitly are reserved for their input.
    const explicit = new Set<string>();
    let primaries = 0;
    for (let i = 0; i < entries.length; i++) {
      const input = entries[i]!;
      if (inputProblem(input) !== undefined) checkInput(input, `replace(): entries[${i}]`); // the message built only for an error
      if (input.id !== undefined) {
        if (explicit.has(input.id)) throw new MtlsError('ERR_INVALID_ENTRY', `replace(): entries[${i}]: the id ${JSON.stringify(input.id)} is given twice; ids must be unique.`);
        explicit.add(input.id);
      }
      if (input.primary === true && ++primaries > 1) throw new MtlsError('ERR_INVALID_ENTRY', `replace(): entries[${i}]: only one entry can be primary.`);
    }
    // 2. Match each input to an entry with the same content. Fast path: the entry at the same
    // position of the current list (a reload of a mostly unchanged list costs one comparison per
    // entry); the rest by content (its own id first, if it gives one).
    const current = this.#list();
    const kept = new Array<Entry | undefined>(entries.length);
    let moved = false;
    for (let i = 0; i < entries.length; i++) {
      const old = current[i];
      const input = entries[i]!;
      if (old !== undefined && sameContent(old, input) && (input.id === undefined ? explicit.size === 0 || !explicit.has(old.id) : input.id === old.id)) kept[i] = old;
      else moved = true;
    }
    const removed: Entry[] = [];
    if (moved) {
      const byKey = new Map<string, Entry[]>();
      const free = current.filter((e, i) => kept[i] !== e);
      const freeIds = new Set(free.map((e) => e.id));
      for (const e of free) {
        if (explicit.has(e.id)) continue;
        const key = contentKey(e);
        const list = byKey.get(key);
        if (list === undefined) byKey.set(key, [e]);
        else list.push(e);
      }
      const claimed = new Set<string>();
      entries.forEach((input, i) => {
        if (kept[i] !== undefined) return;
        const key = contentKey(input);
        const own = input.id === undefined ? undefined : this.#entries.get(input.id);
        const found = input.id !== undefined ? (own !== undefined && freeIds.has(own.id) && contentKey(own) === key ? own : undefined) : byKey.get(key)?.shift();
        if (found !== undefined) claimed.add(found.id);
        kept[i] = found;
      });
      for (const e of free) if (!claimed.has(e.id)) removed.push(e);
    } else {
      for (let i = entries.length; i < current.length; i++) removed.push(current[i]!);
    }
    // 3. Validate what is new (and everything when the pattern rules change) before changing
    // anything; the parsed patterns go to the index as they are.
    const patterns = new Array<HostPattern | undefined>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      if (kept[i] !== undefined && !rebuild) continue;
      const input = entries[i]!;
      patterns[i] = prepareEntry({ id: input.id ?? 'new', host: input.host, order: 0, certificate: input.certificate, ...(input.port === undefined ? {} : { port: input.port }) }, allowBroad).pattern;
    }
    // 4. Orders: kept entries keep theirs where they are already in sequence; the others fit between.
    const orders = this.#ordersFor(kept, moved);
    // 5. Apply.
    if (rebuild) this.#index = new ResolverIndex<LoadedCertificate>({ allowBroadPatterns: allowBroad });
    for (const e of removed) {
      if (!rebuild) this.#index.remove(e.id);
      this.#entries.delete(e.id);
    }
    const result: StoreReplacement = { added: [], removed, kept: [], defaultsChanged: nextDefaults !== this.#defaults };
    let changed = removed.length > 0 || result.defaultsChanged;
    const taken = explicit; // and every id in #entries, which #nextId checks
    const ordered = new Array<Entry>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const input = entries[i]!;
      const old = kept[i];
      const order = orders[i]!;
      if (old !== undefined) {
        const primary = input.primary === true;
        let entry = old;
        if (old.order !== order || (old.primary === true) !== primary) {
          const { primary: _dropped, ...rest } = old;
          entry = freeze({ ...rest, order, ...(primary ? { primary: true } : {}) });
          changed = true;
        }
        if (rebuild) this.#index.add(entry, patterns[i]);
        else if (entry !== old) this.#index.update(entry);
        if (entry !== old) this.#entries.set(entry.id, entry);
        result.kept.push((ordered[i] = entry));
        continue;
      }
      const entry = entryOf(input, input.id ?? this.#nextId(++this.#order, taken), order, input.primary === true);
      taken.add(entry.id);
      this.#index.add(entry, patterns[i]);
      this.#entries.set(entry.id, entry);
      result.added.push((ordered[i] = entry));
      changed = true;
    }
    this.#ordered = ordered; // the orders increase along the list
    this.#defaults = nextDefaults;
    if (changed) this.#changed({ type: 'replace', ...result });
    return result;
  }

  /**
   * The orders of the entries of a replace, in list order and strictly increasing: the kept entries
   * of one longest run already in order keep theirs (no re-indexing), the others take free numbers
   * between; when there is no room, everything is numbered anew after the current highest order.
   */
  #ordersFor(kept: Array<Entry | undefined>, moved: boolean): number[] {
    // Without moves, the kept entries sit at their own positions of the ordered list: already in sequence.
    const fixed = new Float64Array(kept.length).fill(NaN); // the order kept at each position, NaN for none
    let increasing = true;
    for (let i = 0, last = -Infinity; i < kept.length && increasing; i++) {
      const e = kept[i];
      if (e === undefined) continue;
      if (e.order <= last) increasing = false;
      last = e.order;
    }
    if (!moved || increasing) {
      for (let i = 0; i < kept.length; i++) if (kept[i] !== undefined) fixed[i] = kept[i]!.order; // nothing moved
    } else {
      const keptAt: number[] = [];
      for (let i = 0; i < kept.length; i++) if (kept[i] !== undefined) keptAt.push(i);
      const run = longestIncreasing(keptAt.map((i) => kept[i]!.order));
      for (const k of run) fixed[keptAt[k]!] = kept[keptAt[k]!]!.order;
    }
    const orders = new Array<number>(kept.length);
    let prev = 0;
    let room = true;
    for (let i = 0; i < kept.length && room; ) {
      const own = fixed[i]!;
      if (!Number.isNaN(own)) {
        orders[i] = prev = own;
        i++;
        continue;
      }
      let end = i; // the gap: positions i..end-1 need numbers between prev and the next fixed order
      while (end < kept.length && Number.isNaN(fixed[end]!)) end++;
      const next = end < kept.length ? fixed[end]! : Infinity;
      if (next - prev - 1 < end - i) room = false;
      for (; i < end; i++) orders[i] = ++prev;
    }
    if (!room) for (let i = 0; i < kept.length; i++) orders[i] = this.#order + 1 + i;
    this.#order = Math.max(this.#order, ...orders.slice(-1), 0);
    return orders;
  }

  /** Removes an entry; false when there is none with this id. */
  remove(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#index.remove(id);
    this.#entries.delete(id);
    this.#ordered = undefined;
    this.#changed({ type: 'remove', entry });
    return true;
  }

  /** Renames an entry (its certificate stays as it is). @throws {MtlsError} `ERR_CERTIFICATE_NOT_FOUND`. */
  rename(id: string, name: string): void {
    if (typeof name !== 'string' || name === '') throw new MtlsError('ERR_INVALID_ENTRY', 'A name must be a non-empty string.');
    const entry = this.#require(id);
    const renamed = this.#replace(entry, { ...entry, name });
    this.#changed({ type: 'rename', entry: renamed, previousName: entry.name });
  }

  /**
   * Makes this entry the primary one, used when nothing matches and the adapter has
   * `fallbackToPrimary` (R7); the previous primary loses that status. `null` clears it.
   * @throws {MtlsError} `ERR_CERTIFICATE_NOT_FOUND`.
   */
  setPrimary(id: string | null): void {
    const previous = [...this.#entries.values()].find((e) => e.primary === true);
    const next = id === null ? undefined : this.#require(id);
    if (previous === next) return;
    if (previous !== undefined) {
      const { primary: _dropped, ...rest } = previous;
      this.#replace(previous, rest);
    }
    const entry = next === undefined ? undefined : this.#replace(next, { ...next, primary: true });
    this.#changed({ type: 'primary', entry, previous: previous === undefined ? undefined : this.#entries.get(previous.id) });
  }

  get(id: string): StoreEntry | undefined {
    return this.#entries.get(id);
  }

  /** Every entry, in insertion order. */
  list(): StoreEntry[] {
    return this.#list().slice();
  }

  #list(): Entry[] {
    return (this.#ordered ??= [...this.#entries.values()].sort((a, b) => a.order - b.order));
  }

  /** The entry for `target` by rules R1-R7 (see `resolveCertificate`). */
  resolve(target: RequestTarget, options?: ResolveOptions): Match<LoadedCertificate> | undefined {
    return this.#index.resolve(target, options);
  }

  /** Every usable entry for `target`, best first. */
  rank(target: RequestTarget, options?: ResolveOptions): Match<LoadedCertificate>[] {
    return this.#index.rank(target, options);
  }

  /** Every entry's verdict for `target`, and why. */
  explain(target: RequestTarget, options?: ResolveOptions): Explanation<LoadedCertificate> {
    return this.#index.explain(target, options);
  }

  override on(event: 'change', listener: (change: StoreChange) => void): this;
  /** `expiring`: an entry's certificate is within `expiryWarningDays` of its notAfter; `expired`: it is past it. Once per entry and kind. */
  override on(event: 'expiring' | 'expired', listener: (event: ExpiryEvent) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'expiring' || event === 'expired') this.#scheduleExpiry();
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override off(event: string | symbol, listener: (...args: any[]) => void): this {
    super.off(event, listener);
    if (event === 'expiring' || event === 'expired') this.#scheduleExpiry();
    return this;
  }

  /** The entries without key material: what JSON.stringify(store) shows. */
  toJSON(): { size: number; entries: Record<string, unknown>[] } {
    return { size: this.size, entries: this.list().map(publicEntry) };
  }

  [inspect.custom](depth: number, options: object): string {
    return `CertificateStore ${inspect(this.toJSON(), { ...options, depth: depth - 1 })}`;
  }

  #require(id: string): StoreEntry {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      throw new MtlsError('ERR_CERTIFICATE_NOT_FOUND', `No certificate in the store has the id ${JSON.stringify(id)}; list() shows the ids.`);
    }
    return entry;
  }

  /** Swaps an entry for a changed copy (same id and order) in the map and the index. */
  #replace(old: StoreEntry, next: StoreEntry): StoreEntry {
    const entry = freeze(next);
    this.#index.remove(old.id);
    this.#index.add(entry);
    this.#entries.set(entry.id, entry);
    this.#ordered = undefined;
    return entry;
  }

  #changed(change: StoreChange): void {
    this.#generation++;
    notifyFollowers(this, change);
    this.emit('change', change);
    this.#scheduleExpiry();
  }

  // Expiry ahead of time: one timer for the next deadline of any entry (warning or expiry), armed
  // only while someone listens to `expiring` or `expired`; each entry is reported once per kind.
  #expiryTimer: NodeJS.Timeout | undefined;
  readonly #reported = new Map<string, 'expiring' | 'expired'>();

  #scheduleExpiry(): void {
    if (this.#expiryTimer !== undefined) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (this.listenerCount('expiring') + this.listenerCount('expired') === 0) return;
    const warn = (this.#defaults.expiryWarningDays ?? 30) * DAY;
    const now = Date.now();
    let next = Infinity;
    for (const entry of this.#entries.values()) {
      const end = entry.certificate.notAfter.getTime();
      const seen = this.#reported.get(entry.id);
      const due = seen === 'expired' ? Infinity : seen === 'expiring' ? end + 1 : Math.min(end - warn, end + 1);
      next = Math.min(next, due);
    }
    if (next === Infinity) return;
    this.#expiryTimer = setTimeout(() => this.#checkExpiry(), Math.min(Math.max(0, next - now), MAX_TIMER));
    this.#expiryTimer.unref?.();
  }

  #checkExpiry(): void {
    this.#expiryTimer = undefined;
    const warn = (this.#defaults.expiryWarningDays ?? 30) * DAY;
    const now = Date.now();
    for (const id of this.#reported.keys()) if (!this.#entries.has(id)) this.#reported.delete(id);
    for (const entry of this.list()) {
      const notAfter = entry.certificate.notAfter;
      const end = notAfter.getTime();
      const seen = this.#reported.get(entry.id);
      const event: ExpiryEvent = { entry, notAfter, daysLeft: Math.floor((end - now) / DAY) };
      if (now > end && seen !== 'expired') {
        this.#reported.set(entry.id, 'expired');
        this.emit('expired', event);
      } else if (now <= end && now >= end - warn && seen === undefined) {
        this.#reported.set(entry.id, 'expiring');
        this.emit('expiring', event);
      }
    }
    this.#scheduleExpiry();
  }
}

/**
 * A store from a config, the config's warnings for the caller to show (the CLI prints them,
 * fromConfig and watchConfig make them process warnings) and the files it read.
 */
export async function storeFromConfig(fileOrObject: string | MtlsConfig, options?: ConfigOptions): Promise<{ store: CertificateStore; warnings: string[]; files: string[] }> {
  const { defaults, entries, warnings, files } = await readConfig(fileOrObject, options);
  const store = new CertificateStore(defaults);
  for (const entry of entries) store.add(entry);
  return { store, warnings, files };
}

/** The config's warnings as process warnings (`MTLS_RESOLVER_CONFIG`). */
export function emitConfigWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) process.emitWarning(warning, { code: 'MTLS_RESOLVER_CONFIG' });
}

/** The frozen entry for an input, as add() and replace() make it. */
function entryOf(input: StoreEntryInput, id: string, order: number, primary: boolean): StoreEntry {
  const ca = caOf(input);
  return freeze({
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
  });
}

function freeze(entry: StoreEntry): StoreEntry {
  return Object.freeze(entry);
}
