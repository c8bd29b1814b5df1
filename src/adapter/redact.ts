// Certificate and key bytes for option objects that users spread into https.request and
// https.Agent, and that end up in error objects (axios and got errors carry the agent and its
// options). The bytes are what TLS reads; everything that turns them into text (util.inspect,
// JSON.stringify, string concatenation such as https.Agent#getName's socket pool name) shows a
// token that names the certificate instead. The key is bound to its certificate (the loader
// checks the pair), so the certificate's fingerprint makes the token unique per key.
import { inspect } from 'node:util';
import type { LoadedCertificate } from '../loader/types.js';

function redacted(text: string, token: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const show = () => token;
  for (const name of ['toString', 'toJSON', 'toLocaleString']) Object.defineProperty(bytes, name, { value: show });
  Object.defineProperty(bytes, inspect.custom, { value: show });
  Object.defineProperty(bytes, Symbol.toPrimitive, { value: show });
  return bytes;
}

const cache = new WeakMap<LoadedCertificate, { cert: Buffer; key: Buffer }>();

/**
 * `cert` and `key` of a certificate (with its key in memory) as bytes that never print as PEM.
 * One pair per certificate.
 */
export function redactedTls(certificate: LoadedCertificate & { tls: { key: string } }): { cert: Buffer; key: Buffer } {
  let pair = cache.get(certificate);
  if (pair === undefined) {
    const fp = certificate.fingerprint256;
    pair = { cert: redacted(certificate.tls.cert, `[certificate ${fp}]`), key: redacted(certificate.tls.key, `[private key of ${fp}, not shown]`) };
    cache.set(certificate, pair);
  }
  return pair;
}
