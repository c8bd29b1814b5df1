// The events that say which certificate went where: `onSelect` and the `mtls-resolver:select`
// channel for every request that presents one, `onSkip` and `mtls-resolver:skip` for a request
// that presents none because the entries that match it were skipped for their dates (R6),
// `mtls-resolver:connect` for every new connection.
import { channel } from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';
import type { CertificateStore } from '../store/store.js';
import { skippedFor, type ChoiceOptions, type SkippedEntry } from './choose.js';

/** What `onSelect` and the `mtls-resolver:select` channel receive for every request that presents a certificate. */
export interface SelectEvent {
  /** `https://host:port` */
  origin: string;
  entryId: string;
  name: string | undefined;
  kind: Match['kind'];
  fingerprint256: string;
  /** Why this entry was chosen, in words. */
  reason: string;
  /** The proxy the request goes through (its URL without credentials), if any. */
  proxy?: string;
}

/**
 * What `onSkip` and the `mtls-resolver:skip` channel receive for a request that presents no
 * certificate although entries match its origin: they were skipped for their dates (R6).
 */
export interface SkipEvent {
  /** `https://host:port` */
  origin: string;
  /** The entries skipped, best-ranked first, with their dates. */
  skipped: SkippedEntry[];
  /** The proxy the request goes through (its URL without credentials), if any. */
  proxy?: string;
}

/** What the `mtls-resolver:connect` channel receives for every new TLS connection. */
export interface ConnectEvent {
  origin: string;
  /** The client certificate presented, if any. */
  entryId: string | undefined;
  fingerprint256: string | undefined;
  /** The application protocol the server chose (ALPN): `'h2'`, `'http/1.1'`, or `false` for none. */
  alpnProtocol: string | false;
  server: {
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    fingerprint256: string;
    subjectAltName: string | undefined;
  };
  authorized: boolean;
  authorizationError: string | undefined;
  /** The proxy the connection was tunnelled through (its URL without credentials), if any. */
  proxy?: string;
}

const selectChannel = channel('mtls-resolver:select');
const connectChannel = channel('mtls-resolver:connect');
const skipChannel = channel('mtls-resolver:skip');

/** Reports a selection to onSelect and the diagnostics channel. */
export function reportSelect(options: { readonly onSelect: ((event: SelectEvent) => void) | undefined }, origin: string, match: Match<LoadedCertificate>, proxy?: string): void {
  if (options.onSelect === undefined && !selectChannel.hasSubscribers) return;
  const event: SelectEvent = {
    origin,
    entryId: match.entry.id,
    name: match.entry.name,
    kind: match.kind,
    fingerprint256: match.entry.certificate.fingerprint256,
    reason: match.reason,
    ...(proxy === undefined ? {} : { proxy }),
  };
  options.onSelect?.(event);
  if (selectChannel.hasSubscribers) selectChannel.publish(event);
}

/**
 * Reports a request that presents nothing to onSkip and the diagnostics channel, when entries that
 * match its origin were skipped for their dates. The store is asked only when someone listens.
 */
export function reportSkip(
  options: ChoiceOptions & { readonly onSkip: ((event: SkipEvent) => void) | undefined },
  store: CertificateStore,
  origin: string,
  includeExpired: boolean | undefined,
  proxy?: string,
): void {
  if ((options.onSkip === undefined && !skipChannel.hasSubscribers) || (includeExpired ?? options.includeExpired)) return;
  const skipped = skippedFor(store, origin, options);
  if (skipped.length === 0) return;
  const event: SkipEvent = { origin, skipped, ...(proxy === undefined ? {} : { proxy }) };
  options.onSkip?.(event);
  if (skipChannel.hasSubscribers) skipChannel.publish(event);
}

/**
 * Reports what a request's choice came to: the certificate presented (onSelect), or, for an
 * https/wss origin that gets none, the entries skipped for their dates (onSkip).
 */
export function reportChoice(
  options: Parameters<typeof reportSelect>[0] & Parameters<typeof reportSkip>[0],
  store: CertificateStore,
  origin: string,
  match: Match<LoadedCertificate> | undefined,
  includeExpired: boolean | undefined,
  proxy?: string,
): void {
  if (match !== undefined) reportSelect(options, origin, match, proxy);
  else if (origin.startsWith('https:') || origin.startsWith('wss:')) reportSkip(options, store, origin, includeExpired, proxy);
}

/** Reports a new TLS connection (the server's certificate) to the diagnostics channel. */
export function reportConnect(origin: string, match: Match<LoadedCertificate> | undefined, socket: TLSSocket, proxy?: string): void {
  if (!connectChannel.hasSubscribers) return;
  const peer = socket.getPeerCertificate();
  const name = (n: Record<string, string | string[]> | undefined) =>
    n === undefined ? '' : Object.entries(n).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ');
  const event: ConnectEvent = {
    origin,
    entryId: match?.entry.id,
    fingerprint256: match?.entry.certificate.fingerprint256,
    alpnProtocol: socket.alpnProtocol ?? false,
    server: {
      subject: name(peer.subject as never),
      issuer: name(peer.issuer as never),
      validFrom: peer.valid_from,
      validTo: peer.valid_to,
      fingerprint256: peer.fingerprint256,
      subjectAltName: peer.subjectaltname,
    },
    authorized: socket.authorized,
    authorizationError: socket.authorizationError === undefined || socket.authorizationError === null ? undefined : String(socket.authorizationError),
    ...(proxy === undefined ? {} : { proxy }),
  };
  connectChannel.publish(event);
}
