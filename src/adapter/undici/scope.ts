// Per-request options (select, rejectUnauthorized) ride along with the dispatch options under a
// registry symbol: a view of the agent adds them, the agent's origin router reads them.
import { Dispatcher } from 'undici';
import { MtlsError } from '../../errors.js';
import type { RequestMtlsOptions } from '../options.js';
import type { TrackedHandler } from './handler.js';

export const kScope = Symbol.for('mtls-resolver.scope');

export interface Scope extends RequestMtlsOptions {
  /**
   * The one origin the scope applies to (R7: after a redirect elsewhere, resolution runs anew with
   * the adapter's own settings). A router ignores a scope without one.
   */
  origin?: string;
}

export type ScopedDispatchOptions = Dispatcher.DispatchOptions & { [kScope]?: Scope };

/** Calls the function among `args` (the callback form of close/destroy), else returns the promise. */
export function settle(done: Promise<void>, args: unknown[]): Promise<void> | void {
  const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (callback === undefined) return done;
  void done.then(callback);
}

/** The origin (`https://host:port` as WHATWG URL prints it) of a URL or an origin given as text. */
export function originOf(value: string | URL): string {
  if (value instanceof URL) return value.origin;
  const text = String(value);
  if (!URL.canParse(text)) throw new MtlsError('ERR_INVALID_TARGET', 'The origin of per-request options must be an absolute URL such as https://api.acme.com:8443.');
  return new URL(text).origin;
}

/**
 * A view of an agent whose requests carry a scope. A scope made without an origin is bound to the
 * origin of the view's first request, so that a redirect the client follows through the same view
 * (fetch, undici's redirect interceptor) never carries `select` or `rejectUnauthorized` to another
 * host. Closing the view closes nothing: the agent is shared.
 */
export class ScopedDispatcher extends Dispatcher {
  readonly #agent: Dispatcher;
  #scope: Scope;

  constructor(agent: Dispatcher, scope: Scope) {
    super();
    this.#agent = agent;
    this.#scope = scope;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler | TrackedHandler): boolean {
    if (this.#scope.origin === undefined && opts.origin !== undefined) this.#scope = { ...this.#scope, origin: originOf(opts.origin) };
    return this.#agent.dispatch({ ...opts, [kScope]: this.#scope } as Dispatcher.DispatchOptions, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    return settle(Promise.resolve(), args);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    return settle(Promise.resolve(), args);
  }
}
