// The registry of client certificates the adapters read: entries, resolution, change events
// (to listeners and to the adapters that follow it), expiry events. replace() applies a plan made
// in replace.ts. Nothing here reads a file: fromConfig loads the config code when it is called.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { ConfigOptions, MtlsConfig } from '../config/read.js';
import { MtlsError } from '../errors.js';
import { LOAD_NOW, isDeferred } from '../loader/deferred.js';
import type { LoadedCertificate } from '../loader/types.js';
import { ownFields } from '../own.js';
import { prepareEntry } from '../resolver/entry.js';
import type { HostPattern } from '../resolver/pattern.js';
import { ResolverIndex } from '../resolver/indexed.js';
import type { Explanation, Match, RequestTarget, ResolveOptions } from '../resolver/types.js';
import { checkDefaults, checkInput, entryOf, inputProblem, publicEntry, sameDefaults, type StoreChange, type StoreDefaults, type StoreEntry, type StoreEntryInput, type StoreReplacement } from './entry.js';
import { ExpiryWatch, type ExpiryEvent } from './expiry.js';
import { notifyFollowers } from './followers.js';
import { matchEntries, ordersFor, unchangedInput } from './replace.js';

export type { StoreChange, StoreDefaults, StoreEntry, StoreEntryInput, StoreReplacement } from './entry.js';
export type { ExpiryEvent } from './expiry.js';

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
  readonly #expiry = new ExpiryWatch({
    listening: () => this.listenerCount('expiring') + this.listenerCount('expired') > 0,
    entries: () => this.#list(),
    has: (id) => this.#entries.has(id),
    warningDays: () => this.#defaults.expiryWarningDays,
    emit: (kind, event) => this.emit(kind, event),
  });
  readonly #entries = new Map<string, StoreEntry>();
  /** The entries in order, kept between changes (replace sets it; add, remove and edits clear it). */
  #ordered: StoreEntry[] | undefined;
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
    // The config code (and the loader, node-forge) is above the store: loaded when first used, so
    // that the store (and the adapters that follow it) does not load it.
    const { storeFromConfig, emitConfigWarnings } = await import('../config/store.js');
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
    // 1. Check every input (one that is the entry at its place as it was given is valid as that
    // entry was); ids given explicitly are reserved for their input.
    const current = this.#list();
    const kept = new Array<StoreEntry | undefined>(entries.length);
    // The order of each entry kept here as it was (NaN elsewhere), read while it is at hand: the
    // passes below do not go back to the 10,000 entries of a reload that renews 100.
    const asWas = new Float64Array(entries.length).fill(NaN);
    const explicit = new Set<string>();
    let primaries = 0;
    for (let i = 0; i < entries.length; i++) {
      const input = entries[i]!;
      const old = current[i];
      if (unchangedInput(old, input)) asWas[i] = (kept[i] = old!).order;
      else if (inputProblem(input) !== undefined) checkInput(input, `replace(): entries[${i}]`); // the message built only for an error
      if (input.id !== undefined) {
        if (explicit.has(input.id)) throw new MtlsError('ERR_INVALID_ENTRY', `replace(): entries[${i}]: the id ${JSON.stringify(input.id)} is given twice; ids must be unique.`);
        explicit.add(input.id);
      }
      if (input.primary === true && ++primaries > 1) throw new MtlsError('ERR_INVALID_ENTRY', `replace(): entries[${i}]: only one entry can be primary.`);
    }
    // 2. Match each input to a current entry with the same content.
    const removed = matchEntries(current, (id) => this.#entries.get(id), entries, explicit, kept);
    // 3. Validate what is new (and everything when the pattern rules change) before changing
    // anything; the parsed patterns go to the index as they are.
    const patterns = new Array<HostPattern | undefined>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      if (kept[i] !== undefined && !rebuild) continue;
      const input = entries[i]!;
      patterns[i] = prepareEntry({ id: input.id ?? 'new', host: input.host, order: 0, certificate: input.certificate, ...(input.port === undefined ? {} : { port: input.port }) }, allowBroad).pattern;
    }
    // 4. Orders: kept entries keep theirs where they are already in sequence; the others fit between.
    const orders = ordersFor(kept, (i) => (kept[i] === current[i] ? asWas[i]! : NaN), this.#order);
    this.#order = Math.max(this.#order, ...orders.slice(-1), 0);
    // 5. Apply.
    if (rebuild) this.#index = new ResolverIndex<LoadedCertificate>({ allowBroadPatterns: allowBroad });
    for (const e of removed) {
      if (!rebuild) this.#index.remove(e.id);
      this.#entries.delete(e.id);
    }
    const result: StoreReplacement = { added: [], removed, kept: [], defaultsChanged: nextDefaults !== this.#defaults };
    let changed = removed.length > 0 || result.defaultsChanged;
    const taken = explicit; // and every id in #entries, which #nextId checks
    const ordered = new Array<StoreEntry>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const input = entries[i]!;
      const old = kept[i];
      const order = orders[i]!;
      if (old !== undefined && order === asWas[i] && old === current[i]) {
        // As it was: same input (primary included), same place, same order.
        if (rebuild) this.#index.add(old, patterns[i]);
        result.kept.push((ordered[i] = old));
        continue;
      }
      if (old !== undefined) {
        const primary = input.primary === true;
        let entry = old;
        if (old.order !== order || (old.primary === true) !== primary) {
          const { primary: _dropped, ...rest } = old;
          entry = Object.freeze({ ...rest, order, ...(primary ? { primary: true } : {}) });
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

  /** The entry with this id, or undefined. */
  get(id: string): StoreEntry | undefined {
    return this.#entries.get(id);
  }

  /** Every entry, in insertion order. */
  list(): StoreEntry[] {
    return this.#list().slice();
  }

  #list(): StoreEntry[] {
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

  /** `change`: after every add, remove, replace or primary change, with what changed. */
  override on(event: 'change', listener: (change: StoreChange) => void): this;
  /** `expiring`: an entry's certificate is within `expiryWarningDays` of its notAfter; `expired`: it is past it. Once per entry and kind. */
  override on(event: 'expiring' | 'expired', listener: (event: ExpiryEvent) => void): this;
  /** Any other event, as EventEmitter takes it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'expiring' || event === 'expired') this.#expiry.schedule();
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override off(event: string | symbol, listener: (...args: any[]) => void): this {
    super.off(event, listener);
    if (event === 'expiring' || event === 'expired') this.#expiry.schedule();
    return this;
  }

  /** The entries without key material: what JSON.stringify(store) shows. */
  toJSON(): { size: number; entries: Record<string, unknown>[] } {
    return { size: this.size, entries: this.list().map(publicEntry) };
  }

  /** util.inspect shows the entries and defaults, never a key. */
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
    const entry = Object.freeze(next);
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
    this.#expiry.schedule();
  }
}
