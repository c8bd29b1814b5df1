import { MtlsError } from '../errors.js';

// Hostnames as the rules compare them (R2): normalisation, IP literals, and the schemes of R1.
// Pure: WHATWG URL does the IDN and IP work, so patterns (pattern.ts) and targets (target.ts) are
// normalised by the very same code that parses request URLs.

/** A plain ASCII hostname, already in its final form. */
export const PLAIN_ASCII_HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
/** One label of a plain ASCII hostname. */
export const LABEL = /^[a-z0-9_-]+$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// The WHATWG parser reads a host whose last label is a number as an IPv4 address.
export const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

/** True for a normalised IPv4 or IPv6 literal. */
export function isIpHost(host: string): boolean {
  if (host.includes(':')) return true;
  const last = host.charCodeAt(host.length - 1); // an IPv4 address ends with a digit; most names do not
  return last >= 48 && last <= 57 && IPV4.test(host);
}

/**
 * The ASCII form of a host as WHATWG URL gives it, lower case, without IPv6 brackets and with
 * one trailing dot removed; `undefined` when it is not a host.
 */
export function toAsciiHost(raw: string): string | undefined {
  let host = raw;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') return undefined;
  if (host.includes(':')) {
    try {
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const lower = host.toLowerCase();
  // Fast path: plain ASCII names are already in their final form.
  if (PLAIN_ASCII_HOST.test(lower) && !lower.includes('xn--') && !NUMERIC_LABEL.test(lower.slice(lower.lastIndexOf('.') + 1))) {
    return lower;
  }
  if (/[\s/\\?#@%:[\]]/.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}/`);
  } catch {
    return undefined;
  }
  const ascii = url.hostname;
  if (ascii === '' || url.port !== '') return undefined;
  if (!IPV4.test(ascii) && !PLAIN_ASCII_HOST.test(ascii)) return undefined;
  return ascii;
}

/**
 * Normalises a hostname as the rules compare it (R2): lower case, one trailing dot removed,
 * internationalised names in punycode as WHATWG URL gives them, IPv6 without brackets.
 *
 * @throws {MtlsError} `ERR_INVALID_TARGET` when `host` is not a hostname or IP address.
 * @example
 * ```ts
 * normalizeHost('Bücher.Example.');   // 'xn--bcher-kva.example'
 * normalizeHost('[::FFFF:10.0.0.1]'); // '::ffff:a00:1'
 * ```
 */
export function normalizeHost(host: string): string {
  const ascii = typeof host === 'string' ? toAsciiHost(host.trim()) : undefined;
  if (ascii === undefined) {
    throw new MtlsError(
      'ERR_INVALID_TARGET',
      `${describe(host)} is not a hostname or IP address: write a host such as api.acme.com, 10.0.0.7 or ::1.`,
    );
  }
  return ascii;
}

/** A value as a message shows it: quoted, at most 80 characters. */
export function describe(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value} value`;
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
}

/** R1: only these schemes ever get a client certificate. */
export function isSecureProtocol(protocol: string): boolean {
  return protocol === 'https:' || protocol === 'wss:';
}
