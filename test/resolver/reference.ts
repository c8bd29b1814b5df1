// A linear scan written straight from rules R1-R7 of DESIGN.md, as plainly as possible. The
// indexed resolver must always agree with it. It shares no matching code with src/: globs go
// to minimatch as written, exact hosts through WHATWG URL.
import { minimatch } from 'minimatch';

export interface RefEntry {
  id: string;
  name?: string;
  host: string;
  port?: number | '*';
  primary?: boolean;
  order: number;
  notBefore?: Date;
  notAfter?: Date;
  /** Compared by identity: entries with the same value hold one certificate. */
  certificate?: unknown;
}

export interface RefOptions {
  now: Date;
  select?: string;
  fallbackToPrimary?: boolean;
  includeExpired?: boolean;
}

const GLOB = /[*?[\]{}]/;
const BRACKETED_IPV6 = /^\s*\[[0-9a-f:.]+\]\s*$/i;
const isGlob = (pattern: string) => GLOB.test(pattern) && !BRACKETED_IPV6.test(pattern);

function bare(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function refNormalize(host: string): string {
  const h = host.trim();
  const inner = h.startsWith('[') ? h.slice(1, -1) : h;
  return bare(new URL(`https://${inner.includes(':') ? `[${inner}]` : inner}/`).hostname);
}

function isIp(host: string): boolean {
  return host.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

export function refHostMatches(pattern: string, host: string): boolean {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  if (!isGlob(p)) return refNormalize(p) === host;
  if (isIp(host)) return false;
  return minimatch(host, p, { nocase: true });
}

export function refPortMatches(rule: number | '*' | undefined, port: number): boolean {
  if (rule === '*') return true;
  if (rule === undefined) return port === 443;
  return rule === port;
}

function literalCount(pattern: string): number {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  return Math.min(...minimatch.braceExpand(p).map((alt) => alt.replace(/\[[^\]]*\]|[*?]/g, '').length));
}

function valid(e: RefEntry, now: Date): boolean {
  return (e.notBefore === undefined || e.notBefore <= now) && (e.notAfter === undefined || now <= e.notAfter);
}

/** Sort key, best first: [exact, literal characters, port rank, order]; the greater id breaks ties. */
function better(a: RefEntry, b: RefEntry): number {
  const key = (e: RefEntry) => {
    const exact = !isGlob(e.host);
    return [exact ? 1 : 0, exact ? 0 : literalCount(e.host), e.port === undefined ? 1 : e.port === '*' ? 0 : 2, e.order];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return kb[i]! - ka[i]!;
  return a.id < b.id ? 1 : -1;
}

export type RefResult = { id: string; kind: 'exact' | 'wildcard' | 'selected' | 'primary' } | 'not-found' | 'ambiguous' | 'expired' | undefined;

export function referenceResolve(entries: RefEntry[], url: string, o: RefOptions): RefResult {
  const u = new URL(url);
  const host = bare(u.hostname);
  const port = u.port === '' ? (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80) : Number(u.port);
  const usable = (e: RefEntry) => o.includeExpired === true || valid(e, o.now);
  if (o.select !== undefined) {
    const byId = entries.find((e) => e.id === o.select);
    const named = entries.filter((e) => e.name === o.select);
    // A name that entries with different certificates share, or one entry's id that is the name
    // of another with a different certificate, selects nothing; one certificate is one choice.
    const candidates = byId === undefined ? named : [byId, ...named.filter((e) => e !== byId)];
    if (new Set(candidates.map((e) => e.certificate)).size > 1) return 'ambiguous';
    const picked = byId ?? [...named].sort((x, y) => y.order - x.order || (y.id > x.id ? 1 : -1))[0];
    if (picked === undefined) return 'not-found';
    if (!usable(picked)) return 'expired';
    if (u.protocol !== 'https:' && u.protocol !== 'wss:') return undefined;
    return { id: picked.id, kind: 'selected' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'wss:') return undefined;
  const matching = entries.filter((e) => usable(e) && refPortMatches(e.port, port) && refHostMatches(e.host, host));
  const best = matching.sort(better)[0];
  if (best !== undefined) return { id: best.id, kind: isGlob(best.host) ? 'wildcard' : 'exact' };
  if (o.fallbackToPrimary !== true) return undefined;
  const primary = entries.filter((e) => e.primary === true).sort((a, b) => b.order - a.order || (a.id < b.id ? 1 : -1))[0];
  return primary !== undefined && usable(primary) ? { id: primary.id, kind: 'primary' } : undefined;
}
