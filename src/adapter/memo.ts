// Answers the adapters compute from the store per origin (its resolution, whether it goes through
// the adapter), kept until the store changes and at most RESOLUTION_TTL_MS, so that a busy origin
// is not resolved on every request while validity (R6) is checked at most that late.
import type { CertificateStore } from '../store.js';

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
