// node:https (and so axios, got): request options to spread, or an Agent that picks per request.
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store.js';
import { reportSelect } from './events.js';
import { resolveAdapterOptions, secureContextFor, type AdapterOptions, type RequestMtlsOptions, type ResolvedAdapterOptions } from './options.js';

function resolveFor(store: CertificateStore, url: URL, o: ResolvedAdapterOptions, select: string | undefined): Match<LoadedCertificate> | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'wss:') return undefined;
  return select === undefined ? store.resolve(url, { fallbackToPrimary: o.fallbackToPrimary }) : store.resolve(url, { select });
}

/**
 * The TLS fields for one `https.request`: `cert` and `key` of the certificate the store resolves
 * for `url` (none for http or a host that matches nothing), `ca` (Node's roots plus yours) and
 * `rejectUnauthorized`. No agent: Node's global agent keys its sockets by `cert` and `key`, so two
 * certificates never share a socket. For many requests, {@link createHttpsAgent} is faster.
 *
 * @example
 * ```ts
 * https.request(url, { ...httpsRequestOptions(store, url), method: 'POST' }, onResponse);
 * axios.get(url, { httpsAgent: new https.Agent(httpsRequestOptions(store, url)) });
 * ```
 */
export function httpsRequestOptions(
  store: CertificateStore,
  url: string | URL,
  options: AdapterOptions & RequestMtlsOptions = {},
): https.RequestOptions {
  const resolved = resolveAdapterOptions(store, options);
  const u = new URL(String(url));
  const match = resolveFor(store, u, resolved, options.select);
  if (match !== undefined) reportSelect(resolved, u.origin, match);
  return {
    ...(match === undefined ? {} : { cert: match.entry.certificate.tls.cert, key: match.entry.certificate.tls.key }),
    ...(resolved.ca === undefined ? {} : { ca: resolved.ca }),
    rejectUnauthorized: options.rejectUnauthorized ?? resolved.rejectUnauthorized,
  };
}

/** Options of {@link createHttpsAgent}. */
export interface HttpsAgentOptions extends AdapterOptions {
  /** Passed to `https.Agent`. Default: `{ keepAlive: true }`. */
  agentOptions?: https.AgentOptions;
}

type AgentRequestOptions = https.RequestOptions & { mtls?: RequestMtlsOptions; servername?: string };

/**
 * An `https.Agent` that presents, per request, the certificate the store resolves for the request's
 * host and port, from a TLS context built once per certificate. Its sockets are keyed by the
 * chosen certificate and verification setting too (Node keys them by cert/key/pfx only, not by
 * secureContext), so two certificates never share a socket. Per request: `{ mtls: { select,
 * rejectUnauthorized } }` in the request options.
 *
 * @example
 * ```ts
 * const agent = createHttpsAgent(store);
 * https.get('https://api.acme.com/v1', { agent }, onResponse);
 * axios.get(url, { httpsAgent: agent });
 * ```
 */
export function createHttpsAgent(store: CertificateStore, options: HttpsAgentOptions = {}): https.Agent {
  const resolved = resolveAdapterOptions(store, options);

  const choose = (o: AgentRequestOptions): { match: Match<LoadedCertificate> | undefined; verify: boolean; origin: string } => {
    const host = o.hostname ?? o.host ?? 'localhost';
    const url = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${o.port ?? 443}`);
    return {
      match: resolveFor(store, url, resolved, o.mtls?.select),
      verify: o.mtls?.rejectUnauthorized ?? o.rejectUnauthorized ?? resolved.rejectUnauthorized,
      origin: url.origin,
    };
  };

  class MtlsHttpsAgent extends https.Agent {
    override getName(o: AgentRequestOptions = {}): string {
      const { match, verify } = choose(o);
      const cert = match === undefined ? '-' : `${match.entry.id}/${match.entry.certificate.fingerprint256}`;
      return `${super.getName(o)}:mtls:${cert}:${verify}`;
    }

    addRequest(req: unknown, o: AgentRequestOptions): void {
      const { match, origin } = choose(o);
      if (match !== undefined) reportSelect(resolved, origin, match);
      (https.Agent.prototype as unknown as { addRequest(r: unknown, o: unknown): void }).addRequest.call(this, req, o);
    }

    override createConnection(o: AgentRequestOptions, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
      const { match, verify } = choose(o);
      const tlsOptions = { ...o, secureContext: secureContextFor(match?.entry.certificate, resolved.ca), rejectUnauthorized: verify };
      return (https.Agent.prototype as unknown as { createConnection(o: unknown, cb?: unknown): Duplex }).createConnection.call(this, tlsOptions, callback);
    }
  }

  return new MtlsHttpsAgent({ keepAlive: true, ...options.agentOptions });
}
