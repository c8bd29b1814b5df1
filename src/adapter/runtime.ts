// Types of the runtime's own fetch, WebSocket and dispatcher (undici-types, from @types/node),
// which are not those of the undici this package depends on: the runtime bundles its own copy.
// At run time both speak the same dispatcher protocol (undici unwraps either handler API).

/**
 * The dispatcher type of the runtime's global `fetch`, so that
 * `fetch(url, { dispatcher: createDispatcher(store) })` type-checks. `unknown` (no constraint)
 * where the runtime's types have no `dispatcher` option.
 */
export type RuntimeDispatcher = RequestInit extends { dispatcher?: infer D } ? NonNullable<D> : unknown;

/* eslint-disable @typescript-eslint/no-explicit-any -- the point: one signature every undici accepts */
/**
 * The methods of an undici Dispatcher with loose signatures. undici 7's and 8's declarations differ
 * in their handler types (8 changed `onBodySent`), and this package is built against one of them:
 * intersected with it, an adapter type-checks where the user's undici (7 or 8), the runtime's
 * fetch or WebSocket expect a dispatcher, and the interceptor in either `compose()`.
 */
export type AnyUndiciDispatcher = Record<
  'dispatch' | 'compose' | 'request' | 'stream' | 'pipeline' | 'connect' | 'upgrade' | 'close' | 'destroy' | 'on' | 'once' | 'off' | 'addListener' | 'removeListener' | 'prependListener' | 'prependOnceListener' | 'listeners' | 'rawListeners' | 'emit',
  (...args: any[]) => any
>;

/**
 * An interceptor as both undici 7's and 8's `compose()` take it.
 * @typeParam D - the dispatch function of the undici it is composed with
 */
export type AnyUndiciInterceptor = <D extends (...args: any[]) => any>(dispatch: D) => D;
/* eslint-enable @typescript-eslint/no-explicit-any */
