// What every importer shares: options and result, file paths, the material of one certificate,
// the check that an entry is one certs.json takes, and in-memory material written to files.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { MtlsError } from '../errors.js';
import type { CertificateConfig, MtlsConfig } from '../config/read.js';
import { parsePortRule } from '../resolver/entry.js';
import { parseHostPattern } from '../resolver/pattern.js';
import type { PortRule } from '../resolver/types.js';

/** A converted config, and every place where the meaning changed. */
export interface ImportResult {
  config: MtlsConfig;
  notes: string[];
}

/** Options of the importers. */
export interface ImportOptions {
  /** Relative file paths in the input are resolved against this. Default: the current directory. */
  baseDir?: string;
  /**
   * Where certificates and keys that the input holds in memory (Playwright buffers, k6 PEM text)
   * are written as files (mode 0600), for certs.json to name. Without it they are skipped with a
   * note.
   */
  materialDir?: string;
}

export function fileOf(value: unknown, baseDir: string): string | undefined {
  const src = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { src?: unknown }).src : undefined;
  if (typeof src !== 'string' || src === '') return undefined;
  return isAbsolute(src) ? src : resolve(baseDir, src);
}

export function invalid(what: string, message: string): MtlsError {
  return new MtlsError('ERR_INVALID_CONFIG', `${what}: ${message}`);
}

/** Files and passphrase of one imported certificate; notes an inline passphrase. */
export function material(
  where: string,
  files: { cert?: string | undefined; key?: string | undefined; pfx?: string | undefined },
  passphrase: unknown,
  notes: string[],
): Pick<CertificateConfig, 'cert' | 'key' | 'pfx' | 'passphrase'> {
  const out: Pick<CertificateConfig, 'cert' | 'key' | 'pfx' | 'passphrase'> = {};
  if (files.pfx !== undefined) out.pfx = files.pfx;
  else if (files.cert !== undefined && files.key !== undefined) Object.assign(out, { cert: files.cert, key: files.key });
  else throw invalid(where, 'it has neither a PFX file nor both a certificate and a key file.');
  if (typeof passphrase === 'string' && passphrase !== '') {
    out.passphrase = passphrase;
    notes.push(`${where}: the passphrase was copied inline; move it to an environment variable and write "passphraseEnv": "NAME" instead.`);
  }
  return out;
}

export function hostAndPort(text: string): { host: string; port?: PortRule } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+|\*))?$/.exec(text);
  if (m === null) return { host: text };
  const port = m[2] === undefined ? undefined : m[2] === '*' ? '*' : Number(m[2]);
  return port === undefined ? { host: m[1]! } : { host: m[1]!, port };
}

/**
 * The entries that certs.json accepts: a host or port the peer took but our rules refuse (a
 * pattern that is too broad, characters no host has) is skipped with a note, and an empty name is
 * dropped, so that an imported config always loads.
 */
export function loadable(certificates: CertificateConfig[], notes: string[]): CertificateConfig[] {
  return certificates.flatMap((c) => {
    if (refused(c, notes)) return [];
    if (c.name === '') {
      const { name: _empty, ...rest } = c;
      return [rest];
    }
    return [c];
  });
}

/** True (with a note) when certs.json would refuse the host or port of `c`. */
export function refused(c: CertificateConfig, notes: string[], label = `${JSON.stringify(c.host)}${c.name === undefined || c.name === '' ? '' : ` (${JSON.stringify(c.name)})`}`): boolean {
  try {
    parseHostPattern(c.host, false);
    parsePortRule(c.port, `host ${JSON.stringify(c.host)}`);
    return false;
  } catch (err) {
    notes.push(`${label} cannot be an entry here, skipped: ${(err as Error).message}`);
    return true;
  }
}

/** Material held in memory: PEM text, bytes, or bytes that went through JSON (`{ type: 'Buffer', data }`). */
export type InMemory = string | Uint8Array | { type: 'Buffer'; data: number[] };

/** A PEM string or bytes held in memory (not a path). */
export function inMemory(value: unknown): value is InMemory {
  return value instanceof Uint8Array || (typeof value === 'string' && value.includes('-----BEGIN')) || isBufferJson(value);
}

function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  const v = value as { type?: unknown; data?: unknown } | null;
  return typeof v === 'object' && v !== null && v.type === 'Buffer' && Array.isArray(v.data);
}

/**
 * In-memory material written to `options.materialDir` as `name` (mode 0600); undefined (and a
 * note) without a materialDir.
 */
export function writeMaterial(value: InMemory, name: string, options: ImportOptions, where: string, notes: string[]): string | undefined {
  if (options.materialDir === undefined) {
    notes.push(`${where}: the certificate or key is held in memory, not in a file; skipped: pass materialDir (CLI: --material-dir DIR) to write it to a file.`);
    return undefined;
  }
  const bytes = typeof value === 'string' ? Buffer.from(value) : value instanceof Uint8Array ? value : Buffer.from(value.data);
  mkdirSync(options.materialDir, { recursive: true, mode: 0o700 });
  const file = resolve(join(options.materialDir, name));
  writeFileSync(file, bytes, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The list of certificates in a tool's file: the input itself, or the first of `paths` that holds an array. */
export function listIn(input: unknown, paths: string[][], what: string, shape: string): unknown[] {
  if (Array.isArray(input)) return input;
  for (const path of paths) {
    let value: unknown = input;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(value)) return value;
  }
  throw invalid(what, `it must be ${shape}.`);
}

export const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});

/** A file path from the input, or in-memory material written to options.materialDir; undefined (noted) when neither. */
export function pathOrMemory(value: unknown, name: string, options: ImportOptions, baseDir: string, where: string, notes: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (inMemory(value)) return writeMaterial(value, name, options, where, notes);
  return fileOf(value, baseDir);
}
