import { readFileSync, statSync } from 'node:fs';
import { MtlsError } from '../errors.js';

export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;

function tooLarge(what: string, size: number, max: number): MtlsError {
  return new MtlsError(
    'ERR_INPUT_TOO_LARGE',
    `The ${what} is ${size.toLocaleString('en')} bytes, over the limit of ${max.toLocaleString('en')} (maxInputBytes): certificate files are a few kilobytes; check that this is the right file, or raise maxInputBytes.`,
  );
}

export function checkSize(input: string | Uint8Array, what: string, max: number): void {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > max) throw tooLarge(what, size, max);
}

function fileError(path: string, what: string, err: unknown): MtlsError {
  const code = (err as { code?: string }).code;
  const why =
    code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : `error ${code ?? 'unknown'}`;
  return new MtlsError('ERR_FILE_READ', `Cannot read the ${what} ${JSON.stringify(path)}: ${why}.`, { cause: err });
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new MtlsError('ERR_INVALID_OPTION', `The ${what} path must be a non-empty string.`);
  }
}

/**
 * Reads a file after checking its size, so that a huge file is refused before it is read.
 * Synchronous on purpose: certificate files are a few kilobytes, and one code path serves both
 * loadCertificate and the synchronous loadCaBundle.
 */
export function readLimited(path: unknown, what: string, max: number): Buffer {
  checkPath(path, what);
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (info.size > max) throw tooLarge(`${what} ${JSON.stringify(path)}`, info.size, max);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw fileError(path, what, err);
  }
}
