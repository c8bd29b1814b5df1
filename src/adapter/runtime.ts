// Types of the runtime's own fetch, WebSocket and dispatcher (undici-types, from @types/node),
// which are not those of the undici this package depends on: the runtime bundles its own copy.
// At run time both speak the same dispatcher protocol (undici unwraps either handler API).

/**
 * The dispatcher type of the runtime's global `fetch`, so that
 * `fetch(url, { dispatcher: createDispatcher(store) })` type-checks. `unknown` (no constraint)
 * where the runtime's types have no `dispatcher` option.
 */
export type RuntimeDispatcher = RequestInit extends { dispatcher?: infer D } ? NonNullable<D> : unknown;
