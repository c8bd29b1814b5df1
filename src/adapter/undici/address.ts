// A request whose origin an undici dns interceptor turned into an address (`https://10.0.0.7`,
// with the host name in `servername`): the certificate is chosen by the host name, and the
// connection still goes to the address the dns interceptor picked.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** @internal The address a request's connection goes to (set by the interceptor). */
export const kAddress = Symbol('mtls-resolver.address');

/**
 * The origin by name of a request a dns interceptor rewrote, and the address it chose; undefined
 * for any other request.
 */
export function namedOrigin(opts: { origin?: unknown; servername?: unknown }): { origin: string; address: string } | undefined {
  const servername = opts.servername;
  if (typeof servername !== 'string' || servername === '' || isIP(servername) !== 0 || opts.origin === undefined) return undefined;
  const url = new URL(String(opts.origin));
  const address = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(address) === 0) return undefined;
  return { origin: `${url.protocol}//${servername}${url.port === '' ? '' : `:${url.port}`}`, address };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => void;

/**
 * A `lookup` for the connections of one origin: its host name goes to the address last given
 * (`address()`), as the dns interceptor picked it; other names (a proxy's) and the origin before
 * any address is given go to the caller's lookup, else Node's.
 */
export function pinnedLookup(hostname: string, address: () => string | undefined, fallback: Lookup | undefined): Lookup {
  return (name, options, callback) => {
    const pinned = name === hostname ? address() : undefined;
    if (pinned === undefined) return (fallback ?? (dnsLookup as unknown as Lookup))(name, options, callback);
    const family = isIP(pinned);
    if (options?.all === true) callback(null, [{ address: pinned, family }]);
    else callback(null, pinned, family);
  };
}
