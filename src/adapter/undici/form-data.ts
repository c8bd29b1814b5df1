// Bodies made with another copy of undici (the app's `import { FormData } from 'undici'`, another
// version, or the runtime's bundled one): a copy recognises a FormData by its tag but serialises
// only its own class ("action is not a function"), so such a body is copied into the class of the
// copy that will send it.

/** The `Symbol.toStringTag` of an object (`'FormData'`, `'Request'`), else undefined. */
export const tagOf = (value: unknown): unknown => (typeof value === 'object' && value !== null ? (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] : undefined);

/** `body` as it is, or, when it is a FormData of another class than `Own`, its entries copied into an `Own`. */
export function inFormDataOf(body: unknown, Own: new () => { append(name: string, value: string | Blob): void }): unknown {
  if (body instanceof Own || tagOf(body) !== 'FormData') return body;
  const form = new Own();
  for (const [name, value] of body as Iterable<[string, string | Blob]>) form.append(name, value);
  return form;
}
