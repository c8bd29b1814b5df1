// Answers the adapters compute from the store per origin (its resolution, whether it goes through
// the adapter), kept until the store changes and at most RESOLUTION_TTL_MS, so that a busy origin
// is not resolved on every request while validity (R6) is checked at most that late.
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore, StoreEntry } from '../store/store.js';

export const RESOLUTION_TTL_MS = 1000;

/** More origins than this and the memo starts again: one-off origins do not grow it. */
const MAX_KEYS = 10_000;

export class StoreMemo<V> {
  readonly #store: CertificateStore;
  readonly #compute: (key: string) => V;
  readonly #values = new Map<string, { generation: number; until: number; value: V }>();

  constructor(store: CertificateStore, compute: (key: string) => V) {
    this.#store = store;
    this.#compute = compute;
  }

  get(key: string): V {
    const now = Date.now();
    const generation = this.#store.generation;
    const known = this.#values.get(key);
    if (known !== undefined && known.generation === generation && now < known.until) return known.value;
    const value = this.#compute(key);
    if (known === undefined && this.#values.size >= MAX_KEYS) this.#values.clear();
    this.#values.set(key, { generation, until: now + RESOLUTION_TTL_MS, value });
    return value;
  }

  clear(): void {
    this.#values.clear();
  }
}

/**
 * After a store change, whether connections made for `chosen` (the entry as it was when chosen;
 * undefined: none presented) no longer apply: the entry is gone, its certificate or its own CAs
 * changed, or (unless it was selected) another entry now wins the origin (`current`, read only
 * when needed).
 */
export function noLongerApplies(store: CertificateStore, chosen: StoreEntry | undefined, selected: boolean, current: () => Match<LoadedCertificate> | undefined): boolean {
  if (chosen === undefined) return current() !== undefined;
  const entry = store.get(chosen.id);
  return (
    entry === undefined ||
    entry.certificate !== chosen.certificate ||
    entry.ca !== chosen.ca ||
    entry.minVersion !== chosen.minVersion ||
    entry.maxVersion !== chosen.maxVersion ||
    (!selected && current()?.entry.id !== chosen.id)
  );
}
