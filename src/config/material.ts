// Where a config's certificates, keys and CAs come from: files (paths relative to the config,
// each read once however many entries name it) and environment variables (whose values are never
// shown in a message).
import { isAbsolute, resolve } from 'node:path';
import { loadCaBundle } from '../loader/ca.js';
import { DEFAULT_MAX_INPUT_BYTES, readLimited, shownEnvName } from '../loader/input.js';
import type { CaBundle } from '../loader/types.js';
import { invalid, rename, type Where } from './place.js';

export class Material {
  /** Every file read (the config file first, if any), in the order read; may repeat. */
  readonly files: string[];
  readonly #contents = new Map<string, Buffer>();
  readonly #paths = new Map<string, string>();
  readonly #cas = new Map<string, CaBundle>();
  readonly #baseDir: string;
  readonly #max: number | undefined;
  readonly #warnings: string[];

  constructor(baseDir: string, maxInputBytes: number | undefined, warnings: string[], configFile?: string) {
    this.#baseDir = baseDir;
    this.#max = maxInputBytes;
    this.#warnings = warnings;
    this.files = configFile === undefined ? [] : [configFile];
  }

  /** A path of the config, absolute: one string per path, however many entries name it. */
  path(p: string): string {
    const full = isAbsolute(p) ? p : resolve(this.#baseDir, p);
    return this.#paths.get(full) ?? (this.#paths.set(full, full), full);
  }

  /** A file's bytes, read once; an unreadable one is an error at `where` (its own field). */
  read(value: string, what: string, where: Where): Buffer {
    const file = this.path(value);
    const known = this.#contents.get(file);
    if (known !== undefined) return known;
    this.files.push(file);
    try {
      const bytes = readLimited(file, what, this.#max ?? DEFAULT_MAX_INPUT_BYTES);
      this.#contents.set(file, bytes);
      return bytes;
    } catch (err) {
      throw rename(err, where);
    }
  }

  /** A `ca` field (a path, or a list of paths): the CA bundles, each file read once. */
  cas(value: unknown, at: (i: number | undefined) => Where): CaBundle[] {
    return (Array.isArray(value) ? value : [value]).map((f, i) => {
      const where = at(Array.isArray(value) ? i : undefined);
      if (typeof f !== 'string' || f === '') throw invalid(where, 'give the path of a PEM file with CA certificates.');
      const file = this.path(f);
      let bundle = this.#cas.get(file);
      if (bundle !== undefined) return bundle;
      try {
        this.files.push(file);
        bundle = loadCaBundle({ file }, this.#max === undefined ? {} : { maxInputBytes: this.#max });
      } catch (err) {
        throw rename(err, where);
      }
      this.#warnings.push(...bundle.warnings.map((w) => `${where}: ${w}`));
      this.#cas.set(file, bundle);
      return bundle;
    });
  }
}

/**
 * The name in an *Env field. A value that is not a variable name may be the secret itself,
 * written in the wrong field: it is never repeated in a message.
 */
export function envName(value: string, where: Where): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw invalid(where, `it must be the name of an environment variable (letters, digits and _, such as CLIENT_PASSPHRASE), not the secret itself; the value is not shown.`);
  return value;
}

/** The value of the environment variable an *Env field names; never shown in a message. */
export function fromEnv(value: string, field: string, where: Where): string {
  const name = envName(value, where);
  const text = process.env[name];
  if (text === undefined || text === '') throw invalid(where, `the environment variable ${shownEnvName(name, field)} is not set (or is empty).`);
  return text;
}

/** A PFX from an environment variable holding it in base64 (or base64url). */
export function pfxFromEnv(value: string, where: Where): Buffer {
  const text = fromEnv(value, 'pfxBase64Env', where).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw invalid(where, `the environment variable ${shownEnvName(value, 'pfxBase64Env')} is not base64 (make it with: base64 -w0 client.p12).`);
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
