// Live certificates from files: a certs.json and every file it names, watched with node:fs.watch
// on their directories, reloaded into one CertificateStore through replace().
//
// Why directories and not the files: a Kubernetes secret mount swaps a `..data` symlink (the
// files named in the config never change themselves), editors write a temporary file and rename
// it over the old one (a watch on the old inode sees nothing after that), and cert-manager or a
// script writes the certificate and the key one after the other. Every event in a watched
// directory that can concern one of the files starts (or restarts) a debounce timer; the reload
// reads everything again and swaps it in with one replace(). A state that does not load (the key
// of the old pair with the new certificate, a file half written) is read again a few times, and
// only then reported: the store keeps serving what it had.
import { EventEmitter } from 'node:events';
import { existsSync, watch, realpathSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { readConfig, type ConfigOptions } from './read.js';
import { MtlsError, isMtlsError } from '../errors.js';
import type { LoadOptions } from '../loader/types.js';
import type { CertificateStore, StoreReplacement } from '../store/store.js';
import { emitConfigWarnings, storeFromConfig } from './store.js';

/** Options of {@link watchConfig}. */
export interface WatchConfigOptions extends ConfigOptions {
  /** Reload this long after the last file event, in milliseconds. Default: 200. */
  debounceMs?: number;
  /**
   * A reload that fails (a certificate renewed but not yet its key, a file half written) is read
   * again this many times, `debounceMs` apart, before the `error` event. Default: 3.
   */
  retries?: number;
  /** Keep the process running while watching, as `fs.watch`'s `persistent`. Default: true. */
  persistent?: boolean;
}

/** What the `reload` event carries: what the new files changed in the store. */
export interface ConfigReload extends StoreReplacement {
  /** The config's warnings at this reload (an inline passphrase, a certificate expiring soon...). */
  warnings: string[];
}

const DEFAULT_DEBOUNCE_MS = 200;
const DEFAULT_RETRIES = 3;

/**
 * A certs.json kept live: {@link ConfigWatcher.store} is reloaded when the config or a file it
 * names changes. Events: `reload` ({@link ConfigReload}) after a change reached the store, and
 * `error` ({@link MtlsError}, with `location` naming the entry and field) when the files did not
 * load after the retries; the store then keeps what it had, and the next change of the files is
 * tried again. With no `error` listener, the error is a process warning, not a crash.
 */
export class ConfigWatcher extends EventEmitter {
  /** The store, with the content of the last state of the files that loaded. */
  readonly store: CertificateStore;
  /** The config file (absolute). */
  readonly file: string;
  readonly #options: LoadOptions;
  readonly #debounceMs: number;
  readonly #retries: number;
  readonly #persistent: boolean;
  readonly #watchers = new Map<string, FSWatcher>();
  #names = new Map<string, Set<string>>();
  #files: string[];
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #loading: Promise<void> | undefined;
  #dirty = false;
  #closed = false;

  /** @internal Use {@link watchConfig}. */
  constructor(file: string, store: CertificateStore, files: string[], options: WatchConfigOptions) {
    super();
    this.file = file;
    this.store = store;
    this.#files = files;
    const { debounceMs = DEFAULT_DEBOUNCE_MS, retries = DEFAULT_RETRIES, persistent = true, ...load } = options;
    this.#options = load;
    this.#debounceMs = debounceMs;
    this.#retries = retries;
    this.#persistent = persistent;
    this.#sync();
  }

  /** The files watched: the config file and every file it names (absolute paths). */
  get files(): readonly string[] {
    return this.#files;
  }

  /**
   * Reads the files now (on a SIGHUP, or after changing a `passphraseEnv` variable) instead of
   * waiting for a file event. Resolves to what changed, or rejects with the error (the store then
   * keeps its content; no `error` event).
   */
  async reload(): Promise<ConfigReload> {
    if (this.#closed) throw new MtlsError('ERR_INVALID_OPTION', 'This config watcher is closed; call watchConfig() again.');
    while (this.#loading !== undefined) await this.#loading;
    const reload = this.#read();
    this.#loading = reload.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await reload;
    } finally {
      this.#loading = undefined;
      if (this.#dirty) this.#schedule(); // a file changed while reading
    }
  }

  /** Stops watching (no event after it resolves). The store keeps its content. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    await this.#loading;
  }

  /** `await using watcher = ...`: closes the watcher. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Reads the config and swaps it into the store; the `reload` event if something changed. */
  async #read(): Promise<ConfigReload> {
    const { entries, defaults, warnings, files } = await readConfig(this.file, this.#options);
    const replacement = this.store.replace(entries, defaults);
    this.#files = files;
    this.#sync();
    const reload = { ...replacement, warnings };
    if (!this.#closed && (replacement.added.length > 0 || replacement.removed.length > 0 || replacement.defaultsChanged)) this.emit('reload', reload);
    return reload;
  }

  /** A file event: (re)start the debounce; a new change gives a failing state its retries again. */
  #changed(): void {
    this.#failures = 0;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), this.#debounceMs);
    if (!this.#persistent) this.#timer.unref();
  }

  #run(): void {
    if (this.#closed) return;
    if (this.#loading !== undefined) {
      this.#dirty = true; // a change while reading: read again once this read is done
      return;
    }
    this.#dirty = false;
    this.#loading = this.#read().then(
      () => {
        this.#failures = 0;
      },
      (err: unknown) => {
        this.#sync(); // a directory may be gone: wait for it from its parent
        if (this.#closed || this.#dirty) return; // a newer change is on its way
        if (this.#failures++ < this.#retries) {
          this.#schedule();
          return;
        }
        this.#failures = 0;
        this.#report(err);
      },
    );
    void this.#loading.finally(() => {
      this.#loading = undefined;
      if (this.#dirty) this.#schedule();
    });
  }

  #report(err: unknown): void {
    const error = isMtlsError(err) ? err : new MtlsError('ERR_INVALID_CONFIG', `Reloading ${JSON.stringify(this.file)} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`The certificates were not reloaded (the store keeps the previous ones): ${error.message}`, { code: 'MTLS_RESOLVER_RELOAD' });
  }

  /**
   * Watches the directory of every file, and of its real path when it is a symlink into another
   * directory (a certbot `live/` link, a `..data` mount): an event there for one of the names,
   * for a `..`-prefixed name (the Kubernetes atomic writer) or with no name reloads.
   */
  #sync(): void {
    if (this.#closed) return;
    // (a directory that is gone is waited for from an ancestor: see #watch)
    const names = new Map<string, Set<string>>();
    const note = (file: string) => {
      const dir = dirname(file);
      const set = names.get(dir) ?? new Set<string>();
      set.add(basename(file));
      names.set(dir, set);
    };
    for (const file of this.#files) {
      note(file);
      try {
        const real = realpathSync(file);
        if (real !== file) note(real);
      } catch {
        // gone for now: its directory is watched, and its return is an event there
      }
    }
    this.#names = names;
    for (const [dir, watcher] of this.#watchers) {
      if (!names.has(dir) || !existsSync(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of [...names.keys()]) this.#watch(dir);
  }

  /**
   * Watches `dir`; a directory that does not exist (deleted, not created yet) is waited for from
   * its nearest existing ancestor, whose event for it reloads (and the reload watches it again).
   */
  #watch(dir: string): void {
    if (this.#watchers.has(dir)) return;
    try {
      const watcher = watch(dir, { persistent: this.#persistent }, (_event, name) => {
        if (name === null || name.startsWith('..') || this.#names.get(dir)?.has(name) === true) this.#changed();
      });
      watcher.on('error', () => {
        // the directory went away: this watch ends; the reload it starts (failing, reported) watches again
        watcher.close();
        this.#watchers.delete(dir);
        this.#changed();
      });
      this.#watchers.set(dir, watcher);
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return;
      const set = this.#names.get(parent) ?? new Set<string>();
      set.add(basename(dir));
      this.#names.set(parent, set);
      this.#watch(parent);
    }
  }
}

/**
 * Loads a certs.json into a new {@link CertificateStore} and keeps it live: when the config or
 * any certificate, key, PEM, PFX or CA file it names changes (written in place, renamed over, or
 * swapped by a Kubernetes `..data` symlink), the files are read again after `debounceMs` and
 * swapped in with one `store.replace` — unchanged entries keep their connections, and a state
 * that does not load keeps the previous certificates (the `error` event says which entry and
 * field). `passphraseEnv` variables are read at each reload. The first load throws like
 * `CertificateStore.fromConfig`.
 *
 * @throws {MtlsError} As `readConfig`, when the first load fails.
 *
 * @example
 * ```ts
 * const watcher = await watchConfig('/etc/mtls/certs.json');
 * watcher.on('error', (err) => log.warn(err.message));
 * const fetch = createFetch(watcher.store);
 * // ... on shutdown:
 * await watcher.close();
 * ```
 */
export async function watchConfig(file: string, options: WatchConfigOptions = {}): Promise<ConfigWatcher> {
  if (typeof file !== 'string' || file === '') throw new MtlsError('ERR_INVALID_OPTION', 'watchConfig() takes the path of a certs.json file.');
  for (const name of ['debounceMs', 'retries'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new MtlsError('ERR_INVALID_OPTION', `watchConfig(): ${name} must be a whole number of ${name === 'retries' ? 'attempts' : 'milliseconds'} (0 or more).`);
  }
  const path = resolve(file);
  const { debounceMs: _d, retries: _r, persistent: _p, ...load } = options;
  const { store, warnings, files } = await storeFromConfig(path, load);
  emitConfigWarnings(warnings);
  return new ConfigWatcher(path, store, files, options);
}
