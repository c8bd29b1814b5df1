// The index's keys (exact hosts, glob suffixes) in an open-addressing table of our own hashes.
// A resolution's lookups are mostly misses (an exact host for a glob target, every suffix but
// one), and at 100,000 entries a Map miss costs several cache misses: its hash table, the chain's
// entries, their key strings. Here a miss is one read of two adjacent numbers. The hashes come
// from one pass over the host from its end (foldChar), which gives the whole host's hash and every
// dot suffix's at once, and a key is compared in place (startsWith at an offset): no suffix string
// is made and no string is hashed twice.

const PRIME = 0x01000193;
/** Per process, so that nobody can write a config whose keys all share a slot. */
const SEED = (Math.random() * 0x1_0000_0000) | 0;

/** The hash every fold starts from. */
export const HASH_START = SEED;

/** One character folded into a hash, from the end of a string towards its start. */
export function foldChar(h: number, code: number): number {
  return Math.imul(h ^ code, PRIME);
}

/** The hash of `key` as folding its characters from the end gives it. */
export function keyHash(key: string): number {
  let h = SEED;
  for (let i = key.length - 1; i >= 0; i--) h = foldChar(h, key.charCodeAt(i));
  return h;
}

const EMPTY = 0;
const DELETED = -1;
const MIN_SLOTS = 16;

/**
 * String keys to values, found by a hash the caller computed: linear probing over two typed arrays
 * (each slot: the key's hash, and 1 + the index of its key and value, 0 empty, -1 deleted, reused
 * by the next key placed on its probe). At most half the slots are used or deleted; the table is
 * rebuilt past that.
 */
export class HostTable<V> {
  #hashes = new Int32Array(MIN_SLOTS);
  #refs = new Int32Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #used = 0; // slots that are not EMPTY (live and deleted)
  readonly #keys: Array<string | undefined> = [];
  readonly #values: Array<V | undefined> = [];
  readonly #free: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /**
   * The value whose key is `host` from `from` on (`from` -1: "." followed by `host`), given that
   * key's hash.
   */
  find(host: string, from: number, hash: number): V | undefined {
    const hashes = this.#hashes;
    const refs = this.#refs;
    const mask = this.#mask;
    const length = host.length - from;
    for (let slot = slotOf(hash) & mask; ; slot = (slot + 1) & mask) {
      const ref = refs[slot]!;
      if (ref === EMPTY) return undefined;
      if (ref !== DELETED && hashes[slot] === hash) {
        const key = this.#keys[ref - 1]!;
        const same = from === 0 ? key === host : from === -1 ? key.length === length && key.charCodeAt(0) === 46 && key.startsWith(host, 1) : key.length === length && host.startsWith(key, from);
        if (same) {
          return this.#values[ref - 1];
        }
      }
    }
  }

  get(key: string): V | undefined {
    const slot = this.#slotOf(key, keyHash(key));
    return slot === -1 ? undefined : this.#values[this.#refs[slot]! - 1];
  }

  has(key: string): boolean {
    return this.#slotOf(key, keyHash(key)) !== -1;
  }

  set(key: string, value: V): void {
    const hash = keyHash(key);
    const slot = this.#slotOf(key, hash);
    if (slot !== -1) {
      this.#values[this.#refs[slot]! - 1] = value;
      return;
    }
    if ((this.#used + 1) * 2 > this.#refs.length) this.#rebuild(this.#size + 1);
    const index = this.#free.pop() ?? this.#keys.length;
    this.#keys[index] = key;
    this.#values[index] = value;
    this.#size++;
    this.#place(hash, index);
  }

  delete(key: string): boolean {
    const slot = this.#slotOf(key, keyHash(key));
    if (slot === -1) return false;
    const index = this.#refs[slot]! - 1;
    this.#refs[slot] = DELETED;
    this.#keys[index] = undefined;
    this.#values[index] = undefined;
    this.#free.push(index);
    this.#size--;
    return true;
  }

  /** The slot holding `key`, or -1. */
  #slotOf(key: string, hash: number): number {
    const mask = this.#mask;
    for (let slot = slotOf(hash) & mask; ; slot = (slot + 1) & mask) {
      const ref = this.#refs[slot]!;
      if (ref === EMPTY) return -1;
      if (ref !== DELETED && this.#hashes[slot] === hash && this.#keys[ref - 1] === key) return slot;
    }
  }

  /** Puts a key that is not in the table at the first free slot of its probe (empty or deleted). */
  #place(hash: number, index: number): void {
    const mask = this.#mask;
    let slot = slotOf(hash) & mask;
    while (this.#refs[slot]! > 0) slot = (slot + 1) & mask;
    if (this.#refs[slot] === EMPTY) this.#used++;
    this.#hashes[slot] = hash;
    this.#refs[slot] = index + 1;
  }

  /** New arrays for `live` keys, at most 3/8 full, without the deleted slots. */
  #rebuild(live: number): void {
    let slots = MIN_SLOTS;
    while (live * 2 > slots) slots *= 2;
    if (live * 8 > slots * 3) slots *= 2; // at most 3/8 full: room to grow (or delete) before the next rebuild
    this.#hashes = new Int32Array(slots);
    this.#refs = new Int32Array(slots);
    this.#mask = slots - 1;
    this.#used = 0;
    this.#keys.forEach((key, index) => {
      if (key !== undefined) this.#place(keyHash(key), index);
    });
  }
}

/** The slot bits of a hash (FNV's low bits alone are weak). */
function slotOf(hash: number): number {
  return (hash ^ (hash >>> 15)) >>> 0;
}
