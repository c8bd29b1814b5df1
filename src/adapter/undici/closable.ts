// close() and destroy() as undici's dispatchers take them (a promise, or a callback; destroy with
// or without an error), written once, as undici writes them once in its DispatcherBase: a
// dispatcher of ours says what ending means in end(), and gets both forms of both.
import { Dispatcher } from 'undici';

export abstract class ClosableDispatcher extends Dispatcher {
  #closed = false;
  #destroyed = false;

  constructor() {
    super();
    bindToSelf(this, ['close', 'destroy']);
  }

  /** Ends the dispatcher: gracefully (`err` undefined: requests already queued complete) or at once. */
  protected abstract end(err: Error | null | undefined): Promise<void>;

  get closed(): boolean {
    return this.#closed;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(...args: unknown[]): Promise<void> | void {
    this.#closed = true;
    return settle(this.end(undefined), args);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(...args: unknown[]): Promise<void> | void {
    this.#closed = true;
    this.#destroyed = true;
    return settle(this.end((args.find((a) => a instanceof Error) as Error | undefined) ?? null), args);
  }
}

/** Calls the function among `args` (the callback form of close/destroy), else returns the promise. */
export function settle(done: Promise<void>, args: unknown[]): Promise<void> | void {
  const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (callback === undefined) return done;
  void done.then(callback);
}

/**
 * Makes `names` methods of `target` own, non-enumerable functions bound to it. undici's
 * `compose()` returns a Proxy whose methods run with the Proxy as `this`, and `#private` fields
 * are not reached through a Proxy: `agent.compose(interceptor).close()` threw. Bound, they run on
 * the agent itself, as a plain Agent's do.
 */
export function bindToSelf(target: object, names: string[]): void {
  for (const name of names) {
    const method = (target as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(target, name, { value: method.bind(target), writable: true, configurable: true, enumerable: false });
  }
}
