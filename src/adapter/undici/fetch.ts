// createFetch: the runtime's own fetch with an MtlsAgent as its dispatcher, so that it takes
// everything the runtime's fetch takes (its Request, Headers, FormData, Blob, streams, signals)
// and returns the runtime's Response, as ky and other wrappers of fetch expect.
import type { CertificateStore } from '../../store/store.js';
import type { RequestMtlsOptions } from '../options.js';
import { runtimeFetch, webRuntime } from '../runtime-fetch.js';
import { MtlsAgent, type DispatcherOptions } from './agent.js';
import { inFormDataOf, tagOf } from './form-data.js';

/** `init` of {@link createFetch}'s fetch: the runtime's RequestInit plus per-request mTLS options. */
export type MtlsRequestInit = RequestInit & { mtls?: RequestMtlsOptions };

/**
 * The fetch that {@link createFetch} returns, with its dispatcher and a `close()`. On Bun and Deno
 * (whose fetch takes no dispatcher) `dispatcher` is undefined.
 */
export type MtlsFetch = ((input: string | URL | Request, init?: MtlsRequestInit) => Promise<Response>) & {
  dispatcher: MtlsAgent;
  /** Closes the connections (the dispatcher's, or Deno's HTTP clients). */
  close(): Promise<void>;
};

/** Options of {@link createFetch}. */
export interface FetchOptions extends DispatcherOptions {
  /** The fetch to call with the dispatcher. Default: the runtime's global `fetch`; undici's `fetch` works too. */
  fetch?: (input: never, init?: never) => Promise<unknown>;
}

type AnyFetch = (input: unknown, init?: Record<string, unknown>) => Promise<Response>;

// A Request or FormData of another copy of undici (e.g. `import { Request } from 'undici'`) is not
// one to the runtime's fetch, which would send "[object Request]": rebuild it as the runtime's own.
function runtimeInput(input: unknown): unknown {
  if (typeof input === 'string' || input instanceof URL || input instanceof Request || tagOf(input) !== 'Request') return input;
  const r = input as Request;
  return new Request(r.url, { method: r.method, headers: r.headers, body: r.body, signal: r.signal, redirect: r.redirect, ...(r.body === null ? {} : { duplex: 'half' }) } as RequestInit);
}

/**
 * The runtime's `fetch` with a {@link createDispatcher} dispatcher. Per request,
 * `init.mtls = { select, rejectUnauthorized }` picks an entry for that request's origin or turns
 * verification off for it alone. Redirects to another origin resolve again. `init.dispatcher`, if
 * given, wins. Works as the `fetch` of ky and other fetch wrappers. On Bun and Deno it presents the
 * certificate their way (Bun's `tls` option, a Deno HTTP client per certificate) and follows
 * redirects itself, each hop resolving its own certificate.
 *
 * @example
 * ```ts
 * const fetch = createFetch(store);
 * const res = await fetch('https://api.acme.com/v1/orders');
 * await fetch('https://staging.acme.com/', { mtls: { select: 'ACME staging', rejectUnauthorized: false } });
 * const api = ky.create({ prefixUrl: 'https://api.acme.com/v1', fetch });
 * await fetch.close();
 * ```
 */
export function createFetch(store: CertificateStore, options: FetchOptions = {}): MtlsFetch {
  const { fetch: given, ...dispatcherOptions } = options;
  const runtime = webRuntime();
  if (runtime !== undefined && (given === undefined || given === globalThis.fetch)) {
    // Bun's and Deno's fetch ignore dispatchers: the certificate goes their own way.
    const { fetch, close } = runtimeFetch(store, dispatcherOptions, runtime);
    return Object.assign(fetch, { dispatcher: undefined as unknown as MtlsAgent, close }) as unknown as MtlsFetch;
  }
  const call = (given ?? globalThis.fetch) as AnyFetch;
  const dispatcher = new MtlsAgent(store, dispatcherOptions);
  const mtlsFetch = ((input: string | URL | Request, init: MtlsRequestInit = {}) => {
    const { mtls, ...rest } = init as MtlsRequestInit & { dispatcher?: unknown };
    const request = given === undefined ? runtimeInput(input) : input;
    const body = given === undefined && rest.body !== undefined ? { body: inFormDataOf(rest.body, FormData) } : {};
    if (mtls === undefined || rest.dispatcher !== undefined) return call(request, { dispatcher, ...rest, ...body });
    // The options apply to this URL's origin only: never to a redirect's target (see withOptions).
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    const origin = URL.canParse(url) ? url : undefined; // fetch itself refuses a URL it cannot parse
    return call(request, { ...rest, ...body, dispatcher: dispatcher.withOptions({ ...mtls, origin }) });
  }) as MtlsFetch;
  mtlsFetch.dispatcher = dispatcher;
  mtlsFetch.close = () => dispatcher.close();
  return mtlsFetch;
}
