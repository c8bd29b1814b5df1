// createFetch on Bun and Deno, whose `fetch` ignores undici dispatchers (a request through one
// went out with no certificate and no word). Each runtime takes the TLS material its own way: Bun
// a per-request `tls` option, Deno an HTTP client made with `Deno.createHttpClient`. Both would
// keep a request's TLS material across a redirect to another host, so redirects are followed here,
// one hop at a time, each hop resolving its own certificate by the rules (a request's own
// `select`/`rejectUnauthorized` apply to its first origin only, as on Node).
import { MtlsError } from '../errors.js';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store/store.js';
import { changesChoice, chooseFor } from './choose.js';
import { reportChoice } from './events.js';
import { resolveAdapterOptions, type AdapterOptions, type RequestMtlsOptions } from './options.js';

export type WebRuntime = 'bun' | 'deno';

interface DenoLike {
  createHttpClient(options: { cert?: string; key?: string; caCerts?: string[] }): { close(): void };
}

/** Bun or Deno, when this is one (their fetch takes no dispatcher). */
export function webRuntime(): WebRuntime | undefined {
  if (typeof (process as { versions?: { bun?: string } }).versions?.bun === 'string') return 'bun';
  const deno = (globalThis as { Deno?: Partial<DenoLike> }).Deno;
  if (typeof deno?.createHttpClient === 'function') return 'deno';
  return undefined;
}

/**
 * Refuses an undici dispatcher where the runtime cannot use one, saying what to use instead: the
 * one check every MtlsAgent (createDispatcher, createInterceptor, createFetch with a fetch of its
 * own) makes when it is built.
 */
export function refuseDispatcherOn(runtime: WebRuntime | undefined): void {
  if (runtime !== 'bun') return;
  throw new MtlsError(
    'ERR_INVALID_OPTION',
    `An undici dispatcher (createDispatcher, createInterceptor, or createFetch with a fetch of its own) cannot work on Bun: its fetch ignores undici dispatchers and its built-in undici replaces the npm one, so no certificate would be sent. Use createFetch(store) (it passes Bun's per-request tls option) or createHttpsAgent(store) with node:https.`,
  );
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

type Fetch = (input: string, init: Record<string, unknown>) => Promise<Response>;

/** A body that can be sent again after a redirect, or undefined; a stream cannot. */
function replayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData;
}

/**
 * The fetch of {@link createFetch} on Bun and Deno: per hop, the certificate the store resolves
 * (with the adapter options), sent the runtime's way; redirects followed here (`redirect:
 * 'manual'` and `'error'` as fetch means them).
 */
export function runtimeFetch(store: CertificateStore, options: AdapterOptions & { agentOptions?: unknown }, runtime: WebRuntime) {
  const resolved = resolveAdapterOptions(store, options);
  if (resolved.proxy !== undefined) throw new MtlsError('ERR_INVALID_OPTION', `proxy is not supported by createFetch on ${runtime === 'bun' ? 'Bun' : 'Deno'}: use the runtime's own proxy settings (HTTPS_PROXY), or createHttpsAgent with node:https.`);
  const clients = new Map<string, { close(): void }>();
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  const call = globalThis.fetch.bind(globalThis) as unknown as Fetch;

  /** The runtime's TLS options for one hop. */
  function tlsFor(url: URL, own: RequestMtlsOptions | undefined): Record<string, unknown> {
    if (url.protocol !== 'https:' && url.protocol !== 'wss:') return {};
    const mine = own !== undefined && changesChoice(own, resolved) ? own : undefined;
    const match = chooseFor(store, url, resolved, mine);
    reportChoice(resolved, store, url.origin, match, own?.includeExpired);
    const verify = resolved.verify(own?.rejectUnauthorized);
    return runtime === 'bun' ? bunTls(match, verify) : { client: denoClient(match, verify) };
  }

  function material(match: Match<LoadedCertificate> | undefined): { cert: string; key: string } | undefined {
    if (match === undefined) return undefined;
    const certificate = match.entry.certificate;
    if (certificate.tls.key === undefined) {
      throw new MtlsError('ERR_INVALID_OPTION', `The certificate of entry ${match.entry.id} has its key on a token (PKCS#11), which only Node's OpenSSL can use: run this on Node.`);
    }
    return { cert: certificate.tls.cert, key: certificate.tls.key };
  }

  function bunTls(match: Match<LoadedCertificate> | undefined, verify: boolean): Record<string, unknown> {
    const pair = material(match);
    const ca = resolved.trust.withEntry(match?.entry).list();
    const tls = { ...(pair ?? {}), ...(ca === undefined ? {} : { ca }), rejectUnauthorized: verify };
    return { tls };
  }

  function denoClient(match: Match<LoadedCertificate> | undefined, verify: boolean): { close(): void } {
    if (!verify) throw new MtlsError('ERR_INVALID_OPTION', "rejectUnauthorized: false is not available on Deno (Deno.createHttpClient cannot turn verification off): add the server's CA with the ca option instead.");
    const trust = resolved.trust.withEntry(match?.entry);
    const key = `${match === undefined ? '-' : `${match.entry.id}\n${match.entry.certificate.fingerprint256}`}\n${trust.token}`;
    let client = clients.get(key);
    if (client === undefined) {
      const pair = material(match);
      // caCerts: added to Deno's roots. trust.custom holds the custom CAs only.
      client = deno.createHttpClient({ ...(pair ?? {}), ...(trust.custom === '' ? {} : { caCerts: [trust.custom] }) });
      clients.set(key, client);
    }
    return client;
  }

  const mtlsFetch = async (input: string | URL | Request, init: Record<string, unknown> & { mtls?: RequestMtlsOptions } = {}): Promise<Response> => {
    const { mtls, ...rest } = init;
    let request: Record<string, unknown> = { ...rest };
    let url: URL;
    if (typeof input === 'string' || input instanceof URL) {
      url = new URL(String(input));
    } else {
      url = new URL(input.url);
      const body = input.body === null ? undefined : await input.arrayBuffer();
      request = { method: input.method, headers: input.headers, signal: input.signal, redirect: input.redirect, ...(body === undefined ? {} : { body }), ...rest };
    }
    const first = url.origin;
    const mode = (request.redirect as string | undefined) ?? 'follow';
    for (let hop = 0; ; hop++) {
      const own = url.origin === first ? mtls : undefined; // bound to the first origin
      const res = await call(url.href, { ...request, ...tlsFor(url, own), redirect: 'manual' });
      const location = res.headers.get('location');
      if (mode === 'manual' || !REDIRECTS.has(res.status) || location === null) return res;
      if (mode === 'error') throw new TypeError(`fetch failed: redirect to ${location} with redirect: 'error'`);
      if (hop >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
      await res.body?.cancel();
      const next = new URL(location, url);
      const method = String(request.method ?? 'GET').toUpperCase();
      if (res.status === 303 ? method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
        const { body: _dropped, ...withoutBody } = request;
        const headers = new Headers(request.headers as ConstructorParameters<typeof Headers>[0]);
        for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
        request = { ...withoutBody, method: 'GET', headers };
      } else if (!replayable(request.body)) {
        throw new TypeError('fetch failed: cannot follow a redirect with a streamed body');
      }
      if (next.origin !== url.origin) {
        // As the fetch standard: credentials of one origin are not sent to another.
        const headers = new Headers(request.headers as ConstructorParameters<typeof Headers>[0]);
        headers.delete('authorization');
        request = { ...request, headers };
      }
      url = next;
    }
  };
  return {
    fetch: mtlsFetch,
    close: async () => {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
