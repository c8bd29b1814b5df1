// Password-based key derivation with a bound: every KDF of a PKCS#12 file or an encrypted PKCS#8
// key runs as many iterations as the file says, and the file says it in clear, so a file can ask
// for 2^40 (days of CPU) without knowing any password. Each KDF's count is checked against
// `maxIterations` before it runs, and one load may spend at most BUDGET_FACTOR times that in all.
//
// The loader's parsing is synchronous (a lazy certificate loads at first use, inside a request).
// loadCertificate keeps the event loop serving while a long KDF runs by replaying: the load runs
// synchronously until it needs a KDF over INLINE_ITERATIONS that it has not computed yet; that KDF
// runs off the event loop (PBKDF2 on libuv's thread pool, the PKCS#12 KDF in slices between
// turns of the loop), its result is kept, and the load runs again, up to the next one.
import { createHash, pbkdf2, pbkdf2Sync } from 'node:crypto';
import { MtlsError } from '../errors.js';
import { iteratedHash, rehash } from './iterated-hash.js';

/** Default `maxIterations`: far above Windows (2,000), Java (10,000) and `openssl -iter 100000`. */
export const DEFAULT_MAX_ITERATIONS = 1_000_000;
/** A KDF of at most this many iterations runs at once (a few milliseconds). */
export const INLINE_ITERATIONS = 20_000;
/** A legacy PFX derives six times (MAC, RC2 key and IV, 3DES key in two blocks and IV); twice the MAC for an empty password. */
const BUDGET_FACTOR = 8;
/** Iterations of the PKCS#12 KDF per slice, between turns of the event loop (about 10 ms). */
const SLICE = 10_000;

interface Kdfs {
  max: number;
  spent: number;
  cache: Map<string, Buffer>;
  /** Long KDFs are left to the async driver (NeedKdf) instead of run here. */
  deferLong: boolean;
}

/** Thrown through the synchronous load to the async driver: compute this, then replay. */
export class NeedKdf {
  constructor(
    readonly key: string,
    readonly run: () => Promise<Buffer>,
  ) {}
}

/** Lets a NeedKdf through a catch that would turn any error into its own. */
export function passKdf(err: unknown): void {
  if (err instanceof NeedKdf) throw err;
}

let current: Kdfs | undefined;

function kdfs(): Kdfs {
  return current ?? { max: DEFAULT_MAX_ITERATIONS, spent: 0, cache: new Map(), deferLong: false };
}

function tooMany(count: number, what: string, max: number, total: boolean): MtlsError {
  return new MtlsError(
    'ERR_TOO_MANY_ITERATIONS',
    `${what} asks for ${count.toLocaleString('en')} key-derivation iterations${total ? ' in all' : ''}, over the limit of ${(total ? max * BUDGET_FACTOR : max).toLocaleString('en')} (maxIterations${total ? ` x ${BUDGET_FACTOR} per file` : ''}): files from Windows (2,000), Java (10,000) and OpenSSL (2,048, or -iter 100000) stay far below, and a count this high takes seconds to days of CPU. If the file is yours, export it again with fewer iterations, or raise maxIterations.`,
  );
}

/**
 * Refuses a KDF over the limit, before any work. `what` names the file's part ("The PFX/P12 file
 * (its MAC)").
 */
export function checkIterations(iterations: number, what: string): void {
  const { max } = kdfs();
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new MtlsError('ERR_MALFORMED_PFX', `${what} gives an invalid iteration count.`);
  if (iterations > max) throw tooMany(iterations, what, max, false);
}

/** Refuses a file whose KDFs ask for more than the budget in all (checked before any of them runs). */
export function checkTotal(iterations: number, what: string): void {
  const { max } = kdfs();
  if (iterations > max * BUDGET_FACTOR) throw tooMany(iterations, what, max, true);
}

function derive(key: string, iterations: number, what: string, now: () => Buffer, later: () => Promise<Buffer>): Buffer {
  checkIterations(iterations, what);
  const k = kdfs();
  // Counted whether cached or not: each replay of an async load counts from 0 again.
  k.spent += iterations;
  if (k.spent > k.max * BUDGET_FACTOR) throw tooMany(k.spent, what, k.max, true);
  const cached = k.cache.get(key);
  if (cached !== undefined) return cached;
  if (k.deferLong && iterations > INLINE_ITERATIONS) throw new NeedKdf(key, later);
  const out = now();
  k.cache.set(key, out);
  return out;
}

/** Keys the cache by the inputs; the password only by a digest of it. */
function cacheKey(parts: Array<string | number | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'number' ? String(p) : p).update('\0');
  return h.digest('base64');
}

/** PBKDF2 (PBES2), bounded. */
export function boundedPbkdf2(password: Buffer, salt: Buffer, iterations: number, keyLength: number, digest: string, what: string): Buffer {
  return derive(
    cacheKey(['pbkdf2', digest, iterations, keyLength, salt, password]),
    iterations,
    what,
    () => pbkdf2Sync(password, salt, iterations, keyLength, digest),
    () => new Promise((resolve, reject) => pbkdf2(password, salt, iterations, keyLength, digest, (err, key) => (err === null ? resolve(key) : reject(err)))),
  );
}

/** H^iterations(data) of the PKCS#12 KDF, bounded. */
export function boundedIteratedHash(digest: string, data: Buffer, iterations: number, what: string): Buffer {
  return derive(cacheKey(['pkcs12', digest, iterations, data]), iterations, what, () => iteratedHash(digest, data, iterations), async () => {
    let out = iteratedHash(digest, data, 1);
    for (let left = iterations - 1; left > 0; left -= SLICE) {
      await new Promise((resolve) => setImmediate(resolve));
      out = rehash(digest, out, Math.min(SLICE, left));
    }
    return out;
  });
}

function withKdfs<T>(k: Kdfs, run: () => T): T {
  const previous = current;
  current = k;
  try {
    return run();
  } finally {
    current = previous;
  }
}

/** Runs a synchronous load with the bound (every KDF at once). */
export function boundedSync<T>(maxIterations: number, run: () => T): T {
  return withKdfs({ max: maxIterations, spent: 0, cache: new Map(), deferLong: false }, run);
}

/** Runs a synchronous load with the bound, its long KDFs off the event loop (see the top of this file). */
export async function boundedAsync<T>(maxIterations: number, run: () => T): Promise<T> {
  const k: Kdfs = { max: maxIterations, spent: 0, cache: new Map(), deferLong: true };
  for (;;) {
    let need: NeedKdf;
    try {
      return withKdfs(k, run);
    } catch (err) {
      if (!(err instanceof NeedKdf)) throw err;
      need = err;
    }
    k.cache.set(need.key, await need.run());
    k.spent = 0; // the replay counts every KDF again, cached or not
  }
}
