import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
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

/**
 * A path as messages show it: quoted, unless it does not look like a path at all. PEM or key text
 * given where a path is expected (`keyFile: pemText`) must never be echoed into an error, a log or
 * a warning: text with line breaks or other control characters, a PEM armour line, base64 of key
 * length without a dot, or anything longer than a path is shown as a description only.
 */
export function shownPath(path: string): string {
  const looksLikeText = path.length > 1024 || /[\u0000-\u001f\u007f]/.test(path) || path.includes('-----') || hasBase64Run(path);
  return looksLikeText ? `(a value of ${path.length} characters that is not a file path, not shown: it looks like certificate or key text; give the file's path, or pass the content itself as cert/key/pem/pfx)` : JSON.stringify(path);
}

/**
 * Base64 of key length (64 characters or more without a dot or a dash), also after a directory a
 * relative path was resolved against. A path's own run of letters and slashes has a slash every
 * few characters; base64 has one in 64 on average.
 */
function hasBase64Run(path: string): boolean {
  for (const [run] of path.matchAll(/[A-Za-z0-9+/=]{64,}/g)) {
    let slashes = 0;
    for (const c of run) if (c === '/') slashes++;
    if (slashes * 16 < run.length) return true;
  }
  return false;
}

/**
 * An environment variable's name as messages show it. A secret written where its variable's name
 * belongs ("passphraseEnv": "Summer_2024") can look like a name: only names in the usual form of
 * environment variables (upper case, digits and _, as ACME_KEY_PASS) are shown.
 */
export function shownEnvName(name: string, field: string): string {
  return /^[A-Z_][A-Z0-9_]*$/.test(name) ? name : `named in "${field}" (not shown: it is not in upper case as environment variable names usually are, and may be the secret itself written in the wrong field)`;
}

function fileError(path: string, what: string, err: unknown): MtlsError {
  const code = (err as { code?: string }).code;
  const why =
    code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : `error ${code ?? 'unknown'}`;
  // The cause is Node's error, whose message holds the path: kept only when the path is shown.
  const shown = shownPath(path);
  return new MtlsError('ERR_FILE_READ', `Cannot read the ${what} ${shown}: ${why}.`, shown.startsWith('"') ? { cause: err } : {});
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new MtlsError('ERR_INVALID_OPTION', `The ${what} path must be a non-empty string.`);
  }
}

/** Only regular files are read: a device (/dev/zero) never ends, a FIFO blocks until someone writes. */
function checkRegular(path: string, what: string, info: Stats): void {
  if (info.isDirectory()) throw fileError(path, what, Object.assign(new Error('directory'), { code: 'EISDIR' }));
  if (!info.isFile()) {
    throw new MtlsError('ERR_FILE_READ', `Cannot read the ${what} ${shownPath(path)}: it is not a regular file (a device, pipe or socket); save the content to a file and give that path.`);
  }
}

/**
 * Reads a regular file of at most `max` bytes. The size is checked before reading (a huge file is
 * refused without being read) and the read itself stops at `max` + 1 bytes (a file that grows
 * meanwhile is refused too). Devices, FIFOs and sockets are refused before they are opened, and
 * opened non-blocking in case one replaced the file in between. Synchronous on purpose:
 * certificate files are a few kilobytes, and one code path serves both loadCertificate and the
 * synchronous loadCaBundle.
 */
export function readLimited(path: unknown, what: string, max: number): Buffer {
  checkPath(path, what);
  let fd: number | undefined;
  try {
    const info = statSync(path);
    checkRegular(path, what, info);
    if (info.size > max) throw tooLarge(`${what} ${shownPath(path)}`, info.size, max);
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const opened = fstatSync(fd);
    checkRegular(path, what, opened);
    let buffer = Buffer.allocUnsafe(Math.min(opened.size, max) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        // more than fstat said: the file is growing; read on, up to the limit
        if (length > max) throw tooLarge(`${what} ${shownPath(path)}`, length, max);
        const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, max + 1));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw fileError(path, what, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
