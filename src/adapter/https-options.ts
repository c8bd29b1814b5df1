// node:https request options for one request: the TLS fields of the certificate the store
// resolves for a URL, to spread into `https.request`, `http2.connect` or `tls.connect`.
import type * as tls from 'node:tls';
import type { CertificateStore } from '../store/store.js';
import { chooseFor } from './choose.js';
import { reportChoice } from './events.js';
import { resolveAdapterOptions, type AdapterOptions, type RequestMtlsOptions } from './options.js';
import { redactedTls } from './redact.js';
import { secureContextFor } from './contexts.js';
import { tokenKeyOf } from '../loader/pkcs11.js';

/**
 * The TLS fields for one `https.request` (or `http2.connect`, `tls.connect`): `cert` and `key` of
 * the certificate the store resolves for `url` (none for http or a host that matches nothing),
 * `ca` (Node's roots plus yours) and `rejectUnauthorized`. `cert` and `key` are bytes that print
 * as a token naming the certificate, never as PEM: an agent or an error that carries these options
 * does not show the key. Node's global agent keys its sockets by `cert` and `key`, so two
 * certificates never share a socket. For many requests, {@link createHttpsAgent} is faster.
 *
 * @example
 * ```ts
 * https.request(url, { ...httpsRequestOptions(store, url), method: 'POST' }, onResponse);
 * http2.connect(origin, httpsRequestOptions(store, origin));
 * ```
 */
export function httpsRequestOptions(
  store: CertificateStore,
  url: string | URL,
  options: AdapterOptions & RequestMtlsOptions = {},
): HttpsTlsOptions {
  const resolved = resolveAdapterOptions(store, options);
  const u = new URL(String(url));
  const match = chooseFor(store, u, resolved, options);
  reportChoice(resolved, store, u.origin, match, options.includeExpired);
  const trust = resolved.trust.withEntry(match?.entry);
  if (match !== undefined && tokenKeyOf(match.entry.certificate) !== undefined) {
    // A key on a token: its secure context (chain, token key, CAs, versions), made once per
    // certificate and trust, so that a request does not log in to the token again.
    return { secureContext: secureContextFor(match.entry.certificate, trust), rejectUnauthorized: resolved.verify(options.rejectUnauthorized) };
  }
  const ca = trust.list();
  return {
    ...(match === undefined ? {} : redactedTls(match.entry.certificate as Parameters<typeof redactedTls>[0])),
    ...(ca === undefined ? {} : { ca }),
    ...trust.versions,
    rejectUnauthorized: resolved.verify(options.rejectUnauthorized),
  };
}

/**
 * What {@link httpsRequestOptions} returns: fit to spread into `https.request`, `http2.connect` or
 * `tls.connect` options, and to pass to `new https.Agent(...)`.
 */
export interface HttpsTlsOptions extends Pick<tls.SecureContextOptions, 'cert' | 'key' | 'ca'> {
  /** The certificate chain, as bytes that print as a token naming the certificate. */
  cert?: Buffer;
  /** The private key, as bytes that print as a token, never as PEM. */
  key?: Buffer;
  /** Node's default roots plus your CA certificates and the chosen entry's; absent for Node's defaults. */
  ca?: string[];
  /** TLS version bounds (the adapter's, or the chosen entry's); absent for Node's. */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** For a certificate whose key is on a token (PKCS#11): everything above, in one context. */
  secureContext?: tls.SecureContext;
  rejectUnauthorized: boolean;
}
