import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { readConfig, type MtlsConfig } from './config.js';
import { MtlsError } from './errors.js';
import type { CaBundle, LoadedCertificate } from './loader/types.js';
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
}

/** Defaults the adapters use when their caller passes none (a config file's `ca` and `rejectUnauthorized`). */
export interface StoreDefaults {
  ca?: CaBundle | CaBundle[];
  rejectUnauthorized?: boolean;
  /** Accept broad globs such as `*.com` (R3). Default: false. */
  allowBroadPatterns?: boolean;
}

/** A change of the store, as the `change` event reports it. */
export type StoreChange =
  | { type: 'add'; entry: CertificateEntry<LoadedCertificate> }
  | { type: 'remove'; entry: CertificateEntry<LoadedCertificate> }
  | { type: 'rename'; entry: CertificateEntry<LoadedCertificate>; previousName: string | undefined }
  | { type: 'primary'; entry: CertificateEntry<LoadedCertificate> | undefined; previous: CertificateEntry<LoadedCertificate> | undefined };

/** An entry as JSON shows it: no key, no passphrase. */
function publicEntry(entry: CertificateEntry<LoadedCertificate>): Record<string, unknown> {
  const { certificate, ...rest } = entry;
  return {
    ...rest,
    certificate: {
      subject: certificate.subject,
      issuer: certificate.issuer,
      fingerprint256: certificate.fingerprint256,
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      status: certificate.status,
    },
  };
}

function isLoadedCertificate(value: unknown): value is LoadedCertificate {
  const v = value as Partial<LoadedCertificate> | null;
  return typeof v === 'object' && v !== null && typeof v.fingerprint256 === 'string' && typeof v.tls?.cert === 'string' && typeof v.tls.key === 'string';
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
  readonly #index: ResolverIndex<LoadedCertificate>;
  readonly #entries = new Map<string, CertificateEntry<LoadedCertificate>>();
  #order = 0;
  #generation = 0;
  /** Defaults for the adapters (from a config file, or given here). */
  readonly defaults: Readonly<StoreDefaults>;

  constructor(defaults: StoreDefaults = {}) {
    super();
    this.defaults = Object.freeze({ ...defaults });
    this.#index = new ResolverIndex<LoadedCertificate>({ allowBroadPatterns: defaults.allowBroadPatterns === true });
  }

  /**
   * A store from a certs.json file (paths relative to the file) or a config object (paths relative
   * to the current directory). File order is insertion order; `ca` and `rejectUnauthorized` become
   * the store's defaults. Everything is loaded and checked first: a bad entry loads nothing, and
   * the error names the entry (index and name) and the field. Warnings (an inline passphrase, a
   * certificate expiring soon...) go to `process.emitWarning`.
   *
   * @example
   * ```ts
   * const store = await CertificateStore.fromConfig('./certs.json');
   * const fetch = createFetch(store);
   * ```
   */
  static async fromConfig(fileOrObject: string | MtlsConfig): Promise<CertificateStore> {
    const { store, warnings } = await storeFromConfig(fileOrObject);
    for (const warning of warnings) process.emitWarning(warning, { code: 'MTLS_RESOLVER_CONFIG' });
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
   * Adds a certificate for a host pattern (and port). Setting `primary` clears the previous primary.
   * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN`, `ERR_INVALID_PORT`, `ERR_INVALID_ENTRY`.
   */
  add(input: StoreEntryInput): CertificateEntry<LoadedCertificate> {
    if (typeof input !== 'object' || input === null) {
      throw new MtlsError('ERR_INVALID_ENTRY', 'add() takes { host, port?, name?, primary?, certificate }.');
    }
    if (!isLoadedCertificate(input.certificate)) {
      throw new MtlsError('ERR_INVALID_ENTRY', 'certificate must be a LoadedCertificate: load it with loadCertificate() first.');
    }
    if (input.name !== undefined && typeof input.name !== 'string') {
      throw new MtlsError('ERR_INVALID_ENTRY', 'name must be a string.');
    }
    const order = ++this.#order;
    const id = input.id ?? this.#nextId(order);
    if (this.#entries.has(id)) throw new MtlsError('ERR_INVALID_ENTRY', `The id ${JSON.stringify(id)} is already in the store: ids must be unique.`);
    const entry = freeze({
      id,
      host: input.host,
      order,
      certificate: input.certificate,
      notBefore: input.certificate.notBefore,
      notAfter: input.certificate.notAfter,
      ...(input.port === undefined ? {} : { port: input.port }),
      ...(input.name === undefined ? {} : { name: input.name }),
    });
    this.#index.add(entry); // validates host and port before anything changes
    this.#entries.set(id, entry);
    this.#changed({ type: 'add', entry });
    if (input.primary === true) this.setPrimary(id);
    return this.#entries.get(id)!;
  }

  #nextId(order: number): string {
    let id = `cert-${order}`;
    for (let n = 2; this.#entries.has(id); n++) id = `cert-${order}-${n}`;
    return id;
  }

  /** Removes an entry; false when there is none with this id. */
  remove(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#index.remove(id);
    this.#entries.delete(id);
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

  get(id: string): CertificateEntry<LoadedCertificate> | undefined {
    return this.#entries.get(id);
  }

  /** Every entry, in insertion order. */
  list(): CertificateEntry<LoadedCertificate>[] {
    return [...this.#entries.values()].sort((a, b) => a.order - b.order);
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** The entries without key material: what JSON.stringify(store) shows. */
  toJSON(): { size: number; entries: Record<string, unknown>[] } {
    return { size: this.size, entries: this.list().map(publicEntry) };
  }

  [inspect.custom](depth: number, options: object): string {
    return `CertificateStore ${inspect(this.toJSON(), { ...options, depth: depth - 1 })}`;
  }

  #require(id: string): CertificateEntry<LoadedCertificate> {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      throw new MtlsError('ERR_CERTIFICATE_NOT_FOUND', `No certificate in the store has the id ${JSON.stringify(id)}; list() shows the ids.`);
    }
    return entry;
  }

  /** Swaps an entry for a changed copy (same id and order) in the map and the index. */
  #replace(old: CertificateEntry<LoadedCertificate>, next: CertificateEntry<LoadedCertificate>): CertificateEntry<LoadedCertificate> {
    const entry = freeze(next);
    this.#index.remove(old.id);
    this.#index.add(entry);
    this.#entries.set(entry.id, entry);
    return entry;
  }

  #changed(change: StoreChange): void {
    this.#generation++;
    this.emit('change', change);
  }
}

/** A store from a config, and the config's warnings for the caller to show (the CLI prints them). */
export async function storeFromConfig(fileOrObject: string | MtlsConfig): Promise<{ store: CertificateStore; warnings: string[] }> {
  const { defaults, entries, warnings } = await readConfig(fileOrObject);
  const store = new CertificateStore(defaults);
  for (const entry of entries) store.add(entry);
  return { store, warnings };
}

function freeze(entry: CertificateEntry<LoadedCertificate>): CertificateEntry<LoadedCertificate> {
  return Object.freeze(entry);
}
