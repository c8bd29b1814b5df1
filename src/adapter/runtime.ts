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
export interface AnyUndiciDispatcher {
  dispatch(...args: any[]): any;
  compose(...args: any[]): any;
  request(...args: any[]): any;
  stream(...args: any[]): any;
  pipeline(...args: any[]): any;
  connect(...args: any[]): any;
  upgrade(...args: any[]): any;
  close(...args: any[]): any;
  destroy(...args: any[]): any;
  on(...args: any[]): any;
  once(...args: any[]): any;
  off(...args: any[]): any;
  addListener(...args: any[]): any;
  removeListener(...args: any[]): any;
  prependListener(...args: any[]): any;
  prependOnceListener(...args: any[]): any;
  listeners(...args: any[]): any;
  rawListeners(...args: any[]): any;
  emit(...args: any[]): any;
}

/** An interceptor as both undici 7's and 8's `compose()` take it. */
export type AnyUndiciInterceptor = <D extends (...args: any[]) => any>(dispatch: D) => D;
/* eslint-enable @typescript-eslint/no-explicit-any */
