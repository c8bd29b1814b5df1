// createInterceptor: an undici interceptor that sends the requests this library has a say in
// through an MtlsAgent, and every other request on to the dispatcher it was composed with.
import type { Dispatcher } from 'undici';
import type { AnyUndiciInterceptor } from '../runtime.js';
import { isSecureProtocol } from '../../resolver/host.js';
import type { CertificateStore } from '../../store/store.js';
import { chooseFor } from '../choose.js';
import { StoreMemo } from '../memo.js';
import { MtlsAgent, kResolved, type DispatcherOptions } from './agent.js';
import { kAddress, namedOrigin } from './address.js';
import { kScope, type ScopedDispatchOptions } from './scope.js';

/** An undici interceptor: `(dispatch) => dispatch'`, with `close()` for its own connections. */
export type MtlsInterceptor = Dispatcher.DispatcherComposeInterceptor & AnyUndiciInterceptor & {
  /** Closes the interceptor's own connections. */
  close(): Promise<void>;
};

/**
 * An interceptor for `dispatcher.compose(...)`. An https/wss request goes through this library's
 * connections when the store gives its origin a certificate (or the request `select`s one), and
 * also when the adapter's TLS settings are not Node's defaults (a custom `ca`, the store's or
 * yours, or `rejectUnauthorized: false`), so that an origin with no certificate is still verified
 * as the store says; with a `proxy`, every request the proxy is for goes through it. Every other
 * request goes on, unchanged, to the dispatcher you composed it with.
 *
 * It composes in any order with undici's own interceptors: after the dns interceptor (which puts
 * an address in the origin) the certificate is still chosen by the request's host name. Its
 * connections are its own: pass `agentOptions: { allowH2: true }` to it for HTTP/2 (the Agent it
 * is composed onto does not lend it its options).
 *
 * @example
 * ```ts
 * const interceptor = createInterceptor(store);
 * const client = new Agent().compose(interceptor, interceptors.retry(), interceptors.dns());
 * ```
 */
export function createInterceptor(store: CertificateStore, options: DispatcherOptions = {}): MtlsInterceptor {
  const agent = new MtlsAgent(store, options);
  const resolved = agent[kResolved];
  const { proxy } = resolved;
  // Whether an origin goes through the agent: decided per origin (StoreMemo), not per request.
  const wanted = new StoreMemo(store, (originText) => {
    const origin = new URL(originText);
    return (
      proxy?.routeFor(origin) !== undefined ||
      (isSecureProtocol(origin.protocol) && (!resolved.trust.isDefault || !resolved.rejectUnauthorized || chooseFor(store, origin, resolved) !== undefined))
    );
  });
  // A request with its own options (select, rejectUnauthorized): every https/wss one, and what the proxy is for.
  const scopedWanted = (origin: URL) => proxy?.routeFor(origin) !== undefined || isSecureProtocol(origin.protocol);
  const interceptor = ((dispatch: Dispatcher['dispatch']) => (opts: ScopedDispatchOptions, handler: Dispatcher.DispatchHandler) => {
    // After undici's dns interceptor the origin is an address and the name is in servername: the
    // certificate is the name's, never the address's, and the connection goes to that address.
    const named = namedOrigin(opts);
    const origin = named?.origin ?? (opts.origin === undefined ? undefined : String(opts.origin));
    const through = origin !== undefined && (opts[kScope] !== undefined ? scopedWanted(new URL(origin)) : wanted.get(origin));
    if (!through) return dispatch(opts, handler);
    return agent.dispatch(named === undefined ? opts : ({ ...opts, origin: named.origin, [kAddress]: named.address } as ScopedDispatchOptions), handler);
  }) as MtlsInterceptor;
  interceptor.close = () => agent.close();
  return interceptor;
}
