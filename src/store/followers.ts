// How adapters follow a store's changes (a module of its own: the adapters import it, and
// only types of the store).
import type { StoreChange } from './entry.js';

/** A store, as its followers know it: by identity only (a WeakMap key). */
type Followed = object;

// The adapters follow the store's changes through weak subscriptions, not `change` listeners: an
// adapter that is never closed is not kept alive by the store (nor does it add a listener per
// adapter until Node warns about a leak); once it is collected, its subscription goes with it.
interface Follower {
  ref: WeakRef<object>;
  notify: (target: never, change: StoreChange) => void;
}
const followers = new WeakMap<Followed, Set<Follower>>();
const unfollowCollected = new FinalizationRegistry<{ set: Set<Follower>; follower: Follower }>(({ set, follower }) => set.delete(follower));

/**
 * @internal Calls `notify(target, change)` on every change of `store` for as long as `target` is
 * alive (held weakly) and until the returned function is called. `notify` must not hold `target`.
 */
export function followStore<T extends object>(store: Followed, target: T, notify: (target: T, change: StoreChange) => void): () => void {
  let set = followers.get(store);
  if (set === undefined) followers.set(store, (set = new Set()));
  const follower: Follower = { ref: new WeakRef(target), notify: notify as Follower['notify'] };
  set.add(follower);
  unfollowCollected.register(target, { set, follower }, follower);
  const own = set;
  return () => {
    own.delete(follower);
    unfollowCollected.unregister(follower);
  };
}

/** @internal How many adapters follow `store` (for the tests). */
export function followerCount(store: Followed): number {
  return followers.get(store)?.size ?? 0;
}

export function notifyFollowers(store: Followed, change: StoreChange): void {
  const set = followers.get(store);
  if (set === undefined) return;
  for (const follower of [...set]) {
    const target = follower.ref.deref();
    if (target === undefined) set.delete(follower);
    else follower.notify(target as never, change);
  }
}

