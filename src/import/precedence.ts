// A peer's precedence (first match wins, or last match wins) rewritten as entries that our rules
// (R5: the more specific host, then the more specific port, then the later entry) rank the same
// way. Where a peer would take a broader entry before a more specific one, the broader entry's
// certificate is added again for the overlap (the intersection of the two patterns), after the
// other: it then outranks it exactly there. An entry the peer never reaches (covered by one it
// takes first) is dropped with a note.
import type { CertificateConfig } from '../config/read.js';
import { matchesHost } from '../resolver/pattern.js';
import type { PortRule } from '../resolver/types.js';
import { loadable, refused, type ImportResult } from './common.js';

/** One host + port rule of a peer's certificate, in the peer's own terms. */
export interface PeerAtom {
  /** The certificate entry it becomes: host (lower case), port, material, name. */
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

type Shape = { host: string; port?: PortRule | undefined };
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
    const mine = atom.config;
    const additions: Placed[] = [];
    const covered = new Set<Placed>();
    for (const other of placed) {
      if (other.priority === atom.priority) continue;
      const theirs = other.config;
      const host = hostOverlap(mine.host, theirs.host);
      const port = host === undefined ? undefined : portOverlap(mine.port, theirs.port);
      if (host === undefined || port === undefined) continue;
      if (host === 'unknown') {
        const key = `${atom.who}\n${other.who}`;
        if (!noted.has(key)) {
          noted.add(key);
          notes.push(`${atom.who} (${mine.host}) and ${other.who} (${theirs.host}) may both match some hosts: ${tool} takes ${atom.who} first there, mtls-resolver the more specific pattern (R5); check the hosts you use with "mtls-resolver resolve".`);
        }
        continue;
      }
      const overlap: Shape = { host, port: port.port };
      if (same(overlap, mine)) continue; // the atom itself, placed after `other`, outranks it there
      if (same(overlap, theirs)) covered.add(other);
      if (!additions.some((a) => same(a.config, overlap)) && !placed.some((p) => p.priority === atom.priority && same(p.config, overlap))) {
        const { port: _ignored, ...rest } = mine;
        additions.push({ ...atom, config: { ...rest, host: overlap.host, ...portField(overlap.port) }, original: false });
      }
    }
    for (const other of covered) {
      if (other.original) notes.push(`${other.who} (${describe(other.config)}) is never used by ${tool}: ${atom.who} (${describe(mine)}) matches everything it matches and comes first; skipped.`);
    }
    placed = placed.filter((p) => !covered.has(p));
    // An overlap that is exactly an entry this atom covers (and so skips) is needed only while
    // another entry that stays also matches there: otherwise the atom wins there without it.
    const stays = (a: Placed) => placed.some((p) => p.priority !== atom.priority && overlaps(p.config, a.config));
    const needed = additions.filter((a) => ![...covered].some((c) => same(c.config, a.config)) || stays(a));
    const shapes = needed.filter((a) => ![...covered].some((c) => same(c.config, a.config))).map((a) => describe(a.config));
    if (shapes.length > 0) notes.push(`${atom.who}: ${tool} takes it before more specific entries, so it was added again for ${shapes.join(', ')}, where it must win.`);
    placed.push(...needed, { ...atom, original: true });
  }
  return placed.map((p) => p.config);
}

/** Whether two entries can match one target (an overlap of unknown shape counts). */
function overlaps(a: Shape, b: Shape): boolean {
  const host = hostOverlap(a.host, b.host);
  return host !== undefined && portOverlap(a.port, b.port) !== undefined;
}

function portField(port: PortRule | undefined): { port?: PortRule } {
  return port === undefined ? {} : { port };
}

/** Adds the atom of `config` when certs.json takes its host and port; else a note (under `label`) says why not. */
export function addAtom(atoms: PeerAtom[], config: CertificateConfig, priority: number, who: string, label: string, notes: string[]): void {
  if (!refused(config, notes, label)) atoms.push({ config, priority, who });
}

/** The import: the atoms as certs.json entries that keep the peer's precedence, and the notes. */
export function importResult(atoms: readonly PeerAtom[], tool: string, notes: string[]): ImportResult {
  return { config: { certificates: loadable(withPeerPrecedence(atoms, tool, notes), notes) }, notes };
}

function describe(shape: Shape): string {
  return `${shape.host}${shape.port === undefined ? '' : `:${shape.port}`}`;
}
