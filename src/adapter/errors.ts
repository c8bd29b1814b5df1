// TLS failures, told in words a user can act on: which certificate was presented to which origin,
// its validity, and the likely causes; for server certificates, how to trust a private CA.
import { MtlsError } from '../errors.js';
import { serverAlert } from './alerts.js';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';

const SERVER_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** The certificate a connection presented, described without key material. */
function presented(origin: string, match: Match<LoadedCertificate> | undefined, skipped?: string): string {
  if (match === undefined) {
    if (skipped !== undefined) return `No client certificate was presented to ${origin}: ${skipped}.`;
    return `No client certificate was presented to ${origin} (no entry matches it). If this server requires mTLS, add an entry for its host and port; store.explain('${origin}') shows why none matched.`;
  }
  const { entry } = match;
  const c = entry.certificate;
  const name = entry.name === undefined ? '' : ` ${JSON.stringify(entry.name)}`;
  return `The client certificate${name} (id ${entry.id}, ${c.subject}, issued by ${c.issuer}, fingerprint ${c.fingerprint256}, valid until ${c.notAfter.toISOString()}, status ${c.status}) was presented to ${origin} (${match.reason}).`;
}

/** Why nothing was presented, when it is not simply that no entry matches (an entry skipped by R6). */
function skippedOf(match: Match<LoadedCertificate> | undefined, why: (() => string) | undefined): string | undefined {
  if (match !== undefined || why === undefined) return undefined;
  const text = why();
  return text === 'no entry matches it' ? undefined : text;
}

function serverCertificateError(err: Error, origin: string): MtlsError {
  const code = codeOf(err);
  const what =
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN'
      ? 'it is self-signed or issued by a private CA that is not trusted'
      : code === 'CERT_HAS_EXPIRED'
        ? 'it has expired'
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH'
          ? 'it is not issued for this host name'
          : 'its issuer is not trusted';
  const fact = `The server certificate of ${origin} was rejected: ${what} (${code}: ${err.message})`;
  return new MtlsError(
    'ERR_SERVER_CERTIFICATE',
    `${fact}. If the server uses a private CA, add that CA: the adapter option ca (e.g. ca: loadCaBundle({ file: 'ca.pem' })) or "ca" in certs.json; it is added to Node's default roots. Only for a test server: rejectUnauthorized: false (per request: init.mtls.rejectUnauthorized).`,
    { cause: err, reason: { kind: 'server-untrusted', fact, origin } },
  );
}

function looksLikeTlsFailure(err: Error): boolean {
  const code = codeOf(err);
  return (
    code.startsWith('ERR_SSL_') ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    /alert|handshake|other side closed|socket hang up/i.test(err.message)
  );
}

function handshakeError(err: Error, origin: string, match: Match<LoadedCertificate> | undefined, why?: () => string): MtlsError {
  const skipped = skippedOf(match, why);
  // The CLI words "no entry matches" itself from this reason: only when that is what happened.
  const noneMatched = (fact: string) => (match === undefined && skipped === undefined ? { reason: { kind: 'no-client-certificate' as const, fact, origin } } : {});
  // The server's own words when it sent an alert; the likely causes when it only hung up.
  const alert = serverAlert(err);
  if (alert !== undefined) {
    const fact = `The server ${origin} refused the TLS connection with the alert ${alert.name}: ${alert.meaning}`;
    const advice = alert.name === 'certificate_required' && match !== undefined ? ' The certificate was sent: the server may not have accepted its type, or it requires one for another host name.' : skipped !== undefined ? '' : ` ${alert.advice}`;
    return new MtlsError('ERR_TLS_HANDSHAKE', `${fact}. ${presented(origin, match, skipped)}${advice}`, { cause: err, ...noneMatched(fact) });
  }
  const causes =
    match === undefined
      ? ''
      : ' Likely causes: the server does not trust the issuer of this certificate (it needs the CA chain), the certificate is expired or not yet valid, it is not issued for client authentication, or the server expects another certificate for this host.';
  const fact = `The server ${origin} closed or refused the TLS connection (${codeOf(err) || 'no code'}: ${err.message})`;
  return new MtlsError('ERR_TLS_HANDSHAKE', `${fact}. ${presented(origin, match, skipped)}${causes}`, { cause: err, ...noneMatched(fact) });
}

function isAlpnFailure(err: Error): boolean {
  return codeOf(err) === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || /no application protocol/i.test(err.message);
}

// The server and the client share no application protocol: a protocol problem, not a certificate one.
function alpnError(err: Error, origin: string, offered: readonly string[]): MtlsError {
  const advice = offered.includes('h2')
    ? 'The server speaks neither HTTP/1.1 nor HTTP/2 over TLS: check the port and the service behind it.'
    : 'The server probably speaks only HTTP/2: pass agentOptions: { allowH2: true } to createDispatcher, createFetch or createInterceptor (to createInterceptor itself: its connections do not take the options of the Agent it is composed onto).';
  return new MtlsError(
    'ERR_TLS_ALPN',
    `The server ${origin} refused the connection because it accepts none of the application protocols offered (ALPN: ${offered.join(', ')}). ${advice} This is not about the client certificate.`,
    { cause: err },
  );
}

/**
 * A failure while connecting: no common application protocol, server certificate rejected,
 * handshake refused, or passed on as it is. `alpn`: the protocols offered.
 */
export function describeConnectError(
  err: Error,
  origin: string,
  match: Match<LoadedCertificate> | undefined,
  verify: boolean,
  alpn: readonly string[] = ['http/1.1'],
  proxy?: string,
  why?: () => string,
): Error {
  if (err instanceof MtlsError) return err;
  const target = proxy === undefined ? origin : `${origin} (reached through the proxy ${proxy})`;
  if (isAlpnFailure(err)) return alpnError(err, target, alpn);
  if (verify && SERVER_CERTIFICATE_CODES.has(codeOf(err))) return serverCertificateError(err, target);
  if (looksLikeTlsFailure(err)) return handshakeError(err, target, match, why);
  return err;
}

/** A failure of a request on a TLS connection: with TLS 1.3 the server's verdict on the client certificate arrives here. */
export function describeRequestError(err: Error, origin: string, match: Match<LoadedCertificate> | undefined, proxy?: string, why?: () => string): Error {
  if (err instanceof MtlsError) return err;
  if (/HTTP_1_1_REQUIRED/.test(err.message)) {
    return new MtlsError(
      'ERR_HTTP_1_1_REQUIRED',
      `The server ${origin} answered this request over HTTP/2 with HTTP_1_1_REQUIRED: it wants HTTP/1.1 here (a server that asks for a client certificate per location does). It was not sent again, because its body is a stream that cannot be read twice; the next requests to this origin use HTTP/1.1.`,
      { cause: err },
    );
  }
  if (codeOf(err).startsWith('ERR_SSL_') || (codeOf(err) === 'UND_ERR_SOCKET' && /other side closed/i.test(err.message))) {
    return handshakeError(err, proxy === undefined ? origin : `${origin} (reached through the proxy ${proxy})`, match, why);
  }
  return err;
}
