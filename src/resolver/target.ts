// Request targets (R1, R2): a URL string, a URL or request options, as protocol, normalised
// hostname and port. A plain URL string is read with one scan of its characters.
import { MtlsError } from '../errors.js';
import { NUMERIC_LABEL, PLAIN_ASCII_HOST, describe, toAsciiHost } from './host.js';
import type { NormalizedTarget, RequestTarget } from './types.js';

const DEFAULT_PORTS: Record<string, number> = { 'https:': 443, 'wss:': 443, 'http:': 80, 'ws:': 80 };

function invalidTarget(target: unknown, advice: string): MtlsError {
  const shown = typeof target === 'string' ? describe(target) : target instanceof URL ? describe(target.href) : 'the target';
  return new MtlsError('ERR_INVALID_TARGET', `Invalid request target ${shown}: ${advice}`);
}

/**
 * Parses a request target into protocol, normalised hostname and numeric port (R1, R2).
 * @throws {MtlsError} `ERR_INVALID_TARGET`, `ERR_INVALID_PORT`.
 */
export function parseTarget(target: RequestTarget): NormalizedTarget {
  if (typeof target === 'string') {
    const simple = simpleTarget(target);
    if (simple !== undefined) return simple;
  }
  let protocol: string;
  let hostname: string;
  let port: string | number | undefined;
  if (typeof target === 'string' || target instanceof URL) {
    let url: URL;
    if (typeof target === 'string') {
      try {
        url = new URL(target);
      } catch {
        throw invalidTarget(target, `write an absolute URL with its scheme, such as "https://${/^[\w.-]+$/.test(target) ? target : 'api.acme.com'}/".`);
      }
    } else {
      url = target;
    }
    protocol = url.protocol;
    port = url.port;
    // WHATWG URL has already normalised a plain name (lower case, punycode, IPv4 canonical): it
    // is the final form as it is. Anything else (IPv6, a trailing dot) goes the full way.
    if (PLAIN_ASCII_HOST.test(url.hostname)) {
      const defaultPort = DEFAULT_PORTS[protocol];
      if (defaultPort !== undefined) return { protocol, hostname: url.hostname, port: parsePortNumber(port, defaultPort, target) };
    }
    hostname = url.hostname;
  } else if (typeof target === 'object' && target !== null && typeof target.hostname === 'string') {
    protocol = typeof target.protocol === 'string' && !target.protocol.endsWith(':') ? `${target.protocol}:` : String(target.protocol);
    hostname = target.hostname;
    port = target.port;
  } else {
    throw invalidTarget(target, 'pass a URL string, a URL, or { protocol, hostname, port }.');
  }
  protocol = protocol.toLowerCase();
  const defaultPort = DEFAULT_PORTS[protocol];
  if (defaultPort === undefined) {
    throw invalidTarget(target, `the scheme ${JSON.stringify(protocol)} is not supported; use https:, wss: (or http:, ws:, which never get a certificate).`);
  }
  const host = toAsciiHost(hostname);
  if (host === undefined) throw invalidTarget(target, `${describe(hostname)} is not a hostname or IP address.`);
  return { protocol, hostname: host, port: parsePortNumber(port, defaultPort, target) };
}

// An absolute URL whose scheme, host and port WHATWG URL leaves as they are: a lower-case scheme
// of R1's four, a lower-case ASCII name, an optional port of up to 5 digits, then the path, query,
// fragment or nothing. The name must not be what WHATWG rewrites: punycode (xn--) or a last label
// that is a number (read as IPv4). Read with one scan of the characters (a RegExp's match array
// cost as much as the rest of a resolution).
const SCHEME_PREFIXES: Array<[string, string, number]> = [
  ['https://', 'https:', 443],
  ['wss://', 'wss:', 443],
  ['http://', 'http:', 80],
  ['ws://', 'ws:', 80],
];

/** The target of a plain URL string without `new URL` (what it would give); undefined for anything else. */
function simpleTarget(target: string): NormalizedTarget | undefined {
  let scheme: [string, string, number] | undefined;
  for (const s of SCHEME_PREFIXES) {
    if (target.startsWith(s[0])) {
      scheme = s;
      break;
    }
  }
  if (scheme === undefined) return undefined;
  const start = scheme[0].length;
  let i = start;
  let labelStart = start;
  let lastLabelNumeric = true; // digits only so far
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if ((c >= 97 && c <= 122) || c === 45 || c === 95) {
      lastLabelNumeric = false; // a-z, -, _
    } else if (c === 46) {
      if (i === labelStart) return undefined; // an empty label
      labelStart = i + 1;
      lastLabelNumeric = true;
    } else if (c < 48 || c > 57) {
      break; // not a digit either: the end of the name
    }
  }
  const end = i;
  if (end === labelStart) return undefined; // empty name or last label (a trailing dot)
  const hostname = target.slice(start, end);
  // A last label of digits, or 0x and hex digits, is read as IPv4 by WHATWG; punycode is checked by it.
  if (lastLabelNumeric || NUMERIC_LABEL.test(hostname.slice(labelStart - start)) || hostname.includes('xn--')) return undefined;
  let port = scheme[2];
  if (i < target.length && target.charCodeAt(i) === 58) {
    let n = 0;
    let digits = 0;
    for (i++; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      if (++digits > 5) return undefined;
    }
    if (digits === 0 || n === 0 || n > 65535) return undefined; // WHATWG's error, or ours: the full path says which
    port = n;
  }
  if (i < target.length) {
    const c = target.charCodeAt(i);
    if (c !== 47 && c !== 63 && c !== 35) return undefined; // only / ? # end the authority here
  }
  return { protocol: scheme[1], hostname, port };
}

function parsePortNumber(port: string | number | undefined, defaultPort: number, target: unknown): number {
  if (port === undefined || port === '' || port === null) return defaultPort;
  const n = typeof port === 'number' ? port : /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    const shown = typeof target === 'string' ? ` in ${describe(target)}` : '';
    throw new MtlsError('ERR_INVALID_PORT', `Invalid port ${describe(String(port))}${shown}: use a whole number from 1 to 65535.`);
  }
  return n;
}
