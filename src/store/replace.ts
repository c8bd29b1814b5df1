// store.replace() as a plan, without the store: which current entry each input keeps (same
// certificate, host, port, name and CAs), which entries go, and the orders of the new list.
import { caText } from '../loader/ca-list.js';
import type { CaBundle, LoadedCertificate } from '../loader/types.js';
import type { PortRule } from '../resolver/types.js';
import type { StoreEntry, StoreEntryInput } from './entry.js';

/** What makes an entry the same across a replace: its certificate, host, port, name and CAs. */
function contentKey(e: { certificate: LoadedCertificate; host: string; port?: PortRule; name?: string; ca?: CaBundle | readonly CaBundle[]; minVersion?: string; maxVersion?: string }): string {
  return `${e.certificate.fingerprint256}\n${e.host}\n${e.port ?? ''}\n${e.name ?? ''}\n${e.minVersion ?? ''}-${e.maxVersion ?? ''}\n${caText(e.ca)}`;
}

function sameContent(e: StoreEntry, input: StoreEntryInput): boolean {
  return (
    e.host === input.host &&
    e.port === input.port &&
    e.name === input.name &&
    e.minVersion === input.minVersion &&
    e.maxVersion === input.maxVersion &&
    (e.certificate === input.certificate || e.certificate.fingerprint256 === input.certificate.fingerprint256) &&
    (e.ca === input.ca || caText(e.ca) === caText(input.ca))
  );
}

/**
 * The input is the current entry as it was given: the same certificate object and the same
 * fields, no CA, and no id or the entry's own. Such an input is valid as the entry was (a reload
 * of a mostly unchanged list checks only what changed) and keeps it, unless another input claims
 * the entry's id.
 */
export function unchangedInput(e: StoreEntry | undefined, input: StoreEntryInput): boolean {
  return (
    e !== undefined &&
    typeof input === 'object' &&
    input !== null &&
    input.certificate === e.certificate &&
    input.host === e.host &&
    input.port === e.port &&
    input.name === e.name &&
    input.ca === undefined &&
    e.ca === undefined &&
    input.minVersion === e.minVersion &&
    input.maxVersion === e.maxVersion &&
    (input.primary === true) === (e.primary === true) &&
    (input.id === undefined || input.id === e.id)
  );
}

/**
 * Matches each input to a current entry with the same content. `kept` comes filled with the
 * entries whose input is unchangedInput at the same position (replace's check found them): a
 * reload of a mostly unchanged list looks at nothing else there. The other positions compare the
 * entry at the same place by content, then any free entry (its own id first, if the input gives
 * one). `explicit`: the ids the inputs give, reserved for them. Completes `kept` (per input, the
 * current entry it keeps; undefined: a new entry) in place and returns the current entries that no
 * input keeps.
 */
export function matchEntries(current: readonly StoreEntry[], byId: (id: string) => StoreEntry | undefined, entries: readonly StoreEntryInput[], explicit: ReadonlySet<string>, kept: Array<StoreEntry | undefined>): StoreEntry[] {
  const open: number[] = []; // positions with no entry at their place
  for (let i = 0; i < entries.length; i++) {
    const old = current[i];
    const input = entries[i]!;
    if (kept[i] !== undefined) {
      // An entry without an id of its own keeps its id only if no input claims that id.
      if (explicit.size === 0 || input.id !== undefined || !explicit.has(old!.id)) continue;
      kept[i] = undefined;
    }
    if (old !== undefined && sameContent(old, input) && (input.id === undefined ? explicit.size === 0 || !explicit.has(old.id) : input.id === old.id)) kept[i] = old;
    else open.push(i);
  }
  const removed: StoreEntry[] = [];
  if (open.length === 0) {
    for (let i = entries.length; i < current.length; i++) removed.push(current[i]!);
    return removed;
  }
  const free: StoreEntry[] = []; // the current entries not kept at their place
  for (let i = 0; i < current.length; i++) if (kept[i] !== current[i]) free.push(current[i]!);
  const byKey = new Map<string, StoreEntry[]>();
  const freeIds = new Set<string>();
  for (const e of free) {
    freeIds.add(e.id);
    if (explicit.has(e.id)) continue;
    const key = contentKey(e);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [e]);
    else list.push(e);
  }
  const claimed = new Set<string>();
  for (const i of open) {
    const input = entries[i]!;
    const key = contentKey(input);
    const own = input.id === undefined ? undefined : byId(input.id);
    const found = input.id !== undefined ? (own !== undefined && freeIds.has(own.id) && contentKey(own) === key ? own : undefined) : byKey.get(key)?.shift();
    if (found !== undefined) claimed.add(found.id);
    kept[i] = found;
  }
  for (const e of free) if (!claimed.has(e.id)) removed.push(e);
  return removed;
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

/**
 * The orders of the entries of a replace, in list order and strictly increasing: the kept entries
 * of one longest run already in order keep theirs (no re-indexing), the others take free numbers
 * between; when there is no room, everything is numbered anew after `highest`, the store's
 * highest order so far.
 */
export function ordersFor(kept: ReadonlyArray<StoreEntry | undefined>, known: (i: number) => number, highest: number): number[] {
  // The order kept at each position (NaN for none): `known(i)` when the caller has it at hand (NaN
  // when not), else read from the entry. Without moves the kept entries sit at their own positions
  // of the ordered list: already increasing.
  const fixed = new Float64Array(kept.length);
  let increasing = true;
  for (let i = 0, last = -Infinity; i < kept.length; i++) {
    const e = kept[i];
    if (e === undefined) {
      fixed[i] = NaN;
      continue;
    }
    const k = known(i);
    const order = Number.isNaN(k) ? e.order : k;
    if (order <= last) increasing = false;
    fixed[i] = last = order;
  }
  if (!increasing) {
    const keptAt: number[] = [];
    for (let i = 0; i < kept.length; i++) if (kept[i] !== undefined) keptAt.push(i);
    const run = longestIncreasing(keptAt.map((i) => fixed[i]!));
    fixed.fill(NaN);
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
  if (!room) for (let i = 0; i < kept.length; i++) orders[i] = highest + 1 + i;
  return orders;
}
