// Options and config objects are read through their own properties only: a field inherited from a
// prototype (a polluted Object.prototype, an object made with Object.create) is never taken for a
// setting — `rejectUnauthorized: false` least of all.

/** A null-prototype copy of `value`'s own enumerable properties. */
export function ownFields<T extends object>(value: T): T {
  return Object.assign(Object.create(null) as T, value);
}
