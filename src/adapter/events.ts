// The events that say which certificate went where: `onSelect` and the `mtls-resolver:select`
// channel for every request that presents one, `mtls-resolver:connect` for every new connection.
import { channel } from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import type { LoadedCertificate } from '../loader/types.js';
import type { Match } from '../resolver/types.js';

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
