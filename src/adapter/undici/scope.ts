// Per-request options (select, rejectUnauthorized) ride along with the dispatch options under a
// registry symbol: a view of the agent adds them, the agent's origin router reads them.
import { Dispatcher } from 'undici';
import type { RequestMtlsOptions } from '../options.js';
import type { TrackedHandler } from './handler.js';

export const kScope = Symbol.for('mtls-resolver.scope');

export interface Scope extends RequestMtlsOptions {
  /** `select` applies to this origin only (R7: after a redirect, resolution runs anew). */
  origin?: string;
}

export type ScopedDispatchOptions = Dispatcher.DispatchOptions & { [kScope]?: Scope };

/** Calls the function among `args` (the callback form of close/destroy), else returns the promise. */
export function settle(done: Promise<void>, args: unknown[]): Promise<void> | void {
  const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (callback === undefined) return done;
  void done.then(callback);
}

/** A view of an agent whose requests carry a scope. Closing the view closes nothing: the agent is shared. */
export class ScopedDispatcher extends Dispatcher {
  readonly #agent: Dispatcher;
  readonly #scope: Scope;

  constructor(agent: Dispatcher, scope: Scope) {
    super();
    this.#agent = agent;
    this.#scope = scope;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler | TrackedHandler): boolean {
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
