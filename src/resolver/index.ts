export { createResolver } from './indexed.js';
export { resolveCertificate, rankCertificates, explainResolution } from './rank.js';
export { normalizeHost } from './host.js';
export { matchesHost } from './pattern.js';
export { MtlsError, isMtlsError, MTLS_ERROR_CODES } from '../errors.js';
export type { MtlsErrorCode } from '../errors.js';
export type {
  CertificateEntry,
  Explanation,
  Match,
  MatchKind,
  NormalizedTarget,
  PortRule,
  RequestTarget,
  ResolveOptions,
  Resolver,
  ResolverOptions,
  Verdict,
} from './types.js';
