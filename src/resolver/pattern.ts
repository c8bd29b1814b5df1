// Host patterns (R3): an exact host or a minimatch glob, validated once and compiled on first use.
// Matching is linear in the host for every accepted glob (see segmentMatcher).
import { minimatch } from 'minimatch';
import { MtlsError } from '../errors.js';
import { LABEL, describe, isIpHost, normalizeHost, toAsciiHost } from './host.js';

const GLOB_CHARS = /[*?[\]{}]/;

/** One brace alternative of a glob, with what the index needs. */
export interface GlobAlternative {
  /** Lower-case glob text, no braces. */
  text: string;
  /** The literal text after the last glob character, when it starts with a dot (index key). */
  suffix?: string;
  /** Characters that are not glob syntax (`*`, `?`, a `[...]` class). */
  literalCount: number;
}

/** A validated host pattern. */
export interface HostPattern {
  /** The pattern as written, trimmed. */
  source: string;
  kind: 'exact' | 'wildcard';
  /** Exact: the normalised host. Wildcard: the lower-case glob (IDN labels in punycode). */
  normalized: string;
  /** Wildcard only: its alternatives after brace expansion. */
  alternatives: GlobAlternative[];
  /** Exact: the host's length. Wildcard: the fewest literal characters of any alternative. */
  literalCount: number;
  /** True when `hostname` (already normalised) matches. */
  matches(hostname: string): boolean;
}

const MINIMATCH_OPTIONS = {
  nocase: true,
  nonegate: true,
  nocomment: true,
  noext: true,
  nobrace: true,
  platform: 'linux',
} as const;

// A glob alternative, token by token: `*`, `?`, a character class, or one literal character.
const GLOB_TOKEN = /\*|\?|\[[!^]?[^\][.]+\]|[a-z0-9_.-]|[^\x00-\x7f]/gy;

function invalidPattern(source: string, advice: string): MtlsError {
  return new MtlsError('ERR_INVALID_HOST_PATTERN', `Invalid host pattern ${describe(source)}: ${advice}`);
}

/** Advice for a pattern written as a URL or `host:port`. */
function adviceForUrlLike(source: string): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(source.includes('://') ? source : `https://${source}`);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let advice = `write the host alone, host: ${JSON.stringify(host)}`;
  if (url.port !== '') advice += `, and the port as its own field, port: ${url.port}`;
  if (source.includes('://')) advice += '; a host pattern has no scheme (only https: and wss: requests get a certificate)';
  if (url.pathname !== '/' || url.search !== '') advice += '; paths are not matched';
  return `${advice}.`;
}

/**
 * Validates and compiles a host pattern (R3).
 * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN`, with a message that says what to write.
 */
export function parseHostPattern(input: unknown, allowBroadPatterns = false): HostPattern {
  if (typeof input !== 'string') {
    throw new MtlsError(
      'ERR_INVALID_HOST_PATTERN',
      `Invalid host pattern ${describe(input)}: write a host as a string, such as "api.acme.com" or "*.acme.com".`,
    );
  }
  const source = input.trim();
  if (source === '') throw invalidPattern(input, 'it is empty; write a host such as "api.acme.com" or "*.acme.com".');
  if (/\s/.test(source)) throw invalidPattern(source, 'a host cannot contain whitespace; write one host per entry.');
  const ipv6 = bareIpv6(source);
  if (ipv6 !== undefined) return exactPattern(source, ipv6);
  if (source.includes('/') || source.includes('@') || source.includes(':')) {
    throw invalidPattern(
      source,
      adviceForUrlLike(source) ?? 'write only the host, without scheme, port, path or user, such as "api.acme.com".',
    );
  }
  if (!GLOB_CHARS.test(source)) {
    const host = toAsciiHost(source);
    if (host === undefined || (!isIpHost(host) && !host.split('.').every((l) => LABEL.test(l) && l.length <= 63))) {
      throw invalidPattern(source, 'a host has letters, digits, "-", "_" and dots between non-empty labels, such as "api.acme.com", "10.0.0.7" or "::1".');
    }
    return exactPattern(source, host);
  }
  return parseGlob(source, allowBroadPatterns);
}

// Shared by every exact pattern (no closure and no array of its own: a store may hold 100,000).
const NO_ALTERNATIVES: GlobAlternative[] = Object.freeze([]) as unknown as GlobAlternative[];
function matchesExact(this: HostPattern, hostname: string): boolean {
  return hostname === this.normalized;
}

function exactPattern(source: string, host: string): HostPattern {
  return { source, kind: 'exact', normalized: host, alternatives: NO_ALTERNATIVES, literalCount: host.length, matches: matchesExact };
}

/** The normalised address when `source` is an IPv6 literal, bracketed or not. */
function bareIpv6(source: string): string | undefined {
  const inner = source.startsWith('[') && source.endsWith(']') ? source.slice(1, -1) : source;
  if (!inner.includes(':') || !/^[0-9a-f:.]+$/i.test(inner)) return undefined;
  return toAsciiHost(inner);
}

/** The most host patterns one entry's braces may expand to. */
export const MAX_ALTERNATIVES = 256;

function parseGlob(source: string, allowBroadPatterns: boolean): HostPattern {
  let lower = source.toLowerCase();
  if (lower.endsWith('.')) lower = lower.slice(0, -1);
  // Bounded: `{1..1000}{1..1000}` would be a million patterns (a second of CPU at every add).
  const expanded = minimatch.braceExpand(lower, { braceExpandMax: MAX_ALTERNATIVES + 1 });
  if (expanded.length > MAX_ALTERNATIVES) {
    throw invalidPattern(source, `its braces expand to more than ${MAX_ALTERNATIVES} host patterns; give the hosts as separate entries, or use a wildcard such as "*.acme.com".`);
  }
  const alternatives = expanded.map((alt) => parseAlternative(source, alt, allowBroadPatterns));
  const normalized = alternatives.length === 1 ? alternatives[0]!.text : lower;
  let matchers: Array<(hostname: string) => boolean> | undefined; // compiled on first use, once
  return {
    source,
    kind: 'wildcard',
    normalized,
    alternatives,
    literalCount: Math.min(...alternatives.map((a) => a.literalCount)),
    matches(hostname) {
      if (isIpHost(hostname)) return false; // globs never match IP targets (R3)
      // minimatch (dot: false) never lets a wildcard match a leading dot, and our patterns never start with one.
      if (hostname.charCodeAt(0) === 46) return false;
      matchers ??= alternatives.map((a) => compileAlternative(a.text));
      for (const m of matchers) if (m(hostname)) return true;
      return false;
    },
  };
}

/**
 * A matcher for one brace-free glob, with minimatch's meaning for hosts (no '/', no leading dot):
 * `*` is any run of characters, `?` one character, `[...]` one character of a class. The common
 * shapes are a suffix or a prefix-and-suffix test; every other glob is matched segment by segment
 * (see segmentMatcher), never by a backtracking RegExp: `*a*a*a*a*a*a*c*.b.acme.com` against a
 * long host took seconds that way.
 */
function compileAlternative(text: string): (hostname: string) => boolean {
  const rest = text.slice(1);
  if (text.startsWith('*') && !/[*?[]/.test(rest)) return (h) => h.length >= rest.length && h.endsWith(rest); // a leading dot is refused before
  // One * between literals (api-*.acme.com): a prefix and a suffix that do not overlap, no RegExp.
  const star = text.indexOf('*');
  if (star > 0 && !/[?[]/.test(text) && text.indexOf('*', star + 1) === -1) {
    const prefix = text.slice(0, star);
    const suffix = text.slice(star + 1);
    const least = prefix.length + suffix.length;
    return (h) => h.length >= least && h.startsWith(prefix) && h.endsWith(suffix);
  }
  return segmentMatcher(text);
}

/** One character of a glob: a literal (its code), any character (-1), or a class (its test). */
type CharToken = number | ((code: number) => boolean);

/** A class's test, with minimatch's meaning of the class (ranges, ! and ^ negation) as a table. */
function classTest(token: string): (code: number) => boolean {
  // Not at the start of the pattern, where minimatch would refuse a leading dot.
  const re = minimatch.makeRe(`x${token}`, MINIMATCH_OPTIONS) as RegExp;
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = re.test(`x${String.fromCharCode(c)}`) ? 1 : 0;
  return (code) => (code < 128 ? table[code] === 1 : re.test(`x${String.fromCharCode(code)}`));
}

/**
 * A glob of segments between stars, each of fixed length (`a?c`, `[0-9]x`). The first segment is
 * tried at the start of the host only, the last at its end only, and each one between at its
 * leftmost place after the one before: placing a segment as early as possible never loses a
 * match, so nothing is tried twice. O(host length × pattern length), for every pattern.
 */
function segmentMatcher(text: string): (hostname: string) => boolean {
  const segments: CharToken[][] = [[]];
  GLOB_TOKEN.lastIndex = 0;
  while (GLOB_TOKEN.lastIndex < text.length) {
    const token = GLOB_TOKEN.exec(text)![0];
    if (token === '*') segments.push([]);
    else segments.at(-1)!.push(token === '?' ? -1 : token.length > 1 ? classTest(token) : token.charCodeAt(0));
  }
  const at = (h: string, segment: CharToken[], from: number): boolean => {
    for (let k = 0; k < segment.length; k++) {
      const t = segment[k]!;
      const code = h.charCodeAt(from + k);
      if (typeof t === 'number' ? t !== -1 && t !== code : !t(code)) return false;
    }
    return true;
  };
  const first = segments[0]!;
  if (segments.length === 1) return (h) => h.length === first.length && at(h, first, 0);
  const last = segments.at(-1)!;
  const middle = segments.slice(1, -1);
  const least = segments.reduce((n, s) => n + s.length, 0);
  return (h) => {
    if (h.length < least || !at(h, first, 0) || !at(h, last, h.length - last.length)) return false;
    let from = first.length;
    const end = h.length - last.length;
    for (const segment of middle) {
      while (from + segment.length <= end && !at(h, segment, from)) from++;
      if (from + segment.length > end) return false;
      from += segment.length;
    }
    return true;
  };
}

function parseAlternative(source: string, alt: string, allowBroadPatterns: boolean): GlobAlternative {
  if (/[{},]/.test(alt)) {
    throw invalidPattern(source, 'braces must hold two or more alternatives separated by commas, such as "{eu,us}.api.acme.com".');
  }
  const labels = alt.split('.');
  if (labels.some((l) => l === '')) {
    throw invalidPattern(source, 'it has an empty label (two dots in a row, or a leading dot); write "*.acme.com" for every subdomain of acme.com.');
  }
  const text = labels.map((label) => normalizeGlobLabel(source, label)).join('.');
  let literalCount = 0;
  let lastGlobEnd = -1;
  GLOB_TOKEN.lastIndex = 0;
  while (GLOB_TOKEN.lastIndex < text.length) {
    const token = GLOB_TOKEN.exec(text)?.[0];
    if (token === undefined) break;
    if (token.length === 1 && token !== '*' && token !== '?') literalCount++;
    else lastGlobEnd = GLOB_TOKEN.lastIndex;
  }
  if (GLOB_TOKEN.lastIndex !== text.length || text === '') {
    throw invalidPattern(
      source,
      'a host pattern may use *, ?, [...] (without dots inside) and {a,b} around letters, digits, "-", "_" and dots.',
    );
  }
  if (lastGlobEnd === -1) return { text, suffix: `.${text}`, literalCount };
  const suffix = text.slice(lastGlobEnd);
  const safe = suffix.startsWith('.') && suffix.split('.').length >= 3;
  if (!safe && !allowBroadPatterns) {
    throw invalidPattern(
      source,
      `${JSON.stringify(alt)} is too broad: after its last wildcard character a pattern must go on with a dot and a literal domain of two labels or more, such as "*.acme.com", "api-*.acme.com" or "api?.acme.com". Pass allowBroadPatterns: true only if you mean it.`,
    );
  }
  return safe ? { text, suffix, literalCount } : { text, literalCount };
}

function normalizeGlobLabel(source: string, label: string): string {
  if (/^[\x00-\x7f]*$/.test(label)) return label;
  if (GLOB_CHARS.test(label)) {
    throw invalidPattern(source, `write the internationalised label ${JSON.stringify(label)} in its punycode (xn--) form when it holds a wildcard.`);
  }
  const ascii = toAsciiHost(label);
  if (ascii === undefined || ascii.includes('.')) throw invalidPattern(source, `${JSON.stringify(label)} is not a valid label.`);
  return ascii;
}

/**
 * True when `hostname` matches host pattern `pattern` by the rules (R2, R3): exact hosts compare
 * whole and normalised, globs use minimatch syntax where `*` crosses dots, and globs never match
 * IP addresses.
 *
 * @throws {MtlsError} `ERR_INVALID_HOST_PATTERN` for an invalid or too broad pattern,
 *   `ERR_INVALID_TARGET` for an invalid hostname.
 * @example
 * ```ts
 * matchesHost('*.acme.com', 'a.b.acme.com'); // true
 * matchesHost('*.acme.com', 'acme.com');     // false
 * matchesHost('api.acme.com', 'api.acme.com.evil.test'); // false
 * ```
 */
export function matchesHost(pattern: string, hostname: string, options: { allowBroadPatterns?: boolean } = {}): boolean {
  return parseHostPattern(pattern, options.allowBroadPatterns ?? false).matches(normalizeHost(hostname));
}
