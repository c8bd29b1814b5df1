// The mark of a certificate loaded at first use (src/loader/lazy.ts), without importing the loader:
// the store checks and validates such certificates, and the adapter subpath loads no node-forge.

/** Loads a deferred certificate now; throws what the load throws. */
export const LOAD_NOW: unique symbol = Symbol('mtls-resolver.loadNow');

/** True once a deferred certificate is loaded (its subject, chain and key are known). */
export const IS_LOADED: unique symbol = Symbol('mtls-resolver.isLoaded');

export interface Deferred {
  [LOAD_NOW](): void;
  [IS_LOADED](): boolean;
}

export function isDeferred(value: unknown): value is Deferred {
  return typeof value === 'object' && value !== null && LOAD_NOW in value;
}
