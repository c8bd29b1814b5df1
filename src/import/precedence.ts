// A peer's precedence (first match wins, or last match wins) rewritten as entries that our rules
// (R5: the more specific host, then the more specific port, then the later entry) rank the same
// way. Where a peer would take a broader entry before a more specific one, the broader entry's
// certificate is added again for the overlap (the intersection of the two patterns), after the
// other: it then outranks it exactly there. An entry the peer never reaches (covered by one it
// takes first) is dropped with a note.
import type { CertificateConfig } from '../config.js';
import { matchesHost } from '../resolver/host.js';
import type { PortRule } from '../resolver/types.js';

/** One host + port rule of a peer's certificate, in the peer's own terms. */
export interface PeerAtom {
  /** The host pattern as certs.json takes it (lower case). */
  host: string;
  port: PortRule | undefined;
  /** The certificate entry it becomes (material, name, port). */
  config: CertificateConfig;
  /** Precedence in the peer: 0 is taken first. Atoms of one peer certificate share it. */
  priority: number;
  /** The peer certificate in words, for notes ("item 2 (\"ACME\")"). */
  who: string;
}

const GLOB = /[*?[\]{}]/;

/** `*.suffix` with a literal suffix: the only glob whose overlaps are computed exactly. */
function suffixOf(host: string): string | undefined {
  return host.startsWith('*.') && !GLOB.test(host.slice(2)) ? host.slice(2) : undefined;
}

/** The hosts both patterns match, as one pattern; undefined for none; 'unknown' when not computed. */
function hostOverlap(a: string, b: string): string | undefined | 'unknown' {
  if (a === b) return a;
  const globA = GLOB.test(a);
  const globB = GLOB.test(b);
  if (!globA && !globB) return undefined;
  if (!globA || !globB) {
    const [exact, glob] = globA ? [b, a] : [a, b];
    try {
      return matchesHost(glob, exact, { allowBroadPatterns: true }) ? exact : undefined;
    } catch {
      return 'unknown';
    }
  }
  const sa = suffixOf(a);
  const sb = suffixOf(b);
  if (sa === undefined || sb === undefined) return 'unknown';
  if (sa.endsWith(`.${sb}`)) return a;
  if (sb.endsWith(`.${sa}`)) return b;
  return undefined;
}

/** The ports both rules match (omitted = 443), written as the more specific of the two. */
function portOverlap(a: PortRule | undefined, b: PortRule | undefined): { port: PortRule | undefined } | undefined {
  if (a === '*') return { port: b };
  if (b === '*') return { port: a };
  if ((a ?? 443) !== (b ?? 443)) return undefined;
  return { port: a ?? b };
}

type Shape = { host: string; port: PortRule | undefined };
const same = (a: Shape, b: Shape) => a.host === b.host && a.port === b.port;

/**
 * Entries (in certs.json order) that choose, for every target, the certificate of the atom of
 * highest precedence (lowest `priority`) that matches it, as the peer does. Overlaps of globs
 * other than `*.suffix` are not computed: they get a note naming both certificates.
 */
export function withPeerPrecedence(atoms: readonly PeerAtom[], tool: string, notes: string[]): CertificateConfig[] {
  type Placed = PeerAtom & { original: boolean };
  let placed: Placed[] = [];
  const noted = new Set<string>();
  // Lowest precedence first: whatever is placed later outranks, at equal rank, what came before.
  const order = [...atoms].sort((x, y) => y.priority - x.priority);
  for (const atom of order) {
    const additions: Placed[] = [];
    const covered = new Set<Placed>();
    for (const other of placed) {
      if (other.priority === atom.priority) continue;
      const host = hostOverlap(atom.host, other.host);
      const port = host === undefined ? undefined : portOverlap(atom.port, other.port);
      if (host === undefined || port === undefined) continue;
      if (host === 'unknown') {
        const key = `${atom.who}\n${other.who}`;
        if (!noted.has(key)) {
          noted.add(key);
          notes.push(`${atom.who} (${atom.host}) and ${other.who} (${other.host}) may both match some hosts: ${tool} takes ${atom.who} first there, mtls-resolver the more specific pattern (R5); check the hosts you use with "mtls-resolver resolve".`);
        }
        continue;
      }
      const overlap: Shape = { host, port: port.port };
      if (same(overlap, atom)) continue; // the atom itself, placed after `other`, outranks it there
      if (same(overlap, other)) covered.add(other);
      if (!additions.some((a) => same(a, overlap)) && !placed.some((p) => p.priority === atom.priority && same(p, overlap))) {
        const { port: _ignored, ...rest } = atom.config;
        additions.push({ ...atom, ...overlap, config: { ...rest, host: overlap.host, ...portField(overlap.port) }, original: false });
      }
    }
    for (const other of covered) {
      if (other.original) notes.push(`${other.who} (${describe(other)}) is never used by ${tool}: ${atom.who} (${describe(atom)}) matches everything it matches and comes first; skipped.`);
    }
    const shapes = additions.filter((a) => ![...covered].some((c) => same(c, a))).map(describe);
    if (shapes.length > 0) notes.push(`${atom.who}: ${tool} takes it before more specific entries, so it was added again for ${shapes.join(', ')}, where it must win.`);
    placed = placed.filter((p) => !covered.has(p));
    placed.push(...additions, { ...atom, original: true });
  }
  return placed.map((p) => p.config);
}

function portField(port: PortRule | undefined): { port?: PortRule } {
  return port === undefined ? {} : { port };
}

function describe(shape: Shape): string {
  return `${shape.host}${shape.port === undefined ? '' : `:${shape.port}`}`;
}
