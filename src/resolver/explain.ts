// What the resolver says in words: the reason of a match, and every entry's verdict for a target
// (explain). Kept apart from the index, which only decides.
import { isIpHost, isSecureProtocol } from './host.js';
import { label, portMatches, type PreparedEntry } from './entry.js';
import type { Match, NormalizedTarget, Verdict } from './types.js';

/** A resolution's target, clock and validity setting. */
export interface Asked {
  readonly target: NormalizedTarget;
  readonly now: number;
  readonly includeExpired: boolean;
}

function portText(p: PreparedEntry<unknown>): string {
  return p.port === undefined ? 'port 443 (no port set)' : p.port === '*' ? 'any port' : `port ${p.port}`;
}

const PORT_RANK_TEXT = ["any port ('*')", 'no port (443 only)', 'an explicit port'];

// An exact entry's match says the same for every target: made once per entry, frozen.
const exactMatches = new WeakMap<PreparedEntry<unknown>, Match<unknown>>();

export function matchOf<C>(p: PreparedEntry<C>, target: NormalizedTarget): Match<C> {
  const kind = p.pattern.kind;
  if (kind === 'exact') {
    let match = exactMatches.get(p) as Match<C> | undefined;
    if (match === undefined) exactMatches.set(p, (match = Object.freeze({ entry: p.entry, kind, reason: `exact host ${p.pattern.normalized} on ${portText(p)}` })));
    return match;
  }
  return { entry: p.entry, kind, reason: `wildcard ${p.pattern.source} matches ${target.hostname} on ${portText(p)}` };
}

function outrankedReason(loser: PreparedEntry<unknown>, winner: PreparedEntry<unknown>): string {
  const w = label(winner.entry);
  if (winner.hostRank !== loser.hostRank) {
    if (winner.pattern.kind === 'exact') {
      return `matches, but exact host ${winner.pattern.source} (${w}) beats wildcard ${loser.pattern.source} (R5: exact beats wildcard)`;
    }
    return `matches, but wildcard ${winner.pattern.source} (${w}) is more specific: ${winner.pattern.literalCount} literal characters against ${loser.pattern.literalCount} (R5: more literal characters win)`;
  }
  if (winner.portRank !== loser.portRank) {
    return `matches, but ${w} has ${PORT_RANK_TEXT[winner.portRank]}, which beats ${PORT_RANK_TEXT[loser.portRank]} (R5: explicit port beats no port beats '*')`;
  }
  if (winner.entry.order !== loser.entry.order) {
    return `matches, but ${w} was added later (order ${winner.entry.order} > ${loser.entry.order}): the most recently added certificate wins (R5); remove this one if it is obsolete`;
  }
  return `matches, but ${w} ranks the same and was added at the same order; the greater id wins the tie`;
}

function noMatchReason(p: PreparedEntry<unknown>, t: NormalizedTarget): string | undefined {
  const { pattern } = p;
  if (!pattern.matches(t.hostname)) {
    if (pattern.kind === 'exact') return `host ${pattern.normalized} is not ${t.hostname}`;
    if (isIpHost(t.hostname)) {
      return `wildcard ${pattern.source} never matches an IP address; add an entry with the exact address ${t.hostname}`;
    }
    const bare = pattern.normalized.startsWith('*.') && pattern.normalized.slice(2) === t.hostname;
    return bare
      ? `wildcard ${pattern.source} matches subdomains of ${t.hostname}, not ${t.hostname} itself; add an entry for ${t.hostname}`
      : `wildcard ${pattern.source} does not match ${t.hostname}`;
  }
  if (!portMatches(p, t.port)) {
    return p.port === undefined
      ? `no port set, so it applies to port 443 only; the request uses port ${t.port} (set port: ${t.port} or '*')`
      : `it is for port ${p.port}; the request uses port ${t.port}`;
  }
  return undefined;
}

export function validityReason(p: PreparedEntry<unknown>, now: number): string | undefined {
  if (now > p.notAfter) {
    return `certificate expired on ${new Date(p.notAfter).toISOString()}; renew it, or pass includeExpired: true to use it anyway`;
  }
  if (now < p.notBefore) {
    return `certificate is not valid until ${new Date(p.notBefore).toISOString()}; pass includeExpired: true to use it anyway`;
  }
  return undefined;
}

export function verdictOf<C>(
  p: PreparedEntry<C>,
  winner: PreparedEntry<C> | undefined,
  chosen: Match<C> | undefined,
  q: Asked,
): { verdict: Verdict; reason: string } {
  if (!isSecureProtocol(q.target.protocol)) {
    return { verdict: 'no-match', reason: `plain ${q.target.protocol} request: a client certificate is only sent over https: and wss: (R1)` };
  }
  if (p === winner && chosen !== undefined) return { verdict: 'chosen', reason: chosen.reason };
  const noMatch = noMatchReason(p, q.target);
  const invalid = q.includeExpired ? undefined : validityReason(p, q.now);
  if (noMatch !== undefined) {
    if (invalid !== undefined && p.entry.primary === true && chosen === undefined) {
      return { verdict: 'skipped', reason: `primary certificate, but ${invalid}` };
    }
    return { verdict: 'no-match', reason: noMatch };
  }
  if (invalid !== undefined) return { verdict: 'skipped', reason: invalid };
  if (winner === undefined) return { verdict: 'no-match', reason: 'no certificate was chosen' };
  if (chosen?.kind === 'selected') {
    return { verdict: 'outranked', reason: `matches, but select chose ${label(winner.entry)}` };
  }
  return { verdict: 'outranked', reason: outrankedReason(p, winner) };
}

export function selectedMatch<C>(p: PreparedEntry<C>, t: NormalizedTarget): Match<C> {
  return { entry: p.entry, kind: 'selected', reason: `selected by name or id for ${t.hostname}:${t.port}, whatever the host (R7)` };
}

export function primaryMatch<C>(p: PreparedEntry<C>, t: NormalizedTarget): Match<C> {
  return {
    entry: p.entry,
    kind: 'primary',
    reason: `no certificate matches ${t.hostname}:${t.port}; the primary certificate is used (fallbackToPrimary)`,
  };
}
