// Per-request options (select, rejectUnauthorized) ride along with the dispatch options under a
// registry symbol: a view of the agent adds them, the agent's origin router reads them.
import type { Dispatcher } from 'undici';
import { ClosableDispatcher } from './closable.js';
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
export class ScopedDispatcher extends ClosableDispatcher {
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

  /** Closing the view closes nothing: the agent is shared. */
  protected end(): Promise<void> {
    return Promise.resolve();
  }
}
