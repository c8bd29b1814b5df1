// CA bundles as the store, the config and the adapters hold them: one, a list, or none. Text
// helpers only (no parsing, no node-forge): what loadCaBundle made is compared by its PEM.
import type { CaBundle } from './types.js';

/** A `ca` field (one bundle, a list, or none) as a list. */
export function caListOf(ca: CaBundle | readonly CaBundle[] | undefined): readonly CaBundle[] {
  return ca === undefined ? [] : Array.isArray(ca) ? (ca as readonly CaBundle[]) : [ca as CaBundle];
}

/** CAs as text, for comparing trust ('' for none): a reloaded file is the same CA. */
export function caText(ca: CaBundle | readonly CaBundle[] | undefined): string {
  return caListOf(ca)
    .map((c) => c.pem)
    .join('\n');
}

export function isCaBundle(value: unknown): value is CaBundle {
  return typeof (value as Partial<CaBundle> | null)?.pem === 'string';
}
